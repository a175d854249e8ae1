/* message.c — the IKE header, payload chains and the builder
 * (RFC 7296 §3.1, §3.2, §2.5; bodies are in payload.c). */
#include "ike-lite/message.h"
#include "ike-lite/payload.h"
#include "lib/reader.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void message_reset(struct ike_message *m)
{
	/* The pools are large and fully rewritten before use; clear only the
	 * counters and the fields a caller looks at. */
	m->has_header = false;
	memset(&m->hdr, 0, sizeof(m->hdr));
	m->first_type = 0;
	m->unsupported_critical = 0;
	m->npayloads = 0;
	m->nprops = m->nxforms = m->nts = m->ncp = 0;
}

/* Walk a payload chain starting at r's position with payload type `next`.
 * inner: the decrypted content of SK/SKF, where SK/SKF may not appear. */
static int parse_chain(struct ike_message *m, uint8_t next, struct reader *r, bool inner,
		       struct pvpn_err *err)
{
	bool seen[256] = { false };
	char lb[24];
	int rc;

	while (next != IKE_PT_NONE) {
		size_t off = rd_pos(r);
		uint8_t np, flags;
		uint16_t plen;
		const char *name = ike_payload_label(next, lb, sizeof(lb));

		if (rd_left(r) < IKE_PAYLOAD_HDR_LEN)
			return err_set(err, -EBADMSG,
				       "%s payload at offset %zu: the payload chain runs past the end (%zu bytes left, a payload header needs 4)",
				       name, off, rd_left(r));
		rd_u8(r, &np); rd_u8(r, &flags); rd_u16(r, &plen);
		if (plen < IKE_PAYLOAD_HDR_LEN)
			return err_set(err, -EBADMSG,
				       "%s payload at offset %zu: length %u is shorter than its 4-byte header",
				       name, off, plen);
		if ((size_t)plen - IKE_PAYLOAD_HDR_LEN > rd_left(r))
			return err_set(err, -EBADMSG,
				       "%s payload at offset %zu: length %u is longer than the %zu bytes left",
				       name, off, plen, rd_left(r) + IKE_PAYLOAD_HDR_LEN);
		if (m->npayloads >= IKE_MAX_PAYLOADS)
			return err_set(err, -E2BIG, "%s payload at offset %zu: more than %d payloads",
				       name, off, IKE_MAX_PAYLOADS);
		if (!ike_payload_known(next) && (flags & IKE_PAYLOAD_CRITICAL)) {
			/* §2.5: refuse the whole message, answer UNSUPPORTED_CRITICAL_PAYLOAD */
			m->unsupported_critical = next;
			return err_set(err, -EOPNOTSUPP,
				       "%s payload at offset %zu: unknown payload type with the critical bit set",
				       name, off);
		}
		if (ike_payload_singleton(next)) {
			if (seen[next])
				return err_set(err, -EBADMSG,
					       "%s payload at offset %zu: a second %s payload (RFC 7296 allows one per message)",
					       name, off, name);
			seen[next] = true;
		}
		if (inner && (next == IKE_PT_SK || next == IKE_PT_SKF))
			return err_set(err, -EBADMSG,
				       "%s payload at offset %zu: an encrypted payload inside an encrypted payload",
				       name, off);

		struct ike_payload *p = &m->payloads[m->npayloads];
		p->type = next;
		p->flags = flags;
		p->offset = off;
		p->body_len = plen - IKE_PAYLOAD_HDR_LEN;
		rd_ptr(r, p->body_len, &p->body);
		if ((rc = ike_payload_decode(m, p, err)) < 0)
			return rc;
		m->npayloads++;

		if (next == IKE_PT_SK || next == IKE_PT_SKF) {
			/* §3.14, RFC 7383 §2.5: the encrypted payload is the last one;
			 * its Next Payload names the first payload inside. */
			if (next == IKE_PT_SK)
				p->u.sk.first = np;
			else
				p->u.skf.first = np;
			if (next == IKE_PT_SKF && p->u.skf.number != 1 && np != IKE_PT_NONE)
				return err_set(err, -EBADMSG,
					       "SKF payload at offset %zu: fragment %u names an inner payload type %u (RFC 7383 §2.5: only fragment 1 does)",
					       off, p->u.skf.number, np);
			if (rd_left(r) > 0)
				return err_set(err, -EBADMSG,
					       "%s payload at offset %zu is not the last payload (%zu bytes follow; RFC 7296 §3.14)",
					       name, off, rd_left(r));
			return 0;
		}
		next = np;
	}
	if (rd_left(r) > 0)
		return err_set(err, -EBADMSG, "%zu bytes at offset %zu after the last payload",
			       rd_left(r), rd_pos(r));
	return 0;
}

int ike_message_parse(struct ike_message *m, const uint8_t *buf, size_t len,
		      struct pvpn_err *err)
{
	struct reader r;
	struct ike_header *h = &m->hdr;

	message_reset(m);
	rd_init(&r, buf, len);
	if (len < IKE_HEADER_LEN)
		return err_set(err, -EBADMSG, "IKE message of %zu bytes, shorter than the 28-byte header", len);
	rd_bytes(&r, h->spi_i, 8);
	rd_bytes(&r, h->spi_r, 8);
	rd_u8(&r, &h->next_payload);
	rd_u8(&r, &h->version);
	rd_u8(&r, &h->exchange);
	rd_u8(&r, &h->flags);
	rd_u32(&r, &h->message_id);
	rd_u32(&r, &h->length);
	m->has_header = true;
	m->first_type = h->next_payload;
	/* §2.5: refuse other major versions (the caller may answer
	 * INVALID_MAJOR_VERSION); the minor version is ignored. */
	if ((h->version >> 4) != 2)
		return err_set(err, -EPROTONOSUPPORT, "IKE header: version %u.%u, not 2.x",
			       h->version >> 4, h->version & 0xf);
	if (h->length != len)
		return err_set(err, -EBADMSG, "IKE header: Length %u but the datagram holds %zu bytes",
			       h->length, len);
	return parse_chain(m, h->next_payload, &r, false, err);
}

int ike_payloads_parse(struct ike_message *m, uint8_t first_type,
		       const uint8_t *buf, size_t len, struct pvpn_err *err)
{
	struct reader r;
	message_reset(m);
	m->first_type = first_type;
	rd_init(&r, buf, len);
	return parse_chain(m, first_type, &r, true, err);
}

const struct ike_payload *ike_message_find(const struct ike_message *m, uint8_t type,
					   size_t *from)
{
	for (size_t i = from ? *from : 0; i < m->npayloads; i++) {
		if (m->payloads[i].type == type) {
			if (from)
				*from = i + 1;
			return &m->payloads[i];
		}
	}
	if (from)
		*from = m->npayloads;
	return NULL;
}

const struct ike_payload *ike_message_find_notify(const struct ike_message *m,
						  uint16_t notify_type)
{
	for (size_t i = 0; i < m->npayloads; i++)
		if (m->payloads[i].type == IKE_PT_NOTIFY &&
		    m->payloads[i].u.notify.type == notify_type)
			return &m->payloads[i];
	return NULL;
}

/* ---- builder -------------------------------------------------------------- */

static int b_fail(struct ike_builder *b, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int b_fail(struct ike_builder *b, int code, const char *fmt, ...)
{
	if (b->err == 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(b->errmsg, sizeof(b->errmsg), fmt, ap);
		va_end(ap);
		b->err = code;
	}
	return b->err;
}

static int b_check(struct ike_builder *b)
{
	if (b->err == 0 && !wr_ok(&b->w))
		b_fail(b, -ENOSPC, "IKE message does not fit in %zu bytes", b->w.cap);
	return b->err;
}

static void builder_init(struct ike_builder *b, uint8_t *buf, size_t cap)
{
	memset(b, 0, sizeof(*b));
	wr_init(&b->w, buf, cap);
	b->sk_off = SIZE_MAX;
}

int ike_build_begin(struct ike_builder *b, uint8_t *buf, size_t cap,
		    const struct ike_header *h)
{
	builder_init(b, buf, cap);
	b->has_header = true;
	wr_bytes(&b->w, h->spi_i, 8);
	wr_bytes(&b->w, h->spi_r, 8);
	b->np_off = wr_len(&b->w);
	wr_u8(&b->w, IKE_PT_NONE);
	wr_u8(&b->w, h->version ? h->version : IKE_VERSION_2_0);
	wr_u8(&b->w, h->exchange);
	wr_u8(&b->w, h->flags);
	wr_u32(&b->w, h->message_id);
	wr_u32(&b->w, 0);
	return b_check(b);
}

int ike_build_chain_begin(struct ike_builder *b, uint8_t *buf, size_t cap)
{
	builder_init(b, buf, cap);
	b->np_is_first = true;
	return 0;
}

/* Write a generic payload header and link it into the chain; returns its
 * offset or SIZE_MAX on error. */
static size_t payload_start(struct ike_builder *b, uint8_t type, uint8_t flags)
{
	char lb[24];
	if (b->err)
		return SIZE_MAX;
	if (b->sk_done)
		return b_fail(b, -EINVAL, "%s payload after the encrypted payload, which must be last (RFC 7296 §3.14)",
			      ike_payload_label(type, lb, sizeof(lb))), SIZE_MAX;
	if (b->sk_off != SIZE_MAX && b->np_off == SIZE_MAX)
		return b_fail(b, -EINVAL, "%s payload inside an SKF payload (use ike_build_bytes)",
			      ike_payload_label(type, lb, sizeof(lb))), SIZE_MAX;
	if (b->sk_off != SIZE_MAX && (type == IKE_PT_SK || type == IKE_PT_SKF))
		return b_fail(b, -EINVAL, "encrypted payload inside an encrypted payload"), SIZE_MAX;
	size_t start = wr_len(&b->w);
	if (wr_reserve(&b->w, 4) == NULL)
		return b_check(b), SIZE_MAX;
	if (b->np_is_first)
		b->first_type = type;
	else
		b->w.buf[b->np_off] = type;
	b->np_is_first = false;
	b->w.buf[start] = IKE_PT_NONE;
	b->w.buf[start + 1] = flags;
	b->w.buf[start + 2] = 0;
	b->w.buf[start + 3] = 0;
	b->np_off = start;
	b->npayloads++;
	return start;
}

static int payload_end(struct ike_builder *b, size_t start, uint8_t type)
{
	char lb[24];
	if (b_check(b))
		return b->err;
	size_t plen = wr_len(&b->w) - start;
	if (plen > UINT16_MAX)
		return b_fail(b, -EINVAL, "%s payload of %zu bytes, longer than 65535",
			      ike_payload_label(type, lb, sizeof(lb)), plen);
	wr_put_u16(&b->w, start + 2, (uint16_t)plen);
	return 0;
}

int ike_build_payload(struct ike_builder *b, const struct ike_payload *p)
{
	struct pvpn_err e = { 0, "" };
	size_t start = payload_start(b, p->type, p->flags);
	if (start == SIZE_MAX)
		return b->err;
	if (ike_payload_encode(&b->w, p, &e) < 0)
		return b_fail(b, e.code, "%s", e.msg);
	if (p->type == IKE_PT_SK || p->type == IKE_PT_SKF) {
		/* An already encrypted payload: it names the inner first type
		 * and ends the message. */
		b->w.buf[start] = p->type == IKE_PT_SK ? p->u.sk.first : p->u.skf.first;
		b->sk_done = true;
	}
	return payload_end(b, start, p->type);
}

int ike_build_sa(struct ike_builder *b, const struct ike_proposal *props, size_t nprops)
{
	struct ike_payload p = { .type = IKE_PT_SA };
	if (nprops > UINT8_MAX)
		return b_fail(b, -EINVAL, "SA payload with %zu proposals", nprops);
	p.u.sa.props = props;
	p.u.sa.nprops = (uint8_t)nprops;
	return ike_build_payload(b, &p);
}

int ike_build_ke(struct ike_builder *b, uint16_t group, const uint8_t *data, size_t len)
{
	struct ike_payload p = { .type = IKE_PT_KE };
	p.u.ke.group = group;
	p.u.ke.data = data;
	p.u.ke.len = len;
	return ike_build_payload(b, &p);
}

int ike_build_nonce(struct ike_builder *b, const uint8_t *data, size_t len)
{
	struct ike_payload p = { .type = IKE_PT_NONCE };
	p.u.nonce.data = data;
	p.u.nonce.len = len;
	return ike_build_payload(b, &p);
}

int ike_build_notify(struct ike_builder *b, uint8_t protocol, const uint8_t *spi,
		     uint8_t spi_size, uint16_t type, const uint8_t *data, size_t len)
{
	struct ike_payload p = { .type = IKE_PT_NOTIFY };
	p.u.notify.protocol = protocol;
	p.u.notify.spi = spi;
	p.u.notify.spi_size = spi_size;
	p.u.notify.type = type;
	p.u.notify.data = data;
	p.u.notify.len = len;
	return ike_build_payload(b, &p);
}

int ike_build_id(struct ike_builder *b, uint8_t type, uint8_t id_type,
		 const uint8_t *data, size_t len)
{
	struct ike_payload p = { .type = type };
	if (type != IKE_PT_IDI && type != IKE_PT_IDR)
		return b_fail(b, -EINVAL, "ike_build_id with payload type %u", type);
	p.u.id.type = id_type;
	p.u.id.data = data;
	p.u.id.len = len;
	return ike_build_payload(b, &p);
}

int ike_build_auth(struct ike_builder *b, uint8_t method, const uint8_t *data, size_t len)
{
	struct ike_payload p = { .type = IKE_PT_AUTH };
	p.u.auth.method = method;
	p.u.auth.data = data;
	p.u.auth.len = len;
	return ike_build_payload(b, &p);
}

int ike_build_cert(struct ike_builder *b, uint8_t type, uint8_t encoding,
		   const uint8_t *data, size_t len)
{
	struct ike_payload p = { .type = type };
	if (type != IKE_PT_CERT && type != IKE_PT_CERTREQ)
		return b_fail(b, -EINVAL, "ike_build_cert with payload type %u", type);
	p.u.cert.encoding = encoding;
	p.u.cert.data = data;
	p.u.cert.len = len;
	return ike_build_payload(b, &p);
}

int ike_build_ts(struct ike_builder *b, uint8_t type, const struct ike_ts *ts, size_t nts)
{
	struct ike_payload p = { .type = type };
	if (type != IKE_PT_TSI && type != IKE_PT_TSR)
		return b_fail(b, -EINVAL, "ike_build_ts with payload type %u", type);
	if (nts > UINT8_MAX)
		return b_fail(b, -EINVAL, "TS payload with %zu selectors", nts);
	p.u.ts.ts = ts;
	p.u.ts.nts = (uint8_t)nts;
	return ike_build_payload(b, &p);
}

int ike_build_cp(struct ike_builder *b, uint8_t cfg_type, const struct ike_cp_attr *attrs,
		 size_t nattrs)
{
	struct ike_payload p = { .type = IKE_PT_CP };
	if (nattrs > UINT8_MAX)
		return b_fail(b, -EINVAL, "CP payload with %zu attributes", nattrs);
	p.u.cp.cfg_type = cfg_type;
	p.u.cp.attrs = attrs;
	p.u.cp.nattrs = (uint8_t)nattrs;
	return ike_build_payload(b, &p);
}

int ike_build_delete(struct ike_builder *b, uint8_t protocol, uint8_t spi_size,
		     const uint8_t *spis, uint16_t nspis)
{
	struct ike_payload p = { .type = IKE_PT_DELETE };
	p.u.del.protocol = protocol;
	p.u.del.spi_size = spi_size;
	p.u.del.spis = spis;
	p.u.del.nspis = nspis;
	return ike_build_payload(b, &p);
}

int ike_build_vendor(struct ike_builder *b, const uint8_t *data, size_t len)
{
	struct ike_payload p = { .type = IKE_PT_VENDOR };
	p.u.vendor.data = data;
	p.u.vendor.len = len;
	return ike_build_payload(b, &p);
}

int ike_build_eap(struct ike_builder *b, const struct ike_eap_body *eap)
{
	struct ike_payload p = { .type = IKE_PT_EAP };
	p.u.eap = *eap;
	return ike_build_payload(b, &p);
}

int ike_build_raw(struct ike_builder *b, uint8_t type, uint8_t flags,
		  const uint8_t *body, size_t len)
{
	size_t start = payload_start(b, type, flags);
	if (start == SIZE_MAX)
		return b->err;
	wr_bytes(&b->w, body, len);
	return payload_end(b, start, type);
}

int ike_build_sk_begin(struct ike_builder *b, size_t iv_len)
{
	size_t start = payload_start(b, IKE_PT_SK, 0);
	if (start == SIZE_MAX)
		return b->err;
	/* np_off stays on SK's Next Payload: the first inner payload's type
	 * goes there (§3.14). */
	b->sk_off = start;
	b->sk_iv_off = wr_len(&b->w);
	b->sk_iv_len = iv_len;
	wr_zero(&b->w, iv_len);
	return b_check(b);
}

int ike_build_skf_begin(struct ike_builder *b, uint8_t first, uint16_t number,
			uint16_t total, size_t iv_len)
{
	if (number == 0 || total == 0 || number > total)
		return b_fail(b, -EINVAL, "SKF fragment %u of %u", number, total);
	size_t start = payload_start(b, IKE_PT_SKF, 0);
	if (start == SIZE_MAX)
		return b->err;
	b->w.buf[start] = number == 1 ? first : IKE_PT_NONE;  /* RFC 7383 §2.5 */
	b->sk_off = start;
	b->np_off = SIZE_MAX;  /* no payloads inside, only bytes */
	wr_u16(&b->w, number);
	wr_u16(&b->w, total);
	b->sk_iv_off = wr_len(&b->w);
	b->sk_iv_len = iv_len;
	wr_zero(&b->w, iv_len);
	return b_check(b);
}

int ike_build_bytes(struct ike_builder *b, const uint8_t *data, size_t len)
{
	if (b->err)
		return b->err;
	if (b->sk_off == SIZE_MAX)
		return b_fail(b, -EINVAL, "ike_build_bytes outside an SKF payload");
	wr_bytes(&b->w, data, len);
	return b_check(b);
}

int ike_build_sk_end(struct ike_builder *b, size_t block, size_t icv_len,
		     struct ike_sk_layout *lay)
{
	if (b->err)
		return b->err;
	if (b->sk_off == SIZE_MAX)
		return b_fail(b, -EINVAL, "ike_build_sk_end without ike_build_sk_begin");
	if (block == 0 || block > 256)
		return b_fail(b, -EINVAL, "SK block size %zu", block);
	size_t pt_off = b->sk_iv_off + b->sk_iv_len;
	size_t body = wr_len(&b->w) - pt_off;
	/* §3.14: plaintext, padding, Pad Length is a multiple of the block */
	size_t pad = (block - (body + 1) % block) % block;
	wr_zero(&b->w, pad);
	wr_u8(&b->w, (uint8_t)pad);
	size_t icv_off = wr_len(&b->w);
	wr_zero(&b->w, icv_len);
	if (b_check(b))
		return b->err;
	if (payload_end(b, b->sk_off, IKE_PT_SK))
		return b->err;
	if (lay) {
		lay->sk_off = b->sk_off;
		lay->iv_off = b->sk_iv_off;
		lay->iv_len = b->sk_iv_len;
		lay->pt_off = pt_off;
		lay->pt_len = body + pad + 1;
		lay->pad_len = pad;
		lay->icv_off = icv_off;
		lay->icv_len = icv_len;
	}
	b->sk_off = SIZE_MAX;
	b->sk_done = true;
	return 0;
}

int ike_build_finish(struct ike_builder *b, size_t *len, uint8_t *first_type,
		     struct pvpn_err *err)
{
	if (b->err == 0 && b->sk_off != SIZE_MAX)
		b_fail(b, -EINVAL, "encrypted payload not closed with ike_build_sk_end");
	if (b_check(b))
		return err_set(err, b->err, "%s", b->errmsg);
	if (b->has_header) {
		if (wr_len(&b->w) > UINT32_MAX)
			return err_set(err, -EINVAL, "IKE message too long");
		wr_put_u32(&b->w, 24, (uint32_t)wr_len(&b->w));
	}
	if (len)
		*len = wr_len(&b->w);
	if (first_type)
		*first_type = b->first_type;
	return 0;
}

int ike_message_build(const struct ike_message *m, uint8_t *buf, size_t cap,
		      size_t *len, struct pvpn_err *err)
{
	struct ike_builder b;
	if (m->has_header)
		ike_build_begin(&b, buf, cap, &m->hdr);
	else
		ike_build_chain_begin(&b, buf, cap);
	for (size_t i = 0; i < m->npayloads; i++)
		if (ike_build_payload(&b, &m->payloads[i]) < 0)
			break;
	return ike_build_finish(&b, len, NULL, err);
}
