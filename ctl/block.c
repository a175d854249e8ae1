/* block.c — IncludeAllNetworks: policy/'s block rules installed as XFRM
 * policies, so nothing leaves or enters the host in clear while the tunnel
 * is connecting, up, or reasserting (dead peer, network change, reconnect
 * backoff).
 *
 * The rules come from prof_route_blocks(): allow everything to and from the
 * server (IKE, and ESP / ESP-in-UDP; the IKE sockets also carry their own
 * socket bypass), loopback, IPv6 neighbour discovery, ExcludedRoutes and
 * (ExcludeLocalNetworks) the connected prefixes, then drop the rest of both
 * families.  Lower priority numbers win (XFRM), and the tunnel's own
 * policies sit between the allows and the drop (PROF_PRIO_TUNNEL), so while
 * the tunnel is up its traffic is encrypted and anything that escapes its
 * selectors (a packet from the real address) is dropped, not leaked.
 *
 * Lifetime: installed by ctl_conn_start before the first IKE packet, kept
 * while the connection reasserts, removed when the connection ends for good
 * (the user disconnects or removes the profile, pvpnd stops, or a failure
 * that does not reconnect — see pvpn.conf(5), IncludeAllNetworks).  They
 * carry kernel-xfrm's owner tag, so xfrm_flush_owned() (every pvpnd start)
 * removes what a crashed pvpnd left; they are also listed in the state file
 * (state.c) so the next start of the same connection removes them. */
#include "ctl/ctl.h"
#include "ctl/block.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/log.h"

struct ctl_blocks {
	size_t n;
	struct xfrm_policy pol[];
};

int ctl_block_translate(const struct prof_block_rule *r, struct xfrm_policy *out, struct pvpn_err *e)
{
	memset(out, 0, sizeof(*out));
	int fam = r->dst.family ? r->dst.family : r->src.family;
	if ((fam != AF_INET && fam != AF_INET6) || (r->src.family && r->src.family != fam) ||
	    (r->dst.family && r->dst.family != fam))
		return err_set(e, -EINVAL, "block rule with a bad address family");
	unsigned max = fam == AF_INET ? 32 : 128;
	if (r->src.len > max || r->dst.len > max)
		return err_set(e, -EINVAL, "block rule with a prefix longer than %u bits", max);
	switch (r->dir) {
	case PROF_DIR_OUT: out->dir = XFRM_DIR_OUT; break;
	case PROF_DIR_IN:  out->dir = XFRM_DIR_IN; break;
	case PROF_DIR_FWD: out->dir = XFRM_DIR_FWD; break;
	default: return err_set(e, -EINVAL, "block rule with an unknown direction %d", (int)r->dir);
	}
	switch (r->action) {
	case PROF_BLOCK_ALLOW: out->action = XFRM_ACT_ALLOW; break;
	case PROF_BLOCK_DROP:  out->action = XFRM_ACT_BLOCK; break;
	default: return err_set(e, -EINVAL, "block rule with an unknown action %d", (int)r->action);
	}
	out->sel.family = fam;
	struct prof_prefix any = { .family = (uint8_t)fam };
	ctl_prefix_to_xfrm(r->src.family ? &r->src : &any, &out->sel.src, &out->sel.src_len);
	ctl_prefix_to_xfrm(r->dst.family ? &r->dst : &any, &out->sel.dst, &out->sel.dst_len);
	out->sel.proto = r->proto;
	/* A port only means something with a protocol that has ports. */
	if (r->dport && (r->proto == IPPROTO_UDP || r->proto == IPPROTO_TCP))
		out->sel.dport = r->dport;
	out->priority = r->priority;
	/* No template: an allow passes in clear, a block drops (RFC 4301
	 * §4.4.1 BYPASS / DISCARD). */
	out->has_tmpl = false;
	return 0;
}

int ctl_block_policies(const struct prof_profile *p, const struct prof_env *env,
		       struct xfrm_policy *out, size_t max, size_t *n_out, struct pvpn_err *e)
{
	static struct prof_plan plan;   /* ~60 kB: not on the stack */
	*n_out = 0;
	int rc = prof_route_blocks(p, env, &plan, e);
	if (rc < 0)
		return rc;
	if (plan.n_blocks > max)
		return err_set(e, -ENOSPC, "too many block rules (%zu, at most %zu)", plan.n_blocks,
			       max);
	for (size_t i = 0; i < plan.n_blocks; i++)
		if ((rc = ctl_block_translate(&plan.blocks[i], &out[i], e)) < 0)
			return rc;
	*n_out = plan.n_blocks;
	return 0;
}

static bool is_vip(const struct ctl_conn *c, int fam, const void *a)
{
	for (size_t i = 0; i < c->inst.n_addrs; i++) {
		const struct xfrm_addr *v = &c->inst.addrs[i].addr;
		if (v->family == fam &&
		    !memcmp(fam == AF_INET ? (const void *)&v->v4 : (const void *)&v->v6, a,
			    fam == AF_INET ? 4 : 16))
			return true;
	}
	return false;
}

void ctl_block_env(const struct ctl_conn *c, struct prof_env *env)
{
	memset(env, 0, sizeof(*env));
	if (c->remote.ss_family == AF_INET) {
		env->server.family = AF_INET;
		memcpy(env->server.addr, &((const struct sockaddr_in *)&c->remote)->sin_addr, 4);
	} else if (c->remote.ss_family == AF_INET6) {
		env->server.family = AF_INET6;
		memcpy(env->server.addr, &((const struct sockaddr_in6 *)&c->remote)->sin6_addr, 16);
	}
	if (!c->prof.exclude_local_networks)
		return;
	/* The connected prefixes of the interfaces that are up: what
	 * ExcludeLocalNetworks means by "local".  Host addresses (/32, /128,
	 * our own virtual IPs among them) name no network. */
	struct ifaddrs *ifs = NULL;
	if (getifaddrs(&ifs) < 0)
		return;
	for (struct ifaddrs *i = ifs; i && env->n_local < PROF_MAX_ROUTES; i = i->ifa_next) {
		if (!i->ifa_addr || !i->ifa_netmask || !(i->ifa_flags & IFF_UP) ||
		    (i->ifa_flags & IFF_LOOPBACK))
			continue;
		int fam = i->ifa_addr->sa_family;
		if (fam != AF_INET && fam != AF_INET6)
			continue;
		size_t n = fam == AF_INET ? 4 : 16;
		const uint8_t *a = fam == AF_INET
			? (const uint8_t *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
			: (const uint8_t *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		const uint8_t *m = fam == AF_INET
			? (const uint8_t *)&((struct sockaddr_in *)i->ifa_netmask)->sin_addr
			: (const uint8_t *)&((struct sockaddr_in6 *)i->ifa_netmask)->sin6_addr;
		struct prof_prefix pf = { .family = (uint8_t)fam };
		unsigned len = 0;
		for (size_t k = 0; k < n; k++) {
			len += (unsigned)__builtin_popcount(m[k]);
			pf.addr[k] = a[k] & m[k];
		}
		if (len == n * 8 || is_vip(c, fam, a))
			continue;
		pf.len = (uint8_t)len;
		bool dup = false;
		for (size_t k = 0; k < env->n_local; k++)
			if (!memcmp(&env->local[k], &pf, sizeof(pf)))
				dup = true;
		if (!dup)
			env->local[env->n_local++] = pf;
	}
	freeifaddrs(ifs);
}

static bool pol_eq(const struct xfrm_policy *a, const struct xfrm_policy *b)
{
	/* Both built by ctl_block_translate from zeroed structs. */
	return !memcmp(a, b, sizeof(*a));
}

static bool in_set(const struct ctl_blocks *s, const struct xfrm_policy *p)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (pol_eq(&s->pol[i], p))
			return true;
	return false;
}

static void save_state(struct ctl_conn *c)
{
	int rc = ctl_state_save_blocks(c->name, c->blocks ? c->blocks->pol : NULL,
				       c->blocks ? c->blocks->n : 0);
	if (rc < 0)
		log_msg(LOG_WARNING, c->name, "cannot record the block policies for crash recovery: %s",
			strerror(-rc));
}

bool ctl_block_active(const struct ctl_conn *c)
{
	return c->blocks != NULL;
}

size_t ctl_block_count(const struct ctl_conn *c)
{
	return c->blocks ? c->blocks->n : 0;
}

int ctl_block_up(struct ctl_daemon *d, struct ctl_conn *c, struct pvpn_err *e)
{
	struct prof_env env;
	struct ctl_blocks *nw = NULL, *old = c->blocks;
	int rc = 0;

	if (!old)
		/* A crashed pvpnd's rules for this name (the start-up flush
		 * took them already, unless another daemon's ran), and its file,
		 * whether or not the profile still wants blocks. */
		ctl_state_cleanup_blocks(d->xh, c->name);
	if (!c->prof.include_all_networks) {
		if (old)
			ctl_block_down(d, c);
		return 0;
	}
	ctl_block_env(c, &env);
	nw = malloc(sizeof(*nw) + PROF_MAX_PLAN * sizeof(nw->pol[0]));
	if (!nw)
		return err_set(e, -ENOMEM, "out of memory for the block policies");
	struct pvpn_err pe = { 0 };
	if ((rc = ctl_block_policies(&c->prof, &env, nw->pol, PROF_MAX_PLAN, &nw->n, &pe)) < 0) {
		rc = err_set(e, rc, "IncludeAllNetworks: %s", pe.msg);
		goto out;
	}
	/* Make before break: the new rules go in first, then the old ones
	 * that are no longer wanted go (a changed server address, a new
	 * local network), so no packet finds no rule in between. */
	size_t kept = 0;
	bool retry[PROF_MAX_PLAN] = { false };
	for (size_t i = 0; i < nw->n; i++) {
		if (in_set(old, &nw->pol[i]))
			continue;
		int r = xfrm_policy_add(d->xh, &nw->pol[i], &pe);
		if (r == -EEXIST) {
			/* Same selector and direction as a rule about to go
			 * (its priority changed): added again once it has. */
			retry[i] = true;
			continue;
		}
		if (r == -EAFNOSUPPORT && nw->pol[i].sel.family == AF_INET6) {
			/* No IPv6 here: nothing to leak over it either. */
			log_msg(LOG_DEBUG, c->name, "no IPv6 block policy: %s", pe.msg);
			retry[i] = true;
			continue;
		}
		if (r < 0) {
			rc = err_set(e, r, "IncludeAllNetworks: installing a block policy: %s", pe.msg);
			/* Take out what this call added; the old set stays. */
			for (size_t k = 0; k < i; k++)
				if (!retry[k] && !in_set(old, &nw->pol[k]))
					xfrm_policy_delete(d->xh, &nw->pol[k], NULL);
			goto out;
		}
	}
	for (size_t i = 0; old && i < old->n; i++) {
		if (in_set(nw, &old->pol[i])) {
			kept++;
			continue;
		}
		if (xfrm_policy_delete(d->xh, &old->pol[i], &pe) < 0 && pe.code != -ENOENT)
			log_msg(LOG_WARNING, c->name, "removing a stale block policy: %s", pe.msg);
	}
	size_t n = 0;
	for (size_t i = 0; i < nw->n; i++) {
		if (retry[i] && xfrm_policy_add(d->xh, &nw->pol[i], &pe) < 0) {
			if (pe.code != -EAFNOSUPPORT)
				log_msg(LOG_WARNING, c->name, "block policy not installed: %s", pe.msg);
			continue;
		}
		nw->pol[n++] = nw->pol[i];
	}
	nw->n = n;
	/* Keep only what is used (a few hundred bytes, not the 60 kB room). */
	struct ctl_blocks *fit = realloc(nw, sizeof(*nw) + (n ? n : 1) * sizeof(nw->pol[0]));
	if (fit)
		nw = fit;
	c->blocks = nw;
	nw = NULL;
	bool first = !old;
	size_t old_n = old ? old->n : 0;
	free(old);
	char sv[INET6_ADDRSTRLEN] = "?";
	if (env.server.family)
		inet_ntop(env.server.family, env.server.addr, sv, sizeof(sv));
	if (first)
		log_msg(LOG_NOTICE, c->name, "IncludeAllNetworks: %zu block policies installed "
			"(everything but %s, loopback, neighbour discovery%s%s is dropped)", n, sv,
			c->prof.n_excluded ? ", ExcludedRoutes" : "",
			c->prof.exclude_local_networks ? ", local networks" : "");
	else if (kept != n || kept != old_n)
		log_msg(LOG_INFO, c->name, "IncludeAllNetworks: block policies updated (%zu kept, %zu now)",
			kept, n);
	save_state(c);
out:
	free(nw);
	return rc;
}

void ctl_block_down(struct ctl_daemon *d, struct ctl_conn *c)
{
	struct ctl_blocks *s = c->blocks;
	if (!s)
		return;
	struct pvpn_err e = { 0 };
	size_t n = 0;
	/* The broadest drops first, so the allows are never the only rules
	 * missing (they are removed in the reverse of their install order). */
	for (size_t i = s->n; i-- > 0;) {
		if (xfrm_policy_delete(d->xh, &s->pol[i], &e) == 0 || e.code == -ENOENT)
			n++;
		else
			log_msg(LOG_WARNING, c->name, "removing a block policy: %s", e.msg);
	}
	c->blocks = NULL;
	free(s);
	ctl_state_forget_blocks(c->name);
	if (c->error != IKE_ERR_NONE && !c->no_reconnect && !(d && d->stopping))
		log_msg(LOG_WARNING, c->name, "IncludeAllNetworks: the connection failed for good (%s); "
			"%zu block policies removed, traffic flows outside the VPN until it is "
			"connected again", ike_error_name(c->error), n);
	else
		log_msg(LOG_NOTICE, c->name, "IncludeAllNetworks: %zu block policies removed", n);
}

/* --- bypass routes (ExcludedRoutes) ---------------------------------------
 * The tunnel's routes (a default split in two /1 halves, or wide included
 * networks) capture everything with the virtual IP as source, and the
 * tunnel's policy then encrypts it.  An excluded network must leave as
 * before: a route for it via the gateway and interface the main table uses
 * now, with the host's own address as source, so its packets match no
 * tunnel policy.  A network already on a connected route needs nothing. */

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static bool hex16(const char *s, uint8_t out[16])
{
	for (size_t i = 0; i < 16; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static bool prefix_has(const uint8_t *net, unsigned len, const uint8_t *a, unsigned a_len)
{
	if (a_len < len)
		return false;
	for (unsigned b = 0; b < len; b++) {
		uint8_t m = (uint8_t)(0x80 >> (b % 8));
		if ((net[b / 8] & m) != (a[b / 8] & m))
			return false;
	}
	return true;
}

int ctl_block_route_lookup(FILE *f, const struct prof_prefix *dst, struct ctl_route_pick *out)
{
	char line[512];
	bool found = false;
	int best_len = -1;
	unsigned long best_metric = 0;
	memset(out, 0, sizeof(*out));
	if (dst->family == AF_INET) {
		/* /proc/net/route: Iface Destination Gateway Flags RefCnt Use
		 * Metric Mask ... (addresses as host-order hex of the network
		 * bytes, i.e. little-endian on x86: read them as u32 and copy). */
		if (!fgets(line, sizeof(line), f))
			return -ENOENT;
		while (fgets(line, sizeof(line), f)) {
			char ifn[IF_NAMESIZE + 1];
			unsigned dest, gw, flags, mask;
			unsigned long metric;
			if (sscanf(line, "%16s %x %x %x %*d %*d %lu %x", ifn, &dest, &gw, &flags, &metric,
				   &mask) != 6)
				continue;
			if (!(flags & 0x1) || (flags & 0x200))   /* RTF_UP; RTF_REJECT */
				continue;
			uint8_t net[4], msk[4];
			memcpy(net, &dest, 4);
			memcpy(msk, &mask, 4);
			unsigned len = 0;
			for (int k = 0; k < 4; k++)
				len += (unsigned)__builtin_popcount(msk[k]);
			if (!prefix_has(net, len, dst->addr, dst->len))
				continue;
			if ((int)len < best_len || ((int)len == best_len && metric >= best_metric))
				continue;
			best_len = (int)len;
			best_metric = metric;
			found = true;
			snprintf(out->ifname, sizeof(out->ifname), "%s", ifn);
			out->prefix_len = (uint8_t)len;
			memset(&out->gw, 0, sizeof(out->gw));
			if (flags & 0x2) {   /* RTF_GATEWAY */
				out->gw.family = AF_INET;
				memcpy(&out->gw.v4, &gw, 4);
			}
		}
	} else if (dst->family == AF_INET6) {
		/* /proc/net/ipv6_route: dst dstlen src srclen nexthop metric
		 * refcnt use flags ifname, addresses as 32 hex digits. */
		while (fgets(line, sizeof(line), f)) {
			char d[33], s[33], nh[33], ifn[IF_NAMESIZE + 1];
			unsigned dlen, slen, flags;
			unsigned long metric;
			if (sscanf(line, "%32s %x %32s %x %32s %lx %*x %*x %x %16s", d, &dlen, s, &slen, nh,
				   &metric, &flags, ifn) != 8)
				continue;
			uint8_t net[16], gw[16];
			if (!hex16(d, net) || !hex16(nh, gw) || dlen > 128 || slen != 0)
				continue;
			/* RTF_UP; not RTF_REJECT, not RTF_LOCAL (0x80000000). */
			if (!(flags & 0x1) || (flags & 0x200) || (flags & 0x80000000u) ||
			    !strcmp(ifn, "lo"))
				continue;
			if (!prefix_has(net, dlen, dst->addr, dst->len))
				continue;
			if ((int)dlen < best_len || ((int)dlen == best_len && metric >= best_metric))
				continue;
			best_len = (int)dlen;
			best_metric = metric;
			found = true;
			snprintf(out->ifname, sizeof(out->ifname), "%s", ifn);
			out->prefix_len = (uint8_t)dlen;
			memset(&out->gw, 0, sizeof(out->gw));
			if (flags & 0x2) {
				out->gw.family = AF_INET6;
				memcpy(&out->gw.v6, gw, 16);
			}
		}
	} else {
		return -EAFNOSUPPORT;
	}
	return found ? 0 : -ENOENT;
}

void ctl_block_bypass_routes(struct ctl_daemon *d, struct ctl_conn *c, const struct prof_plan *plan)
{
	struct ctl_installed *in = &c->inst;
	struct xfrm_addr srv;
	ctl_sockaddr_to_xfrm(&c->remote, &srv);
	for (size_t i = 0; i < plan->n_routes && i < PROF_MAX_PLAN; i++) {
		const struct prof_route *r = &plan->routes[i];
		if (r->kind != PROF_ROUTE_BYPASS)
			continue;
		/* The server's host route is conn.c's (with its own rule). */
		size_t alen = r->dst.family == AF_INET ? 4 : 16;
		if (r->dst.family == srv.family && r->dst.len == alen * 8 &&
		    !memcmp(r->dst.addr, srv.family == AF_INET ? (const void *)&srv.v4 : (const void *)&srv.v6,
			    alen))
			continue;
		FILE *f = fopen(r->dst.family == AF_INET ? "/proc/net/route" : "/proc/net/ipv6_route", "re");
		if (!f)
			continue;
		struct ctl_route_pick pick;
		int rc = ctl_block_route_lookup(f, &r->dst, &pick);
		fclose(f);
		char b[64];
		struct xfrm_addr da = { .family = r->dst.family };
		memcpy(r->dst.family == AF_INET ? (void *)&da.v4 : (void *)&da.v6, r->dst.addr, alen);
		xfrm_addr_str(&da, b, sizeof(b));
		if (rc < 0) {
			log_msg(LOG_INFO, c->name, "excluded %s/%u: no route outside the tunnel; left alone", b,
				r->dst.len);
			continue;
		}
		/* Already reached by a connected (or more specific) route than
		 * any tunnel route could be: nothing to add. */
		if (!pick.gw.family && pick.prefix_len >= r->dst.len)
			continue;
		if (in->n_routes >= CTL_MAX_ROUTES) {
			log_msg(LOG_WARNING, c->name, "too many routes: no bypass for %s/%u", b, r->dst.len);
			break;
		}
		struct xfrm_route *rt = &in->routes[in->n_routes];
		memset(rt, 0, sizeof(*rt));
		rt->dst = da;
		rt->dst_len = r->dst.len;
		rt->ifindex = (int)if_nametoindex(pick.ifname);
		rt->gw = pick.gw;
		/* The host's own address as source, so no tunnel policy (whose
		 * source is the virtual IP) matches. */
		if (c->local.ss_family == r->dst.family)
			ctl_sockaddr_to_xfrm(&c->local, &rt->src);
		struct pvpn_err e = { 0 };
		if (xfrm_route_add(d->xh, rt, &e) < 0) {
			if (e.code != -EEXIST)
				log_msg(LOG_WARNING, c->name, "bypass route %s/%u: %s", b, r->dst.len, e.msg);
			continue;
		}
		in->n_routes++;
		char g[64];
		log_msg(LOG_NOTICE, c->name, "bypass route %s/%u via %s dev %s (ExcludedRoutes)", b,
			r->dst.len, rt->gw.family ? xfrm_addr_str(&rt->gw, g, sizeof(g)) : "-", pick.ifname);
	}
}
