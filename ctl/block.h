/* block.h — ctl/'s internal side of IncludeAllNetworks and ExcludedRoutes
 * (block.c): the bypass routes that keep excluded networks outside the
 * tunnel's routes.  The block policies themselves are declared in ctl.h. */
#ifndef PVPN_CTL_BLOCK_H
#define PVPN_CTL_BLOCK_H

#include <net/if.h>
#include <stdio.h>

#include "ctl/ctl.h"

/* The main table's best route toward a prefix. */
struct ctl_route_pick {
	char ifname[IF_NAMESIZE + 1];
	struct xfrm_addr gw;          /* family 0: on-link (connected) */
	uint8_t prefix_len;           /* of the route found */
};

/* Longest match (then lowest metric) for dst in a /proc/net/route (IPv4)
 * or /proc/net/ipv6_route (IPv6) text; the route must cover all of dst.
 * 0, -ENOENT (no route), -EAFNOSUPPORT. */
int ctl_block_route_lookup(FILE *f, const struct prof_prefix *dst, struct ctl_route_pick *out);

/* For each BYPASS route of the plan but the server's (conn.c has that
 * one): a route via what the main table uses now, source the host's own
 * address, recorded in c->inst (removed with it, in the state file).  Call
 * before the tunnel's routes go in. */
void ctl_block_bypass_routes(struct ctl_daemon *d, struct ctl_conn *c, const struct prof_plan *plan);

#endif
