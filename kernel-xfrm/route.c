/* route.c — rtnetlink: the virtual IP on an interface and the routes
 * (with table and preferred source) that send traffic into the tunnel. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>
#include <linux/if_addr.h>

#include "kernel-xfrm/nl.h"

static int addr_msg(struct xfrm_handle *h, uint16_t type, enum nl_op op,
		    const struct xfrm_ifaddr *a, struct pvpn_err *e)
{
	uint8_t buf[512] __attribute__((aligned(4)));
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	struct nl_ack ack;
	size_t alen = xa_len(&a->addr);
	int rc;

	if (!alen)
		return err_set(e, -EINVAL, "address has no family");
	if (a->ifindex <= 0)
		return err_set(e, -EINVAL, "address needs an interface index");
	if (a->prefix_len > alen * 8)
		return err_set(e, -EINVAL, "prefix length %u is too long", a->prefix_len);
	if ((rc = nl_rt(h, e)) < 0)
		return rc;
	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK |
			   (type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)a->addr.family;
	ifa->ifa_prefixlen = a->prefix_len;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)a->ifindex;
	/* A virtual IP is unique by the server's assignment; without DAD an
	 * IPv6 address is usable at once instead of "tentative" for a while
	 * (during which routes with it as source are refused). */
	if (a->addr.family == AF_INET6) {
		ifa->ifa_flags = IFA_F_NODAD;
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	}
	mnl_attr_put(nlh, IFA_LOCAL, alen, &a->addr.v6);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, &a->addr.v6);
	if (nl_talk(h->rt, &h->seq, nlh, NULL, NULL, &ack) < 0)
		return xfrm_err_kernel(e, op, &ack, NULL);
	return 0;
}

int xfrm_addr_add(struct xfrm_handle *h, const struct xfrm_ifaddr *a, struct pvpn_err *e)
{
	return addr_msg(h, RTM_NEWADDR, OP_ADDR_ADD, a, e);
}

int xfrm_addr_del(struct xfrm_handle *h, const struct xfrm_ifaddr *a, struct pvpn_err *e)
{
	return addr_msg(h, RTM_DELADDR, OP_ADDR_DEL, a, e);
}

static int route_msg(struct xfrm_handle *h, uint16_t type, enum nl_op op,
		     const struct xfrm_route *r, struct pvpn_err *e)
{
	uint8_t buf[512] __attribute__((aligned(4)));
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	struct nl_ack ack;
	size_t alen = xa_len(&r->dst);
	int rc;

	if (!alen)
		return err_set(e, -EINVAL, "route destination has no family");
	if (r->dst_len > alen * 8)
		return err_set(e, -EINVAL, "route prefix length %u is too long", r->dst_len);
	if ((r->src.family && r->src.family != r->dst.family) ||
	    (r->gw.family && r->gw.family != r->dst.family))
		return err_set(e, -EINVAL, "route mixes address families");
	if (!r->ifindex && !r->gw.family)
		return err_set(e, -EINVAL, "route needs an interface or a gateway");
	if ((rc = nl_rt(h, e)) < 0)
		return rc;
	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK |
			   (type == RTM_NEWROUTE ? NLM_F_CREATE | NLM_F_EXCL : 0);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)r->dst.family;
	rtm->rtm_dst_len = r->dst_len;
	rtm->rtm_table = r->table && r->table < 256 ? (uint8_t)r->table :
			 r->table ? RT_TABLE_UNSPEC : RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_type = RTN_UNICAST;
	/* Deleting matches any scope; a gateway-less route is on-link. */
	rtm->rtm_scope = type == RTM_DELROUTE ? RT_SCOPE_NOWHERE :
			 r->gw.family ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	mnl_attr_put(nlh, RTA_DST, alen, &r->dst.v6);
	if (r->table)
		mnl_attr_put_u32(nlh, RTA_TABLE, r->table);
	if (r->ifindex)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)r->ifindex);
	if (r->src.family)
		mnl_attr_put(nlh, RTA_PREFSRC, alen, &r->src.v6);
	if (r->gw.family)
		mnl_attr_put(nlh, RTA_GATEWAY, alen, &r->gw.v6);
	if (r->metric)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, r->metric);
	if (nl_talk(h->rt, &h->seq, nlh, NULL, NULL, &ack) < 0)
		return xfrm_err_kernel(e, op, &ack, NULL);
	return 0;
}

int xfrm_route_add(struct xfrm_handle *h, const struct xfrm_route *r, struct pvpn_err *e)
{
	return route_msg(h, RTM_NEWROUTE, OP_ROUTE_ADD, r, e);
}

int xfrm_route_del(struct xfrm_handle *h, const struct xfrm_route *r, struct pvpn_err *e)
{
	return route_msg(h, RTM_DELROUTE, OP_ROUTE_DEL, r, e);
}
