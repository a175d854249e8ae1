/* print.c — one-line summaries of IKE messages for logs and tools, in the
 * style people know from strongSwan's logs:
 *   IKE_SA_INIT #0 I req [SA KE No N(NATD_S_IP) N(NATD_D_IP)]
 * Only numbers and names are printed, never payload contents, so a
 * summary is safe to log even for decrypted inner payloads. */
#include "ike-lite/message.h"

#include <stdarg.h>
#include <stdio.h>

struct out {
	char *buf;
	size_t cap;
	size_t len;    /* what would have been written */
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	size_t room = o->len < o->cap ? o->cap - o->len : 0;
	va_start(ap, fmt);
	int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static void put_payload(struct out *o, const struct ike_payload *p)
{
	const char *n = ike_payload_name(p->type);
	if (!n) {
		put(o, "PT(%u)", p->type);
		return;
	}
	switch (p->type) {
	case IKE_PT_NOTIFY: {
		const char *nn = ike_notify_short_name(p->u.notify.type);
		if (nn)
			put(o, "N(%s)", nn);
		else
			put(o, "N(%u)", p->u.notify.type);
		break;
	}
	case IKE_PT_DELETE: {
		const char *pn = ike_protocol_name(p->u.del.protocol);
		if (pn)
			put(o, "D(%s)", pn);
		else
			put(o, "D(%u)", p->u.del.protocol);
		break;
	}
	case IKE_PT_CP: {
		const char *cn = ike_cfg_type_name(p->u.cp.cfg_type);
		if (cn)
			put(o, "CP(%s)", cn + 4);  /* skip "CFG_" */
		else
			put(o, "CP(%u)", p->u.cp.cfg_type);
		break;
	}
	case IKE_PT_EAP: {
		const char *en = ike_eap_code_name(p->u.eap.code);
		if (p->u.eap.has_type && ike_eap_type_name(p->u.eap.type))
			put(o, "EAP/%s/%s", en ? en : "?", ike_eap_type_name(p->u.eap.type));
		else if (en)
			put(o, "EAP/%s", en);
		else
			put(o, "EAP/%u", p->u.eap.code);
		break;
	}
	case IKE_PT_SKF:
		put(o, "SKF(%u/%u)", p->u.skf.number, p->u.skf.total);
		break;
	default:
		put(o, "%s", n);
		break;
	}
}

int ike_message_format(const struct ike_message *m, char *out, size_t cap)
{
	struct out o = { out, cap, 0 };
	if (cap)
		out[0] = '\0';
	if (m->has_header) {
		const char *x = ike_exchange_name(m->hdr.exchange);
		if (x)
			put(&o, "%s", x);
		else
			put(&o, "EXCHANGE(%u)", m->hdr.exchange);
		put(&o, " #%u %s %s ", m->hdr.message_id,
		    (m->hdr.flags & IKE_FLAG_I) ? "I" : "R",
		    (m->hdr.flags & IKE_FLAG_R) ? "rsp" : "req");
	}
	put(&o, "[");
	for (size_t i = 0; i < m->npayloads; i++) {
		if (i)
			put(&o, " ");
		put_payload(&o, &m->payloads[i]);
	}
	put(&o, "]");
	return o.len > (size_t)INT32_MAX ? INT32_MAX : (int)o.len;
}
