/* routing.c — routing decisions as pure functions: from a profile, what
 * the server assigned, and what the host looks like, decide the traffic
 * selectors to propose, the routes to install, the bypasses, and the block
 * rules of IncludeAllNetworks.  No netlink here: ctl/ turns the plain
 * structs into kernel-xfrm requests.
 *
 * The model the daemon is expected to follow:
 * - TUNNEL routes go in a table consulted before "main" (an ip rule), so
 *   a connected route in main does not silently win over the tunnel; that
 *   is why every exception is an explicit BYPASS route.
 * - Block rules are XFRM-style policies: lower priority numbers win.  The
 *   tunnel's own policies sit at PROF_PRIO_TUNNEL, between the allows
 *   (IKE, bypasses) and the final drop. */
#include "policy/profile.h"
#include "policy/internal.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

/* ------------------------------------------------- 128-bit arithmetic */

static int cmp_addr(const uint8_t *a, const uint8_t *b, size_t n)
{
	return memcmp(a, b, n);
}

static void prefix_to_range(const struct prof_prefix *pf, struct prof_ts *ts)
{
	size_t n = prof_af_len(pf->family);
	memset(ts, 0, sizeof(*ts));
	ts->family = pf->family;
	ts->port_lo = 0;
	ts->port_hi = 65535;
	memcpy(ts->start, pf->addr, n);
	memcpy(ts->end, pf->addr, n);
	for (size_t i = 0; i < n; i++) {
		unsigned bit0 = (unsigned)i * 8;
		if (bit0 >= pf->len)
			ts->end[i] = 0xff;
		else if (bit0 + 8 > pf->len)
			ts->end[i] |= (uint8_t)(0xff >> (pf->len - bit0));
	}
}

/* Whether the low `host` bits of a are zero and a | mask(host) <= end. */
static bool block_fits(const uint8_t *a, const uint8_t *end, size_t n, unsigned host)
{
	uint8_t top[16];
	memcpy(top, a, n);
	for (unsigned b = 0; b < host; b++) {
		size_t byte = n - 1 - b / 8;
		uint8_t bit = (uint8_t)(1u << (b % 8));
		if (a[byte] & bit)
			return false;
		top[byte] |= bit;
	}
	return cmp_addr(top, end, n) <= 0;
}

/* a += 2^host; returns false on wrap-around past the top address. */
static bool add_block(uint8_t *a, size_t n, unsigned host)
{
	size_t byte = n - 1 - host / 8;
	unsigned carry = 1u << (host % 8);
	for (size_t i = byte + 1; i-- > 0;) {
		unsigned v = a[i] + carry;
		a[i] = (uint8_t)v;
		carry = v >> 8;
		if (!carry)
			return true;
	}
	return false;
}

int prof_ts_to_prefixes(const struct prof_ts *ts, struct prof_prefix *out, size_t max, size_t *n_out)
{
	size_t n = prof_af_len(ts->family);
	unsigned bits = (unsigned)n * 8;
	*n_out = 0;
	if (!n)
		return -EAFNOSUPPORT;
	if (cmp_addr(ts->start, ts->end, n) > 0)
		return 0;
	uint8_t cur[16];
	memcpy(cur, ts->start, n);
	size_t k = 0;
	while (1) {
		unsigned host = bits;
		while (host > 0 && !block_fits(cur, ts->end, n, host))
			host--;
		if (k >= max)
			return -ENOSPC;
		memset(&out[k], 0, sizeof(out[k]));
		out[k].family = ts->family;
		out[k].len = (uint8_t)(bits - host);
		memcpy(out[k].addr, cur, n);
		k++;
		/* Stop when this block ended at `end` (or at the top). */
		uint8_t last[16];
		memcpy(last, cur, n);
		for (unsigned b = 0; b < host; b++)
			last[n - 1 - b / 8] |= (uint8_t)(1u << (b % 8));
		if (cmp_addr(last, ts->end, n) >= 0)
			break;
		if (host == bits || !add_block(cur, n, host))
			break;
	}
	*n_out = k;
	return 0;
}

static bool intersect(const struct prof_ts *a, const struct prof_ts *b, struct prof_ts *out)
{
	if (a->family != b->family)
		return false;
	size_t n = prof_af_len(a->family);
	*out = *a;
	memcpy(out->start, cmp_addr(a->start, b->start, n) >= 0 ? a->start : b->start, n);
	memcpy(out->end, cmp_addr(a->end, b->end, n) <= 0 ? a->end : b->end, n);
	return cmp_addr(out->start, out->end, n) <= 0;
}

static void any_prefix(struct prof_prefix *pf, int family)
{
	memset(pf, 0, sizeof(*pf));
	pf->family = (uint8_t)family;
}

static void host_prefix(struct prof_prefix *pf, const struct prof_addr *a)
{
	memset(pf, 0, sizeof(*pf));
	pf->family = a->family;
	pf->len = a->family == AF_INET ? 32 : 128;
	memcpy(pf->addr, a->addr, prof_af_len(a->family));
}

/* ---------------------------------------------------- TS to propose */

static int push_ts(struct prof_ts *v, size_t *n, const struct prof_prefix *pf)
{
	if (*n >= PROF_MAX_TS)
		return -ENOSPC;
	prefix_to_range(pf, &v[(*n)++]);
	return 0;
}

int prof_route_proposal(const struct prof_profile *p, struct prof_ts_proposal *out, struct pvpn_err *err)
{
	memset(out, 0, sizeof(*out));
	bool fam4 = false, fam6 = false;
	struct prof_prefix any;
	int rc = 0;
	if (p->n_included && !p->include_all_networks) {
		/* TSr = IncludedRoutes: ask for exactly the networks the user
		 * wants (RFC 7296 §2.9). */
		for (size_t i = 0; i < p->n_included && !rc; i++) {
			rc = push_ts(out->tsr, &out->n_tsr, &p->included[i]);
			fam4 |= p->included[i].family == AF_INET;
			fam6 |= p->included[i].family == AF_INET6;
		}
	} else {
		/* IncludeAllNetworks, or no routes given: ask for everything of
		 * both families; without IncludeAllNetworks the responder narrows
		 * TSr to what it offers and we route only that (§2.9 narrowing). */
		fam4 = fam6 = true;
		any_prefix(&any, AF_INET);
		rc = push_ts(out->tsr, &out->n_tsr, &any);
		any_prefix(&any, AF_INET6);
		if (!rc)
			rc = push_ts(out->tsr, &out->n_tsr, &any);
	}
	/* TSi: any address of each family; with a CFG_REQUEST the responder
	 * narrows it to the virtual IP it assigns (RFC 7296 §2.9, §3.15.1). */
	if (!rc && fam4) {
		any_prefix(&any, AF_INET);
		rc = push_ts(out->tsi, &out->n_tsi, &any);
	}
	if (!rc && fam6) {
		any_prefix(&any, AF_INET6);
		rc = push_ts(out->tsi, &out->n_tsi, &any);
	}
	if (rc)
		return err_set(err, rc, "too many traffic selectors (at most %d)", PROF_MAX_TS);
	return 0;
}

/* ----------------------------------------------------------- blocks */

static int push_block(struct prof_plan *out, enum prof_block_dir dir, enum prof_block_action act,
		      uint32_t prio, const struct prof_prefix *peer, uint8_t proto)
{
	/* Two rules per selector: OUT matches the destination, IN the source. */
	if (out->n_blocks >= PROF_MAX_PLAN)
		return -ENOSPC;
	struct prof_block_rule *r = &out->blocks[out->n_blocks++];
	memset(r, 0, sizeof(*r));
	r->dir = dir;
	r->action = act;
	r->priority = prio;
	r->proto = proto;
	any_prefix(&r->src, peer->family);
	any_prefix(&r->dst, peer->family);
	if (dir == PROF_DIR_OUT)
		r->dst = *peer;
	else
		r->src = *peer;
	return 0;
}

static int push_both(struct prof_plan *out, enum prof_block_action act, uint32_t prio,
		     const struct prof_prefix *peer, uint8_t proto)
{
	int rc = push_block(out, PROF_DIR_OUT, act, prio, peer, proto);
	return rc ? rc : push_block(out, PROF_DIR_IN, act, prio, peer, proto);
}

int prof_route_blocks(const struct prof_profile *p, const struct prof_env *env, struct prof_plan *out,
		      struct pvpn_err *err)
{
	out->n_blocks = 0;
	memset(out->blocks, 0, sizeof(out->blocks));
	if (!p->include_all_networks)
		return 0;
	struct prof_prefix pf;
	int rc = 0;
	/* 1. The server: IKE (and, with NAT-T, ESP-in-UDP) must reach it
	 *    while nothing else may; the whole address is allowed since the
	 *    server is always outside the tunnel. */
	if (env && env->server.family) {
		host_prefix(&pf, &env->server);
		rc = push_both(out, PROF_BLOCK_ALLOW, PROF_PRIO_ALLOW_IKE, &pf, 0);
	}
	/* 2. Loopback never leaves the host. */
	if (!rc) {
		struct prof_addr lo = { .family = AF_INET, .addr = { 127 } };
		host_prefix(&pf, &lo);
		pf.len = 8;
		rc = push_both(out, PROF_BLOCK_ALLOW, PROF_PRIO_ALLOW_BYPASS, &pf, 0);
	}
	if (!rc) {
		struct prof_addr lo6 = { .family = AF_INET6, .addr = { [15] = 1 } };
		host_prefix(&pf, &lo6);
		rc = push_both(out, PROF_BLOCK_ALLOW, PROF_PRIO_ALLOW_BYPASS, &pf, 0);
	}
	/* 3. IPv6 neighbour discovery (ICMPv6 to link-local and link-scope
	 *    multicast, RFC 4861) cannot leave the link, and without it an
	 *    IPv6 server is unreachable.  Only ICMPv6, so no application
	 *    traffic to link-local peers leaks. */
	if (!rc) {
		struct prof_addr ll = { .family = AF_INET6, .addr = { 0xfe, 0x80 } };
		host_prefix(&pf, &ll);
		pf.len = 10;
		rc = push_both(out, PROF_BLOCK_ALLOW, PROF_PRIO_ALLOW_BYPASS, &pf, 58);
	}
	if (!rc) {
		struct prof_addr mc = { .family = AF_INET6, .addr = { 0xff, 0x02 } };
		host_prefix(&pf, &mc);
		pf.len = 16;
		rc = push_both(out, PROF_BLOCK_ALLOW, PROF_PRIO_ALLOW_BYPASS, &pf, 58);
	}
	/* 4. ExcludedRoutes are outside the tunnel by the user's choice. */
	for (size_t i = 0; !rc && i < p->n_excluded; i++)
		rc = push_both(out, PROF_BLOCK_ALLOW, PROF_PRIO_ALLOW_BYPASS, &p->excluded[i], 0);
	/* 5. ExcludeLocalNetworks: the connected prefixes the daemon saw —
	 *    nothing is assumed local (not RFC 1918, not 169.254/16) unless
	 *    an interface is on it. */
	for (size_t i = 0; !rc && env && p->exclude_local_networks && i < env->n_local && i < PROF_MAX_ROUTES; i++)
		rc = push_both(out, PROF_BLOCK_ALLOW, PROF_PRIO_ALLOW_BYPASS, &env->local[i], 0);
	/* 6. Everything else of both families is dropped, so nothing leaks
	 *    while connecting, reconnecting, or when the server gave no
	 *    address of a family. */
	if (!rc) {
		any_prefix(&pf, AF_INET);
		rc = push_both(out, PROF_BLOCK_DROP, PROF_PRIO_BLOCK, &pf, 0);
	}
	if (!rc) {
		any_prefix(&pf, AF_INET6);
		rc = push_both(out, PROF_BLOCK_DROP, PROF_PRIO_BLOCK, &pf, 0);
	}
	if (rc)
		return err_set(err, rc, "too many block rules (at most %d)", PROF_MAX_PLAN);
	return 0;
}

/* ----------------------------------------------------------- routes */

static int push_route(struct prof_plan *out, enum prof_route_kind kind, const struct prof_prefix *dst,
		      const struct prof_addr *src)
{
	for (size_t i = 0; i < out->n_routes; i++)
		if (out->routes[i].kind == kind && prof_prefix_eq(&out->routes[i].dst, dst))
			return 0;
	if (out->n_routes >= PROF_MAX_PLAN)
		return -ENOSPC;
	struct prof_route *r = &out->routes[out->n_routes++];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->dst = *dst;
	if (src)
		r->src = *src;
	return 0;
}

static bool overlaps(const struct prof_prefix *a, const struct prof_prefix *b)
{
	return prof_prefix_contains(a, b) || prof_prefix_contains(b, a);
}

static void add_domain(struct prof_plan *out, const char *d)
{
	for (size_t i = 0; i < out->n_domains; i++)
		if (strcmp(out->domains[i], d) == 0)
			return;
	if (out->n_domains < PROF_MAX_DNS * 2 && strlen(d) < PROF_DOMAIN_MAX)
		strcpy(out->domains[out->n_domains++], d);
}

int prof_route_plan(const struct prof_profile *p, const struct prof_env *env, const struct prof_assigned *as,
		    struct prof_plan *out, struct pvpn_err *err)
{
	memset(out, 0, sizeof(*out));
	/* The counts come from the daemon's decoding of the server's reply;
	 * never trust them beyond the arrays. */
	size_t n_tsr = as->n_tsr < PROF_MAX_TS ? as->n_tsr : PROF_MAX_TS;
	size_t n_local = env ? (env->n_local < PROF_MAX_ROUTES ? env->n_local : PROF_MAX_ROUTES) : 0;
	size_t n_subnets = as->n_subnets < PROF_MAX_ROUTES ? as->n_subnets : PROF_MAX_ROUTES;
	if (!n_tsr)
		return err_set(err, -EINVAL, "the server accepted no traffic selectors, so nothing can be routed");
	bool any_vip = as->vip4.family || as->vip6.family;

	/* The networks wanted in the tunnel, before the server's say:
	 * IncludeAllNetworks: everything; IncludedRoutes: those; otherwise
	 * INTERNAL_IP4/6_SUBNET when the profile trusts them
	 * (UseConfigurationAttributeInternalIPSubnet), else the narrowed
	 * TSr itself. */
	struct prof_ts want[PROF_MAX_ROUTES + 2];
	size_t n_want = 0;
	struct prof_prefix pf;
	if (p->include_all_networks) {
		any_prefix(&pf, AF_INET);
		prefix_to_range(&pf, &want[n_want++]);
		any_prefix(&pf, AF_INET6);
		prefix_to_range(&pf, &want[n_want++]);
	} else if (p->n_included) {
		for (size_t i = 0; i < p->n_included; i++)
			prefix_to_range(&p->included[i], &want[n_want++]);
	} else if (p->use_internal_subnet && n_subnets) {
		for (size_t i = 0; i < n_subnets; i++)
			prefix_to_range(&as->subnets[i], &want[n_want++]);
	} else {
		for (size_t i = 0; i < n_tsr && n_want < PROF_MAX_ROUTES; i++)
			want[n_want++] = as->tsr[i];
	}

	int rc = 0;
	/* Tunnel routes: what is wanted AND covered by the accepted TSr —
	 * routing traffic into the tunnel that no SA policy covers would
	 * drop it.  Ports and protocols of a narrowed TS cannot be expressed
	 * by a route; the SA's policy filters them. */
	for (size_t i = 0; i < n_want && !rc; i++) {
		for (size_t j = 0; j < n_tsr && !rc; j++) {
			struct prof_ts x;
			if (!prof_af_len(as->tsr[j].family) || !intersect(&want[i], &as->tsr[j], &x))
				continue;
			/* A family the server gave no address for cannot carry
			 * our traffic (TSi was narrowed to the virtual IPs);
			 * without any virtual IP (site-to-site style) our own
			 * addresses are the TSi and every family goes. */
			const struct prof_addr *src = x.family == AF_INET ? &as->vip4 : &as->vip6;
			if (any_vip && !src->family)
				continue;
			/* Any range splits into at most 2 * 128 prefixes. */
			struct prof_prefix pfx[256];
			size_t n = 0;
			rc = prof_ts_to_prefixes(&x, pfx, 256, &n);
			for (size_t k = 0; k < n && !rc; k++) {
				/* An excluded prefix that contains this route wins:
				 * exclusions are the user's explicit choice. */
				bool excluded = false;
				for (size_t e = 0; e < p->n_excluded; e++)
					if (prof_prefix_contains(&p->excluded[e], &pfx[k]))
						excluded = true;
				/* Nor is the server's own address ever tunnelled, even
				 * when a route names exactly it. */
				if (env && env->server.family) {
					struct prof_prefix sv;
					host_prefix(&sv, &env->server);
					if (prof_prefix_contains(&sv, &pfx[k]))
						excluded = true;
				}
				if (!excluded)
					rc = push_route(out, PROF_ROUTE_TUNNEL, &pfx[k], src->family ? src : NULL);
			}
		}
	}
	size_t n_tunnel = out->n_routes;

	/* Bypass: ExcludedRoutes, always (longest-prefix match makes the
	 * more specific bypass win over a wider tunnel route). */
	for (size_t e = 0; e < p->n_excluded && !rc; e++)
		rc = push_route(out, PROF_ROUTE_BYPASS, &p->excluded[e], NULL);
	/* Bypass: local networks when ExcludeLocalNetworks — only those the
	 * tunnel would otherwise capture; the rest already stay local. */
	for (size_t l = 0; env && p->exclude_local_networks && l < n_local && !rc; l++)
		for (size_t t = 0; t < n_tunnel; t++)
			if (overlaps(&env->local[l], &out->routes[t].dst)) {
				rc = push_route(out, PROF_ROUTE_BYPASS, &env->local[l], NULL);
				break;
			}
	/* Bypass: the server's own address, always, so IKE and ESP never try
	 * to enter the tunnel they carry. */
	if (!rc && env && env->server.family) {
		host_prefix(&pf, &env->server);
		rc = push_route(out, PROF_ROUTE_BYPASS, &pf, NULL);
	}
	if (rc)
		return err_set(err, rc, "too many routes (at most %d)", PROF_MAX_PLAN);

	/* DNS: profile's Servers override the server's; domains are the
	 * profile's then the server's (RFC 8598 INTERNAL_DNS_DOMAIN). */
	if (p->dns_mode != PROF_DNS_OFF) {
		if (p->n_dns_servers) {
			out->n_dns = p->n_dns_servers;
			memcpy(out->dns, p->dns_servers, sizeof(out->dns[0]) * p->n_dns_servers);
		} else {
			out->n_dns = as->n_dns > PROF_MAX_DNS ? PROF_MAX_DNS : as->n_dns;
			memcpy(out->dns, as->dns, sizeof(out->dns[0]) * out->n_dns);
		}
		for (size_t i = 0; i < p->n_search_domains; i++)
			add_domain(out, p->search_domains[i]);
		for (size_t i = 0; i < p->n_match_domains; i++)
			add_domain(out, p->match_domains[i]);
		for (size_t i = 0; i < as->n_domains && i < PROF_MAX_DNS; i++)
			if (strnlen(as->domains[i], PROF_DOMAIN_MAX) < PROF_DOMAIN_MAX &&
			    prof_domain_ok(as->domains[i], false))
				add_domain(out, as->domains[i]);
	}

	rc = prof_route_blocks(p, env, out, err);
	return rc;
}
