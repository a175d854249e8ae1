/* Kernel tests for rtnetlink addresses and routes and for the IKE sockets,
 * run as root in a private network namespace; cross-checked against
 * `ip addr` / `ip route`.  No ESP needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kernel-xfrm/xfrm.h"
#include "tests/lib/netns.h"

#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_ENCAP
#define UDP_ENCAP 100
#endif

static char out[16384];

#define assert_has(hay, needle) do { const char *n_ = (needle); \
	if (!strstr((hay), n_)) fail_msg("missing \"%s\" in:\n%s", n_, (hay)); } while (0)
#define assert_lacks(hay, needle) do { const char *n_ = (needle); \
	if (strstr((hay), n_)) fail_msg("unexpected \"%s\" in:\n%s", n_, (hay)); } while (0)

static struct xfrm_addr A(const char *s)
{
	struct xfrm_addr a;
	assert_int_equal(xfrm_addr_parse(s, &a), 0);
	return a;
}

static int setup(void **state)
{
	struct xfrm_handle *h;
	struct pvpn_err e;
	if (xfrm_open(&h, &e) < 0) {
		fprintf(stderr, "xfrm_open: %s\n", e.msg);
		return -1;
	}
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	struct pvpn_err e;
	xfrm_flush_owned(*state, NULL, NULL, &e);
	xfrm_close(*state);
	return 0;
}

static void addr_add_del(void **state)
{
	struct xfrm_handle *h = *state;
	struct xfrm_ifaddr a = { .ifindex = (int)if_nametoindex("va"), .addr = A("10.99.0.1"), .prefix_len = 32 };
	struct xfrm_ifaddr b = { .ifindex = (int)if_nametoindex("va"), .addr = A("2001:db8:99::1"), .prefix_len = 64 };
	struct pvpn_err e;

	assert_true(a.ifindex > 0);
	assert_int_equal(xfrm_addr_add(h, &a, &e), 0);
	assert_int_equal(xfrm_addr_add(h, &b, &e), 0);
	assert_int_equal(netns_sh(out, sizeof(out), "ip addr show dev va"), 0);
	assert_has(out, "inet 10.99.0.1/32");
	/* Usable at once: no "tentative" after the flags. */
	assert_has(out, "inet6 2001:db8:99::1/64 scope global nodad \n");

	memset(&e, 0, sizeof(e));
	assert_int_equal(xfrm_addr_add(h, &a, &e), -EEXIST);
	assert_has(e.msg, "already exists");

	assert_int_equal(xfrm_addr_del(h, &a, &e), 0);
	assert_int_equal(xfrm_addr_del(h, &b, &e), 0);
	assert_int_equal(netns_sh(out, sizeof(out), "ip addr show dev va"), 0);
	assert_lacks(out, "10.99.0.1");
	assert_lacks(out, "2001:db8:99::1");

	memset(&e, 0, sizeof(e));
	assert_int_equal(xfrm_addr_del(h, &a, &e), -ENOENT);
	assert_has(e.msg, "not configured");
	a.ifindex = 9999;
	memset(&e, 0, sizeof(e));
	assert_int_equal(xfrm_addr_add(h, &a, &e), -ENODEV);
	assert_has(e.msg, "no such network interface");
}

static void route_add_del(void **state)
{
	struct xfrm_handle *h = *state;
	int va = (int)if_nametoindex("va");
	struct xfrm_ifaddr vip = { .ifindex = va, .addr = A("10.99.0.7"), .prefix_len = 32 };
	struct xfrm_route r1 = { .dst = A("10.50.0.0"), .dst_len = 24, .ifindex = va, .table = 100,
				 .src = A("10.99.0.7"), .metric = 50 };
	struct xfrm_route r2 = { .dst = A("10.51.0.0"), .dst_len = 16, .gw = A("10.60.0.2") };
	struct xfrm_route r3 = { .dst = A("2001:db8:50::"), .dst_len = 48, .ifindex = va, .table = 1000,
				 .metric = 10 };
	struct xfrm_route r4 = { .dst = A("0.0.0.0"), .dst_len = 0, .ifindex = va, .table = 200,
				 .src = A("10.99.0.7") };
	struct pvpn_err e;

	assert_int_equal(xfrm_addr_add(h, &vip, &e), 0);
	assert_int_equal(xfrm_route_add(h, &r1, &e), 0);
	assert_int_equal(xfrm_route_add(h, &r2, &e), 0);
	assert_int_equal(xfrm_route_add(h, &r3, &e), 0);
	assert_int_equal(xfrm_route_add(h, &r4, &e), 0);

	assert_int_equal(netns_sh(out, sizeof(out), "ip route show table 100"), 0);
	assert_has(out, "10.50.0.0/24 dev va proto static scope link src 10.99.0.7 metric 50");
	assert_int_equal(netns_sh(out, sizeof(out), "ip route show table 200"), 0);
	assert_has(out, "default dev va proto static scope link src 10.99.0.7");
	assert_int_equal(netns_sh(out, sizeof(out), "ip route show"), 0);
	assert_has(out, "10.51.0.0/16 via 10.60.0.2 dev va proto static");
	assert_lacks(out, "10.50.0.0/24");
	assert_int_equal(netns_sh(out, sizeof(out), "ip -6 route show table 1000"), 0);
	assert_has(out, "2001:db8:50::/48 dev va proto static metric 10");

	memset(&e, 0, sizeof(e));
	assert_int_equal(xfrm_route_add(h, &r1, &e), -EEXIST);
	assert_has(e.msg, "already exists");

	assert_int_equal(xfrm_route_del(h, &r1, &e), 0);
	assert_int_equal(xfrm_route_del(h, &r2, &e), 0);
	assert_int_equal(xfrm_route_del(h, &r3, &e), 0);
	assert_int_equal(xfrm_route_del(h, &r4, &e), 0);
	assert_int_equal(netns_sh(out, sizeof(out), "ip route show table all"), 0);
	assert_lacks(out, "10.50.0.0");
	assert_lacks(out, "10.51.0.0");
	assert_lacks(out, "2001:db8:50::");
	assert_lacks(out, "table 200");

	memset(&e, 0, sizeof(e));
	assert_int_equal(xfrm_route_del(h, &r1, &e), -ENOENT);
	assert_has(e.msg, "no such entry");
	/* A gateway that is not on any link. */
	r2.gw = A("10.70.0.1");
	memset(&e, 0, sizeof(e));
	assert_true(xfrm_route_add(h, &r2, &e) < 0);
	assert_true(strlen(e.msg) > 10);
	assert_int_equal(xfrm_addr_del(h, &vip, &e), 0);
}

/* UDP round trip between two sockets; returns bytes received or -errno. */
static int roundtrip(int from, int to, int family, const char *payload, size_t len, int ms)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char buf[64];
	struct pollfd p = { .fd = to, .events = POLLIN };

	assert_int_equal(getsockname(to, (struct sockaddr *)&ss, &sl), 0);
	if (family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
	if (sendto(from, payload, len, 0, (struct sockaddr *)&ss, sl) < 0)
		return -errno;
	if (poll(&p, 1, ms) != 1)
		return -ETIMEDOUT;
	return (int)recv(to, buf, sizeof(buf), 0);
}

static void ike_sockets_bypass(int family)
{
	struct xfrm_handle *h;
	struct pvpn_err e;
	int s500, s4500, plain, plain2, type = 0;
	socklen_t tl = sizeof(type);
	/* RFC 3948 §2.2: on 4500, IKE starts with the 4-byte non-ESP marker;
	 * anything else longer than an ESP header is taken as ESP. */
	const char ike[] = "\0\0\0\0IKE-HEADER-AND-MORE";
	const char esp[] = "\x01\x02\x03\x04ESP-SEQ-AND-PAYLOAD";
	struct xfrm_policy blk[2];

	assert_int_equal(xfrm_open(&h, &e), 0);
	assert_int_equal(xfrm_ike_socket_open(family, NULL, 500, false, &s500, &e), 0);
	assert_int_equal(xfrm_ike_socket_open(family, NULL, 4500, true, &s4500, &e), 0);
	assert_int_equal(getsockopt(s4500, SOL_UDP, UDP_ENCAP, &type, &tl), 0);
	assert_int_equal(type, 2 /* UDP_ENCAP_ESPINUDP */);
	type = -1;
	tl = sizeof(type);
	assert_int_equal(getsockopt(s500, SOL_UDP, UDP_ENCAP, &type, &tl), 0);
	assert_int_equal(type, 0);

	/* A full block in both directions, as a kill switch would install. */
	for (int i = 0; i < 2; i++) {
		memset(&blk[i], 0, sizeof(blk[i]));
		blk[i].sel.family = family;
		blk[i].dir = i ? XFRM_DIR_IN : XFRM_DIR_OUT;
		blk[i].action = XFRM_ACT_BLOCK;
		assert_int_equal(xfrm_policy_add(h, &blk[i], &e), 0);
	}
	plain = socket(family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	plain2 = socket(family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(plain >= 0 && plain2 >= 0);
	{
		struct sockaddr_storage ss;
		memset(&ss, 0, sizeof(ss));
		ss.ss_family = (sa_family_t)family;
		assert_int_equal(bind(plain2, (struct sockaddr *)&ss,
				      family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)), 0);
	}
	/* Ordinary traffic is blocked ... */
	assert_int_equal(roundtrip(plain, plain2, family, "x", 1, 300), -EPERM);
	/* ... IKE on both ports still flows. */
	assert_int_equal(roundtrip(s4500, s500, family, ike, sizeof(ike), 1000), (int)sizeof(ike));
	assert_int_equal(roundtrip(s500, s4500, family, ike, sizeof(ike), 1000), (int)sizeof(ike));
	/* Without the marker the encap socket hands it to ESP, not to us. */
	assert_int_equal(roundtrip(s500, s4500, family, esp, sizeof(esp), 300), -ETIMEDOUT);

	/* The port is taken: the message says so. */
	int again = -1;
	memset(&e, 0, sizeof(e));
	assert_int_equal(xfrm_ike_socket_open(family, NULL, 500, false, &again, &e), -EADDRINUSE);
	assert_has(e.msg, "already in use");
	assert_int_equal(again, -1);

	for (int i = 0; i < 2; i++)
		assert_int_equal(xfrm_policy_delete(h, &blk[i], &e), 0);
	assert_int_equal(roundtrip(plain, plain2, family, "x", 1, 1000), 1);
	close(plain);
	close(plain2);
	close(s500);
	close(s4500);
	xfrm_close(h);
}

static void ike_sockets_v4(void **state)
{
	ike_sockets_bypass(AF_INET);
}

static void ike_sockets_v6(void **state)
{
	ike_sockets_bypass(AF_INET6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(addr_add_del, setup, teardown),
		cmocka_unit_test_setup_teardown(route_add_del, setup, teardown),
		cmocka_unit_test(ike_sockets_v4),
		cmocka_unit_test(ike_sockets_v6),
	};
	char o[512];
	if (netns_isolate() < 0)
		return 1;
	if (netns_sh(o, sizeof(o), /* lo skips XFRM by default (disable_xfrm/disable_policy); the
	 * bypass test needs policies to apply to local traffic. */
			     "sysctl -qw net.ipv4.conf.lo.disable_xfrm=0 net.ipv4.conf.lo.disable_policy=0 && "
			     "ip link add va type veth peer name vb && "
		     "ip addr add 10.60.0.1/24 dev va && ip link set va up && ip link set vb up") != 0) {
		fprintf(stderr, "cannot create the veth pair: %s\n", o);
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
