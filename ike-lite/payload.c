/* payload.c — decode and encode the body of each IKEv2 payload
 * (RFC 7296 §3.3–§3.16, RFC 7383 §2.5).
 *
 * Decoding reads only through lib/reader.h and keeps every field that
 * matters for re-serialisation (reserved bytes included: they must be
 * ignored on receipt, §3.2, but a parsed message must build back to the
 * same bytes).  Anything the RFC forbids is refused with -EBADMSG and a
 * sentence naming the payload, the byte offset and the problem. */
#include "ike-lite/payload.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *ike_payload_label(uint8_t type, char *buf, size_t cap)
{
	/* For sentences: the short names where they read well, else words. */
	const char *n;
	switch (type) {
	case IKE_PT_NONCE: n = "Nonce"; break;
	case IKE_PT_NOTIFY: n = "Notify"; break;
	case IKE_PT_DELETE: n = "Delete"; break;
	case IKE_PT_VENDOR: n = "Vendor ID"; break;
	default: n = ike_payload_name(type); break;
	}
	if (n)
		return n;
	snprintf(buf, cap, "payload type %u", type);
	return buf;
}

bool ike_payload_known(uint8_t type)
{
	return (type >= IKE_PT_SA && type <= IKE_PT_EAP) || type == IKE_PT_SKF;
}

bool ike_payload_singleton(uint8_t type)
{
	/* RFC 7296 §3 and the message layouts of §1.2–§1.5: one of each per
	 * message (CERT, CERTREQ, N, D, V may repeat). */
	switch (type) {
	case IKE_PT_SA: case IKE_PT_KE: case IKE_PT_IDI: case IKE_PT_IDR:
	case IKE_PT_AUTH: case IKE_PT_NONCE: case IKE_PT_TSI: case IKE_PT_TSR:
	case IKE_PT_SK: case IKE_PT_CP: case IKE_PT_EAP: case IKE_PT_SKF:
		return true;
	default:
		return false;
	}
}

static int bad(struct pvpn_err *err, int code, const struct ike_payload *p, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int bad(struct pvpn_err *err, int code, const struct ike_payload *p, const char *fmt, ...)
{
	char what[192], lb[24];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return err_set(err, code, "%s payload at offset %zu: %s",
		       ike_payload_label(p->type, lb, sizeof(lb)), p->offset, what);
}

#define BODY_OFF(p, r) ((p)->offset + IKE_PAYLOAD_HDR_LEN + rd_pos(r))

/* ---- SA, §3.3 ---------------------------------------------------------- */

static int decode_attrs(const struct ike_payload *p, struct reader *r, size_t base,
			struct ike_transform *t, struct pvpn_err *err)
{
	while (rd_left(r) > 0) {
		size_t aoff = base + rd_pos(r);
		uint16_t type, v;
		if (rd_left(r) < 4)
			return bad(err, -EBADMSG, p, "transform attribute at offset %zu: %zu bytes, shorter than its 4-byte header",
				   aoff, rd_left(r));
		rd_u16(r, &type);
		rd_u16(r, &v);
		if (t->nattrs >= IKE_MAX_ATTRS)
			return bad(err, -E2BIG, p, "more than %d attributes in one transform", IKE_MAX_ATTRS);
		struct ike_attr *a = &t->attrs[t->nattrs++];
		a->type = type;
		if (type & IKE_ATTR_AF) {
			a->value = v;
		} else {
			a->len = v;
			if (!rd_ptr(r, v, &a->data))
				return bad(err, -EBADMSG, p, "transform attribute at offset %zu: length %u runs past the transform",
					   aoff, v);
		}
		if ((type & ~IKE_ATTR_AF) == IKE_ATTR_KEY_LENGTH) {
			/* §3.3.5: Key Length is TV only, and at most once */
			if (!(type & IKE_ATTR_AF))
				return bad(err, -EBADMSG, p, "Key Length attribute at offset %zu in TLV format (RFC 7296 §3.3.5 requires TV)", aoff);
			if (t->key_length)
				return bad(err, -EBADMSG, p, "Key Length attribute at offset %zu given twice", aoff);
			if (v == 0)
				return bad(err, -EBADMSG, p, "Key Length attribute at offset %zu is zero", aoff);
			t->key_length = v;
		}
	}
	return 0;
}

static int decode_sa(struct ike_message *m, struct ike_payload *p, struct reader *r,
		     struct pvpn_err *err)
{
	struct ike_sa_body *sa = &p->u.sa;
	uint8_t prev_num = 0;
	int rc;

	sa->props = &m->pool_props[m->nprops];
	sa->nprops = 0;
	while (rd_left(r) > 0) {
		size_t poff = BODY_OFF(p, r);
		uint8_t last, reserved, num, proto, spi_size, ntrans;
		uint16_t plen;
		struct reader pr;

		if (rd_left(r) < 8)
			return bad(err, -EBADMSG, p, "proposal at offset %zu: %zu bytes, shorter than its 8-byte header",
				   poff, rd_left(r));
		rd_u8(r, &last); rd_u8(r, &reserved); rd_u16(r, &plen);
		rd_u8(r, &num); rd_u8(r, &proto); rd_u8(r, &spi_size); rd_u8(r, &ntrans);
		if (plen < 8)
			return bad(err, -EBADMSG, p, "proposal at offset %zu: length %u shorter than its 8-byte header", poff, plen);
		if (!rd_sub(r, plen - 8u, &pr))
			return bad(err, -EBADMSG, p, "proposal at offset %zu: length %u runs past the SA payload", poff, plen);
		/* §3.3.1: 0 for the last proposal, 2 when more follow */
		if (!((last == 0 && rd_left(r) == 0) || (last == 2 && rd_left(r) > 0)))
			return bad(err, -EBADMSG, p, "proposal at offset %zu: Last Substruc %u but %zu bytes follow",
				   poff, last, rd_left(r));
		/* §3.3.1: the first proposal is 1, each next one the same or +1 */
		if (sa->nprops == 0 ? num != 1 : (num != prev_num && num != prev_num + 1))
			return bad(err, -EBADMSG, p, "proposal at offset %zu: Proposal Num %u out of sequence", poff, num);
		prev_num = num;
		if (spi_size != 0 && spi_size != 4 && spi_size != 8)
			return bad(err, -EBADMSG, p, "proposal at offset %zu: SPI size %u (must be 0, 4 or 8)", poff, spi_size);
		if (ntrans == 0)
			return bad(err, -EBADMSG, p, "proposal at offset %zu has no transforms", poff);
		if (m->nprops >= IKE_MAX_PROPOSALS)
			return bad(err, -E2BIG, p, "more than %d proposals", IKE_MAX_PROPOSALS);
		struct ike_proposal *pp = &m->pool_props[m->nprops++];
		memset(pp, 0, sizeof(*pp));
		pp->num = num; pp->protocol = proto; pp->spi_size = spi_size; pp->reserved = reserved;
		if (!rd_bytes(&pr, pp->spi, spi_size))
			return bad(err, -EBADMSG, p, "proposal at offset %zu: SPI of %u bytes runs past the proposal", poff, spi_size);
		pp->xforms = &m->pool_xforms[m->nxforms];
		for (unsigned i = 0; i < ntrans; i++) {
			size_t toff = poff + 8 + rd_pos(&pr);
			uint8_t tlast, r1, type, r2;
			uint16_t tlen, id;
			struct reader tr;
			if (rd_left(&pr) < 8)
				return bad(err, -EBADMSG, p, "transform %u at offset %zu: %zu bytes left, shorter than its 8-byte header (proposal says %u transforms)",
					   i + 1, toff, rd_left(&pr), ntrans);
			rd_u8(&pr, &tlast); rd_u8(&pr, &r1); rd_u16(&pr, &tlen);
			rd_u8(&pr, &type); rd_u8(&pr, &r2); rd_u16(&pr, &id);
			if (tlen < 8)
				return bad(err, -EBADMSG, p, "transform at offset %zu: length %u shorter than its 8-byte header", toff, tlen);
			if (!rd_sub(&pr, tlen - 8u, &tr))
				return bad(err, -EBADMSG, p, "transform at offset %zu: length %u runs past the proposal", toff, tlen);
			/* §3.3.2: 0 for the last transform, 3 when more follow */
			if (tlast != (i + 1 == ntrans ? 0 : 3))
				return bad(err, -EBADMSG, p, "transform at offset %zu: Last Substruc %u for transform %u of %u",
					   toff, tlast, i + 1, ntrans);
			if (m->nxforms >= IKE_MAX_TRANSFORMS)
				return bad(err, -E2BIG, p, "more than %d transforms", IKE_MAX_TRANSFORMS);
			struct ike_transform *t = &m->pool_xforms[m->nxforms++];
			memset(t, 0, sizeof(*t));
			t->type = type; t->id = id; t->reserved1 = r1; t->reserved2 = r2;
			if ((rc = decode_attrs(p, &tr, toff + 8, t, err)) < 0)
				return rc;
			pp->nxforms++;
		}
		if (rd_left(&pr) > 0)
			return bad(err, -EBADMSG, p, "proposal at offset %zu: %zu bytes after its %u transforms",
				   poff, rd_left(&pr), ntrans);
		sa->nprops++;
	}
	if (sa->nprops == 0)
		return bad(err, -EBADMSG, p, "no proposals");
	return 0;
}

/* ---- TS, §3.13 ------------------------------------------------------------ */

static int decode_ts(struct ike_message *m, struct ike_payload *p, struct reader *r,
		     struct pvpn_err *err)
{
	struct ike_ts_body *tb = &p->u.ts;
	uint8_t n;
	rd_u8(r, &n);
	rd_bytes(r, tb->reserved, 3);
	if (!rd_ok(r))
		return bad(err, -EBADMSG, p, "body of %zu bytes, shorter than 4", p->body_len);
	if (n == 0)
		return bad(err, -EBADMSG, p, "Number of TSs is zero");
	tb->ts = &m->pool_ts[m->nts];
	tb->nts = 0;
	for (unsigned i = 0; i < n; i++) {
		size_t soff = BODY_OFF(p, r);
		uint8_t type, proto;
		uint16_t slen;
		struct reader sr;
		if (rd_left(r) < 4)
			return bad(err, -EBADMSG, p, "selector %u at offset %zu: %zu bytes left, shorter than its header (payload says %u selectors)",
				   i + 1, soff, rd_left(r), n);
		rd_u8(r, &type); rd_u8(r, &proto); rd_u16(r, &slen);
		if (slen < 4)
			return bad(err, -EBADMSG, p, "selector at offset %zu: length %u shorter than its 4-byte header", soff, slen);
		if (!rd_sub(r, slen - 4u, &sr))
			return bad(err, -EBADMSG, p, "selector at offset %zu: length %u runs past the payload", soff, slen);
		if (m->nts >= IKE_MAX_SELECTORS)
			return bad(err, -E2BIG, p, "more than %d traffic selectors", IKE_MAX_SELECTORS);
		struct ike_ts *ts = &m->pool_ts[m->nts++];
		memset(ts, 0, sizeof(*ts));
		ts->type = type;
		ts->ip_proto = proto;
		if (type == IKE_TS_IPV4_ADDR_RANGE || type == IKE_TS_IPV6_ADDR_RANGE) {
			size_t alen = type == IKE_TS_IPV4_ADDR_RANGE ? 4 : 16;
			if (slen != 8 + 2 * alen)
				return bad(err, -EBADMSG, p, "%s selector at offset %zu: length %u (must be %zu)",
					   ike_ts_type_name(type), soff, slen, 8 + 2 * alen);
			rd_u16(&sr, &ts->start_port);
			rd_u16(&sr, &ts->end_port);
			rd_bytes(&sr, ts->start, alen);
			rd_bytes(&sr, ts->end, alen);
		} else {
			/* Another selector type (RFC 4595, RFC 9478): kept whole. */
			ts->raw_len = (uint16_t)(slen - 4u);
			rd_ptr(&sr, ts->raw_len, &ts->raw);
		}
		tb->nts++;
	}
	if (rd_left(r) > 0)
		return bad(err, -EBADMSG, p, "%zu bytes after its %u selectors", rd_left(r), n);
	return 0;
}

/* ---- CP, §3.15 ------------------------------------------------------------ */

static int decode_cp(struct ike_message *m, struct ike_payload *p, struct reader *r,
		     struct pvpn_err *err)
{
	struct ike_cp_body *cp = &p->u.cp;
	rd_u8(r, &cp->cfg_type);
	rd_bytes(r, cp->reserved, 3);
	if (!rd_ok(r))
		return bad(err, -EBADMSG, p, "body of %zu bytes, shorter than 4", p->body_len);
	cp->attrs = &m->pool_cp[m->ncp];
	cp->nattrs = 0;
	while (rd_left(r) > 0) {
		size_t aoff = BODY_OFF(p, r);
		uint16_t type, len;
		if (rd_left(r) < 4)
			return bad(err, -EBADMSG, p, "attribute at offset %zu: %zu bytes, shorter than its 4-byte header",
				   aoff, rd_left(r));
		rd_u16(r, &type); rd_u16(r, &len);
		if (m->ncp >= IKE_MAX_CP_ATTRS || cp->nattrs == UINT8_MAX)
			return bad(err, -E2BIG, p, "more than %d configuration attributes", IKE_MAX_CP_ATTRS);
		struct ike_cp_attr *a = &m->pool_cp[m->ncp++];
		a->type = type;
		a->len = len;
		if (!rd_ptr(r, len, &a->data))
			return bad(err, -EBADMSG, p, "attribute at offset %zu: length %u runs past the payload", aoff, len);
		cp->nattrs++;
	}
	return 0;
}

/* ---- the rest ------------------------------------------------------------ */

static int rest(struct reader *r, const uint8_t **data, size_t *len)
{
	*len = rd_left(r);
	rd_ptr(r, *len, data);
	return 0;
}

int ike_payload_decode(struct ike_message *m, struct ike_payload *p, struct pvpn_err *err)
{
	struct reader r;
	rd_init(&r, p->body, p->body_len);
	memset(&p->u, 0, sizeof(p->u));

	switch (p->type) {
	case IKE_PT_SA:
		return decode_sa(m, p, &r, err);
	case IKE_PT_KE: {                        /* §3.4 */
		struct ike_ke_body *ke = &p->u.ke;
		rd_u16(&r, &ke->group); rd_u16(&r, &ke->reserved);
		if (!rd_ok(&r))
			return bad(err, -EBADMSG, p, "body of %zu bytes, shorter than 4", p->body_len);
		rest(&r, &ke->data, &ke->len);
		if (ke->len == 0)
			return bad(err, -EBADMSG, p, "empty Key Exchange Data");
		return 0;
	}
	case IKE_PT_IDI: case IKE_PT_IDR: {      /* §3.5 */
		struct ike_id_body *id = &p->u.id;
		rd_u8(&r, &id->type); rd_bytes(&r, id->reserved, 3);
		if (!rd_ok(&r))
			return bad(err, -EBADMSG, p, "body of %zu bytes, shorter than 4", p->body_len);
		rest(&r, &id->data, &id->len);
		if (id->len == 0 && id->type != IKE_ID_NULL)  /* RFC 7619 §3: ID_NULL is empty */
			return bad(err, -EBADMSG, p, "empty Identification Data");
		if ((id->type == IKE_ID_IPV4_ADDR && id->len != 4) ||
		    (id->type == IKE_ID_IPV6_ADDR && id->len != 16))
			return bad(err, -EBADMSG, p, "%s of %zu bytes", ike_id_type_name(id->type), id->len);
		return 0;
	}
	case IKE_PT_CERT: case IKE_PT_CERTREQ: { /* §3.6, §3.7 */
		struct ike_cert_body *c = &p->u.cert;
		if (!rd_u8(&r, &c->encoding))
			return bad(err, -EBADMSG, p, "empty body (no Cert Encoding)");
		rest(&r, &c->data, &c->len);
		if (p->type == IKE_PT_CERT && c->len == 0)
			return bad(err, -EBADMSG, p, "empty Certificate Data");
		return 0;
	}
	case IKE_PT_AUTH: {                      /* §3.8 */
		struct ike_auth_body *a = &p->u.auth;
		rd_u8(&r, &a->method); rd_bytes(&r, a->reserved, 3);
		if (!rd_ok(&r))
			return bad(err, -EBADMSG, p, "body of %zu bytes, shorter than 4", p->body_len);
		rest(&r, &a->data, &a->len);
		if (a->len == 0)
			return bad(err, -EBADMSG, p, "empty Authentication Data");
		return 0;
	}
	case IKE_PT_NONCE:                       /* §3.9 */
		rest(&r, &p->u.nonce.data, &p->u.nonce.len);
		if (p->u.nonce.len < IKE_NONCE_MIN || p->u.nonce.len > IKE_NONCE_MAX)
			return bad(err, -EBADMSG, p, "nonce of %zu bytes (RFC 7296 §3.9: %d to %d)",
				   p->u.nonce.len, IKE_NONCE_MIN, IKE_NONCE_MAX);
		return 0;
	case IKE_PT_NOTIFY: {                    /* §3.10 */
		struct ike_notify_body *n = &p->u.notify;
		rd_u8(&r, &n->protocol); rd_u8(&r, &n->spi_size); rd_u16(&r, &n->type);
		if (!rd_ok(&r))
			return bad(err, -EBADMSG, p, "body of %zu bytes, shorter than 4", p->body_len);
		if (n->spi_size != 0 && n->spi_size != 4 && n->spi_size != 8)
			return bad(err, -EBADMSG, p, "SPI size %u (must be 0, 4 or 8)", n->spi_size);
		if (!rd_ptr(&r, n->spi_size, &n->spi))
			return bad(err, -EBADMSG, p, "SPI of %u bytes runs past the payload", n->spi_size);
		rest(&r, &n->data, &n->len);
		return 0;
	}
	case IKE_PT_DELETE: {                    /* §3.11 */
		struct ike_delete_body *d = &p->u.del;
		rd_u8(&r, &d->protocol); rd_u8(&r, &d->spi_size); rd_u16(&r, &d->nspis);
		if (!rd_ok(&r))
			return bad(err, -EBADMSG, p, "body of %zu bytes, shorter than 4", p->body_len);
		if (d->protocol == IKE_PROTO_IKE ? (d->spi_size != 0 || d->nspis != 0)
		    : (d->protocol == IKE_PROTO_ESP || d->protocol == IKE_PROTO_AH) ? d->spi_size != 4
		    : (d->spi_size != 0 && d->spi_size != 4 && d->spi_size != 8))
			return bad(err, -EBADMSG, p, "protocol %u with SPI size %u and %u SPIs (RFC 7296 §3.11: IKE 0/none, ESP and AH 4)",
				   d->protocol, d->spi_size, d->nspis);
		if (rd_left(&r) != (size_t)d->spi_size * d->nspis)
			return bad(err, -EBADMSG, p, "%u SPIs of %u bytes but %zu bytes of SPIs",
				   d->nspis, d->spi_size, rd_left(&r));
		rd_ptr(&r, rd_left(&r), &d->spis);
		return 0;
	}
	case IKE_PT_VENDOR:                      /* §3.12 */
		rest(&r, &p->u.vendor.data, &p->u.vendor.len);
		return 0;
	case IKE_PT_TSI: case IKE_PT_TSR:
		return decode_ts(m, p, &r, err);
	case IKE_PT_SK:                          /* §3.14: crypto's business */
		rest(&r, &p->u.sk.data, &p->u.sk.len);
		return 0;
	case IKE_PT_CP:
		return decode_cp(m, p, &r, err);
	case IKE_PT_EAP: {                       /* §3.16, RFC 3748 §4 */
		struct ike_eap_body *e = &p->u.eap;
		uint16_t elen;
		rd_u8(&r, &e->code); rd_u8(&r, &e->id); rd_u16(&r, &elen);
		if (!rd_ok(&r))
			return bad(err, -EBADMSG, p, "body of %zu bytes, shorter than the 4-byte EAP header", p->body_len);
		if (elen != p->body_len)
			return bad(err, -EBADMSG, p, "EAP length %u but the payload holds %zu bytes", elen, p->body_len);
		if (e->code == IKE_EAP_REQUEST || e->code == IKE_EAP_RESPONSE) {
			e->has_type = true;
			if (!rd_u8(&r, &e->type))
				return bad(err, -EBADMSG, p, "EAP %s without a Type", ike_eap_code_name(e->code));
		}
		rest(&r, &e->data, &e->len);
		return 0;
	}
	case IKE_PT_SKF: {                       /* RFC 7383 §2.5 */
		struct ike_skf_body *f = &p->u.skf;
		rd_u16(&r, &f->number); rd_u16(&r, &f->total);
		if (!rd_ok(&r))
			return bad(err, -EBADMSG, p, "body of %zu bytes, shorter than 4", p->body_len);
		if (f->number == 0 || f->total == 0 || f->number > f->total)
			return bad(err, -EBADMSG, p, "fragment %u of %u (RFC 7383 §2.5: 1 <= number <= total)",
				   f->number, f->total);
		rest(&r, &f->data, &f->len);
		return 0;
	}
	default:
		return 0;  /* kept raw (§2.5) */
	}
}

/* ---- encoding ------------------------------------------------------------ */

static int enc_bad(struct pvpn_err *err, const struct ike_payload *p, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int enc_bad(struct pvpn_err *err, const struct ike_payload *p, const char *fmt, ...)
{
	char what[160], lb[24];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return err_set(err, -EINVAL, "cannot build %s payload: %s",
		       ike_payload_label(p->type, lb, sizeof(lb)), what);
}

static int encode_sa(struct writer *w, const struct ike_payload *p, struct pvpn_err *err)
{
	const struct ike_sa_body *sa = &p->u.sa;
	if (sa->nprops == 0 || !sa->props)
		return enc_bad(err, p, "no proposals");
	for (unsigned i = 0; i < sa->nprops; i++) {
		const struct ike_proposal *pp = &sa->props[i];
		size_t start = wr_len(w);
		if (pp->spi_size > 8 || pp->nxforms == 0 || !pp->xforms)
			return enc_bad(err, p, "proposal %u: SPI size %u, %u transforms", i + 1, pp->spi_size, pp->nxforms);
		wr_u8(w, i + 1 == sa->nprops ? 0 : 2);
		wr_u8(w, pp->reserved);
		wr_u16(w, 0);
		wr_u8(w, pp->num ? pp->num : (uint8_t)(i + 1));
		wr_u8(w, pp->protocol);
		wr_u8(w, pp->spi_size);
		wr_u8(w, pp->nxforms);
		wr_bytes(w, pp->spi, pp->spi_size);
		for (unsigned j = 0; j < pp->nxforms; j++) {
			const struct ike_transform *t = &pp->xforms[j];
			size_t tstart = wr_len(w);
			wr_u8(w, j + 1 == pp->nxforms ? 0 : 3);
			wr_u8(w, t->reserved1);
			wr_u16(w, 0);
			wr_u8(w, t->type);
			wr_u8(w, t->reserved2);
			wr_u16(w, t->id);
			if (t->nattrs > IKE_MAX_ATTRS)
				return enc_bad(err, p, "transform with %u attributes", t->nattrs);
			if (t->nattrs) {
				for (unsigned k = 0; k < t->nattrs; k++) {
					const struct ike_attr *a = &t->attrs[k];
					wr_u16(w, a->type);
					if (a->type & IKE_ATTR_AF) {
						wr_u16(w, a->value);
					} else {
						wr_u16(w, a->len);
						wr_bytes(w, a->data, a->len);
					}
				}
			} else if (t->key_length) {
				wr_u16(w, IKE_ATTR_AF | IKE_ATTR_KEY_LENGTH);
				wr_u16(w, t->key_length);
			}
			if (wr_len(w) - tstart > UINT16_MAX)
				return enc_bad(err, p, "transform longer than 65535 bytes");
			wr_put_u16(w, tstart + 2, (uint16_t)(wr_len(w) - tstart));
		}
		if (wr_len(w) - start > UINT16_MAX)
			return enc_bad(err, p, "proposal longer than 65535 bytes");
		wr_put_u16(w, start + 2, (uint16_t)(wr_len(w) - start));
	}
	return 0;
}

int ike_payload_encode(struct writer *w, const struct ike_payload *p, struct pvpn_err *err)
{
	switch (p->type) {
	case IKE_PT_SA:
		return encode_sa(w, p, err);
	case IKE_PT_KE:
		wr_u16(w, p->u.ke.group); wr_u16(w, p->u.ke.reserved);
		wr_bytes(w, p->u.ke.data, p->u.ke.len);
		return 0;
	case IKE_PT_IDI: case IKE_PT_IDR:
		wr_u8(w, p->u.id.type); wr_bytes(w, p->u.id.reserved, 3);
		wr_bytes(w, p->u.id.data, p->u.id.len);
		return 0;
	case IKE_PT_CERT: case IKE_PT_CERTREQ:
		wr_u8(w, p->u.cert.encoding);
		wr_bytes(w, p->u.cert.data, p->u.cert.len);
		return 0;
	case IKE_PT_AUTH:
		wr_u8(w, p->u.auth.method); wr_bytes(w, p->u.auth.reserved, 3);
		wr_bytes(w, p->u.auth.data, p->u.auth.len);
		return 0;
	case IKE_PT_NONCE:
		wr_bytes(w, p->u.nonce.data, p->u.nonce.len);
		return 0;
	case IKE_PT_NOTIFY: {
		const struct ike_notify_body *n = &p->u.notify;
		if (n->spi_size && !n->spi)
			return enc_bad(err, p, "SPI size %u without an SPI", n->spi_size);
		wr_u8(w, n->protocol); wr_u8(w, n->spi_size); wr_u16(w, n->type);
		wr_bytes(w, n->spi, n->spi_size);
		wr_bytes(w, n->data, n->len);
		return 0;
	}
	case IKE_PT_DELETE: {
		const struct ike_delete_body *d = &p->u.del;
		wr_u8(w, d->protocol); wr_u8(w, d->spi_size); wr_u16(w, d->nspis);
		wr_bytes(w, d->spis, (size_t)d->spi_size * d->nspis);
		return 0;
	}
	case IKE_PT_VENDOR:
		wr_bytes(w, p->u.vendor.data, p->u.vendor.len);
		return 0;
	case IKE_PT_TSI: case IKE_PT_TSR: {
		const struct ike_ts_body *tb = &p->u.ts;
		if (tb->nts == 0 || !tb->ts)
			return enc_bad(err, p, "no traffic selectors");
		wr_u8(w, tb->nts); wr_bytes(w, tb->reserved, 3);
		for (unsigned i = 0; i < tb->nts; i++) {
			const struct ike_ts *ts = &tb->ts[i];
			wr_u8(w, ts->type); wr_u8(w, ts->ip_proto);
			if (ts->type == IKE_TS_IPV4_ADDR_RANGE || ts->type == IKE_TS_IPV6_ADDR_RANGE) {
				size_t alen = ts->type == IKE_TS_IPV4_ADDR_RANGE ? 4 : 16;
				wr_u16(w, (uint16_t)(8 + 2 * alen));
				wr_u16(w, ts->start_port); wr_u16(w, ts->end_port);
				wr_bytes(w, ts->start, alen); wr_bytes(w, ts->end, alen);
			} else {
				if (ts->raw_len > UINT16_MAX - 4)
					return enc_bad(err, p, "selector too long");
				wr_u16(w, (uint16_t)(4 + ts->raw_len));
				wr_bytes(w, ts->raw, ts->raw_len);
			}
		}
		return 0;
	}
	case IKE_PT_SK:
		wr_bytes(w, p->u.sk.data, p->u.sk.len);
		return 0;
	case IKE_PT_CP: {
		const struct ike_cp_body *cp = &p->u.cp;
		wr_u8(w, cp->cfg_type); wr_bytes(w, cp->reserved, 3);
		for (unsigned i = 0; i < cp->nattrs; i++) {
			wr_u16(w, cp->attrs[i].type); wr_u16(w, cp->attrs[i].len);
			wr_bytes(w, cp->attrs[i].data, cp->attrs[i].len);
		}
		return 0;
	}
	case IKE_PT_EAP: {
		const struct ike_eap_body *e = &p->u.eap;
		size_t elen = 4 + (e->has_type ? 1 : 0) + e->len;
		if (elen > UINT16_MAX)
			return enc_bad(err, p, "EAP message longer than 65535 bytes");
		wr_u8(w, e->code); wr_u8(w, e->id); wr_u16(w, (uint16_t)elen);
		if (e->has_type)
			wr_u8(w, e->type);
		wr_bytes(w, e->data, e->len);
		return 0;
	}
	case IKE_PT_SKF:
		wr_u16(w, p->u.skf.number); wr_u16(w, p->u.skf.total);
		wr_bytes(w, p->u.skf.data, p->u.skf.len);
		return 0;
	default:
		wr_bytes(w, p->body, p->body_len);
		return 0;
	}
}
