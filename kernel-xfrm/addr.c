/* addr.c — addresses, selectors and lifetimes: our plain structs to and
 * from linux/xfrm.h's, plus parsing and printing addresses. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "kernel-xfrm/nl.h"

int xfrm_addr_parse(const char *s, struct xfrm_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->v4) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a->v6) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

const char *xfrm_addr_str(const struct xfrm_addr *a, char *buf, size_t len)
{
	if (!len)
		return buf;
	if (!a || (a->family != AF_INET && a->family != AF_INET6) ||
	    !inet_ntop(a->family, a->family == AF_INET ? (const void *)&a->v4 :
		       (const void *)&a->v6, buf, (socklen_t)len))
		snprintf(buf, len, "(none)");
	return buf;
}

bool xfrm_addr_equal(const struct xfrm_addr *a, const struct xfrm_addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET)
		return a->v4.s_addr == b->v4.s_addr;
	if (a->family == AF_INET6)
		return !memcmp(&a->v6, &b->v6, sizeof(a->v6));
	return false;
}

void xa_to_kernel(const struct xfrm_addr *a, xfrm_address_t *out)
{
	memset(out, 0, sizeof(*out));
	if (a->family == AF_INET)
		out->a4 = a->v4.s_addr;
	else if (a->family == AF_INET6)
		memcpy(&out->in6, &a->v6, sizeof(out->in6));
}

void xa_from_kernel(const xfrm_address_t *in, int family, struct xfrm_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->family = family;
	if (family == AF_INET)
		out->v4.s_addr = in->a4;
	else if (family == AF_INET6)
		memcpy(&out->v6, &in->in6, sizeof(out->v6));
	else
		out->family = 0;
}

size_t xa_len(const struct xfrm_addr *a)
{
	return a->family == AF_INET ? 4 : a->family == AF_INET6 ? 16 : 0;
}

void sel_to_kernel(const struct xfrm_sel *s, struct xfrm_selector *out)
{
	memset(out, 0, sizeof(*out));
	out->family = (uint16_t)s->family;
	if (s->src.family)
		xa_to_kernel(&s->src, &out->saddr);
	if (s->dst.family)
		xa_to_kernel(&s->dst, &out->daddr);
	out->prefixlen_s = s->src_len;
	out->prefixlen_d = s->dst_len;
	out->proto = s->proto;
	if (s->sport) {
		out->sport = htons(s->sport);
		out->sport_mask = 0xffff;
	}
	if (s->dport) {
		out->dport = htons(s->dport);
		out->dport_mask = 0xffff;
	}
	out->ifindex = s->ifindex;
	/* The ownership tag: stored and dumped, never matched (see xfrm.h). */
	out->user = XFRM_OWNER_TAG;
}

void sel_from_kernel(const struct xfrm_selector *in, struct xfrm_sel *out)
{
	memset(out, 0, sizeof(*out));
	out->family = in->family;
	xa_from_kernel(&in->saddr, in->family, &out->src);
	xa_from_kernel(&in->daddr, in->family, &out->dst);
	out->src_len = in->prefixlen_s;
	out->dst_len = in->prefixlen_d;
	out->proto = in->proto;
	out->sport = in->sport_mask ? ntohs(in->sport) : 0;
	out->dport = in->dport_mask ? ntohs(in->dport) : 0;
	out->ifindex = in->ifindex;
}

static uint64_t lim(uint64_t v)
{
	return v ? v : XFRM_INF;
}

void lft_to_kernel(const struct xfrm_lifetime *l, struct xfrm_lifetime_cfg *out)
{
	memset(out, 0, sizeof(*out));
	out->soft_byte_limit = lim(l ? l->soft_bytes : 0);
	out->hard_byte_limit = lim(l ? l->hard_bytes : 0);
	out->soft_packet_limit = lim(l ? l->soft_packets : 0);
	out->hard_packet_limit = lim(l ? l->hard_packets : 0);
	if (l) {
		out->soft_add_expires_seconds = l->soft_add_seconds;
		out->hard_add_expires_seconds = l->hard_add_seconds;
	}
}

bool reqid_owned(uint32_t reqid)
{
	return reqid >= XFRM_REQID_MIN && reqid <= XFRM_REQID_MAX;
}
