/* socket.c — the IKE UDP sockets and the per-socket policies that let
 * them bypass IPsec (so a full-tunnel policy never captures IKE itself). */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/udp.h>

#include "kernel-xfrm/nl.h"

#ifndef SOL_UDP
#define SOL_UDP 17
#endif

int xfrm_socket_bypass(int fd, int family, struct pvpn_err *e)
{
	struct xfrm_userpolicy_info pol;
	int level, opt;

	if (family == AF_INET) {
		level = IPPROTO_IP;
		opt = IP_XFRM_POLICY;
	} else if (family == AF_INET6) {
		level = IPPROTO_IPV6;
		opt = IPV6_XFRM_POLICY;
	} else {
		return err_set(e, -EINVAL, "bypass policy needs AF_INET or AF_INET6");
	}
	for (int dir = XFRM_POLICY_IN; dir <= XFRM_POLICY_OUT; dir++) {
		memset(&pol, 0, sizeof(pol));
		pol.action = XFRM_POLICY_ALLOW;
		pol.dir = (uint8_t)dir;
		pol.sel.family = (uint16_t)family;
		pol.lft.soft_byte_limit = pol.lft.hard_byte_limit = XFRM_INF;
		pol.lft.soft_packet_limit = pol.lft.hard_packet_limit = XFRM_INF;
		if (setsockopt(fd, level, opt, &pol, sizeof(pol)) < 0) {
			int rc = -errno;
			if (rc == -EPERM || rc == -EACCES)
				return err_set(e, rc, "setting the IPsec bypass policy on the IKE socket needs CAP_NET_ADMIN");
			return err_set(e, rc, "cannot set the IPsec bypass policy on the IKE socket (%s): %s",
				       dir == XFRM_POLICY_IN ? "in" : "out", strerror(-rc));
		}
	}
	return 0;
}

int xfrm_ike_socket_open(int family, const struct xfrm_addr *local, uint16_t port,
			 bool encap, int *fd_out, struct pvpn_err *e)
{
	struct sockaddr_storage ss;
	socklen_t slen;
	int fd, rc, one = 1;

	*fd_out = -1;
	if (family != AF_INET && family != AF_INET6)
		return err_set(e, -EINVAL, "IKE socket family must be AF_INET or AF_INET6");
	if (local && local->family && local->family != family)
		return err_set(e, -EINVAL, "IKE socket address is of another family");
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		if (local && local->family)
			sin->sin_addr = local->v4;
		slen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		if (local && local->family)
			sin6->sin6_addr = local->v6;
		slen = sizeof(*sin6);
	}
	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(e, -errno, "cannot open a UDP socket: %s", strerror(errno));
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) {
		rc = err_set(e, -errno, "cannot make the IKE socket IPv6-only: %s", strerror(errno));
		goto fail;
	}
	rc = xfrm_socket_bypass(fd, family, e);
	if (rc < 0)
		goto fail;
	if (encap) {
		/* RFC 3948 §2.2: with the non-ESP marker the kernel tells IKE
		 * from ESP on port 4500 and decapsulates ESP itself. */
		int type = UDP_ENCAP_ESPINUDP;
		if (setsockopt(fd, SOL_UDP, UDP_ENCAP, &type, sizeof(type)) < 0) {
			rc = err_set(e, -errno, "cannot enable ESP-in-UDP on the IKE socket (%s); the kernel lacks NAT-T support",
				     strerror(errno));
			goto fail;
		}
	}
	if (bind(fd, (struct sockaddr *)&ss, slen) < 0) {
		rc = -errno;
		if (rc == -EADDRINUSE)
			err_set(e, rc, "UDP port %u is already in use (another IKE daemon such as charon running?)", port);
		else if (rc == -EACCES)
			err_set(e, rc, "binding UDP port %u needs CAP_NET_BIND_SERVICE", port);
		else
			err_set(e, rc, "cannot bind UDP port %u: %s", port, strerror(-rc));
		goto fail;
	}
	*fd_out = fd;
	return 0;
fail:
	close(fd);
	return rc;
}
