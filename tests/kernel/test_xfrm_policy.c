/* Kernel tests for XFRM policies, run as root in a private network
 * namespace: install, dump (cross-checked against `ip xfrm policy`),
 * delete, error messages, and find-and-remove-owned leaving foreign state
 * alone.  Policies need no ESP, so these also run on the host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>

#include "kernel-xfrm/xfrm.h"
#include "tests/lib/netns.h"

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
	netns_sh(NULL, 0, "ip xfrm policy flush; ip xfrm state flush");
	if (xfrm_open(&h, &e) < 0) {
		fprintf(stderr, "xfrm_open: %s\n", e.msg);
		return -1;
	}
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	xfrm_close(*state);
	netns_sh(NULL, 0, "ip xfrm policy flush; ip xfrm state flush");
	return 0;
}

static struct xfrm_policy tunnel_out(void)
{
	struct xfrm_policy p;
	memset(&p, 0, sizeof(p));
	p.sel.family = AF_INET;
	p.sel.src = A("10.1.0.0");
	p.sel.src_len = 16;
	p.sel.dst = A("10.2.0.0");
	p.sel.dst_len = 16;
	p.dir = XFRM_DIR_OUT;
	p.action = XFRM_ACT_ALLOW;
	p.priority = 1000;
	p.has_tmpl = true;
	p.tmpl.mode = XFRM_SA_TUNNEL;
	p.tmpl.reqid = XFRM_REQID_MIN + 7;
	p.tmpl.src = A("192.0.2.1");
	p.tmpl.dst = A("192.0.2.2");
	return p;
}

struct find {
	const struct xfrm_policy *want;
	struct xfrm_policy_info got;
	int hits;
};

static int find_pol(const struct xfrm_policy_info *p, void *arg)
{
	struct find *f = arg;
	if (p->dir == f->want->dir && p->sel.family == f->want->sel.family &&
	    p->sel.dst_len == f->want->sel.dst_len &&
	    memcmp(&p->sel.dst, &f->want->sel.dst, sizeof(p->sel.dst)) == 0 &&
	    memcmp(&p->sel.src, &f->want->sel.src, sizeof(p->sel.src)) == 0) {
		f->got = *p;
		f->hits++;
	}
	return 0;
}

static void policy_add_dump_delete(void **state)
{
	struct xfrm_handle *h = *state;
	struct xfrm_policy p = tunnel_out();
	struct pvpn_err e;
	struct find f = { .want = &p };
	char reqid[32];

	assert_int_equal(xfrm_policy_add(h, &p, &e), 0);
	assert_int_equal(netns_sh(out, sizeof(out), "ip xfrm policy"), 0);
	assert_has(out, "src 10.1.0.0/16 dst 10.2.0.0/16");
	assert_has(out, "dir out priority 1000");
	assert_has(out, "tmpl src 192.0.2.1 dst 192.0.2.2");
	snprintf(reqid, sizeof(reqid), "reqid %u mode tunnel", p.tmpl.reqid);
	assert_has(out, reqid);
	assert_lacks(out, "action block");

	assert_int_equal(xfrm_policy_dump(h, find_pol, &f, &e), 0);
	assert_int_equal(f.hits, 1);
	assert_true(f.got.owned);
	assert_true(f.got.has_tmpl);
	assert_int_equal(f.got.tmpl.reqid, p.tmpl.reqid);
	assert_int_equal(f.got.priority, 1000);
	assert_int_equal(f.got.action, XFRM_ACT_ALLOW);
	assert_int_equal(f.got.tmpl.mode, XFRM_SA_TUNNEL);
	assert_memory_equal(&f.got.tmpl.dst, &p.tmpl.dst, sizeof(p.tmpl.dst));

	assert_int_equal(xfrm_policy_delete(h, &p, &e), 0);
	assert_int_equal(netns_sh(out, sizeof(out), "ip xfrm policy"), 0);
	assert_lacks(out, "10.2.0.0/16");
}

static void policy_v6_ports_block_fwd(void **state)
{
	struct xfrm_handle *h = *state;
	struct xfrm_policy p;
	struct pvpn_err e;

	memset(&p, 0, sizeof(p));
	p.sel.family = AF_INET6;
	p.sel.src = A("2001:db8:1::");
	p.sel.src_len = 64;
	p.sel.dst = A("2001:db8:2::");
	p.sel.dst_len = 48;
	p.sel.proto = IPPROTO_TCP;
	p.sel.dport = 443;
	p.sel.sport = 1234;
	p.dir = XFRM_DIR_FWD;
	p.action = XFRM_ACT_BLOCK;
	p.priority = 5;
	assert_int_equal(xfrm_policy_add(h, &p, &e), 0);
	assert_int_equal(netns_sh(out, sizeof(out), "ip -6 xfrm policy"), 0);
	assert_has(out, "src 2001:db8:1::/64 dst 2001:db8:2::/48 proto tcp sport 1234 dport 443");
	assert_has(out, "dir fwd action block priority 5");

	/* Transport template, IPv6, in direction, optional. */
	struct xfrm_policy q;
	memset(&q, 0, sizeof(q));
	q.sel.family = AF_INET6;
	q.sel.src = A("2001:db8::1");
	q.sel.src_len = 128;
	q.sel.dst = A("2001:db8::2");
	q.sel.dst_len = 128;
	q.dir = XFRM_DIR_IN;
	q.has_tmpl = true;
	q.tmpl.mode = XFRM_SA_TRANSPORT;
	q.tmpl.reqid = XFRM_REQID_MAX;
	q.tmpl.optional = true;
	assert_int_equal(xfrm_policy_add(h, &q, &e), 0);
	assert_int_equal(netns_sh(out, sizeof(out), "ip -6 xfrm policy"), 0);
	assert_has(out, "src 2001:db8::1/128 dst 2001:db8::2/128");
	assert_has(out, "mode transport");
	assert_has(out, "level use");
	assert_int_equal(xfrm_policy_delete(h, &p, &e), 0);
	assert_int_equal(xfrm_policy_delete(h, &q, &e), 0);
	assert_int_equal(netns_sh(out, sizeof(out), "ip -6 xfrm policy | grep -c 2001:db8"), 1);
	assert_string_equal(out, "0\n");
}

static void policy_errors(void **state)
{
	struct xfrm_handle *h = *state;
	struct xfrm_policy p = tunnel_out();
	struct pvpn_err e;

	assert_int_equal(xfrm_policy_add(h, &p, &e), 0);
	memset(&e, 0, sizeof(e));
	assert_int_equal(xfrm_policy_add(h, &p, &e), -EEXIST);
	assert_int_equal(e.code, -EEXIST);
	assert_has(e.msg, "already exists");
	assert_has(e.msg, "out policy 10.1.0.0/16 -> 10.2.0.0/16");
	assert_int_equal(xfrm_policy_delete(h, &p, &e), 0);
	memset(&e, 0, sizeof(e));
	assert_int_equal(xfrm_policy_delete(h, &p, &e), -ENOENT);
	assert_has(e.msg, "does not exist");

	/* A reqid outside pvpn's range could not be found again. */
	p.tmpl.reqid = 5;
	memset(&e, 0, sizeof(e));
	assert_int_equal(xfrm_policy_add(h, &p, &e), -EINVAL);
	assert_has(e.msg, "reqid 5");
	/* A prefix too long for IPv4. */
	p = tunnel_out();
	p.sel.dst_len = 33;
	assert_int_equal(xfrm_policy_add(h, &p, &e), -EINVAL);
	assert_has(e.msg, "prefix");
}

static int count_owned_sa(const struct xfrm_sa_info *sa, void *arg)
{
	if (sa->owned)
		++*(int *)arg;
	return 0;
}

static void flush_owned_leaves_foreign(void **state)
{
	struct xfrm_handle *h = *state;
	struct xfrm_policy p = tunnel_out(), in = tunnel_out(), blk = tunnel_out();
	struct pvpn_err e;
	struct xfrm_addr s = A("192.0.2.2"), d = A("192.0.2.1");
	uint32_t spi = 0;
	unsigned int nsa = 99, npol = 99;
	int owned = 0;
	char spihex[32];

	/* Foreign state, as another daemon or an admin would install it. */
	assert_int_equal(netns_sh(out, sizeof(out),
		"ip xfrm policy add src 10.9.0.0/16 dst 10.8.0.0/16 dir out "
		"tmpl src 198.51.100.1 dst 198.51.100.2 proto esp mode tunnel reqid 5 && "
		"ip xfrm policy add src 10.9.0.0/16 dst 10.7.0.0/16 dir in action block && "
		"ip xfrm state allocspi src 198.51.100.2 dst 198.51.100.1 proto esp mode tunnel reqid 6"), 0);

	/* Ours: out + in + block policies and a reserved SPI. */
	in.dir = XFRM_DIR_IN;
	in.sel.src = p.sel.dst;
	in.sel.dst = p.sel.src;
	in.tmpl.src = p.tmpl.dst;
	in.tmpl.dst = p.tmpl.src;
	blk.has_tmpl = false;
	blk.action = XFRM_ACT_BLOCK;
	blk.sel.dst = A("0.0.0.0");
	blk.sel.dst_len = 0;
	blk.priority = 4000;
	assert_int_equal(xfrm_policy_add(h, &p, &e), 0);
	assert_int_equal(xfrm_policy_add(h, &in, &e), 0);
	assert_int_equal(xfrm_policy_add(h, &blk, &e), 0);
	/* With mark and if_id the kernel finds it only when both are given. */
	struct xfrm_policy mk = tunnel_out();
	mk.sel.dst = A("10.3.0.0");
	mk.mark.value = 0x5;
	mk.mark.mask = 0xf;
	mk.if_id = 3;
	assert_int_equal(xfrm_policy_add(h, &mk, &e), 0);
	assert_int_equal(xfrm_alloc_spi(h, &s, &d, XFRM_SA_TUNNEL, XFRM_REQID_MIN + 7, 0, 0, &spi, &e), 0);
	assert_true(spi >= 0x100);
	assert_int_equal(xfrm_sa_dump(h, count_owned_sa, &owned, &e), 0);
	assert_int_equal(owned, 1);

	assert_int_equal(xfrm_flush_owned(h, &nsa, &npol, &e), 0);
	assert_int_equal(nsa, 1);
	assert_int_equal(npol, 4);

	assert_int_equal(netns_sh(out, sizeof(out), "ip xfrm policy"), 0);
	assert_has(out, "src 10.9.0.0/16 dst 10.8.0.0/16");
	assert_has(out, "src 10.9.0.0/16 dst 10.7.0.0/16");
	assert_lacks(out, "10.1.0.0/16");
	assert_lacks(out, "10.2.0.0/16");
	assert_lacks(out, "10.3.0.0/16");
	assert_int_equal(netns_sh(out, sizeof(out), "ip xfrm state"), 0);
	assert_has(out, "reqid 6");
	snprintf(spihex, sizeof(spihex), "spi 0x%08x", spi);
	assert_lacks(out, spihex);

	/* Nothing left of ours: a second flush removes nothing. */
	assert_int_equal(xfrm_flush_owned(h, &nsa, &npol, &e), 0);
	assert_int_equal(nsa, 0);
	assert_int_equal(npol, 0);
}

static void alloc_spi_range_and_reqid(void **state)
{
	struct xfrm_handle *h = *state;
	struct xfrm_addr s = A("2001:db8::2"), d = A("2001:db8::1");
	struct pvpn_err e;
	uint32_t spi = 0;
	char want[64];

	assert_int_equal(xfrm_alloc_spi(h, &s, &d, XFRM_SA_TRANSPORT, XFRM_REQID_MIN, 0xc0000000u,
					0xc00000ffu, &spi, &e), 0);
	assert_true(spi >= 0xc0000000u && spi <= 0xc00000ffu);
	assert_int_equal(netns_sh(out, sizeof(out), "ip -6 xfrm state"), 0);
	snprintf(want, sizeof(want), "proto esp spi 0x%08x reqid %u mode transport", spi, XFRM_REQID_MIN);
	assert_has(out, want);
	assert_int_equal(xfrm_alloc_spi(h, &s, &d, XFRM_SA_TRANSPORT, 42, 0, 0, &spi, &e), -EINVAL);
	assert_has(e.msg, "reqid 42");
	assert_int_equal(xfrm_alloc_spi(h, &s, &d, XFRM_SA_TRANSPORT, XFRM_REQID_MIN, 5, 6, &spi, &e), -EINVAL);
}

/* Without CAP_NET_ADMIN the kernel refuses and the message says what is
 * missing.  The capability is dropped in a child so the rest keeps it. */
static void policy_needs_cap_net_admin(void **state)
{
	struct xfrm_handle *h = *state;
	struct xfrm_policy p = tunnel_out();
	int status = -1;
	pid_t pid;

	(void)h;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
		struct __user_cap_data_struct data[2];
		struct xfrm_handle *ch;
		struct pvpn_err e;
		memset(data, 0, sizeof(data));
		if (syscall(SYS_capget, &hdr, data) != 0)
			_exit(10);
		data[CAP_NET_ADMIN / 32].effective &= ~(1u << (CAP_NET_ADMIN % 32));
		data[CAP_NET_ADMIN / 32].permitted &= ~(1u << (CAP_NET_ADMIN % 32));
		if (syscall(SYS_capset, &hdr, data) != 0)
			_exit(11);
		if (xfrm_open(&ch, &e) < 0)
			_exit(12);
		int rc = xfrm_policy_add(ch, &p, &e);
		if (rc != -EPERM)
			_exit(13);
		if (!strstr(e.msg, "CAP_NET_ADMIN"))
			_exit(14);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(netns_sh(out, sizeof(out), "ip xfrm policy"), 0);
	assert_lacks(out, "10.2.0.0/16");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(policy_add_dump_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(policy_v6_ports_block_fwd, setup, teardown),
		cmocka_unit_test_setup_teardown(policy_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(flush_owned_leaves_foreign, setup, teardown),
		cmocka_unit_test_setup_teardown(alloc_spi_range_and_reqid, setup, teardown),
		cmocka_unit_test_setup_teardown(policy_needs_cap_net_admin, setup, teardown),
	};
	if (netns_isolate() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
