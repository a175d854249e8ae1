/* rtmon.c — watching the network: an rtnetlink subscription to link,
 * address and route changes (so pvpnd notices a new path to its servers at
 * once instead of polling), and RTM_GETROUTE lookups of the route the
 * kernel picks toward an address (source, gateway, interface).
 *
 * The watcher does not interpret events: any link, address or route change
 * may move the path, so the caller only learns "something changed" and
 * looks the route up again (after a short debounce: one address move
 * brings several messages). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>

#include "kernel-xfrm/nl.h"
#include "lib/reader.h"

struct xfrm_rtmon {
	struct mnl_socket *nl;
};

int xfrm_rtmon_open(struct xfrm_rtmon **out, struct pvpn_err *e)
{
	static const unsigned groups[] = {
		RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR,
		RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE,
	};
	struct xfrm_rtmon *m;
	int fd, rc;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return err_set(e, -ENOMEM, "out of memory");
	m->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!m->nl) {
		rc = err_set(e, -errno, "cannot open an rtnetlink socket to watch the network: %s",
			     strerror(errno));
		goto fail;
	}
	if (mnl_socket_bind(m->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = err_set(e, -errno, "cannot bind the rtnetlink watch socket: %s", strerror(errno));
		goto fail;
	}
	fd = mnl_socket_get_fd(m->nl);
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		unsigned g = groups[i];
		if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g)) < 0) {
			/* IPv6 may be absent: its groups then do not exist. */
			if (g == RTNLGRP_IPV6_IFADDR || g == RTNLGRP_IPV6_ROUTE)
				continue;
			rc = err_set(e, -errno, "cannot subscribe to rtnetlink group %u: %s", g,
				     strerror(errno));
			goto fail;
		}
	}
	*out = m;
	return 0;
fail:
	xfrm_rtmon_close(m);
	return rc;
}

int xfrm_rtmon_fd(const struct xfrm_rtmon *m)
{
	return mnl_socket_get_fd(m->nl);
}

/* A link, address or route message (not our own lookups' answers). */
static bool is_change(uint16_t type)
{
	switch (type) {
	case RTM_NEWLINK: case RTM_DELLINK:
	case RTM_NEWADDR: case RTM_DELADDR:
	case RTM_NEWROUTE: case RTM_DELROUTE:
		return true;
	default:
		return false;
	}
}

int xfrm_rtmon_read(struct xfrm_rtmon *m, struct pvpn_err *e)
{
	uint8_t buf[16384] __attribute__((aligned(4)));
	int changes = 0;

	for (int burst = 0; burst < 64; burst++) {
		ssize_t n = recv(mnl_socket_get_fd(m->nl), buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				break;
			if (errno == ENOBUFS) {
				/* Messages were lost: whatever they said, look
				 * again. */
				changes++;
				continue;
			}
			return err_set(e, -errno, "reading rtnetlink events: %s", strerror(errno));
		}
		struct reader r;
		rd_init(&r, buf, (size_t)n);
		while (rd_left(&r) >= sizeof(struct nlmsghdr)) {
			struct nlmsghdr h;
			if (!rd_bytes(&r, &h, sizeof(h)) || h.nlmsg_len < sizeof(h) ||
			    h.nlmsg_len - sizeof(h) > rd_left(&r))
				break;      /* truncated: the rest is unusable */
			if (is_change(h.nlmsg_type))
				changes++;
			rd_skip(&r, h.nlmsg_len - sizeof(h));
			nl_skip_pad(&r, h.nlmsg_len);
		}
	}
	return changes;
}

void xfrm_rtmon_close(struct xfrm_rtmon *m)
{
	if (!m)
		return;
	if (m->nl)
		mnl_socket_close(m->nl);
	free(m);
}

/* --- route lookup ---------------------------------------------------- */

struct lookup_ctx {
	int family;
	struct xfrm_route_info *out;
	bool found;
};

static int lookup_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct lookup_ctx *l = arg;
	struct reader r, attrs, pl;
	struct rtmsg rt;
	size_t alen = l->family == AF_INET ? 4 : 16;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return 0;
	rd_init(&r, (const uint8_t *)nlh + sizeof(*nlh), nlh->nlmsg_len - sizeof(*nlh));
	if (!rd_bytes(&r, &rt, sizeof(rt)))
		return -EPROTO;
	nl_skip_pad(&r, sizeof(rt));
	attrs = r;
	if (rt.rtm_type == RTN_UNREACHABLE || rt.rtm_type == RTN_PROHIBIT ||
	    rt.rtm_type == RTN_BLACKHOLE || rt.rtm_type == RTN_THROW)
		return 0;
	memset(l->out, 0, sizeof(*l->out));
	while (rd_left(&attrs) >= 4) {
		uint16_t len, type;
		if (!rd_u16_host(&attrs, &len) || !rd_u16_host(&attrs, &type) || len < 4 ||
		    !rd_sub(&attrs, len - 4u, &pl))
			return -EPROTO;
		nl_skip_pad(&attrs, len);
		type &= NLA_TYPE_MASK;
		if ((type == RTA_PREFSRC || type == RTA_GATEWAY) && rd_left(&pl) == alen) {
			struct xfrm_addr *a = type == RTA_PREFSRC ? &l->out->src : &l->out->gw;
			a->family = l->family;
			if (!rd_bytes(&pl, l->family == AF_INET ? (void *)&a->v4 : (void *)&a->v6, alen))
				return -EPROTO;
		} else if (type == RTA_OIF && rd_left(&pl) == 4) {
			uint32_t oif;
			if (!rd_u32_host(&pl, &oif))
				return -EPROTO;
			l->out->ifindex = (int)oif;
		}
	}
	l->found = true;
	return 0;
}

int xfrm_route_lookup(struct xfrm_handle *h, const struct xfrm_addr *dst,
		      struct xfrm_route_info *out, struct pvpn_err *e)
{
	uint8_t buf[NL_BUF_SIZE] __attribute__((aligned(4)));
	struct nlmsghdr *nlh;
	struct rtmsg *rt;
	struct nl_ack ack;
	struct lookup_ctx l = { .family = dst->family, .out = out };
	char a[INET6_ADDRSTRLEN];
	int rc;

	memset(out, 0, sizeof(*out));
	if (dst->family != AF_INET && dst->family != AF_INET6)
		return err_set(e, -EINVAL, "route lookup: the destination has no address family");
	if ((rc = nl_rt(h, e)) < 0)
		return rc;
	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));
	rt->rtm_family = (uint8_t)dst->family;
	rt->rtm_dst_len = dst->family == AF_INET ? 32 : 128;
	mnl_attr_put(nlh, RTA_DST, xa_len(dst), dst->family == AF_INET ? (const void *)&dst->v4
								   : (const void *)&dst->v6);
	memset(&ack, 0, sizeof(ack));
	rc = nl_talk(h->rt, &h->seq, nlh, lookup_cb, &l, &ack);
	if (rc < 0) {
		int code = ack.code < 0 ? ack.code : rc;
		return err_set(e, code, "no route to %s: %s%s%s%s", xfrm_addr_str(dst, a, sizeof(a)),
			       strerror(-code), ack.msg[0] ? " (kernel: " : "", ack.msg,
			       ack.msg[0] ? ")" : "");
	}
	if (!l.found)
		return err_set(e, -ENETUNREACH, "no route to %s", xfrm_addr_str(dst, a, sizeof(a)));
	return 0;
}
