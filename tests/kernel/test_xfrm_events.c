/* Kernel tests for XFRM events, as root in a private network namespace:
 * ACQUIRE when traffic hits a policy without an SA, hard EXPIRE of an SPI
 * reserved and never filled, soft then hard EXPIRE of a real SA (needs
 * ESP: the VM).  Every event is read through xfrm_events_read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kernel-xfrm/xfrm.h"
#include "tests/lib/netns.h"

struct fix {
	struct xfrm_handle *h;
	struct xfrm_events *ev;
};

static struct xfrm_addr A(const char *s)
{
	struct xfrm_addr a;
	assert_int_equal(xfrm_addr_parse(s, &a), 0);
	return a;
}

static int setup(void **state)
{
	static struct fix f;
	struct pvpn_err e;
	netns_sh(NULL, 0, "ip xfrm policy flush; ip xfrm state flush");
	if (xfrm_open(&f.h, &e) < 0 || xfrm_events_open(&f.ev, &e) < 0) {
		fprintf(stderr, "open: %s\n", e.msg);
		return -1;
	}
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	xfrm_events_close(f->ev);
	xfrm_close(f->h);
	netns_sh(NULL, 0, "ip xfrm policy flush; ip xfrm state flush");
	return 0;
}

/* Wait up to ms for an event of the given type (others are skipped). */
static int wait_event(struct xfrm_events *ev, enum xfrm_event_type type,
		      struct xfrm_event *out, int ms)
{
	struct pvpn_err e;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int rc = xfrm_events_read(ev, out, &e);
		if (rc < 0)
			fail_msg("xfrm_events_read: %s", e.msg);
		if (rc == 1 && out->type == type)
			return 0;
		if (rc == 1)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		int left = ms - (int)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd p = { .fd = xfrm_events_fd(ev), .events = POLLIN };
		poll(&p, 1, left);
	}
}

static void acquire_on_policy_without_sa(void **state)
{
	struct fix *f = *state;
	struct xfrm_policy p;
	struct xfrm_event ev;
	struct pvpn_err e;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	struct xfrm_addr peer = A("10.60.0.2");
	char buf[64];
	int s;

	memset(&p, 0, sizeof(p));
	p.sel.family = AF_INET;
	p.sel.dst = A("10.77.0.0");
	p.sel.dst_len = 24;
	p.dir = XFRM_DIR_OUT;
	p.has_tmpl = true;
	p.tmpl.mode = XFRM_SA_TUNNEL;
	p.tmpl.reqid = XFRM_REQID_MIN + 42;
	p.tmpl.src = A("10.60.0.1");
	p.tmpl.dst = peer;
	assert_int_equal(xfrm_policy_add(f->h, &p, &e), 0);

	inet_pton(AF_INET, "10.77.0.5", &to.sin_addr);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(s >= 0);
	/* The kernel holds or drops the packet and asks us for an SA. */
	(void)sendto(s, "hello", 5, 0, (struct sockaddr *)&to, sizeof(to));
	close(s);

	assert_int_equal(wait_event(f->ev, XFRM_EV_ACQUIRE, &ev, 3000), 0);
	assert_int_equal(ev.acquire.reqid, p.tmpl.reqid);
	assert_int_equal(ev.acquire.dst.family, AF_INET);
	assert_memory_equal(&ev.acquire.dst.v4, &peer.v4, 4);
	assert_int_equal(ev.acquire.proto, IPPROTO_ESP);
	assert_int_equal(ev.acquire.dir, XFRM_DIR_OUT);
	assert_true(ev.acquire.owned);
	assert_string_equal(xfrm_addr_str(&ev.acquire.sel.dst, buf, sizeof(buf)), "10.77.0.5");
	assert_int_equal(ev.acquire.sel.dst_len, 32);
	assert_int_equal(ev.acquire.sel.dport, 9);
	assert_int_equal(ev.acquire.sel.proto, IPPROTO_UDP);
}

static void expire_of_reserved_spi(void **state)
{
	struct fix *f = *state;
	struct xfrm_addr s = A("192.0.2.2"), d = A("192.0.2.1");
	struct xfrm_event ev;
	struct pvpn_err e;
	uint32_t spi;

	/* The kernel drops a reserved-but-unfilled SPI after acq_expires. */
	assert_int_equal(netns_sh(NULL, 0, "sysctl -qw net.core.xfrm_acq_expires=1"), 0);
	assert_int_equal(xfrm_alloc_spi(f->h, &s, &d, XFRM_SA_TUNNEL, XFRM_REQID_MIN + 3, 0, 0, &spi, &e), 0);
	assert_int_equal(wait_event(f->ev, XFRM_EV_EXPIRE, &ev, 5000), 0);
	assert_int_equal(ev.expire.id.spi, spi);
	assert_true(ev.expire.hard);
	assert_true(ev.expire.owned);
	assert_int_equal(ev.expire.reqid, XFRM_REQID_MIN + 3);
	assert_memory_equal(&ev.expire.id.dst.v4, &d.v4, 4);
	netns_sh(NULL, 0, "sysctl -qw net.core.xfrm_acq_expires=30");
}

static void soft_then_hard_expire(void **state)
{
	struct fix *f = *state;
	static const uint8_t key[20] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 };
	struct xfrm_sa sa;
	struct xfrm_event ev;
	struct pvpn_err e;

	memset(&sa, 0, sizeof(sa));
	sa.src = A("2001:db8::1");
	sa.dst = A("2001:db8::2");
	sa.spi = 0xe0e0e0e1;
	sa.mode = XFRM_SA_TUNNEL;
	sa.reqid = XFRM_REQID_MIN + 9;
	snprintf(sa.aead.name, sizeof(sa.aead.name), "rfc4106(gcm(aes))");
	sa.aead.bits = 128;
	sa.aead.key = key;
	sa.aead.key_len = sizeof(key);
	sa.lifetime.soft_add_seconds = 1;
	sa.lifetime.hard_add_seconds = 2;
	memset(&e, 0, sizeof(e));
	int rc = xfrm_sa_add(f->h, &sa, &e);
	if (rc < 0)
		fail_msg("adding the SA: %s", e.msg);
	assert_int_equal(wait_event(f->ev, XFRM_EV_EXPIRE, &ev, 4000), 0);
	assert_false(ev.expire.hard);
	assert_int_equal(ev.expire.id.spi, sa.spi);
	assert_int_equal(ev.expire.id.dst.family, AF_INET6);
	assert_true(ev.expire.owned);
	assert_int_equal(wait_event(f->ev, XFRM_EV_EXPIRE, &ev, 4000), 0);
	assert_true(ev.expire.hard);
	assert_int_equal(ev.expire.id.spi, sa.spi);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(acquire_on_policy_without_sa, setup, teardown),
		cmocka_unit_test_setup_teardown(expire_of_reserved_spi, setup, teardown),
		cmocka_unit_test_setup_teardown(soft_then_hard_expire, setup, teardown),
	};
	char o[512];
	if (netns_isolate() < 0)
		return 1;
	if (netns_sh(o, sizeof(o), "ip link add va type veth peer name vb && "
		     "ip addr add 10.60.0.1/24 dev va && ip link set va up && ip link set vb up && "
		     "ip route add 10.77.0.0/24 via 10.60.0.2") != 0) {
		fprintf(stderr, "cannot set up the test network: %s\n", o);
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
