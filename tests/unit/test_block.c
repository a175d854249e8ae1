/* Unit tests for ctl/block.c and the block part of ctl/state.c:
 * IncludeAllNetworks' block rules (policy/) as XFRM policies — the
 * translation of each rule, the whole set for a profile, what a packet
 * meets under the kernel's rule (the matching policy with the lowest
 * priority number wins), the environment, and the crash-recovery file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl/block.h"
#include "ctl/ctl.h"

#define TUNNEL_PRIO 1000   /* ctl/conn.c's CTL_POLICY_PRIORITY */

static struct prof_profile P;
static struct xfrm_policy POL[PROF_MAX_PLAN + 4];
static size_t NPOL;

static void load(const char *extra)
{
	char text[2048];
	struct pvpn_err e;
	snprintf(text, sizeof(text), "[IKEv2]\nServer = 192.0.2.2\nSharedSecret = s\n%s", extra);
	if (prof_parse_string("b.conf", text, strlen(text), NULL, PROF_PARSE_NO_FILES, &P, &e))
		fail_msg("%s", e.msg);
}

static struct prof_prefix pfx(const char *s)
{
	struct prof_prefix p;
	struct pvpn_err e;
	if (prof_parse_prefix(s, &p, &e))
		fail_msg("%s", e.msg);
	return p;
}

static struct prof_addr paddr(const char *s)
{
	struct prof_addr a = { 0 };
	if (inet_pton(AF_INET, s, a.addr) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, s, a.addr) == 1)
		a.family = AF_INET6;
	else
		fail_msg("bad address %s", s);
	return a;
}

static struct xfrm_addr xaddr(const char *s)
{
	struct xfrm_addr a;
	if (xfrm_addr_parse(s, &a) < 0)
		fail_msg("bad address %s", s);
	return a;
}

static void plan(const struct prof_env *env)
{
	struct pvpn_err e = { 0 };
	int rc = ctl_block_policies(&P, env, POL, PROF_MAX_PLAN, &NPOL, &e);
	if (rc < 0)
		fail_msg("ctl_block_policies: %s", e.msg);
}

/* --- a model of the kernel's lookup ---------------------------------------- */

static bool in_prefix(const struct xfrm_addr *a, const struct xfrm_addr *net, unsigned len)
{
	if (a->family != net->family)
		return false;
	const uint8_t *x = a->family == AF_INET ? (const uint8_t *)&a->v4 : a->v6.s6_addr;
	const uint8_t *y = net->family == AF_INET ? (const uint8_t *)&net->v4 : net->v6.s6_addr;
	for (unsigned b = 0; b < len; b++) {
		uint8_t m = (uint8_t)(0x80 >> (b % 8));
		if ((x[b / 8] & m) != (y[b / 8] & m))
			return false;
	}
	return true;
}

enum verdict { V_NONE, V_ALLOW, V_DROP, V_TUNNEL };

/* The policy a packet meets (XFRM: among the matching policies of its
 * direction, the lowest priority number). */
static enum verdict lookup(enum xfrm_dir dir, const char *src, const char *dst, uint8_t proto,
			   uint16_t dport)
{
	struct xfrm_addr s = xaddr(src), d = xaddr(dst);
	const struct xfrm_policy *best = NULL;
	for (size_t i = 0; i < NPOL; i++) {
		const struct xfrm_policy *p = &POL[i];
		if (p->dir != dir || p->sel.family != s.family)
			continue;
		if (!in_prefix(&s, &p->sel.src, p->sel.src_len) ||
		    !in_prefix(&d, &p->sel.dst, p->sel.dst_len))
			continue;
		if (p->sel.proto && p->sel.proto != proto)
			continue;
		if (p->sel.dport && p->sel.dport != dport)
			continue;
		if (!best || p->priority < best->priority)
			best = p;
	}
	if (!best)
		return V_NONE;
	if (best->has_tmpl)
		return V_TUNNEL;
	return best->action == XFRM_ACT_BLOCK ? V_DROP : V_ALLOW;
}

/* The tunnel's own policy pair as conn.c installs it (VIP <-> anything). */
static void add_tunnel(const char *vip, unsigned len, int fam)
{
	for (int k = 0; k < 2; k++) {
		struct xfrm_policy *p = &POL[NPOL++];
		memset(p, 0, sizeof(*p));
		p->sel.family = fam;
		p->dir = k ? XFRM_DIR_IN : XFRM_DIR_OUT;
		p->priority = TUNNEL_PRIO;
		p->has_tmpl = true;
		p->tmpl.mode = XFRM_SA_TUNNEL;
		struct xfrm_addr any = { .family = fam };
		struct xfrm_addr v = xaddr(vip);
		p->sel.src = k ? any : v;
		p->sel.src_len = (uint8_t)(k ? 0 : len);
		p->sel.dst = k ? v : any;
		p->sel.dst_len = (uint8_t)(k ? len : 0);
	}
}

static struct prof_env server_env(const char *server)
{
	struct prof_env env;
	memset(&env, 0, sizeof(env));
	env.server = paddr(server);
	return env;
}

/* --- translation of one rule ------------------------------------------------ */

static void translate_allow_server(void **state)
{
	struct prof_block_rule r = {
		.dir = PROF_DIR_OUT, .action = PROF_BLOCK_ALLOW, .priority = PROF_PRIO_ALLOW_IKE,
		.src = { .family = AF_INET }, .dst = pfx("192.0.2.2/32"),
	};
	struct xfrm_policy p;
	struct pvpn_err e = { 0 };
	assert_int_equal(ctl_block_translate(&r, &p, &e), 0);
	assert_int_equal(p.dir, XFRM_DIR_OUT);
	assert_int_equal(p.action, XFRM_ACT_ALLOW);
	assert_int_equal(p.priority, PROF_PRIO_ALLOW_IKE);
	assert_false(p.has_tmpl);
	assert_int_equal(p.sel.family, AF_INET);
	assert_int_equal(p.sel.dst.family, AF_INET);
	assert_int_equal(p.sel.dst_len, 32);
	assert_int_equal(p.sel.dst.v4.s_addr, inet_addr("192.0.2.2"));
	assert_int_equal(p.sel.src.family, AF_INET);
	assert_int_equal(p.sel.src_len, 0);
	assert_int_equal(p.sel.src.v4.s_addr, 0);
	assert_int_equal(p.sel.proto, 0);
	assert_int_equal(p.sel.dport, 0);
	assert_int_equal(p.mark.value | p.mark.mask | p.if_id | (uint32_t)p.sel.ifindex, 0);
}

static void translate_drop_in_v6(void **state)
{
	struct prof_block_rule r = {
		.dir = PROF_DIR_IN, .action = PROF_BLOCK_DROP, .priority = PROF_PRIO_BLOCK,
		.src = { .family = AF_INET6 }, .dst = { .family = AF_INET6 },
	};
	struct xfrm_policy p;
	struct pvpn_err e = { 0 };
	assert_int_equal(ctl_block_translate(&r, &p, &e), 0);
	assert_int_equal(p.dir, XFRM_DIR_IN);
	assert_int_equal(p.action, XFRM_ACT_BLOCK);
	assert_int_equal(p.priority, PROF_PRIO_BLOCK);
	assert_int_equal(p.sel.family, AF_INET6);
	assert_int_equal(p.sel.src.family, AF_INET6);
	assert_int_equal(p.sel.dst.family, AF_INET6);
	assert_int_equal(p.sel.src_len + p.sel.dst_len, 0);
	/* A selector with only a source prefix (IN rules name the peer there). */
	r.src = pfx("2001:db8::/32");
	r.dst.family = 0;
	assert_int_equal(ctl_block_translate(&r, &p, &e), 0);
	assert_int_equal(p.sel.src_len, 32);
	assert_int_equal(p.sel.src.v6.s6_addr[2], 0x0d);
	assert_int_equal(p.sel.dst.family, AF_INET6);
	assert_int_equal(p.sel.dst_len, 0);
	r.dir = PROF_DIR_FWD;
	assert_int_equal(ctl_block_translate(&r, &p, &e), 0);
	assert_int_equal(p.dir, XFRM_DIR_FWD);
}

static void translate_proto_and_port(void **state)
{
	struct prof_block_rule r = {
		.dir = PROF_DIR_OUT, .action = PROF_BLOCK_ALLOW, .priority = 200,
		.src = { .family = AF_INET6 }, .dst = pfx("fe80::/10"), .proto = 58, .dport = 7,
	};
	struct xfrm_policy p;
	struct pvpn_err e = { 0 };
	assert_int_equal(ctl_block_translate(&r, &p, &e), 0);
	assert_int_equal(p.sel.proto, 58);
	/* ICMPv6 has no ports: a port there would never match. */
	assert_int_equal(p.sel.dport, 0);
	r.proto = IPPROTO_UDP;
	r.dport = 500;
	assert_int_equal(ctl_block_translate(&r, &p, &e), 0);
	assert_int_equal(p.sel.proto, IPPROTO_UDP);
	assert_int_equal(p.sel.dport, 500);
}

static void translate_rejects(void **state)
{
	struct prof_block_rule good = {
		.dir = PROF_DIR_OUT, .action = PROF_BLOCK_DROP, .priority = 1,
		.src = { .family = AF_INET }, .dst = { .family = AF_INET },
	};
	struct xfrm_policy p;
	struct pvpn_err e = { 0 };
	struct prof_block_rule r = good;
	r.src.family = r.dst.family = 0;
	assert_int_equal(ctl_block_translate(&r, &p, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "family"));
	r = good;
	r.dst.family = AF_INET6;
	assert_int_equal(ctl_block_translate(&r, &p, &e), -EINVAL);
	r = good;
	r.dst.len = 33;
	assert_int_equal(ctl_block_translate(&r, &p, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "32 bits"));
	r = good;
	r.dir = (enum prof_block_dir)9;
	assert_int_equal(ctl_block_translate(&r, &p, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "direction"));
	r = good;
	r.action = (enum prof_block_action)0;
	assert_int_equal(ctl_block_translate(&r, &p, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "action"));
	r = good;
	assert_int_equal(ctl_block_translate(&r, &p, &e), 0);
}

/* --- the set for a profile -------------------------------------------------- */

static void off_means_nothing(void **state)
{
	load("[Routing]\nIncludedRoutes = 10.0.0.0/8\nExcludedRoutes = 10.1.0.0/16\n");
	struct prof_env env = server_env("192.0.2.2");
	NPOL = 99;
	plan(&env);
	assert_int_equal(NPOL, 0);
	prof_free(&P);
}

static void full_set_shape(void **state)
{
	load("[Routing]\nIncludeAllNetworks = yes\n");
	struct prof_env env = server_env("192.0.2.2");
	plan(&env);
	assert_true(NPOL >= 8);
	size_t drops = 0, server_out = 0, server_in = 0;
	bool drop_fam[2][2] = { { false } };
	for (size_t i = 0; i < NPOL; i++) {
		const struct xfrm_policy *p = &POL[i];
		assert_false(p->has_tmpl);
		assert_true(p->dir == XFRM_DIR_IN || p->dir == XFRM_DIR_OUT);
		if (p->action == XFRM_ACT_BLOCK) {
			drops++;
			/* Below the tunnel's policies, so they win while it is up. */
			assert_true(p->priority > TUNNEL_PRIO);
			assert_int_equal(p->sel.src_len + p->sel.dst_len, 0);
			drop_fam[p->sel.family == AF_INET6][p->dir == XFRM_DIR_IN] = true;
		} else {
			assert_true(p->priority < TUNNEL_PRIO);
		}
		if (p->sel.family == AF_INET && p->action == XFRM_ACT_ALLOW) {
			if (p->dir == XFRM_DIR_OUT && p->sel.dst_len == 32 &&
			    p->sel.dst.v4.s_addr == inet_addr("192.0.2.2"))
				server_out++;
			if (p->dir == XFRM_DIR_IN && p->sel.src_len == 32 &&
			    p->sel.src.v4.s_addr == inet_addr("192.0.2.2"))
				server_in++;
		}
	}
	assert_int_equal(drops, 4);
	assert_true(drop_fam[0][0] && drop_fam[0][1] && drop_fam[1][0] && drop_fam[1][1]);
	assert_int_equal(server_out, 1);
	assert_int_equal(server_in, 1);
	/* No two policies share selector and direction: the kernel keys them
	 * so, and a second add would fail with EEXIST. */
	for (size_t i = 0; i < NPOL; i++)
		for (size_t k = i + 1; k < NPOL; k++)
			assert_false(POL[i].dir == POL[k].dir &&
				     !memcmp(&POL[i].sel, &POL[k].sel, sizeof(POL[i].sel)));
	prof_free(&P);
}

static void packets_while_down(void **state)
{
	load("[Routing]\nIncludeAllNetworks = yes\n");
	struct prof_env env = server_env("192.0.2.2");
	plan(&env);
	/* IKE and ESP to and from the server pass. */
	assert_int_equal(lookup(XFRM_DIR_OUT, "192.0.2.1", "192.0.2.2", IPPROTO_UDP, 500), V_ALLOW);
	assert_int_equal(lookup(XFRM_DIR_OUT, "192.0.2.1", "192.0.2.2", IPPROTO_UDP, 4500), V_ALLOW);
	assert_int_equal(lookup(XFRM_DIR_IN, "192.0.2.2", "192.0.2.1", IPPROTO_ESP, 0), V_ALLOW);
	/* Anything else, either family, either way, is dropped. */
	assert_int_equal(lookup(XFRM_DIR_OUT, "192.0.2.1", "10.99.0.1", IPPROTO_ICMP, 0), V_DROP);
	assert_int_equal(lookup(XFRM_DIR_OUT, "192.0.2.1", "192.0.2.3", IPPROTO_UDP, 53), V_DROP);
	assert_int_equal(lookup(XFRM_DIR_IN, "198.51.100.7", "192.0.2.1", IPPROTO_TCP, 22), V_DROP);
	assert_int_equal(lookup(XFRM_DIR_OUT, "2001:db8::1", "2001:db8:1::1", IPPROTO_TCP, 443), V_DROP);
	assert_int_equal(lookup(XFRM_DIR_IN, "2001:db8:1::1", "2001:db8::1", IPPROTO_UDP, 53), V_DROP);
	/* Loopback stays on the host. */
	assert_int_equal(lookup(XFRM_DIR_OUT, "127.0.0.1", "127.0.0.53", IPPROTO_UDP, 53), V_ALLOW);
	assert_int_equal(lookup(XFRM_DIR_OUT, "::1", "::1", IPPROTO_TCP, 80), V_ALLOW);
	/* Neighbour discovery, but no application traffic to link-local peers. */
	assert_int_equal(lookup(XFRM_DIR_OUT, "fe80::1", "ff02::1:ff00:2", 58, 0), V_ALLOW);
	assert_int_equal(lookup(XFRM_DIR_IN, "fe80::2", "fe80::1", 58, 0), V_ALLOW);
	assert_int_equal(lookup(XFRM_DIR_OUT, "fe80::1", "fe80::2", IPPROTO_UDP, 53), V_DROP);
	prof_free(&P);
}

static void packets_while_up(void **state)
{
	load("[Routing]\nIncludeAllNetworks = yes\n");
	struct prof_env env = server_env("192.0.2.2");
	plan(&env);
	add_tunnel("10.10.10.1", 32, AF_INET);
	/* From the virtual IP: into the tunnel. */
	assert_int_equal(lookup(XFRM_DIR_OUT, "10.10.10.1", "10.99.0.1", IPPROTO_ICMP, 0), V_TUNNEL);
	assert_int_equal(lookup(XFRM_DIR_OUT, "10.10.10.1", "203.0.113.9", IPPROTO_TCP, 443), V_TUNNEL);
	assert_int_equal(lookup(XFRM_DIR_IN, "203.0.113.9", "10.10.10.1", IPPROTO_TCP, 0), V_TUNNEL);
	/* From the real address (a socket bound to it, a route that is not
	 * ours): dropped, not sent in clear. */
	assert_int_equal(lookup(XFRM_DIR_OUT, "192.0.2.1", "203.0.113.9", IPPROTO_TCP, 443), V_DROP);
	/* No IPv6 from the server: IPv6 stays blocked, not leaked. */
	assert_int_equal(lookup(XFRM_DIR_OUT, "2001:db8::1", "2001:db8:1::1", IPPROTO_TCP, 443), V_DROP);
	/* The server still outside. */
	assert_int_equal(lookup(XFRM_DIR_OUT, "192.0.2.1", "192.0.2.2", IPPROTO_UDP, 4500), V_ALLOW);
	prof_free(&P);
}

static void excluded_routes_pass(void **state)
{
	load("[Routing]\nIncludeAllNetworks = yes\nExcludedRoutes = 192.168.7.0/24, 2001:db8:7::/48\n");
	struct prof_env env = server_env("2001:db8::2");
	plan(&env);
	assert_int_equal(lookup(XFRM_DIR_OUT, "192.168.7.5", "192.168.7.1", IPPROTO_TCP, 631), V_ALLOW);
	assert_int_equal(lookup(XFRM_DIR_IN, "192.168.7.1", "192.168.7.5", IPPROTO_TCP, 0), V_ALLOW);
	assert_int_equal(lookup(XFRM_DIR_OUT, "192.168.7.5", "192.168.8.1", IPPROTO_TCP, 631), V_DROP);
	assert_int_equal(lookup(XFRM_DIR_OUT, "2001:db8::1", "2001:db8:7::9", IPPROTO_UDP, 1), V_ALLOW);
	/* An IPv6 server. */
	assert_int_equal(lookup(XFRM_DIR_OUT, "2001:db8::1", "2001:db8::2", IPPROTO_UDP, 500), V_ALLOW);
	assert_int_equal(lookup(XFRM_DIR_OUT, "192.0.2.1", "192.0.2.2", IPPROTO_UDP, 500), V_DROP);
	prof_free(&P);
}

static void local_networks(void **state)
{
	struct prof_env env = server_env("192.0.2.2");
	env.n_local = 2;
	env.local[0] = pfx("192.168.1.0/24");
	env.local[1] = pfx("fd00:1::/64");
	/* Off: the local prefixes change nothing. */
	load("[Routing]\nIncludeAllNetworks = yes\n");
	plan(&env);
	assert_int_equal(lookup(XFRM_DIR_OUT, "192.168.1.5", "192.168.1.1", IPPROTO_TCP, 80), V_DROP);
	prof_free(&P);
	/* On: they pass, and only they. */
	load("[Routing]\nIncludeAllNetworks = yes\nExcludeLocalNetworks = yes\n");
	plan(&env);
	assert_int_equal(lookup(XFRM_DIR_OUT, "192.168.1.5", "192.168.1.1", IPPROTO_TCP, 80), V_ALLOW);
	assert_int_equal(lookup(XFRM_DIR_IN, "192.168.1.1", "192.168.1.5", IPPROTO_TCP, 0), V_ALLOW);
	assert_int_equal(lookup(XFRM_DIR_OUT, "fd00:1::5", "fd00:1::1", IPPROTO_UDP, 5353), V_ALLOW);
	assert_int_equal(lookup(XFRM_DIR_OUT, "192.168.1.5", "192.168.2.1", IPPROTO_TCP, 80), V_DROP);
	prof_free(&P);
}

/* --- the environment ------------------------------------------------------- */

static struct ctl_conn C;

static void env_from_conn(void **state)
{
	struct prof_env env;
	memset(&C, 0, sizeof(C));
	prof_init(&C.prof);
	struct sockaddr_in *sin = (struct sockaddr_in *)&C.remote;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = inet_addr("192.0.2.2");
	ctl_block_env(&C, &env);
	assert_int_equal(env.server.family, AF_INET);
	assert_memory_equal(env.server.addr, &sin->sin_addr, 4);
	assert_int_equal(env.n_local, 0);   /* ExcludeLocalNetworks off */

	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&C.remote;
	memset(&C.remote, 0, sizeof(C.remote));
	s6->sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::2", &s6->sin6_addr);
	C.prof.exclude_local_networks = true;
	ctl_block_env(&C, &env);
	assert_int_equal(env.server.family, AF_INET6);
	assert_memory_equal(env.server.addr, &s6->sin6_addr, 16);
	/* Whatever this host has: real prefixes, no host routes, no loopback,
	 * host bits clear, no duplicates. */
	for (size_t i = 0; i < env.n_local; i++) {
		const struct prof_prefix *p = &env.local[i];
		assert_true(p->family == AF_INET || p->family == AF_INET6);
		assert_true(p->len < (p->family == AF_INET ? 32 : 128));
		assert_false(p->family == AF_INET && p->addr[0] == 127);
		unsigned bits = p->family == AF_INET ? 32 : 128;
		for (unsigned b = p->len; b < bits; b++)
			assert_int_equal(p->addr[b / 8] & (0x80 >> (b % 8)), 0);
		for (size_t k = i + 1; k < env.n_local; k++)
			assert_false(!memcmp(p, &env.local[k], sizeof(*p)));
	}
	prof_free(&C.prof);
}

/* --- the crash-recovery file ------------------------------------------------ */

static char DIR_[64];

static void state_round_trip(void **state)
{
	snprintf(DIR_, sizeof(DIR_), "/tmp/pvpn-test-block.%d", (int)getpid());
	ctl_state_set_dir(DIR_);
	load("[Routing]\nIncludeAllNetworks = yes\nExcludedRoutes = 192.168.7.0/24, 2001:db8:7::/48\n");
	struct prof_env env = server_env("192.0.2.2");
	plan(&env);
	assert_int_equal(ctl_state_save_blocks("blk", POL, NPOL), 0);

	char path[256];
	struct stat st;
	snprintf(path, sizeof(path), "%s/net-%lu-blk.blocks", DIR_,
		 (unsigned long)(stat("/proc/self/ns/net", &st) == 0 ? st.st_ino : 0));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[512];
	size_t n = 0;
	while (fgets(line, sizeof(line), f)) {
		struct xfrm_policy p;
		assert_true(n < NPOL);
		assert_int_equal(ctl_state_parse_block(line, &p), 0);
		/* What the file gives back deletes the same kernel policy:
		 * selector and direction; action and priority too. */
		assert_int_equal(p.dir, POL[n].dir);
		assert_int_equal(p.action, POL[n].action);
		assert_int_equal(p.priority, POL[n].priority);
		assert_memory_equal(&p.sel, &POL[n].sel, sizeof(p.sel));
		n++;
	}
	fclose(f);
	assert_int_equal(n, NPOL);
	/* Nothing recorded: no file. */
	assert_int_equal(ctl_state_save_blocks("blk", POL, 0), 0);
	assert_int_not_equal(stat(path, &st), 0);
	ctl_state_forget_blocks("blk");
	rmdir(DIR_);
	ctl_state_set_dir(NULL);
	prof_free(&P);
}

static void state_forget_all(void **state)
{
	char dir[64], p1[256], p2[256], p3[256], other[256];
	struct stat st;
	snprintf(dir, sizeof(dir), "/tmp/pvpn-test-block-all.%d", (int)getpid());
	ctl_state_set_dir(dir);
	load("[Routing]\nIncludeAllNetworks = yes\n");
	struct prof_env env = server_env("192.0.2.2");
	plan(&env);
	assert_int_equal(ctl_state_save_blocks("one", POL, NPOL), 0);
	assert_int_equal(ctl_state_save_blocks("two", POL, NPOL), 0);
	/* The addresses/routes file of a connection is not a block file. */
	struct ctl_installed in;
	memset(&in, 0, sizeof(in));
	in.n_addrs = 1;
	in.addrs[0].ifindex = 999999;   /* no such interface: nothing real is touched */
	in.addrs[0].addr = xaddr("10.10.10.1");
	in.addrs[0].prefix_len = 32;
	assert_int_equal(ctl_state_save("one", &in), 0);
	/* Another namespace's block file stays too. */
	snprintf(other, sizeof(other), "%s/net-1-one.blocks", dir);
	FILE *f = fopen(other, "w");
	assert_non_null(f);
	fclose(f);
	unsigned long ino = stat("/proc/self/ns/net", &st) == 0 ? (unsigned long)st.st_ino : 0;
	snprintf(p1, sizeof(p1), "%s/net-%lu-one.blocks", dir, ino);
	snprintf(p2, sizeof(p2), "%s/net-%lu-two.blocks", dir, ino);
	snprintf(p3, sizeof(p3), "%s/net-%lu-one.state", dir, ino);
	assert_int_equal(stat(p1, &st), 0);
	assert_int_equal(stat(p2, &st), 0);
	ctl_state_forget_all_blocks();
	assert_int_not_equal(stat(p1, &st), 0);
	assert_int_not_equal(stat(p2, &st), 0);
	assert_int_equal(stat(p3, &st), 0);
	assert_int_equal(stat(other, &st), 0);
	/* The start-up cleanup takes every .state file of this namespace,
	 * whatever the connection's name (the address is not there: 0). */
	assert_int_equal(ctl_state_save_blocks("two", POL, NPOL), 0);
	struct xfrm_handle *h = NULL;
	struct pvpn_err e = { 0 };
	if (xfrm_open(&h, &e) < 0)
		fail_msg("xfrm_open: %s", e.msg);
	assert_int_equal(ctl_state_cleanup_all(h), 0);
	xfrm_close(h);
	assert_int_not_equal(stat(p3, &st), 0);
	assert_int_not_equal(stat(p2, &st), 0);
	assert_int_equal(stat(other, &st), 0);
	unlink(other);
	rmdir(dir);
	ctl_state_set_dir(NULL);
	prof_free(&P);
}

static void state_bad_lines(void **state)
{
	struct xfrm_policy p;
	static const char *bad[] = {
		"",
		"route 10.0.0.0 8 1 - -",
		"block sideways drop 1 0.0.0.0/0 0.0.0.0/0 0 0",
		"block out maybe 1 0.0.0.0/0 0.0.0.0/0 0 0",
		"block out drop 1 0.0.0.0/33 0.0.0.0/0 0 0",
		"block out drop 1 ::/0 0.0.0.0/0 0 0",
		"block out drop 1 0.0.0.0 0.0.0.0/0 0 0",
		"block out drop 1 0.0.0.0/0 0.0.0.0/0 300 0",
		"block out drop 1 0.0.0.0/0 0.0.0.0/0 17 70000",
		"block out drop 1 0.0.0.0/0 0.0.0.0/0x 0 0",
		"block out drop 1 999.0.0.0/0 0.0.0.0/0 0 0",
		"block out drop 1 0.0.0.0/0",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ctl_state_parse_block(bad[i], &p) != -EINVAL)
			fail_msg("accepted: '%s'", bad[i]);
	assert_int_equal(ctl_state_parse_block("block in allow 200 fe80::/10 ::/0 58 0\n", &p), 0);
	assert_int_equal(p.dir, XFRM_DIR_IN);
	assert_int_equal(p.action, XFRM_ACT_ALLOW);
	assert_int_equal(p.sel.family, AF_INET6);
	assert_int_equal(p.sel.src_len, 10);
	assert_int_equal(p.sel.proto, 58);
}


/* --- the main table's route toward an excluded network --------------------- */

static FILE *text(const char *s)
{
	FILE *f = fmemopen((void *)s, strlen(s), "r");
	assert_non_null(f);
	return f;
}

/* As this kernel prints it (x86: the network bytes read as a host u32). */
static const char ROUTE4[] =
	"Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
	"eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
	"wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
	"eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
	"eth1\t0000A8C0\t0100A8C0\t0003\t0\t0\t0\t0000FFFF\t0\t0\t0\n"
	"eth1\t0007A8C0\t00000000\t0201\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
	"bad line\n";

static void route_lookup_v4(void **state)
{
	struct ctl_route_pick pk;
	struct prof_prefix d;
	FILE *f;

	/* Nothing more specific: the default with the lowest metric. */
	d = pfx("203.0.113.0/24");
	f = text(ROUTE4);
	assert_int_equal(ctl_block_route_lookup(f, &d, &pk), 0);
	fclose(f);
	assert_string_equal(pk.ifname, "eth0");
	assert_int_equal(pk.gw.family, AF_INET);
	assert_int_equal(pk.gw.v4.s_addr, inet_addr("192.0.2.1"));
	assert_int_equal(pk.prefix_len, 0);
	/* A connected network: no gateway, its own prefix. */
	d = pfx("192.0.2.128/25");
	f = text(ROUTE4);
	assert_int_equal(ctl_block_route_lookup(f, &d, &pk), 0);
	fclose(f);
	assert_int_equal(pk.gw.family, 0);
	assert_int_equal(pk.prefix_len, 24);
	/* The longest match wins over the default. */
	d = pfx("192.168.9.0/24");
	f = text(ROUTE4);
	assert_int_equal(ctl_block_route_lookup(f, &d, &pk), 0);
	fclose(f);
	assert_string_equal(pk.ifname, "eth1");
	assert_int_equal(pk.gw.v4.s_addr, inet_addr("192.168.0.1"));
	assert_int_equal(pk.prefix_len, 16);
	/* A route that covers only part of the network does not count, and a
	 * reject route (flag 0x200) is never picked. */
	d = pfx("192.168.0.0/15");
	f = text(ROUTE4);
	assert_int_equal(ctl_block_route_lookup(f, &d, &pk), 0);
	fclose(f);
	assert_int_equal(pk.prefix_len, 0);
	d = pfx("192.168.7.0/24");
	f = text(ROUTE4);
	assert_int_equal(ctl_block_route_lookup(f, &d, &pk), 0);
	fclose(f);
	assert_int_equal(pk.prefix_len, 16);
	/* No default: nothing for an unknown network. */
	f = text("Iface\tDestination\tGateway\n"
		 "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n");
	d = pfx("203.0.113.0/24");
	assert_int_equal(ctl_block_route_lookup(f, &d, &pk), -ENOENT);
	fclose(f);
}

static const char ROUTE6[] =
	"20010db8000000000000000000000000 20 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n"
	"fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000002 00000000 00000001     eth0\n"
	"00000000000000000000000000000000 00 00000000000000000000000000000000 00 20010db8000000000000000000000001 00000400 00000003 00000000 00000003     eth0\n"
	"00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000009 00000064 00000003 00000000 00000003     wlan0\n"
	"20010db8000000000000000000000005 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001       lo\n"
	"2001zzzz000000000000000000000000 20 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n";

static void route_lookup_v6(void **state)
{
	struct ctl_route_pick pk;
	struct prof_prefix d;
	FILE *f;

	/* 2001:db8::/32, connected on eth0, covers 2001:db8:7::/48. */
	d = pfx("2001:db8:7::/48");
	f = text(ROUTE6);
	assert_int_equal(ctl_block_route_lookup(f, &d, &pk), 0);
	fclose(f);
	/* 2001:db8::/32 is connected on eth0 and covers 2001:db8:7::/48. */
	assert_string_equal(pk.ifname, "eth0");
	assert_int_equal(pk.gw.family, 0);
	assert_int_equal(pk.prefix_len, 32);
	d = pfx("2001:db9::/32");
	f = text(ROUTE6);
	assert_int_equal(ctl_block_route_lookup(f, &d, &pk), 0);
	fclose(f);
	assert_string_equal(pk.ifname, "wlan0");
	assert_int_equal(pk.gw.family, AF_INET6);
	assert_int_equal(pk.gw.v6.s6_addr[0], 0xfe);
	assert_int_equal(pk.gw.v6.s6_addr[15], 9);
	/* Local (lo, RTF_LOCAL) entries are never a way out. */
	d = pfx("2001:db8::5/128");
	f = text(ROUTE6);
	assert_int_equal(ctl_block_route_lookup(f, &d, &pk), 0);
	fclose(f);
	assert_string_equal(pk.ifname, "eth0");
	assert_int_equal(pk.prefix_len, 32);
	struct prof_prefix bad = { .family = 0 };
	assert_int_equal(ctl_block_route_lookup(stdin, &bad, &pk), -EAFNOSUPPORT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(translate_allow_server),
		cmocka_unit_test(translate_drop_in_v6),
		cmocka_unit_test(translate_proto_and_port),
		cmocka_unit_test(translate_rejects),
		cmocka_unit_test(off_means_nothing),
		cmocka_unit_test(full_set_shape),
		cmocka_unit_test(packets_while_down),
		cmocka_unit_test(packets_while_up),
		cmocka_unit_test(excluded_routes_pass),
		cmocka_unit_test(local_networks),
		cmocka_unit_test(env_from_conn),
		cmocka_unit_test(state_round_trip),
		cmocka_unit_test(state_forget_all),
		cmocka_unit_test(state_bad_lines),
		cmocka_unit_test(route_lookup_v4),
		cmocka_unit_test(route_lookup_v6),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
