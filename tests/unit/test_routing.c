/* Unit tests for policy/routing.c: traffic selectors to propose, routes,
 * bypasses and block rules for split tunnel, full tunnel, excluded routes,
 * local networks, IPv4 and IPv6. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy/profile.h"

static struct prof_profile P;
static struct prof_plan PLAN;

static void load(const char *extra)
{
	char text[2048];
	struct pvpn_err e;
	snprintf(text, sizeof(text), "[IKEv2]\nServer = vpn.example.com\nSharedSecret = s\n%s", extra);
	if (prof_parse_string("r.conf", text, strlen(text), NULL, PROF_PARSE_NO_FILES, &P, &e))
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

static struct prof_addr addr(const char *s)
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

static struct prof_ts ts_of(const char *prefix)
{
	/* Build a TS from a prefix via the proposal of a profile routing it. */
	struct prof_prefix p = pfx(prefix);
	struct prof_ts t = { .family = p.family, .port_hi = 65535 };
	size_t n = p.family == AF_INET ? 4 : 16;
	memcpy(t.start, p.addr, n);
	memcpy(t.end, p.addr, n);
	for (size_t i = 0; i < n * 8; i++)
		if (i >= p.len)
			t.end[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	return t;
}

static struct prof_ts ts_range(const char *a, const char *b)
{
	struct prof_addr x = addr(a), y = addr(b);
	struct prof_ts t = { .family = x.family, .port_hi = 65535 };
	memcpy(t.start, x.addr, 16);
	memcpy(t.end, y.addr, 16);
	return t;
}

/* Find a route by kind and prefix text; returns it or NULL. */
static const struct prof_route *route(enum prof_route_kind kind, const char *prefix)
{
	struct prof_prefix want = pfx(prefix);
	for (size_t i = 0; i < PLAN.n_routes; i++)
		if (PLAN.routes[i].kind == kind && PLAN.routes[i].dst.family == want.family &&
		    PLAN.routes[i].dst.len == want.len &&
		    memcmp(PLAN.routes[i].dst.addr, want.addr, 16) == 0)
			return &PLAN.routes[i];
	return NULL;
}

static size_t count_routes(enum prof_route_kind kind)
{
	size_t n = 0;
	for (size_t i = 0; i < PLAN.n_routes; i++)
		n += PLAN.routes[i].kind == kind;
	return n;
}

static const struct prof_block_rule *block(enum prof_block_dir dir, enum prof_block_action act,
					   const char *peer, uint8_t proto)
{
	struct prof_prefix want = pfx(peer);
	for (size_t i = 0; i < PLAN.n_blocks; i++) {
		const struct prof_block_rule *r = &PLAN.blocks[i];
		const struct prof_prefix *p = dir == PROF_DIR_OUT ? &r->dst : &r->src;
		const struct prof_prefix *other = dir == PROF_DIR_OUT ? &r->src : &r->dst;
		if (r->dir == dir && r->action == act && r->proto == proto && p->family == want.family &&
		    p->len == want.len && memcmp(p->addr, want.addr, 16) == 0 && other->len == 0)
			return r;
	}
	return NULL;
}

static void ts_to_prefixes(void **state)
{
	struct prof_prefix out[64];
	size_t n;
	char s[64];
	struct prof_ts t = ts_range("10.0.0.1", "10.0.0.6");
	assert_int_equal(prof_ts_to_prefixes(&t, out, 64, &n), 0);
	assert_int_equal(n, 4);
	static const char *want[] = { "10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32" };
	for (size_t i = 0; i < 4; i++) {
		prof_prefix_str(&out[i], s, sizeof(s));
		assert_string_equal(s, want[i]);
	}
	t = ts_range("0.0.0.0", "255.255.255.255");
	assert_int_equal(prof_ts_to_prefixes(&t, out, 64, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].len, 0);
	/* Up to the top address: no wrap-around. */
	t = ts_range("0.0.0.0", "255.255.255.254");
	assert_int_equal(prof_ts_to_prefixes(&t, out, 64, &n), 0);
	assert_int_equal(n, 32);
	prof_prefix_str(&out[31], s, sizeof(s));
	assert_string_equal(s, "255.255.255.254/32");
	t = ts_range("255.255.255.255", "255.255.255.255");
	assert_int_equal(prof_ts_to_prefixes(&t, out, 64, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].len, 32);
	t = ts_range("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_int_equal(prof_ts_to_prefixes(&t, out, 64, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].len, 0);
	t = ts_range("2001:db8::", "2001:db8::1:0");
	assert_int_equal(prof_ts_to_prefixes(&t, out, 64, &n), 0);
	assert_int_equal(n, 2);
	prof_prefix_str(&out[0], s, sizeof(s));
	assert_string_equal(s, "2001:db8::/112");
	prof_prefix_str(&out[1], s, sizeof(s));
	assert_string_equal(s, "2001:db8::1:0/128");
	/* Empty range, and too small an output. */
	t = ts_range("10.0.0.9", "10.0.0.1");
	assert_int_equal(prof_ts_to_prefixes(&t, out, 64, &n), 0);
	assert_int_equal(n, 0);
	t = ts_range("10.0.0.1", "10.0.0.6");
	assert_int_equal(prof_ts_to_prefixes(&t, out, 2, &n), -ENOSPC);
}

static void proposal_split_and_full(void **state)
{
	struct prof_ts_proposal tp;
	struct pvpn_err e;
	load("[Routing]\nIncludedRoutes = 10.0.0.0/8, fd00::/8\n");
	assert_int_equal(prof_route_proposal(&P, &tp, &e), 0);
	assert_int_equal(tp.n_tsr, 2);
	struct prof_ts want = ts_of("10.0.0.0/8");
	assert_memory_equal(tp.tsr[0].start, want.start, 4);
	assert_memory_equal(tp.tsr[0].end, want.end, 4);
	assert_int_equal(tp.tsr[0].port_hi, 65535);
	assert_int_equal(tp.tsr[1].family, AF_INET6);
	/* TSi: any of each family (narrowed to the virtual IPs). */
	assert_int_equal(tp.n_tsi, 2);
	assert_int_equal(tp.tsi[0].family, AF_INET);
	want = ts_of("0.0.0.0/0");
	assert_memory_equal(tp.tsi[0].end, want.end, 4);
	prof_free(&P);

	/* Only IPv4 wanted: only an IPv4 TSi. */
	load("[Routing]\nIncludedRoutes = 192.168.0.0/16\n");
	assert_int_equal(prof_route_proposal(&P, &tp, &e), 0);
	assert_int_equal(tp.n_tsr, 1);
	assert_int_equal(tp.n_tsi, 1);
	assert_int_equal(tp.tsi[0].family, AF_INET);
	prof_free(&P);

	/* Full tunnel and "server decides" both ask for everything. */
	const char *cfg[] = { "[Routing]\nIncludeAllNetworks = yes\n", "" };
	for (int i = 0; i < 2; i++) {
		load(cfg[i]);
		assert_int_equal(prof_route_proposal(&P, &tp, &e), 0);
		assert_int_equal(tp.n_tsr, 2);
		assert_int_equal(tp.tsr[0].family, AF_INET);
		assert_int_equal(tp.tsr[1].family, AF_INET6);
		struct prof_ts all6 = ts_of("::/0");
		assert_memory_equal(tp.tsr[1].start, all6.start, 16);
		assert_memory_equal(tp.tsr[1].end, all6.end, 16);
		assert_int_equal(tp.n_tsi, 2);
		prof_free(&P);
	}
}

static void split_tunnel_ipv4(void **state)
{
	struct prof_env env = { .server = addr("203.0.113.1") };
	struct prof_assigned as = { .vip4 = addr("10.3.0.5"), .n_tsr = 1 };
	as.tsr[0] = ts_of("0.0.0.0/0");
	struct pvpn_err e;
	load("[Routing]\nIncludedRoutes = 10.0.0.0/8, 192.168.50.0/24\nExcludedRoutes = 10.99.0.0/16\n");
	assert_int_equal(prof_route_plan(&P, &env, &as, &PLAN, &e), 0);
	const struct prof_route *r = route(PROF_ROUTE_TUNNEL, "10.0.0.0/8");
	assert_non_null(r);
	assert_int_equal(r->src.family, AF_INET);
	assert_memory_equal(r->src.addr, as.vip4.addr, 4);
	assert_non_null(route(PROF_ROUTE_TUNNEL, "192.168.50.0/24"));
	assert_int_equal(count_routes(PROF_ROUTE_TUNNEL), 2);
	assert_non_null(route(PROF_ROUTE_BYPASS, "10.99.0.0/16"));
	assert_non_null(route(PROF_ROUTE_BYPASS, "203.0.113.1/32"));
	assert_int_equal(count_routes(PROF_ROUTE_BYPASS), 2);
	/* Not IncludeAllNetworks: no block rules. */
	assert_int_equal(PLAN.n_blocks, 0);

	/* A route naming exactly the server does not capture it. */
	prof_free(&P);
	load("[Routing]\nIncludedRoutes = 203.0.113.1/32, 10.0.0.0/8\n");
	assert_int_equal(prof_route_plan(&P, &env, &as, &PLAN, &e), 0);
	assert_null(route(PROF_ROUTE_TUNNEL, "203.0.113.1/32"));
	assert_non_null(route(PROF_ROUTE_BYPASS, "203.0.113.1/32"));
	assert_non_null(route(PROF_ROUTE_TUNNEL, "10.0.0.0/8"));
	prof_free(&P);
	load("[Routing]\nIncludedRoutes = 10.0.0.0/8, 192.168.50.0/24\nExcludedRoutes = 10.99.0.0/16\n");

	/* The server narrowed TSr to 10.0.0.0/16: only that is routed. */
	as.tsr[0] = ts_of("10.0.0.0/16");
	assert_int_equal(prof_route_plan(&P, &env, &as, &PLAN, &e), 0);
	assert_non_null(route(PROF_ROUTE_TUNNEL, "10.0.0.0/16"));
	assert_null(route(PROF_ROUTE_TUNNEL, "10.0.0.0/8"));
	assert_null(route(PROF_ROUTE_TUNNEL, "192.168.50.0/24"));
	assert_int_equal(count_routes(PROF_ROUTE_TUNNEL), 1);
	prof_free(&P);
}

static void server_decides_and_internal_subnet(void **state)
{
	struct prof_env env = { .server = addr("198.51.100.7") };
	struct prof_assigned as = { .vip4 = addr("10.9.0.2"), .n_tsr = 2 };
	as.tsr[0] = ts_of("172.16.0.0/12");
	as.tsr[1] = ts_range("10.1.0.0", "10.1.0.255");
	struct pvpn_err e;
	load("");
	assert_int_equal(prof_route_plan(&P, &env, &as, &PLAN, &e), 0);
	assert_non_null(route(PROF_ROUTE_TUNNEL, "172.16.0.0/12"));
	assert_non_null(route(PROF_ROUTE_TUNNEL, "10.1.0.0/24"));
	assert_int_equal(count_routes(PROF_ROUTE_TUNNEL), 2);
	prof_free(&P);

	/* Server accepts everything but says its networks are 10.8.0.0/16:
	 * with UseConfigurationAttributeInternalIPSubnet only that is routed. */
	as.n_tsr = 1;
	as.tsr[0] = ts_of("0.0.0.0/0");
	as.n_subnets = 1;
	as.subnets[0] = pfx("10.8.0.0/16");
	load("UseConfigurationAttributeInternalIPSubnet = yes\n");
	assert_int_equal(prof_route_plan(&P, &env, &as, &PLAN, &e), 0);
	assert_non_null(route(PROF_ROUTE_TUNNEL, "10.8.0.0/16"));
	assert_int_equal(count_routes(PROF_ROUTE_TUNNEL), 1);
	prof_free(&P);
	load("UseConfigurationAttributeInternalIPSubnet = no\n");
	assert_int_equal(prof_route_plan(&P, &env, &as, &PLAN, &e), 0);
	assert_non_null(route(PROF_ROUTE_TUNNEL, "0.0.0.0/0"));
	assert_null(route(PROF_ROUTE_TUNNEL, "10.8.0.0/16"));
	prof_free(&P);

	/* No TSr at all: an error, not an empty plan. */
	as.n_tsr = 0;
	load("");
	assert_int_equal(prof_route_plan(&P, &env, &as, &PLAN, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "accepted no traffic selectors"));
	prof_free(&P);
}

static void excluded_wins_over_narrower_tunnel_route(void **state)
{
	struct prof_env env = { .server = addr("198.51.100.7") };
	struct prof_assigned as = { .vip4 = addr("10.9.0.2"), .n_tsr = 2 };
	as.tsr[0] = ts_of("10.1.2.0/24");
	as.tsr[1] = ts_of("10.2.0.0/16");
	struct pvpn_err e;
	load("[Routing]\nExcludedRoutes = 10.1.0.0/16, 10.2.3.0/24\n");
	assert_int_equal(prof_route_plan(&P, &env, &as, &PLAN, &e), 0);
	/* 10.1.2.0/24 lies inside an exclusion: not tunnelled. */
	assert_null(route(PROF_ROUTE_TUNNEL, "10.1.2.0/24"));
	/* 10.2.0.0/16 is tunnelled; the more specific bypass carves out 10.2.3/24. */
	assert_non_null(route(PROF_ROUTE_TUNNEL, "10.2.0.0/16"));
	assert_non_null(route(PROF_ROUTE_BYPASS, "10.2.3.0/24"));
	assert_non_null(route(PROF_ROUTE_BYPASS, "10.1.0.0/16"));
	prof_free(&P);
}

static void full_tunnel_local_networks(void **state)
{
	struct prof_env env = { .server = addr("203.0.113.1"), .n_local = 3 };
	env.local[0] = pfx("192.168.1.0/24");
	env.local[1] = pfx("fe80::/64");
	env.local[2] = pfx("2001:db8:aa::/64");
	struct prof_assigned as = { .vip4 = addr("10.3.0.5"), .vip6 = addr("fd00:3::5"), .n_tsr = 2 };
	as.tsr[0] = ts_of("0.0.0.0/0");
	as.tsr[1] = ts_of("::/0");
	struct pvpn_err e;
	load("[Routing]\nIncludeAllNetworks = yes\nExcludeLocalNetworks = yes\n");
	assert_int_equal(prof_route_plan(&P, &env, &as, &PLAN, &e), 0);
	const struct prof_route *r4 = route(PROF_ROUTE_TUNNEL, "0.0.0.0/0");
	const struct prof_route *r6 = route(PROF_ROUTE_TUNNEL, "::/0");
	assert_non_null(r4);
	assert_non_null(r6);
	assert_memory_equal(r4->src.addr, as.vip4.addr, 4);
	assert_memory_equal(r6->src.addr, as.vip6.addr, 16);
	assert_non_null(route(PROF_ROUTE_BYPASS, "192.168.1.0/24"));
	assert_non_null(route(PROF_ROUTE_BYPASS, "fe80::/64"));
	assert_non_null(route(PROF_ROUTE_BYPASS, "2001:db8:aa::/64"));
	assert_non_null(route(PROF_ROUTE_BYPASS, "203.0.113.1/32"));
	/* RFC 1918 space that is not connected is NOT assumed local. */
	assert_null(route(PROF_ROUTE_BYPASS, "10.0.0.0/8"));
	assert_null(route(PROF_ROUTE_BYPASS, "172.16.0.0/12"));
	assert_int_equal(count_routes(PROF_ROUTE_BYPASS), 4);

	/* Block rules: the server allowed first, locals allowed, the rest
	 * dropped in both directions and both families. */
	const struct prof_block_rule *b = block(PROF_DIR_OUT, PROF_BLOCK_ALLOW, "203.0.113.1/32", 0);
	assert_non_null(b);
	assert_int_equal(b->priority, PROF_PRIO_ALLOW_IKE);
	assert_non_null(block(PROF_DIR_IN, PROF_BLOCK_ALLOW, "203.0.113.1/32", 0));
	b = block(PROF_DIR_OUT, PROF_BLOCK_ALLOW, "192.168.1.0/24", 0);
	assert_non_null(b);
	assert_int_equal(b->priority, PROF_PRIO_ALLOW_BYPASS);
	assert_non_null(block(PROF_DIR_OUT, PROF_BLOCK_ALLOW, "2001:db8:aa::/64", 0));
	assert_non_null(block(PROF_DIR_OUT, PROF_BLOCK_ALLOW, "127.0.0.0/8", 0));
	assert_non_null(block(PROF_DIR_OUT, PROF_BLOCK_ALLOW, "::1/128", 0));
	assert_non_null(block(PROF_DIR_OUT, PROF_BLOCK_ALLOW, "fe80::/10", 58));
	assert_non_null(block(PROF_DIR_OUT, PROF_BLOCK_ALLOW, "ff02::/16", 58));
	assert_null(block(PROF_DIR_OUT, PROF_BLOCK_ALLOW, "10.0.0.0/8", 0));
	b = block(PROF_DIR_OUT, PROF_BLOCK_DROP, "0.0.0.0/0", 0);
	assert_non_null(b);
	assert_int_equal(b->priority, PROF_PRIO_BLOCK);
	assert_non_null(block(PROF_DIR_IN, PROF_BLOCK_DROP, "0.0.0.0/0", 0));
	assert_non_null(block(PROF_DIR_OUT, PROF_BLOCK_DROP, "::/0", 0));
	assert_non_null(block(PROF_DIR_IN, PROF_BLOCK_DROP, "::/0", 0));
	/* Priorities order allows before the tunnel before the drop. */
	assert_true(PROF_PRIO_ALLOW_IKE < PROF_PRIO_ALLOW_BYPASS);
	assert_true(PROF_PRIO_ALLOW_BYPASS < PROF_PRIO_TUNNEL);
	assert_true(PROF_PRIO_TUNNEL < PROF_PRIO_BLOCK);

	/* While connecting: the same block rules alone. */
	struct prof_plan down;
	assert_int_equal(prof_route_blocks(&P, &env, &down, &e), 0);
	assert_int_equal(down.n_blocks, PLAN.n_blocks);
	assert_int_equal(down.n_routes, 0);
	prof_free(&P);

	/* Without ExcludeLocalNetworks the LAN goes through the tunnel too. */
	load("[Routing]\nIncludeAllNetworks = yes\n");
	assert_int_equal(prof_route_plan(&P, &env, &as, &PLAN, &e), 0);
	assert_null(route(PROF_ROUTE_BYPASS, "192.168.1.0/24"));
	assert_null(block(PROF_DIR_OUT, PROF_BLOCK_ALLOW, "192.168.1.0/24", 0));
	assert_non_null(route(PROF_ROUTE_BYPASS, "203.0.113.1/32"));
	assert_int_equal(count_routes(PROF_ROUTE_BYPASS), 1);
	prof_free(&P);

	/* Split tunnel: no block rules while down either. */
	load("[Routing]\nIncludedRoutes = 10.0.0.0/8\n");
	assert_int_equal(prof_route_blocks(&P, &env, &down, &e), 0);
	assert_int_equal(down.n_blocks, 0);
	prof_free(&P);
}

static void full_tunnel_without_ipv6_address_blocks_ipv6(void **state)
{
	struct prof_env env = { .server = addr("203.0.113.1") };
	struct prof_assigned as = { .vip4 = addr("10.3.0.5"), .n_tsr = 2 };
	as.tsr[0] = ts_of("0.0.0.0/0");
	as.tsr[1] = ts_of("::/0");
	struct pvpn_err e;
	load("[Routing]\nIncludeAllNetworks = yes\nExcludedRoutes = 198.51.100.0/24\n");
	assert_int_equal(prof_route_plan(&P, &env, &as, &PLAN, &e), 0);
	assert_non_null(route(PROF_ROUTE_TUNNEL, "0.0.0.0/0"));
	/* No IPv6 address from the server: no IPv6 tunnel route... */
	assert_null(route(PROF_ROUTE_TUNNEL, "::/0"));
	/* ...and IPv6 is dropped rather than leaked. */
	assert_non_null(block(PROF_DIR_OUT, PROF_BLOCK_DROP, "::/0", 0));
	/* ExcludedRoutes stay reachable with IncludeAllNetworks. */
	assert_non_null(route(PROF_ROUTE_BYPASS, "198.51.100.0/24"));
	assert_non_null(block(PROF_DIR_OUT, PROF_BLOCK_ALLOW, "198.51.100.0/24", 0));
	prof_free(&P);
}

static void ipv6_split_tunnel(void **state)
{
	struct prof_env env = { .server = addr("2001:db8:ff::1"), .n_local = 1 };
	env.local[0] = pfx("2001:db8:1:5::/64");
	struct prof_assigned as = { .vip6 = addr("2001:db8:1:ffff::9"), .n_tsr = 1 };
	as.tsr[0] = ts_of("::/0");
	struct pvpn_err e;
	load("[Routing]\nIncludedRoutes = 2001:db8:1::/48, 10.0.0.0/8\nExcludeLocalNetworks = yes\n");
	assert_int_equal(prof_route_plan(&P, &env, &as, &PLAN, &e), 0);
	const struct prof_route *r = route(PROF_ROUTE_TUNNEL, "2001:db8:1::/48");
	assert_non_null(r);
	assert_int_equal(r->src.family, AF_INET6);
	assert_memory_equal(r->src.addr, as.vip6.addr, 16);
	/* IPv4 wanted but not accepted by the server (TSr is IPv6 only). */
	assert_null(route(PROF_ROUTE_TUNNEL, "10.0.0.0/8"));
	/* The connected /64 overlaps the tunnelled /48: it stays local. */
	assert_non_null(route(PROF_ROUTE_BYPASS, "2001:db8:1:5::/64"));
	assert_non_null(route(PROF_ROUTE_BYPASS, "2001:db8:ff::1/128"));
	prof_free(&P);

	/* A local network the tunnel does not touch needs no bypass. */
	env.local[0] = pfx("2001:db8:77::/64");
	load("[Routing]\nIncludedRoutes = 2001:db8:1::/48\nExcludeLocalNetworks = yes\n");
	assert_int_equal(prof_route_plan(&P, &env, &as, &PLAN, &e), 0);
	assert_null(route(PROF_ROUTE_BYPASS, "2001:db8:77::/64"));
	prof_free(&P);
}

static void no_virtual_ip(void **state)
{
	/* Without any virtual IP (no CP from the server), our own addresses
	 * are the TSi: routes have no preferred source, every family goes. */
	struct prof_env env = { .server = addr("203.0.113.1") };
	struct prof_assigned as = { .n_tsr = 2 };
	as.tsr[0] = ts_of("10.0.0.0/8");
	as.tsr[1] = ts_of("fd00::/8");
	struct pvpn_err e;
	load("");
	assert_int_equal(prof_route_plan(&P, &env, &as, &PLAN, &e), 0);
	const struct prof_route *r = route(PROF_ROUTE_TUNNEL, "10.0.0.0/8");
	assert_non_null(r);
	assert_int_equal(r->src.family, 0);
	assert_non_null(route(PROF_ROUTE_TUNNEL, "fd00::/8"));
	prof_free(&P);
}

static void dns_decisions(void **state)
{
	struct prof_env env = { .server = addr("203.0.113.1") };
	struct prof_assigned as = { .vip4 = addr("10.3.0.5"), .n_tsr = 1, .n_dns = 2, .n_domains = 2 };
	as.tsr[0] = ts_of("0.0.0.0/0");
	as.dns[0] = addr("10.3.0.1");
	as.dns[1] = addr("fd00::53");
	strcpy(as.domains[0], "corp.example.com");
	memset(as.domains[1], 'x', PROF_DOMAIN_MAX);   /* not terminated: ignored */
	struct pvpn_err e;
	load("");
	assert_int_equal(prof_route_plan(&P, &env, &as, &PLAN, &e), 0);
	assert_int_equal(PLAN.n_dns, 2);
	assert_memory_equal(PLAN.dns[0].addr, as.dns[0].addr, 4);
	assert_int_equal(PLAN.n_domains, 1);
	assert_string_equal(PLAN.domains[0], "corp.example.com");
	prof_free(&P);
	/* The profile's servers override; its domains come first, merged. */
	load("[DNS]\nServers = 192.0.2.53\nSearchDomains = example.net, corp.example.com\nMatchDomains = lab.example\n");
	assert_int_equal(prof_route_plan(&P, &env, &as, &PLAN, &e), 0);
	assert_int_equal(PLAN.n_dns, 1);
	assert_memory_equal(PLAN.dns[0].addr, "\xc0\x00\x02\x35", 4);
	assert_int_equal(PLAN.n_domains, 3);
	assert_string_equal(PLAN.domains[0], "example.net");
	assert_string_equal(PLAN.domains[1], "corp.example.com");
	assert_string_equal(PLAN.domains[2], "lab.example");
	prof_free(&P);
	load("[DNS]\nMode = off\n");
	assert_int_equal(prof_route_plan(&P, &env, &as, &PLAN, &e), 0);
	assert_int_equal(PLAN.n_dns, 0);
	assert_int_equal(PLAN.n_domains, 0);
	prof_free(&P);
}

/* Counts from the daemon larger than the arrays, and selectors of an
 * unknown family, are bounded and skipped, not read past. */
static void untrusted_counts(void **state)
{
	static struct prof_env env;
	static struct prof_assigned as;
	memset(&env, 0, sizeof(env));
	memset(&as, 0, sizeof(as));
	env.server = addr("203.0.113.1");
	env.n_local = 100000;
	as.vip4 = addr("10.0.0.2");
	as.n_tsr = 100000;
	as.n_subnets = 100000;
	as.n_dns = 100000;
	as.n_domains = 100000;
	as.tsr[0] = ts_of("10.0.0.0/8");
	as.tsr[1].family = 77;
	struct pvpn_err e;
	load("[Routing]\nExcludeLocalNetworks = yes\n");
	assert_int_equal(prof_route_plan(&P, &env, &as, &PLAN, &e), 0);
	assert_non_null(route(PROF_ROUTE_TUNNEL, "10.0.0.0/8"));
	assert_int_equal(count_routes(PROF_ROUTE_TUNNEL), 1);
	assert_true(PLAN.n_dns <= PROF_MAX_DNS);
	prof_free(&P);
	/* Many exclusions and local networks still fit the block rules. */
	load("[Routing]\nIncludeAllNetworks = yes\nExcludeLocalNetworks = yes\n");
	P.n_excluded = PROF_MAX_ROUTES;
	for (size_t i = 0; i < PROF_MAX_ROUTES; i++) {
		char s[32];
		snprintf(s, sizeof(s), "198.18.%zu.0/24", i);
		P.excluded[i] = pfx(s);
	}
	env.n_local = PROF_MAX_ROUTES;
	for (size_t i = 0; i < PROF_MAX_ROUTES; i++) {
		char s[32];
		snprintf(s, sizeof(s), "192.168.%zu.0/24", i);
		env.local[i] = pfx(s);
	}
	assert_int_equal(prof_route_blocks(&P, &env, &PLAN, &e), 0);
	assert_int_equal(PLAN.n_blocks, 2 * (1 + 2 + 2 + 2 * PROF_MAX_ROUTES + 2));
	prof_free(&P);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ts_to_prefixes),
		cmocka_unit_test(proposal_split_and_full),
		cmocka_unit_test(split_tunnel_ipv4),
		cmocka_unit_test(server_decides_and_internal_subnet),
		cmocka_unit_test(excluded_wins_over_narrower_tunnel_route),
		cmocka_unit_test(full_tunnel_local_networks),
		cmocka_unit_test(full_tunnel_without_ipv6_address_blocks_ipv6),
		cmocka_unit_test(ipv6_split_tunnel),
		cmocka_unit_test(no_virtual_ip),
		cmocka_unit_test(dns_decisions),
		cmocka_unit_test(untrusted_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
