/* print.c — how pvpn-ikedump shows payloads: a short list on the message
 * line, and one decoded line per payload under it.  Everything printed
 * comes from the peer, so text is escaped and binary is shown as bounded
 * hex. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ike-lite/constants.h"
#include "ike-lite/message.h"
#include "tools/ikedump/ikedump.h"
#include "tools/ikedump/ikedump_int.h"

#define HEX_SHOW_MAX 64

static void put_hex(FILE *f, const uint8_t *p, size_t n)
{
	size_t show = n > HEX_SHOW_MAX ? HEX_SHOW_MAX : n;
	for (size_t i = 0; i < show; i++)
		fprintf(f, "%02x", p[i]);
	if (show < n)
		fprintf(f, "... (%zu bytes)", n);
}

/* Peer text, with anything unprintable as \xNN so it cannot mess up a
 * terminal. */
static void put_text(FILE *f, const uint8_t *p, size_t n)
{
	size_t show = n > 256 ? 256 : n;
	for (size_t i = 0; i < show; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			fputc(p[i], f);
		else
			fprintf(f, "\\x%02x", p[i]);
	}
	if (show < n)
		fprintf(f, "... (%zu bytes)", n);
}

static void put_addr(FILE *f, int family, const uint8_t *a)
{
	char s[INET6_ADDRSTRLEN];
	if (inet_ntop(family, a, s, sizeof(s)))
		fputs(s, f);
	else
		fputs("?", f);
}

static const char *or_num(const char *name, char *buf, size_t cap, const char *what, unsigned v)
{
	if (name)
		return name;
	snprintf(buf, cap, "%s%u", what, v);
	return buf;
}

void ikd_print_payload_list(FILE *f, const struct ike_message *m)
{
	char b[32];
	fputc('[', f);
	for (size_t i = 0; i < m->npayloads; i++) {
		const struct ike_payload *p = &m->payloads[i];
		if (i)
			fputc(' ', f);
		if (p->type == IKE_PT_NOTIFY) {
			fprintf(f, "N(%s)", or_num(ike_notify_name(p->u.notify.type), b, sizeof(b), "",
						   p->u.notify.type));
		} else if (p->type == IKE_PT_SKF) {
			fprintf(f, "SKF(%u/%u)", p->u.skf.number, p->u.skf.total);
		} else {
			fputs(or_num(ike_payload_name(p->type), b, sizeof(b), "P", p->type), f);
		}
	}
	fputc(']', f);
}

static void print_sa(FILE *f, const struct ike_sa_body *sa, const char *pad)
{
	char b[32];
	for (size_t i = 0; i < sa->nprops; i++) {
		const struct ike_proposal *pr = &sa->props[i];
		fprintf(f, "%s  proposal #%u %s", pad, pr->num,
			or_num(ike_protocol_name(pr->protocol), b, sizeof(b), "protocol ", pr->protocol));
		if (pr->spi_size) {
			fputs(" spi 0x", f);
			put_hex(f, pr->spi, pr->spi_size);
		}
		fputc(':', f);
		for (size_t j = 0; j < pr->nxforms; j++) {
			const struct ike_transform *t = &pr->xforms[j];
			const char *tn = ike_transform_name(t->type, t->id);
			if (tn)
				fprintf(f, " %s", tn);
			else
				fprintf(f, " %s:%u",
					or_num(ike_transform_type_name(t->type), b, sizeof(b), "type", t->type),
					t->id);
			if (t->key_length)
				fprintf(f, "/%u", t->key_length);
		}
		fputc('\n', f);
	}
}

static void print_id(FILE *f, const struct ike_id_body *id)
{
	char b[32];
	fprintf(f, " %s ", or_num(ike_id_type_name(id->type), b, sizeof(b), "type ", id->type));
	switch (id->type) {
	case IKE_ID_IPV4_ADDR:
		if (id->len == 4) {
			put_addr(f, AF_INET, id->data);
			return;
		}
		break;
	case IKE_ID_IPV6_ADDR:
		if (id->len == 16) {
			put_addr(f, AF_INET6, id->data);
			return;
		}
		break;
	case IKE_ID_FQDN:
	case IKE_ID_RFC822_ADDR:
		put_text(f, id->data, id->len);
		return;
	default:
		break;
	}
	put_hex(f, id->data, id->len);
}

/* A range that is exactly one prefix prints as a.b.c.d/n. */
static int range_prefix(const uint8_t *s, const uint8_t *e, size_t n)
{
	size_t bit = 0;
	while (bit < n * 8) {
		uint8_t m = (uint8_t)(0x80 >> (bit % 8));
		if ((s[bit / 8] & m) != (e[bit / 8] & m))
			break;
		bit++;
	}
	for (size_t b = bit; b < n * 8; b++) {
		uint8_t m = (uint8_t)(0x80 >> (b % 8));
		if ((s[b / 8] & m) || !(e[b / 8] & m))
			return -1;
	}
	return (int)bit;
}

static void print_ts(FILE *f, const struct ike_ts_body *tsb, const char *pad)
{
	char b[32];
	for (size_t i = 0; i < tsb->nts; i++) {
		const struct ike_ts *ts = &tsb->ts[i];
		fprintf(f, "%s  ", pad);
		if (ts->type == IKE_TS_IPV4_ADDR_RANGE || ts->type == IKE_TS_IPV6_ADDR_RANGE) {
			int fam = ts->type == IKE_TS_IPV4_ADDR_RANGE ? AF_INET : AF_INET6;
			size_t alen = fam == AF_INET ? 4 : 16;
			int pfx = range_prefix(ts->start, ts->end, alen);
			put_addr(f, fam, ts->start);
			if (pfx >= 0) {
				fprintf(f, "/%d", pfx);
			} else {
				fputc('-', f);
				put_addr(f, fam, ts->end);
			}
			if (ts->ip_proto)
				fprintf(f, " proto %u", ts->ip_proto);
			if (ts->start_port != 0 || ts->end_port != 65535) {
				if (ts->start_port == ts->end_port)
					fprintf(f, " port %u", ts->start_port);
				else
					fprintf(f, " ports %u-%u", ts->start_port, ts->end_port);
			}
		} else {
			fprintf(f, "%s ", or_num(ike_ts_type_name(ts->type), b, sizeof(b), "type ", ts->type));
			put_hex(f, ts->raw, ts->raw_len);
		}
		fputc('\n', f);
	}
}

static void print_cp_value(FILE *f, uint16_t type, const uint8_t *d, size_t n)
{
	switch (type) {
	case IKE_CP_INTERNAL_IP4_ADDRESS:
	case IKE_CP_INTERNAL_IP4_NETMASK:
	case IKE_CP_INTERNAL_IP4_DNS:
	case IKE_CP_INTERNAL_IP4_NBNS:
	case IKE_CP_INTERNAL_IP4_DHCP:
	case IKE_CP_P_CSCF_IP4_ADDRESS:
		if (n == 4) {
			put_addr(f, AF_INET, d);
			return;
		}
		break;
	case IKE_CP_INTERNAL_IP4_SUBNET:
		if (n == 8) {
			put_addr(f, AF_INET, d);
			fputc('/', f);
			put_addr(f, AF_INET, d + 4);
			return;
		}
		break;
	case IKE_CP_INTERNAL_IP6_ADDRESS:
	case IKE_CP_INTERNAL_IP6_SUBNET:
	case IKE_CP_INTERNAL_IP6_PREFIX:
		if (n == 17) {
			put_addr(f, AF_INET6, d);
			fprintf(f, "/%u", d[16]);
			return;
		}
		break;
	case IKE_CP_INTERNAL_IP6_DNS:
	case IKE_CP_INTERNAL_IP6_DHCP:
	case IKE_CP_P_CSCF_IP6_ADDRESS:
		if (n == 16) {
			put_addr(f, AF_INET6, d);
			return;
		}
		break;
	case IKE_CP_APPLICATION_VERSION:
	case IKE_CP_INTERNAL_DNS_DOMAIN:
		put_text(f, d, n);
		return;
	default:
		break;
	}
	put_hex(f, d, n);
}

static void print_cp(FILE *f, const struct ike_cp_body *cp, const char *pad)
{
	char b[32];
	for (size_t i = 0; i < cp->nattrs; i++) {
		const struct ike_cp_attr *a = &cp->attrs[i];
		uint16_t t = a->type & IKE_CP_ATTR_TYPE_MASK;
		fprintf(f, "%s  %s", pad, or_num(ike_cp_attr_name(t), b, sizeof(b), "attribute ", t));
		if (a->len) {
			fputs(" = ", f);
			print_cp_value(f, t, a->data, a->len);
		}
		fputc('\n', f);
	}
}

static void print_notify(FILE *f, const struct ike_notify_body *n)
{
	char b[32];
	if (n->protocol)
		fprintf(f, " %s", or_num(ike_protocol_name(n->protocol), b, sizeof(b), "protocol ",
					 n->protocol));
	if (n->spi_size) {
		fputs(" spi 0x", f);
		put_hex(f, n->spi, n->spi_size);
	}
	if (!n->len)
		return;
	if (n->type == IKE_N_INVALID_KE_PAYLOAD && n->len == 2) {
		uint16_t g = (uint16_t)(n->data[0] << 8 | n->data[1]);
		fprintf(f, " group %s", or_num(ike_transform_name(IKE_TRANS_DH, g), b, sizeof(b), "", g));
		return;
	}
	if (n->type == IKE_N_SIGNATURE_HASH_ALGORITHMS && n->len % 2 == 0) {
		fputs(" hashes", f);
		for (size_t i = 0; i + 1 < n->len; i += 2)
			fprintf(f, " %u", n->data[i] << 8 | n->data[i + 1]);
		return;
	}
	fputs(" data ", f);
	put_hex(f, n->data, n->len);
}

void ikd_print_payload(FILE *f, const struct ike_payload *p, const char *pad)
{
	char b[32];
	const char *name = or_num(ike_payload_name(p->type), b, sizeof(b), "payload ", p->type);

	fprintf(f, "%s%s", pad, name);
	switch (p->type) {
	case IKE_PT_SA:
		fputs(":\n", f);
		print_sa(f, &p->u.sa, pad);
		return;
	case IKE_PT_KE:
		fprintf(f, ": group %s, %zu bytes",
			or_num(ike_transform_name(IKE_TRANS_DH, p->u.ke.group), b, sizeof(b), "",
			       p->u.ke.group), p->u.ke.len);
		break;
	case IKE_PT_IDI:
	case IKE_PT_IDR:
		fputc(':', f);
		print_id(f, &p->u.id);
		break;
	case IKE_PT_CERT:
	case IKE_PT_CERTREQ:
		fprintf(f, ": %s, %zu bytes",
			or_num(ike_cert_encoding_name(p->u.cert.encoding), b, sizeof(b), "encoding ",
			       p->u.cert.encoding), p->u.cert.len);
		break;
	case IKE_PT_AUTH:
		fprintf(f, ": %s, %zu bytes",
			or_num(ike_auth_method_name(p->u.auth.method), b, sizeof(b), "method ",
			       p->u.auth.method), p->u.auth.len);
		break;
	case IKE_PT_NONCE:
		fprintf(f, ": %zu bytes ", p->u.nonce.len);
		put_hex(f, p->u.nonce.data, p->u.nonce.len);
		break;
	case IKE_PT_NOTIFY:
		fprintf(f, "(%s)", or_num(ike_notify_name(p->u.notify.type), b, sizeof(b), "",
					  p->u.notify.type));
		print_notify(f, &p->u.notify);
		break;
	case IKE_PT_DELETE:
		fprintf(f, ": %s", or_num(ike_protocol_name(p->u.del.protocol), b, sizeof(b),
					  "protocol ", p->u.del.protocol));
		for (size_t i = 0; p->u.del.spi_size && i < p->u.del.nspis && i < 32; i++) {
			fputs(" spi 0x", f);
			put_hex(f, p->u.del.spis + i * p->u.del.spi_size, p->u.del.spi_size);
		}
		if (p->u.del.nspis > 32)
			fprintf(f, " ... (%u SPIs)", p->u.del.nspis);
		break;
	case IKE_PT_VENDOR:
		fputs(": ", f);
		put_hex(f, p->u.vendor.data, p->u.vendor.len);
		break;
	case IKE_PT_TSI:
	case IKE_PT_TSR:
		fputs(":\n", f);
		print_ts(f, &p->u.ts, pad);
		return;
	case IKE_PT_CP:
		fprintf(f, ": %s\n", or_num(ike_cfg_type_name(p->u.cp.cfg_type), b, sizeof(b), "type ",
					   p->u.cp.cfg_type));
		print_cp(f, &p->u.cp, pad);
		return;
	case IKE_PT_EAP:
		fprintf(f, ": %s id %u", or_num(ike_eap_code_name(p->u.eap.code), b, sizeof(b), "code ",
						p->u.eap.code), p->u.eap.id);
		if (p->u.eap.has_type)
			fprintf(f, " %s", or_num(ike_eap_type_name(p->u.eap.type), b, sizeof(b), "type ",
						 p->u.eap.type));
		break;
	case IKE_PT_SK:
		fprintf(f, ": %zu bytes encrypted", p->u.sk.len);
		break;
	case IKE_PT_SKF:
		fprintf(f, ": fragment %u of %u, %zu bytes encrypted", p->u.skf.number, p->u.skf.total,
			p->u.skf.len);
		break;
	default:
		fprintf(f, ": %zu bytes", p->body_len);
		break;
	}
	fputc('\n', f);
}
