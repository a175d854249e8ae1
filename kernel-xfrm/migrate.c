/* migrate.c — move installed SAs and the policies' templates to new outer
 * addresses (MOBIKE, RFC 4555 §3.5; a NAT mapping change, RFC 3948),
 * keeping SPIs, keys, sequence numbers, replay window, counters and
 * lifetimes.
 *
 * How: XFRM_MSG_GETSA reads the whole SA back (the kernel describes keys,
 * replay state and current lifetime to CAP_NET_ADMIN), the same message is
 * sent again as XFRM_MSG_NEWSA with the new addresses, the new
 * encapsulation, XFRMA_REPLAY(_ESN)_VAL and XFRMA_LTIME_VAL, and the old SA
 * is deleted; policies are replaced in place with XFRM_MSG_UPDPOLICY.
 * XFRM_MSG_MIGRATE was the other choice; it was not taken because it picks
 * SAs by addresses and reqid, not by SPI (a rekeyed pair in its grace
 * period shares both with the new pair), it cannot stop UDP encapsulation
 * (without XFRMA_ENCAP the clone keeps the old one), it resets the
 * counters, and it needs CONFIG_XFRM_MIGRATE.
 *
 * Order: an SA whose key (dst, spi) changes is added before the old one is
 * deleted; one whose key stays (the outbound SA when only our address
 * moved) must be deleted first.  The outbound sequence number jumps ahead
 * by MIGRATE_SEQ_SLACK so packets that leave on the old SA between the read
 * and the delete never share a number with the new SA's (a receiver
 * accepts gaps, RFC 4303 §3.4.3, but drops repeats). */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/udp.h>

#include "kernel-xfrm/nl.h"
#include "lib/reader.h"
#include "lib/secret.h"

#define MIGRATE_SEQ_SLACK 1024u
#define MIGRATE_BUF 8192

struct raw_reply {
	uint8_t *buf;
	size_t cap;
	size_t len;
};

static int raw_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct raw_reply *r = arg;

	if (nlh->nlmsg_type != XFRM_MSG_NEWSA)
		return 0;
	if (nlh->nlmsg_len > r->cap)
		return -EMSGSIZE;
	memcpy(r->buf, nlh, nlh->nlmsg_len);
	r->len = nlh->nlmsg_len;
	return 0;
}

static int ack_err(struct pvpn_err *e, const struct nl_ack *ack, int rc, const char *what,
		   uint32_t spi, const struct xfrm_addr *dst)
{
	char a[INET6_ADDRSTRLEN];
	int code = ack->code < 0 ? ack->code : rc < 0 ? rc : -EIO;

	if (code == -ESRCH || code == -EADDRNOTAVAIL)
		code = -ENOENT;
	if (code == -ENOENT)
		return err_set(e, code, "%s SA 0x%08x to %s: the kernel has no such SA", what, spi,
			       xfrm_addr_str(dst, a, sizeof(a)));
	if (ack->msg[0])
		return err_set(e, code, "%s SA 0x%08x to %s: %s (kernel: %s)", what, spi,
			       xfrm_addr_str(dst, a, sizeof(a)), strerror(-code), ack->msg);
	return err_set(e, code, "%s SA 0x%08x to %s: %s", what, spi,
		       xfrm_addr_str(dst, a, sizeof(a)), strerror(-code));
}

/* Attributes of a described SA that a NEWSA takes back unchanged.  The
 * legacy XFRMA_ALG_AUTH is left out (the kernel also gives
 * XFRMA_ALG_AUTH_TRUNC, which keeps the true truncation length), and so
 * are the encapsulation (replaced), the replay state (adjusted), the last
 * use time and offload bindings (of the old SA only). */
static bool copy_attr(uint16_t type)
{
	switch (type) {
	case XFRMA_ALG_AEAD:
	case XFRMA_ALG_CRYPT:
	case XFRMA_ALG_AUTH_TRUNC:
	case XFRMA_ALG_COMP:
	case XFRMA_TFCPAD:
	case XFRMA_MARK:
	case XFRMA_SET_MARK:
	case XFRMA_SET_MARK_MASK:
	case XFRMA_IF_ID:
	case XFRMA_SA_EXTRA_FLAGS:
	case XFRMA_MTIMER_THRESH:
	case XFRMA_SEC_CTX:
	case XFRMA_COADDR:
		return true;
	default:
		return false;
	}
}

/* Build the NEWSA for the moved SA from the kernel's description `old`
 * (one whole message).  outbound: advance the sequence number. */
static struct nlmsghdr *build_moved(uint8_t *buf, size_t cap, const struct nlmsghdr *old,
				    const struct xfrm_addr *src, const struct xfrm_addr *dst,
				    const struct xfrm_encap *encap, bool outbound,
				    struct pvpn_err *e)
{
	struct xfrm_usersa_info p;
	struct reader attrs, pl;
	uint16_t type;
	struct nlmsghdr *nlh;
	struct xfrm_usersa_info *np;
	bool replay_seen = false;

	if (!xfrm_split(old, old->nlmsg_len, &p, sizeof(p), &attrs)) {
		err_set(e, -EPROTO, "the kernel's description of an SA was malformed");
		return NULL;
	}
	memset(buf, 0, cap);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = XFRM_MSG_NEWSA;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	np = mnl_nlmsg_put_extra_header(nlh, sizeof(*np));
	*np = p;
	xa_to_kernel(dst, &np->id.daddr);
	xa_to_kernel(src, &np->saddr);
	np->family = (uint16_t)src->family;
	/* Counters and times go as XFRMA_LTIME_VAL below. */
	memset(&np->curlft, 0, sizeof(np->curlft));
	memset(&np->stats, 0, sizeof(np->stats));

	while (xfrm_next_attr(&attrs, &type, &pl)) {
		size_t n = rd_left(&pl);
		const uint8_t *data;
		if (!rd_ptr(&pl, n, &data))
			goto bad;
		if (type == XFRMA_REPLAY_VAL) {
			struct xfrm_replay_state rs;
			if (n < sizeof(rs))
				goto bad;
			memcpy(&rs, data, sizeof(rs));
			/* No ESN: a 32-bit counter that must never wrap. */
			if (outbound && rs.oseq < UINT32_MAX - MIGRATE_SEQ_SLACK)
				rs.oseq += MIGRATE_SEQ_SLACK;
			if (!mnl_attr_put_check(nlh, cap, XFRMA_REPLAY_VAL, sizeof(rs), &rs))
				goto full;
			replay_seen = true;
		} else if (type == XFRMA_REPLAY_ESN_VAL) {
			struct xfrm_replay_state_esn rs;
			if (n < sizeof(rs))
				goto bad;
			memcpy(&rs, data, sizeof(rs));
			if (n != sizeof(rs) + (size_t)rs.bmp_len * sizeof(uint32_t))
				goto bad;
			if (outbound) {
				uint32_t before = rs.oseq;
				rs.oseq += MIGRATE_SEQ_SLACK;
				if (rs.oseq < before)
					rs.oseq_hi++;
			}
			if (!nl_attr_put2(nlh, cap, XFRMA_REPLAY_ESN_VAL, &rs, sizeof(rs),
					  data + sizeof(rs), n - sizeof(rs)))
				goto full;
			replay_seen = true;
		} else if (copy_attr(type)) {
			if (!nl_attr_put2(nlh, cap, type, data, n, NULL, 0))
				goto full;
		}
	}
	if (!rd_ok(&attrs))
		goto bad;
	if (!replay_seen && outbound) {
		/* A kernel that did not describe the replay state would let
		 * the new SA start again at 1: the peer would drop it all. */
		err_set(e, -EPROTO, "the kernel did not describe SA 0x%08x's sequence numbers",
			ntohl(p.id.spi));
		goto fail;
	}
	{
		struct xfrm_lifetime_cur cur = p.curlft;
		if (!mnl_attr_put_check(nlh, cap, XFRMA_LTIME_VAL, sizeof(cur), &cur))
			goto full;
	}
	if (encap && encap->sport) {
		struct xfrm_encap_tmpl t;
		memset(&t, 0, sizeof(t));
		t.encap_type = UDP_ENCAP_ESPINUDP;
		t.encap_sport = htons(encap->sport);
		t.encap_dport = htons(encap->dport);
		if (!mnl_attr_put_check(nlh, cap, XFRMA_ENCAP, sizeof(t), &t))
			goto full;
	}
	secret_wipe(&p, sizeof(p));
	return nlh;
bad:
	err_set(e, -EPROTO, "the kernel's description of SA 0x%08x was malformed", ntohl(p.id.spi));
	goto fail;
full:
	err_set(e, -EMSGSIZE, "the moved SA 0x%08x does not fit in a netlink message",
		ntohl(p.id.spi));
fail:
	secret_wipe(&p, sizeof(p));
	secret_wipe(buf, cap);
	return NULL;
}

int xfrm_sa_move(struct xfrm_handle *h, struct xfrm_sa_id *id, const struct xfrm_move *m,
		 struct pvpn_err *e)
{
	static uint8_t old[MIGRATE_BUF] __attribute__((aligned(4)));
	static uint8_t req[MIGRATE_BUF] __attribute__((aligned(4)));
	uint8_t idbuf[NL_BUF_SIZE] __attribute__((aligned(4)));
	struct raw_reply raw = { .buf = old, .cap = sizeof(old) };
	struct xfrm_usersa_info p;
	struct xfrm_addr cur_src, cur_dst;
	struct xfrm_addr new_src, new_dst;
	struct xfrm_encap enc = { 0 };
	struct xfrm_sa_id new_id;
	struct nlmsghdr *nlh;
	struct nl_ack ack;
	struct reader attrs;
	bool outbound, same_key;
	int rc;

	if ((m->new_local.family != AF_INET && m->new_local.family != AF_INET6) ||
	    m->new_local.family != m->new_remote.family)
		return err_set(e, -EINVAL, "moving SA 0x%08x: the new addresses are not two of one family",
			       id->spi);
	nlh = xfrm_build_sa_id(idbuf, sizeof(idbuf), XFRM_MSG_GETSA, id, e);
	if (!nlh)
		return e ? e->code : -EINVAL;
	memset(&ack, 0, sizeof(ack));
	rc = nl_talk(h->xfrm, &h->seq, nlh, raw_cb, &raw, &ack);
	if (rc < 0) {
		rc = ack_err(e, &ack, rc, "reading", id->spi, &id->dst);
		goto out;
	}
	if (!raw.len || !xfrm_split((const struct nlmsghdr *)old, raw.len, &p, sizeof(p), &attrs)) {
		rc = err_set(e, -EPROTO, "the kernel did not describe SA 0x%08x", id->spi);
		goto out;
	}
	xa_from_kernel(&p.saddr, p.family, &cur_src);
	xa_from_kernel(&p.id.daddr, p.family, &cur_dst);
	secret_wipe(&p, sizeof(p));
	/* Which way it runs decides which new address goes where. */
	if (xfrm_addr_equal(&cur_src, &m->old_local) && xfrm_addr_equal(&cur_dst, &m->old_remote)) {
		outbound = true;
		new_src = m->new_local;
		new_dst = m->new_remote;
		enc = m->new_encap;
	} else if (xfrm_addr_equal(&cur_src, &m->old_remote) && xfrm_addr_equal(&cur_dst, &m->old_local)) {
		outbound = false;
		new_src = m->new_remote;
		new_dst = m->new_local;
		/* RFC 3948: the ports as the SA's sender sees them. */
		enc.sport = m->new_encap.dport;
		enc.dport = m->new_encap.sport;
	} else {
		char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
		rc = err_set(e, -EINVAL, "SA 0x%08x runs from %s to %s, not between the addresses it should move from",
			     id->spi, xfrm_addr_str(&cur_src, s, sizeof(s)),
			     xfrm_addr_str(&cur_dst, d, sizeof(d)));
		goto out;
	}
	if (enc.sport && !enc.dport) {
		rc = err_set(e, -EINVAL, "moving SA 0x%08x: UDP encapsulation needs both ports", id->spi);
		goto out;
	}
	nlh = build_moved(req, sizeof(req), (const struct nlmsghdr *)old, &new_src, &new_dst, &enc,
			  outbound, e);
	if (!nlh) {
		rc = e ? e->code : -EPROTO;
		goto out;
	}
	new_id = *id;
	new_id.dst = new_dst;
	same_key = xfrm_addr_equal(&new_dst, &id->dst);
	if (same_key) {
		/* The kernel keys SAs by (dst, spi, proto): the old one must
		 * go first. */
		if ((rc = xfrm_sa_delete(h, id, e)) < 0)
			goto out;
	}
	memset(&ack, 0, sizeof(ack));
	rc = nl_talk(h->xfrm, &h->seq, nlh, NULL, NULL, &ack);
	if (rc < 0) {
		struct pvpn_err ignored = { 0 };
		rc = ack_err(e, &ack, rc, "re-adding the moved", id->spi, &new_dst);
		if (same_key) {
			/* Put the old SA back as it was, so the caller's
			 * records (and the tunnel on the old path) hold. */
			struct nlmsghdr *back = build_moved(req, sizeof(req),
							    (const struct nlmsghdr *)old,
							    &cur_src, &cur_dst, NULL, false,
							    &ignored);
			if (back) {
				/* The original encapsulation goes back verbatim. */
				struct reader ra, pl;
				uint16_t t;
				xfrm_split((const struct nlmsghdr *)old, raw.len, &p, sizeof(p), &ra);
				const uint8_t *d;
				while (xfrm_next_attr(&ra, &t, &pl)) {
					size_t n = rd_left(&pl);
					if (t == XFRMA_ENCAP && rd_ptr(&pl, n, &d))
						nl_attr_put2(back, sizeof(req), t, d, n, NULL, 0);
				}
				secret_wipe(&p, sizeof(p));
				if (nl_talk(h->xfrm, &h->seq, back, NULL, NULL, &ack) == 0)
					goto out;
			}
			/* Gone: the caller must not look for it again. */
			id->spi = 0;
		}
		goto out;
	}
	if (!same_key) {
		struct pvpn_err de = { 0 };
		if (xfrm_sa_delete(h, id, &de) < 0 && de.code != -ENOENT) {
			/* The new SA works; the old one is a leftover the
			 * owner tag lets a later flush find. */
			*id = new_id;
			rc = err_set(e, de.code, "SA 0x%08x moved, but the old copy stays: %s",
				     id->spi, de.msg);
			goto out;
		}
	}
	*id = new_id;
	rc = 0;
out:
	secret_wipe(old, sizeof(old));
	secret_wipe(req, sizeof(req));
	secret_wipe(idbuf, sizeof(idbuf));
	return rc;
}

int xfrm_policy_move(struct xfrm_handle *h, struct xfrm_policy *p, const struct xfrm_move *m,
		     struct pvpn_err *e)
{
	uint8_t buf[NL_BUF_SIZE] __attribute__((aligned(4)));
	struct xfrm_policy np = *p;
	struct nlmsghdr *nlh;
	struct nl_ack ack;
	int rc;

	if (!p->has_tmpl || p->tmpl.mode != XFRM_SA_TUNNEL)
		return 0;
	if (xfrm_addr_equal(&p->tmpl.src, &m->old_local) && xfrm_addr_equal(&p->tmpl.dst, &m->old_remote)) {
		np.tmpl.src = m->new_local;
		np.tmpl.dst = m->new_remote;
	} else if (xfrm_addr_equal(&p->tmpl.src, &m->old_remote) && xfrm_addr_equal(&p->tmpl.dst, &m->old_local)) {
		np.tmpl.src = m->new_remote;
		np.tmpl.dst = m->new_local;
	} else {
		return 0;       /* another path's policy */
	}
	if (xfrm_addr_equal(&np.tmpl.src, &p->tmpl.src) && xfrm_addr_equal(&np.tmpl.dst, &p->tmpl.dst))
		return 0;
	nlh = xfrm_build_policy(buf, sizeof(buf), XFRM_MSG_UPDPOLICY, &np, e);
	if (!nlh)
		return e ? e->code : -EINVAL;
	memset(&ack, 0, sizeof(ack));
	rc = nl_talk(h->xfrm, &h->seq, nlh, NULL, NULL, &ack);
	if (rc < 0) {
		char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
		int code = ack.code < 0 ? ack.code : rc;
		return err_set(e, code, "moving the %s policy's template to %s -> %s: %s%s%s%s",
			       p->dir == XFRM_DIR_IN ? "in" : p->dir == XFRM_DIR_OUT ? "out" : "fwd",
			       xfrm_addr_str(&np.tmpl.src, s, sizeof(s)),
			       xfrm_addr_str(&np.tmpl.dst, d, sizeof(d)), strerror(-code),
			       ack.msg[0] ? " (kernel: " : "", ack.msg, ack.msg[0] ? ")" : "");
	}
	*p = np;
	return 1;
}
