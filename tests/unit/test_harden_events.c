/* test_harden_events.c — xfrm_events_read believes only the kernel: a
 * well-formed XFRM event unicast to the event socket by another local
 * netlink socket is dropped, a real one from the kernel still comes
 * through.  Runs in a private network namespace (needs root, like the
 * recording in tests/fixtures/netlink; fails loudly without). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>

#include "kernel-xfrm/xfrm.h"
#include "lib/err.h"
#include "tests/lib/netns.h"

#define FIX "tests/fixtures/netlink/"

static size_t load(const char *name, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(name, "rb");
	size_t n;

	if (!f)
		fail_msg("cannot open %s (run from the repository root)", name);
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static struct xfrm_addr A(const char *s)
{
	struct xfrm_addr a;
	assert_int_equal(xfrm_addr_parse(s, &a), 0);
	return a;
}

static void test_forged_event_dropped_kernel_event_kept(void **state)
{
	struct xfrm_events *ev = NULL;
	struct xfrm_handle *h = NULL;
	struct xfrm_event out;
	struct pvpn_err e = { 0 };
	struct sockaddr_nl to, me;
	socklen_t mlen = sizeof(me);
	uint8_t msg[4096] __attribute__((aligned(8)));
	char sh[512];
	size_t n;
	int fd, forger, rc;
	(void)state;

	if (netns_isolate() < 0)
		fail_msg("cannot enter a private network namespace (this test needs root)");
	assert_int_equal(netns_sh(sh, sizeof(sh),
				  "ip link add va type veth peer name vb && "
				  "ip addr add 10.60.0.1/24 dev va && ip link set va up && "
				  "ip link set vb up && ip route add 10.77.0.0/24 via 10.60.0.2"), 0);
	assert_int_equal(xfrm_events_open(&ev, &e), 0);
	fd = xfrm_events_fd(ev);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&me, &mlen), 0);
	assert_int_not_equal(me.nl_pid, 0);

	/* Another process's socket forges a well-formed ACQUIRE (recorded from
	 * the kernel) straight to our port.  Root may unicast between
	 * NETLINK_XFRM sockets; the kernel stamps the sender's own port. */
	n = load(FIX "ev-acquire.bin", msg, sizeof(msg));
	assert_true(n >= sizeof(struct nlmsghdr));
	assert_int_equal(xfrm_event_decode(msg, n, &out, &e), 1); /* it IS a valid event */
	forger = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_XFRM);
	assert_true(forger >= 0);
	memset(&to, 0, sizeof(to));
	to.nl_family = AF_NETLINK;
	to.nl_pid = me.nl_pid;
	assert_int_equal(sendto(forger, msg, n, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)n);
	close(forger);

	assert_true(readable(fd, 2000)); /* it was delivered ... */
	memset(&out, 0xa5, sizeof(out));
	rc = xfrm_events_read(ev, &out, &e);
	assert_int_equal(rc, 0);         /* ... and not believed */
	assert_int_equal(out.type, 0);
	assert_false(readable(fd, 0));
	assert_int_equal(xfrm_events_read(ev, &out, &e), 0);

	/* A genuine ACQUIRE: traffic hits our tunnel policy, no SA yet. */
	struct xfrm_policy p;
	memset(&p, 0, sizeof(p));
	p.sel.family = AF_INET;
	p.sel.src = A("10.60.0.0");
	p.sel.src_len = 24;
	p.sel.dst = A("10.77.0.0");
	p.sel.dst_len = 24;
	p.dir = XFRM_DIR_OUT;
	p.priority = 1000;
	p.has_tmpl = true;
	p.tmpl.mode = XFRM_SA_TUNNEL;
	p.tmpl.reqid = XFRM_REQID_MIN + 7;
	p.tmpl.src = A("10.60.0.1");
	p.tmpl.dst = A("10.60.0.2");
	assert_int_equal(xfrm_open(&h, &e), 0);
	assert_int_equal(xfrm_policy_add(h, &p, &e), 0);
	int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(9) };
	assert_true(u >= 0);
	inet_pton(AF_INET, "10.77.0.5", &dst.sin_addr);
	(void)sendto(u, "x", 1, MSG_DONTWAIT, (struct sockaddr *)&dst, sizeof(dst));
	close(u);

	rc = 0;
	for (int i = 0; i < 20 && rc == 0; i++) {
		if (!readable(fd, 100))
			continue;
		rc = xfrm_events_read(ev, &out, &e);
	}
	assert_int_equal(rc, 1);
	assert_int_equal(out.type, XFRM_EV_ACQUIRE);
	assert_int_equal(out.acquire.reqid, XFRM_REQID_MIN + 7);
	char s[64];
	assert_string_equal(xfrm_addr_str(&out.acquire.dst, s, sizeof(s)), "10.60.0.2");

	xfrm_close(h);
	xfrm_events_close(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forged_event_dropped_kernel_event_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
