/* sa.c — ESP SAs: reserve an SPI, add, update, delete, read counters.
 *
 * Algorithms go as XFRMA_ALG_AEAD, or XFRMA_ALG_CRYPT + XFRMA_ALG_AUTH_TRUNC
 * (never plain XFRMA_ALG_AUTH, whose implied 96-bit truncation is wrong for
 * SHA-2: RFC 4868 §2.3).  Buffers that held keys are wiped after sending. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/udp.h>

#include "kernel-xfrm/nl.h"
#include "lib/secret.h"

static uint8_t sa_proto(uint8_t p)
{
	return p ? p : IPPROTO_ESP;
}

static bool alg_used(const struct xfrm_alg *a)
{
	return a->name[0] != '\0';
}

static int check_alg(const struct xfrm_alg *a, const char *what, struct pvpn_err *e)
{
	if (memchr(a->name, '\0', sizeof(a->name)) == NULL)
		return err_set(e, -EINVAL, "%s algorithm name is too long", what);
	if (a->key_len > 512 || (a->key_len && !a->key))
		return err_set(e, -EINVAL, "%s key for %s has a bad length (%zu bytes)",
			       what, a->name, a->key_len);
	return 0;
}

static int check_sa(const struct xfrm_sa *sa, struct pvpn_err *e)
{
	int rc;

	if (sa->src.family != AF_INET && sa->src.family != AF_INET6)
		return err_set(e, -EINVAL, "SA source address has no family");
	if (sa->dst.family != sa->src.family)
		return err_set(e, -EINVAL, "SA source and destination are of different families");
	if (sa->mode != XFRM_SA_TUNNEL && sa->mode != XFRM_SA_TRANSPORT)
		return err_set(e, -EINVAL, "SA mode must be tunnel or transport");
	if (alg_used(&sa->aead) && (alg_used(&sa->enc) || alg_used(&sa->auth)))
		return err_set(e, -EINVAL, "an SA uses either an AEAD or an encryption + integrity pair, not both");
	if (!alg_used(&sa->aead) && !alg_used(&sa->enc))
		return err_set(e, -EINVAL, "SA 0x%08x has no encryption algorithm", sa->spi);
	if ((rc = check_alg(&sa->aead, "AEAD", e)) || (rc = check_alg(&sa->enc, "encryption", e)) ||
	    (rc = check_alg(&sa->auth, "integrity", e)))
		return rc;
	if (sa->replay_window > 4096)
		return err_set(e, -EINVAL, "replay window %u is larger than 4096", sa->replay_window);
	return 0;
}

struct nlmsghdr *xfrm_build_sa(void *buf, size_t cap, uint16_t type,
			       const struct xfrm_sa *sa, struct pvpn_err *e)
{
	struct nlmsghdr *nlh;
	struct xfrm_usersa_info *p;
	bool big_replay;

	if (check_sa(sa, e) < 0)
		return NULL;
	if (cap < NL_BUF_SIZE) {
		err_set(e, -ENOBUFS, "message buffer too small");
		return NULL;
	}
	memset(buf, 0, NL_BUF_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK |
			   (type == XFRM_MSG_NEWSA ? NLM_F_CREATE | NLM_F_EXCL : 0);
	p = mnl_nlmsg_put_extra_header(nlh, sizeof(*p));

	if (sa->sel.family) {
		sel_to_kernel(&sa->sel, &p->sel);
	} else {
		/* AF_UNSPEC selector: any inner family (4-in-6, 6-in-4).  The
		 * kernel would fill in the outer family unless told not to
		 * (copy_from_user_state), and then inner traffic of the other
		 * family finds no SA. */
		struct xfrm_sel any = { 0 };
		sel_to_kernel(&any, &p->sel);
		if (sa->mode == XFRM_SA_TUNNEL)
			p->flags |= XFRM_STATE_AF_UNSPEC;
	}
	xa_to_kernel(&sa->dst, &p->id.daddr);
	p->id.spi = htonl(sa->spi);
	p->id.proto = sa_proto(sa->proto);
	xa_to_kernel(&sa->src, &p->saddr);
	lft_to_kernel(&sa->lifetime, &p->lft);
	p->reqid = sa->reqid;
	p->family = (uint16_t)sa->src.family;
	p->mode = sa->mode == XFRM_SA_TUNNEL ? XFRM_MODE_TUNNEL : XFRM_MODE_TRANSPORT;
	/* The legacy replay state has a 32-bit bitmap; ESN or a larger window
	 * needs XFRMA_REPLAY_ESN_VAL and then replay_window must be 0. */
	big_replay = sa->esn || sa->replay_window > 32;
	p->replay_window = big_replay ? 0 : (uint8_t)sa->replay_window;
	if (sa->esn)
		p->flags |= XFRM_STATE_ESN;

	if (alg_used(&sa->aead)) {
		struct xfrm_algo_aead a;
		memset(&a, 0, sizeof(a));
		memcpy(a.alg_name, sa->aead.name, sizeof(a.alg_name));
		a.alg_key_len = (unsigned int)sa->aead.key_len * 8;
		a.alg_icv_len = sa->aead.bits;
		if (!nl_attr_put2(nlh, cap, XFRMA_ALG_AEAD, &a, sizeof(a), sa->aead.key, sa->aead.key_len))
			goto full;
	} else {
		struct xfrm_algo c;
		memset(&c, 0, sizeof(c));
		memcpy(c.alg_name, sa->enc.name, sizeof(c.alg_name));
		c.alg_key_len = (unsigned int)sa->enc.key_len * 8;
		if (!nl_attr_put2(nlh, cap, XFRMA_ALG_CRYPT, &c, sizeof(c), sa->enc.key, sa->enc.key_len))
			goto full;
		if (alg_used(&sa->auth)) {
			struct xfrm_algo_auth t;
			memset(&t, 0, sizeof(t));
			memcpy(t.alg_name, sa->auth.name, sizeof(t.alg_name));
			t.alg_key_len = (unsigned int)sa->auth.key_len * 8;
			t.alg_trunc_len = sa->auth.bits;
			if (!nl_attr_put2(nlh, cap, XFRMA_ALG_AUTH_TRUNC, &t, sizeof(t),
					  sa->auth.key, sa->auth.key_len))
				goto full;
		}
	}
	if (big_replay) {
		struct xfrm_replay_state_esn rs;
		uint32_t win = sa->replay_window ? sa->replay_window : 1;
		uint32_t words = (win + 31) / 32;
		uint32_t zero[128] = { 0 };
		/* The kernel refuses an ESN state with a zero window, even
		 * outbound (xfrm_init_replay); one packet costs nothing. */
		memset(&rs, 0, sizeof(rs));
		rs.bmp_len = words;
		rs.replay_window = win;
		if (!nl_attr_put2(nlh, cap, XFRMA_REPLAY_ESN_VAL, &rs, sizeof(rs), zero,
				  words * sizeof(uint32_t)))
			goto full;
	}
	if (sa->encap.sport) {
		struct xfrm_encap_tmpl t;
		memset(&t, 0, sizeof(t));
		t.encap_type = UDP_ENCAP_ESPINUDP;
		t.encap_sport = htons(sa->encap.sport);
		t.encap_dport = htons(sa->encap.dport);
		if (!mnl_attr_put_check(nlh, cap, XFRMA_ENCAP, sizeof(t), &t))
			goto full;
	}
	if (sa->mark.value || sa->mark.mask) {
		struct xfrm_mark m = { .v = sa->mark.value, .m = sa->mark.mask };
		if (!mnl_attr_put_check(nlh, cap, XFRMA_MARK, sizeof(m), &m))
			goto full;
	}
	if (sa->if_id && !mnl_attr_put_u32_check(nlh, cap, XFRMA_IF_ID, sa->if_id))
		goto full;
	return nlh;
full:
	secret_wipe(buf, cap);
	err_set(e, -EMSGSIZE, "SA 0x%08x does not fit in a netlink message (keys too long?)", sa->spi);
	return NULL;
}

struct nlmsghdr *xfrm_build_sa_id(void *buf, size_t cap, uint16_t type,
				  const struct xfrm_sa_id *id, struct pvpn_err *e)
{
	struct nlmsghdr *nlh;
	struct xfrm_usersa_id *p;

	if (id->dst.family != AF_INET && id->dst.family != AF_INET6) {
		err_set(e, -EINVAL, "SA destination address has no family");
		return NULL;
	}
	memset(buf, 0, cap < NL_BUF_SIZE ? cap : NL_BUF_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	p = mnl_nlmsg_put_extra_header(nlh, sizeof(*p));
	xa_to_kernel(&id->dst, &p->daddr);
	p->spi = htonl(id->spi);
	p->family = (uint16_t)id->dst.family;
	p->proto = sa_proto(id->proto);
	if (id->mark.value || id->mark.mask) {
		struct xfrm_mark m = { .v = id->mark.value, .m = id->mark.mask };
		if (!mnl_attr_put_check(nlh, cap, XFRMA_MARK, sizeof(m), &m)) {
			err_set(e, -EMSGSIZE, "message buffer too small");
			return NULL;
		}
	}
	return nlh;
}

static int sa_send(struct xfrm_handle *h, uint16_t type, enum nl_op op,
		   const struct xfrm_sa *sa, struct pvpn_err *e)
{
	uint8_t buf[NL_BUF_SIZE] __attribute__((aligned(4)));
	struct nlmsghdr *nlh;
	struct nl_ack ack;
	int rc;

	nlh = xfrm_build_sa(buf, sizeof(buf), type, sa, e);
	if (!nlh)
		return e ? e->code : -EINVAL;
	rc = nl_talk(h->xfrm, &h->seq, nlh, NULL, NULL, &ack);
	secret_wipe(buf, sizeof(buf));
	if (rc < 0)
		return xfrm_err_kernel(e, op, &ack, sa);
	return 0;
}

int xfrm_sa_add(struct xfrm_handle *h, const struct xfrm_sa *sa, struct pvpn_err *e)
{
	return sa_send(h, XFRM_MSG_NEWSA, OP_SA_ADD, sa, e);
}

int xfrm_sa_update(struct xfrm_handle *h, const struct xfrm_sa *sa, struct pvpn_err *e)
{
	return sa_send(h, XFRM_MSG_UPDSA, OP_SA_UPDATE, sa, e);
}

int xfrm_sa_delete(struct xfrm_handle *h, const struct xfrm_sa_id *id, struct pvpn_err *e)
{
	uint8_t buf[NL_BUF_SIZE] __attribute__((aligned(4)));
	struct nlmsghdr *nlh;
	struct nl_ack ack;

	nlh = xfrm_build_sa_id(buf, sizeof(buf), XFRM_MSG_DELSA, id, e);
	if (!nlh)
		return e ? e->code : -EINVAL;
	if (nl_talk(h->xfrm, &h->seq, nlh, NULL, NULL, &ack) < 0)
		return xfrm_err_kernel(e, OP_SA_DELETE, &ack, id);
	return 0;
}

struct get_ctx {
	struct xfrm_sa_info info;
	bool found;
};

static int get_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct get_ctx *g = arg;

	if (nlh->nlmsg_type != XFRM_MSG_NEWSA)
		return 0;
	if (xfrm_decode_sa(nlh, nlh->nlmsg_len, &g->info) < 0)
		return -EPROTO;
	g->found = true;
	return 0;
}

int xfrm_sa_counters(struct xfrm_handle *h, const struct xfrm_sa_id *id,
		     struct xfrm_sa_counters *out, struct pvpn_err *e)
{
	uint8_t buf[NL_BUF_SIZE] __attribute__((aligned(4)));
	struct nlmsghdr *nlh;
	struct nl_ack ack;
	struct get_ctx g;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&g, 0, sizeof(g));
	nlh = xfrm_build_sa_id(buf, sizeof(buf), XFRM_MSG_GETSA, id, e);
	if (!nlh)
		return e ? e->code : -EINVAL;
	rc = nl_talk(h->xfrm, &h->seq, nlh, get_cb, &g, &ack);
	if (rc == -EPROTO && !ack.msg[0])
		return err_set(e, rc, "the kernel's answer about SA 0x%08x was malformed", id->spi);
	if (rc < 0)
		return xfrm_err_kernel(e, OP_SA_GET, &ack, id);
	if (!g.found)
		return err_set(e, -EPROTO, "the kernel acknowledged but did not describe SA 0x%08x", id->spi);
	*out = g.info.counters;
	return 0;
}

int xfrm_alloc_spi(struct xfrm_handle *h, const struct xfrm_addr *src,
		   const struct xfrm_addr *dst, enum xfrm_sa_mode mode,
		   uint32_t reqid, uint32_t min, uint32_t max,
		   uint32_t *spi_out, struct pvpn_err *e)
{
	uint8_t buf[NL_BUF_SIZE] __attribute__((aligned(4)));
	struct nlmsghdr *nlh;
	struct xfrm_userspi_info *p;
	struct nl_ack ack;
	struct get_ctx g;
	struct xfrm_sa_id id;
	int rc;

	*spi_out = 0;
	if (!reqid_owned(reqid))
		return err_set(e, -EINVAL, "reqid %u is outside pvpn's range [%u, %u], so it could not be cleaned up after a crash",
			       reqid, XFRM_REQID_MIN, XFRM_REQID_MAX);
	if (src->family != dst->family || (src->family != AF_INET && src->family != AF_INET6))
		return err_set(e, -EINVAL, "SPI request needs two addresses of one family");
	if (!min && !max) {
		/* RFC 4303 §2.1: SPIs 1..255 are reserved by IANA. */
		min = 0x100;
		max = 0xffffffffu;
	}
	if (min > max || min < 0x100)
		return err_set(e, -EINVAL, "SPI range 0x%x..0x%x is empty or reserved", min, max);
	memset(buf, 0, sizeof(buf));
	memset(&g, 0, sizeof(g));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = XFRM_MSG_ALLOCSPI;
	p = mnl_nlmsg_put_extra_header(nlh, sizeof(*p));
	xa_to_kernel(dst, &p->info.id.daddr);
	p->info.id.proto = IPPROTO_ESP;
	xa_to_kernel(src, &p->info.saddr);
	p->info.family = (uint16_t)src->family;
	p->info.mode = mode == XFRM_SA_TUNNEL ? XFRM_MODE_TUNNEL : XFRM_MODE_TRANSPORT;
	p->info.reqid = reqid;
	p->min = min;
	p->max = max;
	rc = nl_talk(h->xfrm, &h->seq, nlh, get_cb, &g, &ack);
	if (rc < 0) {
		memset(&id, 0, sizeof(id));
		id.dst = *dst;
		return xfrm_err_kernel(e, OP_ALLOCSPI, &ack, &id);
	}
	if (!g.found)
		return err_set(e, -EPROTO, "the kernel reserved no SPI (no answer to ALLOCSPI)");
	*spi_out = g.info.id.spi;
	return 0;
}
