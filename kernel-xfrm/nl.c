/* nl.c — netlink request/ACK plumbing shared by XFRM and rtnetlink.
 *
 * Every request carries NLM_F_ACK and we wait for the answer to that very
 * sequence number, so a failed request is never mistaken for success.
 * Replies are walked with the bounds-checked reader: a length from the
 * kernel is checked against what was received before anything looks at
 * the message. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "kernel-xfrm/nl.h"
#include "lib/reader.h"
#include "lib/secret.h"

int nl_open(int bus, struct mnl_socket **out, struct pvpn_err *e)
{
	struct mnl_socket *s;
	int one = 1;

	*out = NULL;
	s = mnl_socket_open2(bus, SOCK_CLOEXEC);
	if (!s)
		return err_set(e, -errno, "cannot open a netlink socket (%s): %s",
			       bus == NETLINK_XFRM ? "NETLINK_XFRM, is xfrm_user loaded?" :
			       "NETLINK_ROUTE", strerror(errno));
	if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
		int rc = -errno;
		mnl_socket_close(s);
		return err_set(e, rc, "cannot bind a netlink socket: %s", strerror(-rc));
	}
	/* Old kernels lack these; the requests still work without the text. */
	(void)mnl_socket_setsockopt(s, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(s, NETLINK_CAP_ACK, &one, sizeof(one));
	*out = s;
	return 0;
}

int nl_rt(struct xfrm_handle *h, struct pvpn_err *e)
{
	if (h->rt)
		return 0;
	return err_set(e, -EBADF, "the rtnetlink socket is not open");
}

bool nl_attr_put2(struct nlmsghdr *nlh, size_t cap, uint16_t type,
		  const void *hdr, size_t hdr_len, const void *tail,
		  size_t tail_len)
{
	size_t plen = hdr_len + tail_len;
	struct nlattr *a;

	if (plen > UINT16_MAX - MNL_ATTR_HDRLEN ||
	    nlh->nlmsg_len + MNL_ALIGN(MNL_ATTR_HDRLEN + plen) > cap)
		return false;
	a = mnl_nlmsg_get_payload_tail(nlh);
	a->nla_type = type;
	a->nla_len = (uint16_t)(MNL_ATTR_HDRLEN + plen);
	if (hdr_len)
		memcpy((uint8_t *)a + MNL_ATTR_HDRLEN, hdr, hdr_len);
	if (tail_len)
		memcpy((uint8_t *)a + MNL_ATTR_HDRLEN + hdr_len, tail, tail_len);
	memset((uint8_t *)a + a->nla_len, 0, MNL_ALIGN(a->nla_len) - a->nla_len);
	nlh->nlmsg_len += MNL_ALIGN(a->nla_len);
	return true;
}

bool nl_parse_error(const struct nlmsghdr *nlh, size_t len, struct nl_ack *ack)
{
	struct reader r, body;
	uint32_t code, olen;
	uint16_t oflags;

	ack->code = -EPROTO;
	ack->msg[0] = '\0';
	if (len < sizeof(*nlh) || nlh->nlmsg_len > len || nlh->nlmsg_len < sizeof(*nlh))
		return false;
	rd_init(&r, (const uint8_t *)nlh + sizeof(*nlh), nlh->nlmsg_len - sizeof(*nlh));
	if (!rd_u32_host(&r, &code) || !rd_u32_host(&r, &olen) || !rd_skip(&r, 2) ||
	    !rd_u16_host(&r, &oflags) || !rd_skip(&r, 8))
		return false;
	ack->code = (int32_t)code;
	if (ack->code > 0 || ack->code < -4095) {
		ack->code = -EPROTO;
		return false;
	}
	/* Without NLM_F_CAPPED the kernel echoed our request's payload. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		size_t echo = olen >= sizeof(*nlh) ? MNL_ALIGN(olen - sizeof(*nlh)) : 0;
		if (!rd_skip(&r, echo < rd_left(&r) ? echo : rd_left(&r)))
			return false;
	}
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return true;
	while (rd_left(&r) >= 4) {
		uint16_t alen, atype;
		const uint8_t *p;
		size_t n;
		if (!rd_u16_host(&r, &alen) || !rd_u16_host(&r, &atype) || alen < 4 ||
		    !rd_sub(&r, alen - 4u, &body))
			return false;
		nl_skip_pad(&r, alen);
		if ((atype & NLA_TYPE_MASK) != NLMSGERR_ATTR_MSG)
			continue;
		n = rd_left(&body);
		if (!rd_ptr(&body, n, &p))
			return false;
		/* A C string, maybe without its NUL; keep printable ASCII only. */
		size_t k = 0;
		for (size_t i = 0; i < n && p[i] && k + 1 < sizeof(ack->msg); i++)
			ack->msg[k++] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
		ack->msg[k] = '\0';
	}
	return true;
}

/* Walk one received datagram.  Returns 1 when the exchange is finished
 * (ack filled), 0 to keep reading, <0 on a callback error. */
static int walk(const uint8_t *buf, size_t n, uint32_t seq, uint32_t portid,
		nl_data_cb cb, void *arg, struct nl_ack *ack)
{
	struct reader r;

	rd_init(&r, buf, n);
	while (rd_left(&r) >= sizeof(struct nlmsghdr)) {
		const uint8_t *p;
		uint32_t mlen;
		const struct nlmsghdr *nlh;

		if (!rd_peek(&r, 4, &p))
			break;
		memcpy(&mlen, p, 4);
		if (mlen < sizeof(*nlh) || mlen > rd_left(&r) || !rd_ptr(&r, mlen, &p)) {
			ack->code = -EPROTO;
			snprintf(ack->msg, sizeof(ack->msg), "malformed netlink reply");
			return 1;
		}
		nl_skip_pad(&r, mlen);
		nlh = (const struct nlmsghdr *)p;
		if (nlh->nlmsg_seq != seq || (nlh->nlmsg_pid && nlh->nlmsg_pid != portid))
			continue;        /* a stale answer to an earlier request */
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			if (!nl_parse_error(nlh, mlen, ack) && ack->code == -EPROTO)
				snprintf(ack->msg, sizeof(ack->msg), "malformed netlink error");
			return 1;
		}
		if (nlh->nlmsg_type == NLMSG_DONE) {
			struct reader d;
			uint32_t code = 0;
			rd_init(&d, p + sizeof(*nlh), mlen - sizeof(*nlh));
			rd_u32_host(&d, &code);
			ack->code = (int32_t)code < 0 && (int32_t)code >= -4095 ? (int32_t)code : 0;
			ack->msg[0] = '\0';
			return 1;
		}
		if (nlh->nlmsg_type == NLMSG_NOOP)
			continue;
		if (cb) {
			int rc = cb(nlh, arg);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

int nl_talk(struct mnl_socket *s, uint32_t *seq, struct nlmsghdr *nlh,
	    nl_data_cb cb, void *arg, struct nl_ack *ack)
{
	/* Dumps arrive in datagrams of up to a page or more; 32 KiB is safe. */
	static __thread uint8_t buf[32768] __attribute__((aligned(4)));
	uint32_t portid = mnl_socket_get_portid(s);
	int rc = 0, done = 0, cb_err = 0;

	ack->code = 0;
	ack->msg[0] = '\0';
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++*seq;
	nlh->nlmsg_pid = 0;
	if (mnl_socket_sendto(s, nlh, nlh->nlmsg_len) < 0) {
		ack->code = -errno;
		snprintf(ack->msg, sizeof(ack->msg), "sending to the kernel: %s", strerror(errno));
		return ack->code;
	}
	while (!done) {
		ssize_t n = mnl_socket_recvfrom(s, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ack->code = -errno;
			snprintf(ack->msg, sizeof(ack->msg), "reading from the kernel: %s",
				 strerror(errno));
			rc = ack->code;
			break;
		}
		rc = walk(buf, (size_t)n, nlh->nlmsg_seq, portid, cb_err ? NULL : cb, arg, ack);
		/* Replies may carry keys (SA dumps): never leave them lying around. */
		secret_wipe(buf, (size_t)n);
		if (rc < 0) {
			/* Keep reading to the end of this exchange, then report. */
			cb_err = rc;
			continue;
		}
		done = rc;
	}
	if (rc < 0 && !done)
		return rc;
	if (cb_err)
		return cb_err;
	return ack->code;
}
