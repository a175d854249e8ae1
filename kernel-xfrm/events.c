/* events.c — kernel XFRM events (ACQUIRE, EXPIRE, MAPPING, POLEXPIRE):
 * the multicast subscription and the decoder into plain structs.
 * Events are untrusted bytes like any reply: every length is checked
 * through the reader before a struct is copied out. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "kernel-xfrm/nl.h"
#include "lib/reader.h"
#include "lib/secret.h"

struct xfrm_events {
	struct mnl_socket *s;
	/* One datagram may hold several messages; keep the rest for later. */
	uint8_t buf[8192] __attribute__((aligned(4)));
	size_t len, pos;
};

static int decode_acquire(const struct nlmsghdr *nlh, size_t len, struct xfrm_ev_acquire *a)
{
	struct xfrm_user_acquire p;
	struct reader attrs, pl;
	uint16_t type;
	int family;

	if (!xfrm_split(nlh, len, &p, sizeof(p), &attrs))
		return -EPROTO;
	family = p.policy.sel.family;
	memset(a, 0, sizeof(*a));
	/* The outer family is the template's; fall back to the selector's. */
	while (xfrm_next_attr(&attrs, &type, &pl)) {
		if (type == XFRMA_TMPL) {
			struct xfrm_user_tmpl t;
			if (!rd_bytes(&pl, &t, sizeof(t)))
				return -EPROTO;
			if (t.family == AF_INET || t.family == AF_INET6)
				family = t.family;
			if (!a->reqid)
				a->reqid = t.reqid;
		}
	}
	if (!rd_ok(&attrs) || (family != AF_INET && family != AF_INET6))
		return -EPROTO;
	xa_from_kernel(&p.saddr, family, &a->src);
	xa_from_kernel(&p.id.daddr, family, &a->dst);
	a->proto = p.id.proto;
	sel_from_kernel(&p.sel, &a->sel);
	a->dir = (enum xfrm_dir)p.policy.dir;
	a->policy_index = p.policy.index;
	a->owned = p.policy.sel.user == XFRM_OWNER_TAG || reqid_owned(a->reqid);
	return 1;
}

static int decode_expire(const struct nlmsghdr *nlh, size_t len, struct xfrm_ev_expire *x)
{
	struct xfrm_user_expire p;
	struct xfrm_sa_info info;
	struct reader attrs, pl;
	uint16_t type;

	if (!xfrm_split(nlh, len, &p, sizeof(p), &attrs))
		return -EPROTO;
	if (p.state.family != AF_INET && p.state.family != AF_INET6)
		return -EPROTO;
	memset(x, 0, sizeof(*x));
	xfrm_sa_info_from_kernel(&p.state, &info);
	x->id = info.id;
	x->src = info.src;
	x->reqid = info.reqid;
	x->owned = info.owned;
	x->counters = info.counters;
	x->hard = p.hard != 0;
	while (xfrm_next_attr(&attrs, &type, &pl)) {
		if (type == XFRMA_MARK) {
			struct xfrm_mark m;
			if (!rd_bytes(&pl, &m, sizeof(m)))
				return -EPROTO;
			x->id.mark.value = m.v;
			x->id.mark.mask = m.m;
		}
	}
	return rd_ok(&attrs) ? 1 : -EPROTO;
}

static int decode_mapping(const struct nlmsghdr *nlh, size_t len, struct xfrm_ev_mapping *m)
{
	struct xfrm_user_mapping p;
	struct reader attrs;

	if (!xfrm_split(nlh, len, &p, sizeof(p), &attrs))
		return -EPROTO;
	if (p.id.family != AF_INET && p.id.family != AF_INET6)
		return -EPROTO;
	memset(m, 0, sizeof(*m));
	xa_from_kernel(&p.id.daddr, p.id.family, &m->id.dst);
	m->id.spi = ntohl(p.id.spi);
	m->id.proto = p.id.proto;
	m->reqid = p.reqid;
	xa_from_kernel(&p.old_saddr, p.id.family, &m->old_addr);
	xa_from_kernel(&p.new_saddr, p.id.family, &m->new_addr);
	m->old_port = ntohs(p.old_sport);
	m->new_port = ntohs(p.new_sport);
	return 1;
}

static int decode_polexpire(const struct nlmsghdr *nlh, size_t len, struct xfrm_ev_polexpire *x)
{
	struct xfrm_user_polexpire p;
	struct xfrm_policy_info info;
	struct reader attrs;

	if (!xfrm_split(nlh, len, &p, sizeof(p), &attrs))
		return -EPROTO;
	memset(x, 0, sizeof(*x));
	xfrm_policy_info_from_kernel(&p.pol, &info);
	x->sel = info.sel;
	x->dir = info.dir;
	x->index = info.index;
	x->owned = info.owned;
	x->hard = p.hard != 0;
	return 1;
}

int xfrm_event_decode(const void *msg, size_t len, struct xfrm_event *out, struct pvpn_err *e)
{
	const struct nlmsghdr *nlh = msg;
	struct nlmsghdr hdr;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len < sizeof(hdr))
		return err_set(e, -EPROTO, "XFRM event shorter than a netlink header (%zu bytes)", len);
	memcpy(&hdr, msg, sizeof(hdr));
	if (hdr.nlmsg_len < sizeof(hdr) || hdr.nlmsg_len > len)
		return err_set(e, -EPROTO, "XFRM event length %u does not match the %zu bytes received",
			       hdr.nlmsg_len, len);
	switch (hdr.nlmsg_type) {
	case XFRM_MSG_ACQUIRE:
		out->type = XFRM_EV_ACQUIRE;
		rc = decode_acquire(nlh, len, &out->acquire);
		break;
	case XFRM_MSG_EXPIRE:
		out->type = XFRM_EV_EXPIRE;
		rc = decode_expire(nlh, len, &out->expire);
		break;
	case XFRM_MSG_MAPPING:
		out->type = XFRM_EV_MAPPING;
		rc = decode_mapping(nlh, len, &out->mapping);
		break;
	case XFRM_MSG_POLEXPIRE:
		out->type = XFRM_EV_POLEXPIRE;
		rc = decode_polexpire(nlh, len, &out->polexpire);
		break;
	default:
		return 0;
	}
	if (rc < 0) {
		memset(out, 0, sizeof(*out));
		return err_set(e, rc, "malformed XFRM event (netlink type %u, %u bytes)",
			       hdr.nlmsg_type, hdr.nlmsg_len);
	}
	return rc;
}

int xfrm_events_open(struct xfrm_events **out, struct pvpn_err *e)
{
	static const unsigned int groups[] = {
		XFRMNLGRP_ACQUIRE, XFRMNLGRP_EXPIRE, XFRMNLGRP_MAPPING,
	};
	struct xfrm_events *ev;
	int rc, fd;

	*out = NULL;
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return err_set(e, -ENOMEM, "out of memory");
	rc = nl_open(NETLINK_XFRM, &ev->s, e);
	if (rc < 0)
		goto fail;
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		unsigned int g = groups[i];
		if (mnl_socket_setsockopt(ev->s, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g)) < 0) {
			rc = err_set(e, -errno, "cannot subscribe to XFRM events (group %u): %s",
				     g, strerror(errno));
			goto fail;
		}
	}
	fd = mnl_socket_get_fd(ev->s);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		rc = err_set(e, -errno, "cannot make the XFRM event socket non-blocking");
		goto fail;
	}
	*out = ev;
	return 0;
fail:
	xfrm_events_close(ev);
	return rc;
}

int xfrm_events_fd(const struct xfrm_events *ev)
{
	return mnl_socket_get_fd(ev->s);
}

int xfrm_events_read(struct xfrm_events *ev, struct xfrm_event *out, struct pvpn_err *e)
{
	memset(out, 0, sizeof(*out));
	if (ev->pos >= ev->len) {
		struct sockaddr_nl from;
		socklen_t flen = sizeof(from);
		ssize_t n;

		memset(&from, 0, sizeof(from));
		n = recvfrom(mnl_socket_get_fd(ev->s), ev->buf, sizeof(ev->buf), MSG_DONTWAIT,
			     (struct sockaddr *)&from, &flen);
		ev->pos = ev->len = 0;
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return 0;
			if (errno == ENOBUFS)
				return err_set(e, -ENOBUFS, "XFRM events were lost (socket buffer overrun); resynchronise by listing SAs");
			return err_set(e, -errno, "reading XFRM events: %s", strerror(errno));
		}
		/* Only the kernel (port 0) speaks for XFRM; a local process
		 * with CAP_NET_ADMIN can unicast to our port, so anything else
		 * is dropped unread (a forged EXPIRE would tear a tunnel down). */
		if (flen < sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0) {
			secret_wipe(ev->buf, sizeof(ev->buf));
			return 0;
		}
		ev->len = (size_t)n;
	}
	/* Take one message from the buffered datagram. */
	struct reader r;
	const uint8_t *p;
	uint32_t mlen;
	rd_init(&r, ev->buf + ev->pos, ev->len - ev->pos);
	if (!rd_peek(&r, 4, &p)) {
		ev->pos = ev->len;
		return 0;
	}
	memcpy(&mlen, p, 4);
	if (mlen < sizeof(struct nlmsghdr) || mlen > rd_left(&r)) {
		ev->pos = ev->len;
		return err_set(e, -EPROTO, "malformed XFRM event datagram");
	}
	int rc = xfrm_event_decode(ev->buf + ev->pos, mlen, out, e);
	ev->pos += MNL_ALIGN(mlen);
	if (ev->pos >= ev->len)
		secret_wipe(ev->buf, sizeof(ev->buf)); /* EXPIRE carries SA state */
	return rc;
}

void xfrm_events_close(struct xfrm_events *ev)
{
	if (!ev)
		return;
	if (ev->s)
		mnl_socket_close(ev->s);
	secret_wipe(ev->buf, sizeof(ev->buf));
	free(ev);
}
