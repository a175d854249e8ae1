/* dump.c — read SAs and policies back from the kernel, and remove what
 * pvpn owns (the scheme is in xfrm.h: selector user tag, reqid range). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "kernel-xfrm/nl.h"
#include "lib/reader.h"
#include "lib/secret.h"

/* Split a message into its fixed header struct (copied out) and a reader
 * over the attributes that follow, after checking every length. */
static bool split(const struct nlmsghdr *nlh, size_t len, void *fixed, size_t flen,
		  struct reader *attrs)
{
	struct reader r;
	uint32_t mlen;

	/* memcpy: a caller's buffer need not be aligned. */
	if (len < sizeof(*nlh))
		return false;
	memcpy(&mlen, nlh, sizeof(mlen));
	if (mlen < sizeof(*nlh) || mlen > len)
		return false;
	rd_init(&r, (const uint8_t *)nlh + sizeof(*nlh), mlen - sizeof(*nlh));
	if (!rd_bytes(&r, fixed, flen))
		return false;
	nl_skip_pad(&r, flen);
	*attrs = r;
	return true;
}

/* Next attribute: type and a reader over its payload.  False at the end;
 * a malformed attribute marks `r` failed (check rd_ok afterwards). */
static bool next_attr(struct reader *r, uint16_t *type, struct reader *payload)
{
	uint16_t alen;

	if (rd_left(r) == 0)
		return false;
	if (!rd_u16_host(r, &alen) || !rd_u16_host(r, type) || alen < 4 ||
	    !rd_sub(r, alen - 4u, payload))
		return rd_fail(r);
	nl_skip_pad(r, alen);
	*type &= NLA_TYPE_MASK;
	return true;
}

static bool family_ok(unsigned f)
{
	return f == AF_INET || f == AF_INET6;
}

void xfrm_sa_info_from_kernel(const struct xfrm_usersa_info *p, struct xfrm_sa_info *out)
{
	memset(out, 0, sizeof(*out));
	xa_from_kernel(&p->id.daddr, p->family, &out->id.dst);
	out->id.spi = ntohl(p->id.spi);
	out->id.proto = p->id.proto;
	xa_from_kernel(&p->saddr, p->family, &out->src);
	out->mode = p->mode == XFRM_MODE_TUNNEL ? XFRM_SA_TUNNEL : XFRM_SA_TRANSPORT;
	out->reqid = p->reqid;
	out->owned = p->sel.user == XFRM_OWNER_TAG || reqid_owned(p->reqid);
	out->counters.bytes = p->curlft.bytes;
	out->counters.packets = p->curlft.packets;
	out->counters.add_time = p->curlft.add_time;
	out->counters.use_time = p->curlft.use_time;
}

int xfrm_decode_sa(const struct nlmsghdr *nlh, size_t len, struct xfrm_sa_info *out)
{
	struct xfrm_usersa_info p;
	struct reader attrs, pl;
	uint16_t type;

	memset(out, 0, sizeof(*out));
	if (!split(nlh, len, &p, sizeof(p), &attrs) || !family_ok(p.family))
		return -EPROTO;
	xfrm_sa_info_from_kernel(&p, out);
	while (next_attr(&attrs, &type, &pl)) {
		if (type == XFRMA_MARK) {
			struct xfrm_mark m;
			if (!rd_bytes(&pl, &m, sizeof(m)))
				return -EPROTO;
			out->id.mark.value = m.v;
			out->id.mark.mask = m.m;
		}
	}
	secret_wipe(&p, sizeof(p));
	return rd_ok(&attrs) ? 0 : -EPROTO;
}

static void tmpl_from_kernel(const struct xfrm_user_tmpl *t, struct xfrm_tmpl *out)
{
	memset(out, 0, sizeof(*out));
	out->proto = t->id.proto;
	out->mode = t->mode == XFRM_MODE_TUNNEL ? XFRM_SA_TUNNEL : XFRM_SA_TRANSPORT;
	out->reqid = t->reqid;
	out->optional = t->optional != 0;
	if (t->mode == XFRM_MODE_TUNNEL && family_ok(t->family)) {
		xa_from_kernel(&t->saddr, t->family, &out->src);
		xa_from_kernel(&t->id.daddr, t->family, &out->dst);
	}
}

void xfrm_policy_info_from_kernel(const struct xfrm_userpolicy_info *p,
				  struct xfrm_policy_info *out)
{
	memset(out, 0, sizeof(*out));
	sel_from_kernel(&p->sel, &out->sel);
	out->dir = (enum xfrm_dir)p->dir;
	out->action = p->action == XFRM_POLICY_BLOCK ? XFRM_ACT_BLOCK : XFRM_ACT_ALLOW;
	out->priority = p->priority;
	out->index = p->index;
	out->owned = p->sel.user == XFRM_OWNER_TAG;
}

int xfrm_decode_policy(const struct nlmsghdr *nlh, size_t len, struct xfrm_policy_info *out)
{
	struct xfrm_userpolicy_info p;
	struct reader attrs, pl;
	uint16_t type;

	memset(out, 0, sizeof(*out));
	if (!split(nlh, len, &p, sizeof(p), &attrs))
		return -EPROTO;
	xfrm_policy_info_from_kernel(&p, out);
	while (next_attr(&attrs, &type, &pl)) {
		if (type == XFRMA_TMPL && !out->has_tmpl) {
			struct xfrm_user_tmpl t;
			if (!rd_bytes(&pl, &t, sizeof(t)))
				return -EPROTO;
			tmpl_from_kernel(&t, &out->tmpl);
			out->has_tmpl = true;
			if (reqid_owned(t.reqid))
				out->owned = true;
		} else if (type == XFRMA_MARK) {
			struct xfrm_mark m;
			if (!rd_bytes(&pl, &m, sizeof(m)))
				return -EPROTO;
			out->mark.value = m.v;
			out->mark.mask = m.m;
		} else if (type == XFRMA_IF_ID) {
			if (!rd_u32_host(&pl, &out->if_id))
				return -EPROTO;
		}
	}
	return rd_ok(&attrs) ? 0 : -EPROTO;
}

/* Exposed to events.c: the same attribute walk. */
bool xfrm_next_attr(struct reader *r, uint16_t *type, struct reader *payload)
{
	return next_attr(r, type, payload);
}
bool xfrm_split(const struct nlmsghdr *nlh, size_t len, void *fixed, size_t flen,
		struct reader *attrs)
{
	return split(nlh, len, fixed, flen, attrs);
}

struct walk_ctx {
	int (*sa_fn)(const struct xfrm_sa_info *, void *);
	int (*pol_fn)(const struct xfrm_policy_info *, void *);
	void *arg;
	int stop;
};

static int dump_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct walk_ctx *w = arg;

	if (w->stop)
		return 0;
	if (nlh->nlmsg_type == XFRM_MSG_NEWSA && w->sa_fn) {
		struct xfrm_sa_info sa;
		if (xfrm_decode_sa(nlh, nlh->nlmsg_len, &sa) < 0)
			return -EPROTO;
		w->stop = w->sa_fn(&sa, w->arg);
	} else if (nlh->nlmsg_type == XFRM_MSG_NEWPOLICY && w->pol_fn) {
		struct xfrm_policy_info p;
		if (xfrm_decode_policy(nlh, nlh->nlmsg_len, &p) < 0)
			return -EPROTO;
		w->stop = w->pol_fn(&p, w->arg);
	}
	return 0;
}

static int dump(struct xfrm_handle *h, uint16_t type, struct walk_ctx *w, struct pvpn_err *e)
{
	uint8_t buf[MNL_NLMSG_HDRLEN] __attribute__((aligned(4)));
	struct nlmsghdr *nlh;
	struct nl_ack ack;
	int rc;

	/* A dump request is a bare header: the kernel parses attributes right
	 * after it (xfrm_dump_sa_start). */
	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	rc = nl_talk(h->xfrm, &h->seq, nlh, dump_cb, w, &ack);
	if (rc == -EPROTO && !ack.msg[0])
		return err_set(e, rc, "the kernel sent a malformed %s entry",
			       type == XFRM_MSG_GETSA ? "SA" : "policy");
	if (rc < 0)
		return xfrm_err_kernel(e, OP_DUMP, &ack, NULL);
	return w->stop;
}

int xfrm_sa_dump(struct xfrm_handle *h, int (*fn)(const struct xfrm_sa_info *, void *),
		 void *arg, struct pvpn_err *e)
{
	struct walk_ctx w = { .sa_fn = fn, .arg = arg };
	return dump(h, XFRM_MSG_GETSA, &w, e);
}

int xfrm_policy_dump(struct xfrm_handle *h,
		     int (*fn)(const struct xfrm_policy_info *, void *), void *arg,
		     struct pvpn_err *e)
{
	struct walk_ctx w = { .pol_fn = fn, .arg = arg };
	return dump(h, XFRM_MSG_GETPOLICY, &w, e);
}

/* Collected first, deleted after the dump: deleting while the kernel walks
 * its tables would make the dump skip entries. */
struct owned_list {
	struct xfrm_sa_id *sas;
	size_t nsa, cap_sa;
	struct xfrm_policy_info *pols;
	size_t npol, cap_pol;
	int err;
};

static int collect_sa(const struct xfrm_sa_info *sa, void *arg)
{
	struct owned_list *l = arg;

	if (!sa->owned)
		return 0;
	if (l->nsa == l->cap_sa) {
		size_t n = l->cap_sa ? l->cap_sa * 2 : 16;
		void *p = realloc(l->sas, n * sizeof(*l->sas));
		if (!p) {
			l->err = -ENOMEM;
			return 1;
		}
		l->sas = p;
		l->cap_sa = n;
	}
	l->sas[l->nsa++] = sa->id;
	return 0;
}

static int collect_pol(const struct xfrm_policy_info *p, void *arg)
{
	struct owned_list *l = arg;

	/* Socket policies (dir >= XFRM_POLICY_MAX) die with their socket. */
	if (!p->owned || (unsigned)p->dir >= XFRM_POLICY_MAX)
		return 0;
	if (l->npol == l->cap_pol) {
		size_t n = l->cap_pol ? l->cap_pol * 2 : 16;
		void *a = realloc(l->pols, n * sizeof(*l->pols));
		if (!a) {
			l->err = -ENOMEM;
			return 1;
		}
		l->pols = a;
		l->cap_pol = n;
	}
	l->pols[l->npol++] = *p;
	return 0;
}

/* By index: the kernel still wants the policy's mark and if_id to match
 * (xfrm_policy_byid). */
static int policy_delete_index(struct xfrm_handle *h, const struct xfrm_policy_info *p,
			       struct nl_ack *ack)
{
	uint8_t buf[256] __attribute__((aligned(4)));
	struct nlmsghdr *nlh;
	struct xfrm_userpolicy_id *id;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = XFRM_MSG_DELPOLICY;
	id = mnl_nlmsg_put_extra_header(nlh, sizeof(*id));
	id->index = p->index;
	id->dir = (uint8_t)p->dir;
	if (p->mark.value || p->mark.mask) {
		struct xfrm_mark m = { .v = p->mark.value, .m = p->mark.mask };
		mnl_attr_put(nlh, XFRMA_MARK, sizeof(m), &m);
	}
	if (p->if_id)
		mnl_attr_put_u32(nlh, XFRMA_IF_ID, p->if_id);
	return nl_talk(h->xfrm, &h->seq, nlh, NULL, NULL, ack);
}

int xfrm_flush_owned(struct xfrm_handle *h, unsigned int *sas, unsigned int *policies,
		     struct pvpn_err *e)
{
	struct owned_list l;
	unsigned int nsa = 0, npol = 0;
	int rc;

	memset(&l, 0, sizeof(l));
	if (sas)
		*sas = 0;
	if (policies)
		*policies = 0;
	rc = xfrm_policy_dump(h, collect_pol, &l, e);
	if (rc >= 0 && !l.err)
		rc = xfrm_sa_dump(h, collect_sa, &l, e);
	if (rc >= 0 && l.err)
		rc = err_set(e, l.err, "out of memory while listing kernel state");
	if (rc < 0)
		goto out;
	/* Policies first, so no packet finds a policy without its SA. */
	for (size_t i = 0; i < l.npol; i++) {
		struct nl_ack ack;
		int r = policy_delete_index(h, &l.pols[i], &ack);
		if (r == 0)
			npol++;
		else if (r != -ENOENT && rc == 0)
			rc = xfrm_err_kernel(e, OP_POLICY_DELETE, &ack, NULL);
	}
	for (size_t i = 0; i < l.nsa; i++) {
		struct pvpn_err e2;
		int r = xfrm_sa_delete(h, &l.sas[i], &e2);
		if (r == 0)
			nsa++;
		else if (r != -ENOENT && rc == 0)
			rc = err_set(e, r, "%s", e2.msg);
	}
out:
	free(l.sas);
	free(l.pols);
	if (sas)
		*sas = nsa;
	if (policies)
		*policies = npol;
	return rc < 0 ? rc : 0;
}
