/* policy.c — IPsec policies (SPD entries): add and delete.
 *
 * A policy's selector carries pvpn's ownership tag (xfrm.h); deletion goes
 * by the same selector + direction, as the kernel keys policies by them. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "kernel-xfrm/nl.h"

static int check_policy(const struct xfrm_policy *p, struct pvpn_err *e)
{
	if (p->sel.family != AF_INET && p->sel.family != AF_INET6)
		return err_set(e, -EINVAL, "policy selector has no address family");
	if ((p->sel.src.family && p->sel.src.family != p->sel.family) ||
	    (p->sel.dst.family && p->sel.dst.family != p->sel.family))
		return err_set(e, -EINVAL, "policy selector mixes address families");
	if (p->sel.src_len > (p->sel.family == AF_INET ? 32 : 128) ||
	    p->sel.dst_len > (p->sel.family == AF_INET ? 32 : 128))
		return err_set(e, -EINVAL, "policy selector prefix length too long");
	if (p->dir != XFRM_DIR_IN && p->dir != XFRM_DIR_OUT && p->dir != XFRM_DIR_FWD)
		return err_set(e, -EINVAL, "policy direction must be in, out or fwd");
	if (p->action != XFRM_ACT_ALLOW && p->action != XFRM_ACT_BLOCK)
		return err_set(e, -EINVAL, "policy action must be allow or block");
	if (p->has_tmpl) {
		if (p->tmpl.mode == XFRM_SA_TUNNEL &&
		    (p->tmpl.src.family != p->tmpl.dst.family ||
		     (p->tmpl.src.family != AF_INET && p->tmpl.src.family != AF_INET6)))
			return err_set(e, -EINVAL, "a tunnel-mode template needs both tunnel endpoints of one family");
		if (!reqid_owned(p->tmpl.reqid))
			return err_set(e, -EINVAL, "template reqid %u is outside pvpn's range [%u, %u]",
				       p->tmpl.reqid, XFRM_REQID_MIN, XFRM_REQID_MAX);
	}
	return 0;
}

static bool put_mark_ifid(struct nlmsghdr *nlh, size_t cap,
			  const struct xfrm_mark_opt *mark, uint32_t if_id)
{
	if (mark->value || mark->mask) {
		struct xfrm_mark m = { .v = mark->value, .m = mark->mask };
		if (!mnl_attr_put_check(nlh, cap, XFRMA_MARK, sizeof(m), &m))
			return false;
	}
	if (if_id && !mnl_attr_put_u32_check(nlh, cap, XFRMA_IF_ID, if_id))
		return false;
	return true;
}

struct nlmsghdr *xfrm_build_policy(void *buf, size_t cap, uint16_t type,
				   const struct xfrm_policy *p, struct pvpn_err *e)
{
	struct nlmsghdr *nlh;

	if (check_policy(p, e) < 0)
		return NULL;
	memset(buf, 0, cap);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	if (type == XFRM_MSG_DELPOLICY) {
		struct xfrm_userpolicy_id *id = mnl_nlmsg_put_extra_header(nlh, sizeof(*id));
		sel_to_kernel(&p->sel, &id->sel);
		id->dir = (uint8_t)p->dir;
	} else {
		struct xfrm_userpolicy_info *pi = mnl_nlmsg_put_extra_header(nlh, sizeof(*pi));
		sel_to_kernel(&p->sel, &pi->sel);
		lft_to_kernel(NULL, &pi->lft);
		pi->priority = p->priority;
		pi->dir = (uint8_t)p->dir;
		pi->action = p->action == XFRM_ACT_BLOCK ? XFRM_POLICY_BLOCK : XFRM_POLICY_ALLOW;
		pi->share = XFRM_SHARE_ANY;
		if (type == XFRM_MSG_NEWPOLICY)
			nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
		if (p->has_tmpl) {
			struct xfrm_user_tmpl t;
			memset(&t, 0, sizeof(t));
			t.family = (uint16_t)(p->tmpl.mode == XFRM_SA_TUNNEL ? p->tmpl.dst.family :
					      p->sel.family);
			if (p->tmpl.mode == XFRM_SA_TUNNEL) {
				xa_to_kernel(&p->tmpl.dst, &t.id.daddr);
				xa_to_kernel(&p->tmpl.src, &t.saddr);
			}
			t.id.proto = p->tmpl.proto ? p->tmpl.proto : IPPROTO_ESP;
			t.reqid = p->tmpl.reqid;
			t.mode = p->tmpl.mode == XFRM_SA_TUNNEL ? XFRM_MODE_TUNNEL : XFRM_MODE_TRANSPORT;
			t.share = XFRM_SHARE_UNIQUE;
			t.optional = p->tmpl.optional ? 1 : 0;
			/* Any algorithm: the SA decides, not the template. */
			t.aalgos = t.ealgos = t.calgos = ~0u;
			if (!mnl_attr_put_check(nlh, cap, XFRMA_TMPL, sizeof(t), &t))
				goto full;
		}
	}
	if (!put_mark_ifid(nlh, cap, &p->mark, p->if_id))
		goto full;
	return nlh;
full:
	err_set(e, -EMSGSIZE, "policy does not fit in a netlink message");
	return NULL;
}

int xfrm_policy_add(struct xfrm_handle *h, const struct xfrm_policy *p, struct pvpn_err *e)
{
	uint8_t buf[NL_BUF_SIZE] __attribute__((aligned(4)));
	struct nlmsghdr *nlh;
	struct nl_ack ack;

	nlh = xfrm_build_policy(buf, sizeof(buf), XFRM_MSG_NEWPOLICY, p, e);
	if (!nlh)
		return e ? e->code : -EINVAL;
	if (nl_talk(h->xfrm, &h->seq, nlh, NULL, NULL, &ack) < 0)
		return xfrm_err_kernel(e, OP_POLICY_ADD, &ack, p);
	return 0;
}

int xfrm_policy_delete(struct xfrm_handle *h, const struct xfrm_policy *p, struct pvpn_err *e)
{
	uint8_t buf[NL_BUF_SIZE] __attribute__((aligned(4)));
	struct nlmsghdr *nlh;
	struct nl_ack ack;

	nlh = xfrm_build_policy(buf, sizeof(buf), XFRM_MSG_DELPOLICY, p, e);
	if (!nlh)
		return e ? e->code : -EINVAL;
	if (nl_talk(h->xfrm, &h->seq, nlh, NULL, NULL, &ack) < 0)
		return xfrm_err_kernel(e, OP_POLICY_DELETE, &ack, p);
	return 0;
}
