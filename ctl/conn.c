/* conn.c — pvpnd's connection manager: N connections keyed by profile
 * name, each an engine instance with its status, last error and the kernel
 * state it installed; the event loop's callbacks feed them datagrams,
 * timers, signals and XFRM events and apply what the engines ask for. */
#define _GNU_SOURCE 1 /* struct in6_pktinfo */
#include "ctl/ctl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl/block.h"
#include "ctl/lifecycle.h"
#include "ctl/mobike.h"
#include "ctl/reauth.h"
#include "lib/clock.h"
#include "lib/log.h"

#define CTL_DELETE_WAIT_MS 3000     /* how long SIGTERM waits for DELETE replies */
#define CTL_POLICY_PRIORITY 1000    /* below strongSwan-style defaults, above blocks */

static const char *exchange_name(uint8_t x)
{
	switch (x) {
	case 34: return "IKE_SA_INIT";
	case 35: return "IKE_AUTH";
	case 36: return "CREATE_CHILD_SA";
	case 37: return "INFORMATIONAL";
	default: return "IKE";
	}
}

static const char *ss_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	uint16_t port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)ss;
		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		port = ntohs(s->sin_port);
		snprintf(buf, len, "%s:%u", a, port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)ss;
		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		port = ntohs(s->sin6_port);
		snprintf(buf, len, "[%s]:%u", a, port);
	} else {
		snprintf(buf, len, "?");
	}
	return buf;
}

static uint16_t ss_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}

static bool ss_same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			       &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
	return false;
}

static socklen_t ss_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static int sock_slot(int family, uint16_t local_port)
{
	return (family == AF_INET6 ? 2 : 0) + (local_port == 500 ? 0 : 1);
}

#define CLOG(c, lvl, ...) log_msg(lvl, (c)->name, __VA_ARGS__)

/* --- kernel state --------------------------------------------------------- */

static void inst_teardown(struct ctl_daemon *d, struct ctl_conn *c)
{
	struct ctl_installed *in = &c->inst;
	struct pvpn_err e = { 0 };
	size_t n_sa = in->n_sas, n_pol = in->n_policies, n_rt = in->n_routes, n_ad = in->n_addrs;
	for (size_t i = 0; i < in->n_routes; i++)
		if (xfrm_route_del(d->xh, &in->routes[i], &e) < 0 && e.code != -ESRCH &&
		    e.code != -ENOENT)
			CLOG(c, LOG_WARNING, "removing a route: %s", e.msg);
	for (size_t i = 0; i < in->n_addrs; i++)
		if (xfrm_addr_del(d->xh, &in->addrs[i], &e) < 0 && e.code != -EADDRNOTAVAIL)
			CLOG(c, LOG_WARNING, "removing the virtual IP: %s", e.msg);
	for (size_t i = 0; i < in->n_policies; i++)
		if (xfrm_policy_delete(d->xh, &in->policies[i], &e) < 0 && e.code != -ENOENT)
			CLOG(c, LOG_WARNING, "removing a policy: %s", e.msg);
	for (size_t i = 0; i < in->n_sas; i++)
		if (xfrm_sa_delete(d->xh, &in->sas[i], &e) < 0 && e.code != -ESRCH &&
		    e.code != -ENOENT)
			CLOG(c, LOG_WARNING, "removing an SA: %s", e.msg);
	/* Already gone when it was filled and deleted above: then ESRCH. */
	if (c->has_larval && xfrm_sa_delete(d->xh, &c->larval, &e) == 0)
		CLOG(c, LOG_DEBUG, "removed the unused larval SA %08x", c->larval.spi);
	c->has_larval = false;
	c->child = (struct ctl_child_rec){ 0 };
	if (n_rt || n_ad)
		ctl_state_forget(c->name);
	if (n_sa || n_pol || n_rt || n_ad)
		CLOG(c, LOG_INFO, "removed %zu SAs, %zu policies, %zu addresses, %zu routes",
		     n_sa, n_pol, n_ad, n_rt);
	memset(in, 0, sizeof(*in));
}

static void addr_to_prof(const struct xfrm_addr *a, struct prof_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->family = (uint8_t)a->family;
	if (a->family == AF_INET)
		memcpy(out->addr, &a->v4, 4);
	else if (a->family == AF_INET6)
		memcpy(out->addr, &a->v6, 16);
}

/* The IPv4 gateway the main table uses toward dst (0 when on-link), from
 * /proc/net/route: enough for the server's bypass route. */
static uint32_t gateway_v4(struct in_addr dst)
{
	FILE *f = fopen("/proc/net/route", "re");
	if (!f)
		return 0;
	char line[256];
	uint32_t best_gw = 0;
	int best_len = -1;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		char ifn[IF_NAMESIZE + 1];
		unsigned dest, gw, flags, mask;
		if (sscanf(line, "%16s %x %x %x %*d %*d %*d %x", ifn, &dest, &gw, &flags, &mask) != 5)
			continue;
		if (!(flags & 1) || (dst.s_addr & mask) != dest)
			continue;
		int len = __builtin_popcount(mask);
		if (len > best_len) {
			best_len = len;
			best_gw = (flags & 2) ? gw : 0;
		}
	}
	fclose(f);
	return best_gw;
}

static int install_vip_routes(struct ctl_daemon *d, struct ctl_conn *c)
{
	struct pvpn_err e = { 0 };
	struct ctl_installed *in = &c->inst;
	if (!c->have_assigned)
		return 0;
	const struct ike_act_config *as = &c->assigned;
	struct xfrm_addr vip4 = { 0 }, vip6 = { 0 };
	/* The virtual IP goes on the interface toward the server as a host
	 * address (/32, /128): no prefix route appears, the kernel uses it as
	 * a source only where our routes say so, and it goes away with the
	 * interface.  (A dummy interface would survive a crash of pvpnd.) */
	if (as->has_vip4) {
		vip4.family = AF_INET;
		vip4.v4 = as->vip4;
		struct xfrm_ifaddr *a = &in->addrs[in->n_addrs];
		*a = (struct xfrm_ifaddr){ .ifindex = c->ifindex, .addr = vip4, .prefix_len = 32 };
		if (xfrm_addr_add(d->xh, a, &e) < 0 && e.code != -EEXIST)
			return err_set(&c->last_error, e.code, "adding the virtual IP: %s", e.msg);
		in->n_addrs++;
		char b[64];
		CLOG(c, LOG_NOTICE, "virtual IP %s on %s", xfrm_addr_str(&vip4, b, sizeof(b)),
		     if_indextoname((unsigned)c->ifindex, (char[IF_NAMESIZE]){ 0 }) ?: "?");
	}
	if (as->has_vip6) {
		vip6.family = AF_INET6;
		vip6.v6 = as->vip6;
		struct xfrm_ifaddr *a = &in->addrs[in->n_addrs];
		*a = (struct xfrm_ifaddr){ .ifindex = c->ifindex, .addr = vip6, .prefix_len = 128 };
		if (xfrm_addr_add(d->xh, a, &e) < 0 && e.code != -EEXIST)
			return err_set(&c->last_error, e.code, "adding the virtual IPv6: %s", e.msg);
		in->n_addrs++;
		char b[64];
		CLOG(c, LOG_NOTICE, "virtual IP %s", xfrm_addr_str(&vip6, b, sizeof(b)));
	}

	/* Routing decisions come from the profile room, fed with what was
	 * negotiated. */
	static struct prof_assigned pa;
	static struct prof_env env;
	static struct prof_plan plan;
	memset(&pa, 0, sizeof(pa));
	memset(&env, 0, sizeof(env));
	addr_to_prof(&vip4, &pa.vip4);
	addr_to_prof(&vip6, &pa.vip6);
	struct xfrm_addr srv;
	ctl_sockaddr_to_xfrm(&c->remote, &srv);
	ctl_block_env(c, &env);   /* the server, and local networks when excluded */
	for (size_t i = 0; i < c->inst.n_policies && pa.n_tsr < PROF_MAX_TS; i++) {
		const struct xfrm_policy *p = &c->inst.policies[i];
		if (p->dir != XFRM_DIR_OUT)
			continue;
		struct prof_ts *t = &pa.tsr[pa.n_tsr++];
		memset(t, 0, sizeof(*t));
		t->family = (uint8_t)p->sel.family;
		t->port_hi = 65535;
		/* The range a prefix covers. */
		size_t alen = p->sel.family == AF_INET ? 4 : 16;
		const uint8_t *src = p->sel.family == AF_INET ? (const uint8_t *)&p->sel.dst.v4
							      : (const uint8_t *)&p->sel.dst.v6;
		for (size_t k = 0; k < alen; k++) {
			int bits = (int)p->sel.dst_len - (int)(k * 8);
			uint8_t m = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
			t->start[k] = src[k] & m;
			t->end[k] = (uint8_t)(src[k] | (uint8_t)~m);
		}
	}
	if (prof_route_plan(&c->prof, &env, &pa, &plan, &e) < 0)
		return err_set(&c->last_error, e.code, "routing plan: %s", e.msg);
	ctl_block_bypass_routes(d, c, &plan);   /* ExcludedRoutes, before the tunnel's */
	bool covers_server = false;
	for (size_t i = 0; i < plan.n_routes; i++) {
		const struct prof_route *r = &plan.routes[i];
		if (r->kind != PROF_ROUTE_TUNNEL)
			continue;
		struct xfrm_addr src = { 0 };
		if (r->src.family == AF_INET) {
			src.family = AF_INET;
			memcpy(&src.v4, r->src.addr, 4);
		} else if (r->src.family == AF_INET6) {
			src.family = AF_INET6;
			memcpy(&src.v6, r->src.addr, 16);
		}
		/* A default route is split in two halves so it wins over the
		 * existing default without replacing it (as wg-quick does). */
		int halves = r->dst.len == 0 ? 2 : 1;
		for (int h = 0; h < halves; h++) {
			if (in->n_routes >= CTL_MAX_ROUTES)
				break;
			struct xfrm_route *rt = &in->routes[in->n_routes];
			memset(rt, 0, sizeof(*rt));
			rt->dst.family = r->dst.family;
			if (r->dst.family == AF_INET)
				memcpy(&rt->dst.v4, r->dst.addr, 4);
			else
				memcpy(&rt->dst.v6, r->dst.addr, 16);
			rt->dst_len = r->dst.len;
			if (halves == 2) {
				rt->dst_len = 1;
				if (h == 1) {
					if (r->dst.family == AF_INET)
						((uint8_t *)&rt->dst.v4)[0] = 0x80;
					else
						rt->dst.v6.s6_addr[0] = 0x80;
				}
				covers_server = true;
			}
			rt->ifindex = c->ifindex;
			rt->src = src;
			char b[64], s[64];
			int rc = xfrm_route_add(d->xh, rt, &e);
			if (rc < 0 && e.code != -EEXIST) {
				CLOG(c, LOG_WARNING, "route %s/%u: %s",
				     xfrm_addr_str(&rt->dst, b, sizeof(b)), rt->dst_len, e.msg);
				continue;
			}
			if (rc == 0)
				in->n_routes++;
			CLOG(c, LOG_NOTICE, "route %s/%u dev %s src %s",
			     xfrm_addr_str(&rt->dst, b, sizeof(b)), rt->dst_len,
			     if_indextoname((unsigned)c->ifindex, (char[IF_NAMESIZE]){ 0 }) ?: "?",
			     src.family ? xfrm_addr_str(&src, s, sizeof(s)) : "-");
		}
	}
	/* The server itself stays outside the tunnel: a host route with the
	 * original source, so IKE and the ESP outer packets are not sent from
	 * the virtual IP or through the tunnel routes. */
	if (covers_server) {
		struct xfrm_route *rt = &in->routes[in->n_routes];
		memset(rt, 0, sizeof(*rt));
		rt->dst = srv;
		rt->dst_len = srv.family == AF_INET ? 32 : 128;
		rt->ifindex = c->ifindex;
		ctl_sockaddr_to_xfrm(&c->local, &rt->src);
		if (srv.family == AF_INET) {
			uint32_t gw = gateway_v4(srv.v4);
			if (gw) {
				rt->gw.family = AF_INET;
				rt->gw.v4.s_addr = gw;
			}
		}
		if (in->n_routes < CTL_MAX_ROUTES && xfrm_route_add(d->xh, rt, &e) == 0)
			in->n_routes++;
		else if (e.code != -EEXIST)
			CLOG(c, LOG_WARNING, "bypass route to the server: %s", e.msg);
	}
	return 0;
}

int ctl_conn_add_sa(struct ctl_daemon *d, const struct ike_act_child *ch, bool inbound,
		    struct pvpn_err *e)
{
	struct xfrm_sa sa;
	int rc;

	if ((rc = ctl_translate_sa(ch, inbound, &sa, e)) < 0)
		return rc;
	if (inbound) {
		/* It fills the larval SA the SPI allocation left, if any. */
		rc = xfrm_sa_update(d->xh, &sa, e);
		if (rc == -ENOENT)
			rc = xfrm_sa_add(d->xh, &sa, e);
	} else {
		rc = xfrm_sa_add(d->xh, &sa, e);
	}
	secret_wipe(&sa, sizeof(sa));
	return rc;
}

static int install_child(struct ctl_daemon *d, struct ctl_conn *c, const struct ike_act_child *ch)
{
	struct pvpn_err e = { 0 };
	struct ctl_installed *in = &c->inst;
	int rc;

	/* Inbound first: it fills the larval SA the SPI allocation left. */
	if ((rc = ctl_conn_add_sa(d, ch, true, &e)) < 0)
		goto fail;
	in->sas[in->n_sas++] = (struct xfrm_sa_id){ .spi = ch->spi_in, .proto = IPPROTO_ESP };
	ctl_sockaddr_to_xfrm(&ch->local, &in->sas[in->n_sas - 1].dst);

	if ((rc = ctl_conn_add_sa(d, ch, false, &e)) < 0)
		goto fail;
	in->sas[in->n_sas++] = (struct xfrm_sa_id){ .spi = ch->spi_out, .proto = IPPROTO_ESP };
	ctl_sockaddr_to_xfrm(&ch->remote, &in->sas[in->n_sas - 1].dst);

	const struct ctl_esp_encr *en = ctl_esp_encr_lookup(ch->encr_id);
	const struct ctl_esp_integ *ig = ctl_esp_integ_lookup(ch->integ_id);
	c->child = (struct ctl_child_rec){
		.encr_id = ch->encr_id, .encr_key_bits = ch->encr_key_bits,
		.integ_id = ch->integ_id, .encap = ch->encap,
		.soft_lifetime_s = ch->soft_lifetime_s,
	};
	CLOG(c, LOG_NOTICE, "CHILD SA installed: SPIs in %08x out %08x, %s%s%s%s", ch->spi_in,
	     ch->spi_out, en ? en->kernel : "?", en && !en->aead && ig ? " + " : "",
	     en && !en->aead && ig ? ig->kernel : "",
	     ch->encap ? ", UDP-encapsulated (NAT-T)" : "");

	size_t n = 0;
	static struct xfrm_policy pols[CTL_MAX_POLICIES];
	rc = ctl_translate_policies(ch, CTL_POLICY_PRIORITY, pols, CTL_MAX_POLICIES, &n, &e);
	if (rc < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		rc = xfrm_policy_add(d->xh, &pols[i], &e);
		if (rc < 0)
			goto fail;
		in->policies[in->n_policies++] = pols[i];
		if (pols[i].dir == XFRM_DIR_OUT) {
			char a[64], b[64];
			CLOG(c, LOG_INFO, "policy %s/%u === %s/%u", 
			     xfrm_addr_str(&pols[i].sel.src, a, sizeof(a)), pols[i].sel.src_len,
			     xfrm_addr_str(&pols[i].sel.dst, b, sizeof(b)), pols[i].sel.dst_len);
		}
	}
	rc = install_vip_routes(d, c);
	/* Even a partial install is recorded, so a crash leaves nothing. */
	int src = ctl_state_save(c->name, in);
	if (src < 0)
		CLOG(c, LOG_WARNING, "cannot record the routes for crash recovery: %s",
		     strerror(-src));
	if (rc < 0)
		return rc;
	return 0;
fail:
	return err_set(&c->last_error, rc, "installing the Child SA: %s", e.msg);
}

/* --- the engine's actions --------------------------------------------- */

static void conn_finished(struct ctl_daemon *d, struct ctl_conn *c);

static void act_send(struct ctl_daemon *d, struct ctl_conn *c, const struct ike_act_send *s)
{
	int fam = s->path.remote.ss_family;
	uint16_t lport = ss_port(&s->path.local);
	int fd = d->sock[sock_slot(fam, lport)];
	char b[80];
	if (fd < 0) {
		CLOG(c, LOG_ERR, "no socket for port %u (%s)", lport,
		     fam == AF_INET6 ? "IPv6" : "IPv4");
		return;
	}
	if (s->keepalive) {
		CLOG(c, LOG_DEBUG, "NAT keepalive to %s", ss_str(&s->path.remote, b, sizeof(b)));
	} else {
		/* Exchange type at offset 18 of the IKE header, after the
		 * 4-byte non-ESP marker on the NAT-T port (RFC 3948 §2.2). */
		size_t off = (lport != 500 ? 4 : 0) + 18;
		uint8_t xt = s->len > off + 1 ? s->data[off] : 0;
		bool resp = s->len > off + 1 && (s->data[off + 1] & 0x20);
		CLOG(c, s->retransmit ? LOG_NOTICE : LOG_INFO, "%s %s %s to %s (%zu bytes)",
		     s->retransmit ? "retransmitting" : "sending", exchange_name(xt),
		     resp ? "response" : "request", ss_str(&s->path.remote, b, sizeof(b)),
		     s->len);
	}
	if (sendto(fd, s->data, s->len, 0, (const struct sockaddr *)&s->path.remote,
		   ss_len(&s->path.remote)) < 0)
		CLOG(c, LOG_WARNING, "sending to %s: %s", ss_str(&s->path.remote, b, sizeof(b)),
		     strerror(errno));
}

static void act_status(struct ctl_daemon *d, struct ctl_conn *c, const struct ike_act_status *st)
{
	c->status = st->status;
	switch (st->status) {
	case IKE_STATUS_CONNECTING:
		CLOG(c, LOG_DEBUG, "status: connecting");
		break;
	case IKE_STATUS_CONNECTED: {
		char b[80];
		c->ever_connected = true;
		c->connected_ms = clock_mono_ms();
		/* Back up after reasserting: what interrupted it is over. */
		err_clear(&c->last_error);
		c->error = IKE_ERR_NONE;
		if (c->reasserting)
			CLOG(c, LOG_NOTICE, "reconnected after %u attempt(s)", c->reconnects);
		c->reasserting = false;
		c->reconnects = 0;
		CLOG(c, LOG_NOTICE, "IKE SA with %s established; connected in %llu ms",
		     ss_str(&c->remote, b, sizeof(b)),
		     (unsigned long long)(c->connected_ms - c->started_ms));
		break;
	}
	case IKE_STATUS_DISCONNECTING:
		CLOG(c, LOG_DEBUG, "status: disconnecting");
		break;
	case IKE_STATUS_DISCONNECTED:
		/* A clean end (the user cancelling a reconnect) keeps the
		 * error that made the tunnel reassert (lifecycle.c's
		 * reconnect): it stays the last error until the next connect. */
		if (st->error != IKE_ERR_NONE || !c->last_error.code)
			c->error = st->error;
		if (st->error != IKE_ERR_NONE) {
			if (st->detail[0])
				err_set(&c->last_error, -ECONNABORTED, "%s: %s",
					ike_error_name(st->error), st->detail);
			else
				err_set(&c->last_error, -ECONNABORTED, "%s",
					ike_error_name(st->error));
			CLOG(c, LOG_ERR, "%s", c->last_error.msg);
		} else {
			CLOG(c, LOG_NOTICE, "disconnected");
		}
		break;
	}
	if (d->on_status)
		d->on_status(d, c);
}

static void act_config(struct ctl_conn *c, const struct ike_act_config *cf)
{
	c->assigned = *cf;
	c->have_assigned = true;
	char b[INET6_ADDRSTRLEN];
	for (size_t i = 0; i < cf->n_dns4 && i < IKE_MAX_CP_ADDRS; i++)
		CLOG(c, LOG_INFO, "server offers DNS %s (not applied yet)",
		     inet_ntop(AF_INET, &cf->dns4[i], b, sizeof(b)));
	for (size_t i = 0; i < cf->n_dns6 && i < IKE_MAX_CP_ADDRS; i++)
		CLOG(c, LOG_INFO, "server offers DNS %s (not applied yet)",
		     inet_ntop(AF_INET6, &cf->dns6[i], b, sizeof(b)));
}

/* The engine's ALLOC_SPI (for c->sa or the re-authenticating IKE SA):
 * the kernel reserves an inbound SPI under c->reqid, so the policies in
 * place serve the SA it becomes.  The SPI, or 0 when the kernel refused
 * (logged, prefixed by what); on success *larval_out names the larval SA. */
uint32_t ctl_conn_alloc_spi(struct ctl_daemon *d, struct ctl_conn *c,
			    const struct ike_act_alloc_spi *as, const char *what,
			    struct xfrm_sa_id *larval_out)
{
	struct pvpn_err e = { 0 };
	struct xfrm_addr src, dst;
	uint32_t spi = 0;

	/* The inbound SA runs from the server to us. */
	ctl_sockaddr_to_xfrm(&as->remote, &src);
	ctl_sockaddr_to_xfrm(&as->local, &dst);
	if (xfrm_alloc_spi(d->xh, &src, &dst, XFRM_SA_TUNNEL, c->reqid, 0, 0, &spi, &e) < 0) {
		CLOG(c, LOG_ERR, "%sallocating an SPI: %s", what, e.msg);
		return 0;
	}
	*larval_out = (struct xfrm_sa_id){ .spi = spi, .proto = IPPROTO_ESP, .dst = dst };
	return spi;
}

/* Drain every queued action; called after each call into the engine. */
static void conn_drain(struct ctl_daemon *d, struct ctl_conn *c)
{
	struct ike_action a;
	bool finished = false;
	while (c->sa && ike_next_action(c->sa, &a)) {
		switch (a.type) {
		case IKE_ACT_SEND:
			act_send(d, c, &a.u.send);
			break;
		case IKE_ACT_ALLOC_SPI: {
			struct xfrm_sa_id larval;
			uint32_t spi = ctl_conn_alloc_spi(d, c, &a.u.alloc_spi, "", &larval);
			if (spi) {
				CLOG(c, LOG_DEBUG, "kernel reserved inbound SPI %08x", spi);
				c->has_larval = true;
				c->larval = larval;
			}
			ike_spi_allocated(c->sa, spi, clock_mono_ms());
			break;
		}
		case IKE_ACT_INSTALL_CHILD:
			if ((a.u.install.rekey ? ctl_life_install_rekeyed(d, c, &a.u.install)
					       : install_child(d, c, &a.u.install)) < 0) {
				CLOG(c, LOG_ERR, "%s", c->last_error.msg);
				c->error = IKE_ERR_CONFIGURATION_FAILED;
				/* Tell the server we are gone; the teardown follows
				 * the engine's STATUS disconnected. */
				ike_disconnect(c->sa, clock_mono_ms());
			}
			break;
		case IKE_ACT_REMOVE_CHILD:
			if (a.u.remove.old_only) {
				ctl_life_remove_old(d, c, &a.u.remove);
				break;
			}
			CLOG(c, LOG_INFO, "removing CHILD SA (SPIs in %08x out %08x)",
			     a.u.remove.spi_in, a.u.remove.spi_out);
			inst_teardown(d, c);
			break;
		case IKE_ACT_STATUS:
			act_status(d, c, &a.u.status);
			if (a.u.status.status == IKE_STATUS_DISCONNECTED)
				finished = true;
			break;
		case IKE_ACT_CONFIG:
			act_config(c, &a.u.config);
			break;
		case IKE_ACT_KEYLOG:
			ctl_keylog_write_engine(&d->keylog, a.u.keylog.text, a.u.keylog.len);
			break;
		case IKE_ACT_MIGRATE:
			/* MOBIKE / NAT mapping change (ctl/mobike.c); a failed
			 * move ends the IKE SA and pvpnd connects again. */
			if (ctl_mobike_migrate(d, c, &a.u.migrate) < 0) {
				CLOG(c, LOG_ERR, "%s", c->last_error.msg);
				ike_disconnect(c->sa, clock_mono_ms());
			}
			break;
		default:
			break;
		}
	}
	if (finished)
		conn_finished(d, c);
}

void ctl_conn_drain(struct ctl_daemon *d, struct ctl_conn *c)
{
	conn_drain(d, c);
}

/* For ctl/reauth.c (reauth.h). */
void ctl_conn_send(struct ctl_daemon *d, struct ctl_conn *c, const struct ike_act_send *s)
{
	act_send(d, c, s);
}

int ctl_conn_install_full(struct ctl_daemon *d, struct ctl_conn *c, const struct ike_act_child *ch)
{
	return install_child(d, c, ch);
}

void ctl_conn_teardown(struct ctl_daemon *d, struct ctl_conn *c)
{
	inst_teardown(d, c);
}

static void rearm_timer(struct ctl_daemon *d)
{
	uint64_t next = 0;
	for (size_t i = 0; i < CTL_MAX_CONNS; i++) {
		struct ctl_conn *c = &d->conns[i];
		if (!c->used || !c->sa)
			continue;
		uint64_t t = ike_next_deadline(c->sa);
		if (t && (!next || t < next))
			next = t;
	}
	if (d->stopping && d->stop_deadline_ms && (!next || d->stop_deadline_ms < next))
		next = d->stop_deadline_ms;
	uint64_t rc_at = ctl_life_deadline(d);
	if (rc_at && (!next || rc_at < next))
		next = rc_at;
	uint64_t ra_at = ctl_reauth_deadline(d);
	if (ra_at && (!next || ra_at < next))
		next = ra_at;
	ctl_timer_arm(d->timer_fd, next);
}

static bool any_active(struct ctl_daemon *d)
{
	for (size_t i = 0; i < CTL_MAX_CONNS; i++)
		if (d->conns[i].used && d->conns[i].sa)
			return true;
	return false;
}

/* A connection ended (cleanly or not): remove its kernel state and its
 * engine; the record stays for status and last error. */
static void conn_finished(struct ctl_daemon *d, struct ctl_conn *c)
{
	ctl_reauth_abort(d, c);
	inst_teardown(d, c);
	if (c->sa) {
		ike_sa_free(c->sa);
		c->sa = NULL;
	}
	c->status = IKE_STATUS_DISCONNECTED;
	if (ctl_life_on_finished(d, c))
		return;
	ctl_block_down(d, c);   /* ended for good: IncludeAllNetworks' blocks go (block.c) */
	/* One-shot: 0 only for a clean end we asked for (SIGTERM); a failed
	 * attempt or a tunnel the server or the kernel ended is 1. */
	if (d->oneshot)
		d->exit_code = d->stopping && c->error == IKE_ERR_NONE && !c->last_error.code ? 0 : 1;
	if (d->oneshot || (d->stopping && !any_active(d)))
		ctl_loop_stop(&d->loop);
}

/* --- loop callbacks ---------------------------------------------------- */

static void on_ike_socket(void *ctx, int fd, uint32_t events)
{
	struct ctl_daemon *d = ctx;
	for (int burst = 0; burst < 32; burst++) {
		uint8_t buf[65536];
		char cbuf[256];
		struct ike_path path;
		memset(&path, 0, sizeof(path));
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr mh = {
			.msg_name = &path.remote, .msg_namelen = sizeof(path.remote),
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (n < 0)
			break;
		/* The local address: the socket's port, the packet's address. */
		socklen_t sl = sizeof(path.local);
		getsockname(fd, (struct sockaddr *)&path.local, &sl);
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;
				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				((struct sockaddr_in *)&path.local)->sin_addr = pi.ipi_addr;
			} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
				struct in6_pktinfo pi;
				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				((struct sockaddr_in6 *)&path.local)->sin6_addr = pi.ipi6_addr;
			}
		}
		/* RFC 3948 §2.3: a lone 0xFF is a NAT keepalive, not IKE. */
		if (n == 1 && buf[0] == 0xff)
			continue;
		uint64_t now = clock_mono_ms();
		bool taken = false;
		for (size_t i = 0; i < CTL_MAX_CONNS && !taken; i++) {
			struct ctl_conn *c = &d->conns[i];
			if (!c->used || !c->sa || !ss_same_addr(&c->remote, &path.remote))
				continue;
			/* A second IKE SA of c's (re-authentication), by SPI. */
			if (ctl_reauth_receive(d, c, buf, (size_t)n, &path, now)) {
				taken = true;
				continue;
			}
			int rc = ike_receive(c->sa, buf, (size_t)n, &path, now);
			if (rc == 0)
				taken = true;
			else
				CLOG(c, LOG_DEBUG, "dropped a %zd-byte datagram: %s", n, strerror(-rc));
			conn_drain(d, c);
		}
		if (!taken) {
			char b[80];
			log_debug("ignored a %zd-byte datagram from %s", n,
				  ss_str(&path.remote, b, sizeof(b)));
		}
	}
	rearm_timer(d);
}

static void teardown_all(struct ctl_daemon *d)
{
	for (size_t i = 0; i < CTL_MAX_CONNS; i++) {
		struct ctl_conn *c = &d->conns[i];
		if (!c->used)
			continue;
		ctl_reauth_abort(d, c);
		inst_teardown(d, c);
		ctl_block_down(d, c);
		if (c->sa) {
			ike_sa_free(c->sa);
			c->sa = NULL;
		}
		c->status = IKE_STATUS_DISCONNECTED;
	}
}

static void on_timer(void *ctx, int fd, uint32_t events)
{
	struct ctl_daemon *d = ctx;
	ctl_timer_drain(fd);
	uint64_t now = clock_mono_ms();
	ctl_life_timer(d, now);
	ctl_reauth_timer(d, now);
	for (size_t i = 0; i < CTL_MAX_CONNS; i++) {
		struct ctl_conn *c = &d->conns[i];
		if (!c->used || !c->sa)
			continue;
		uint64_t t = ike_next_deadline(c->sa);
		if (t && t <= now) {
			ike_tick(c->sa, now);
			conn_drain(d, c);
		}
	}
	if (d->stopping && d->stop_deadline_ms && now >= d->stop_deadline_ms) {
		log_warn("no answer to DELETE within %u ms; removing everything anyway",
			 CTL_DELETE_WAIT_MS);
		teardown_all(d);
		/* Still a shutdown we asked for, and nothing is left behind. */
		if (d->oneshot)
			d->exit_code = 0;
		ctl_loop_stop(&d->loop);
	}
	rearm_timer(d);
}

static void on_signal(void *ctx, int fd, uint32_t events)
{
	struct ctl_daemon *d = ctx;
	int sig;
	while ((sig = ctl_signals_read(fd)) > 0) {
		if (sig == SIGHUP) {
			log_info("SIGHUP: nothing to reload in this mode");
			continue;
		}
		if (d->stopping) {
			log_warn("second %s: tearing down at once", strsignal(sig));
			teardown_all(d);
			if (d->oneshot)
				d->exit_code = 0;
			ctl_loop_stop(&d->loop);
			return;
		}
		log_notice("%s: disconnecting", strsignal(sig));
		d->stopping = true;
		d->stop_deadline_ms = clock_mono_ms() + CTL_DELETE_WAIT_MS;
		for (size_t i = 0; i < CTL_MAX_CONNS; i++)
			if (d->conns[i].used && d->conns[i].sa)
				ctl_conn_stop(d, &d->conns[i]);
		if (!any_active(d))
			ctl_loop_stop(&d->loop);
	}
	rearm_timer(d);
}

static void on_xfrm_event(void *ctx, int fd, uint32_t events)
{
	struct ctl_daemon *d = ctx;
	for (int i = 0; i < 64; i++) {
		struct xfrm_event ev;
		struct pvpn_err e = { 0 };
		int rc = xfrm_events_read(d->xev, &ev, &e);
		if (rc == -ENOBUFS) {
			log_warn("XFRM events were lost (%s)", e.msg);
			continue;
		}
		if (rc < 0)
			break;
		if (rc == 0) {
			/* Either nothing pending or a skipped message. */
			if (i > 8)
				break;
			continue;
		}
		switch (ev.type) {
		case XFRM_EV_EXPIRE:
			if (!ev.expire.owned)
				break;
			log_msg(ev.expire.hard ? LOG_WARNING : LOG_INFO, NULL,
				"kernel: SA %08x reached its %s lifetime", ev.expire.id.spi,
				ev.expire.hard ? "hard" : "soft");
			/* RFC 7296 §2.8: the engine that owns it rekeys. */
			for (size_t k = 0; k < CTL_MAX_CONNS; k++) {
				struct ctl_conn *c = &d->conns[k];
				if (c->used && c->sa &&
				    ike_child_expired(c->sa, ev.expire.id.spi, ev.expire.hard,
						      clock_mono_ms()) == 0) {
					conn_drain(d, c);
					break;
				}
			}
			rearm_timer(d);
			break;
		case XFRM_EV_ACQUIRE:
			log_debug("kernel: acquire for reqid %08x", ev.acquire.reqid);
			break;
		case XFRM_EV_MAPPING:
			log_info("kernel: NAT mapping of SA %08x changed to port %u",
				 ev.mapping.id.spi, ev.mapping.new_port);
			ctl_mobike_mapping(d, &ev.mapping);
			rearm_timer(d);
			break;
		default:
			break;
		}
	}
}

/* --- public ------------------------------------------------------------- */

int ctl_daemon_init(struct ctl_daemon *d, const char *keylog_path, struct pvpn_err *e)
{
	int rc;
	d->timer_fd = d->signal_fd = -1;
	d->keylog.fd = -1;
	for (int i = 0; i < CTL_NSOCK; i++)
		d->sock[i] = -1;
	rc = ctl_loop_init(&d->loop, e);
	if (rc < 0)
		return rc;
	if (keylog_path && (rc = ctl_keylog_open(&d->keylog, keylog_path, e)) < 0)
		return rc;
	rc = d->signal_fd = ctl_signals_open(e);
	if (rc < 0)
		return rc;
	rc = d->timer_fd = ctl_timer_open(e);
	if (rc < 0)
		return rc;
	rc = xfrm_open(&d->xh, e);
	if (rc < 0)
		return rc;
	/* A previous pvpnd that crashed may have left SAs and policies. */
	unsigned n_sa = 0, n_pol = 0;
	rc = xfrm_flush_owned(d->xh, &n_sa, &n_pol, e);
	if (rc < 0)
		return rc;
	if (n_sa || n_pol)
		log_notice("removed %u SAs and %u policies a previous pvpnd left behind", n_sa,
			   n_pol);
	ctl_state_cleanup_all(d->xh);   /* VIPs, routes; block files (their policies went above) */
	/* IKE sockets: 500 and 4500 (ESP-in-UDP), IPv4 and IPv6, bypassing
	 * every IPsec policy.  IPv6 may be absent; IPv4 may not. */
	static const struct { int fam; uint16_t port; bool encap; } socks[CTL_NSOCK] = {
		{ AF_INET, 500, false }, { AF_INET, 4500, true },
		{ AF_INET6, 500, false }, { AF_INET6, 4500, true },
	};
	for (int i = 0; i < CTL_NSOCK; i++) {
		struct pvpn_err se = { 0 };
		int fd = -1;
		rc = xfrm_ike_socket_open(socks[i].fam, NULL, socks[i].port, socks[i].encap, &fd,
					  &se);
		if (rc < 0) {
			if (socks[i].fam == AF_INET)
				return err_set(e, rc, "IKE socket on UDP port %u: %s", socks[i].port,
					       se.msg);
			log_info("no IPv6 IKE socket on port %u: %s", socks[i].port, se.msg);
			continue;
		}
		int one = 1;
		if (socks[i].fam == AF_INET)
			setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
		else
			setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
		d->sock[i] = fd;
		if ((rc = ctl_loop_add(&d->loop, fd, EPOLLIN, on_ike_socket, d, e)) < 0)
			return rc;
	}
	if ((rc = ctl_loop_add(&d->loop, d->timer_fd, EPOLLIN, on_timer, d, e)) < 0)
		return rc;
	if ((rc = ctl_loop_add(&d->loop, d->signal_fd, EPOLLIN, on_signal, d, e)) < 0)
		return rc;
	ctl_life_watch_open(d);
	struct pvpn_err ee = { 0 };
	if (xfrm_events_open(&d->xev, &ee) < 0) {
		log_warn("no XFRM events: %s", ee.msg);
		d->xev = NULL;
	} else if ((rc = ctl_loop_add(&d->loop, xfrm_events_fd(d->xev), EPOLLIN, on_xfrm_event,
				      d, e)) < 0) {
		return rc;
	}
	return 0;
}

void ctl_daemon_free(struct ctl_daemon *d)
{
	teardown_all(d);
	for (size_t i = 0; i < CTL_MAX_CONNS; i++)
		if (d->conns[i].used)
			prof_free(&d->conns[i].prof);
	if (d->xh) {
		/* Whatever an error path left: nothing of pvpn's survives. */
		struct pvpn_err e = { 0 };
		unsigned n_sa = 0, n_pol = 0;
		if (xfrm_flush_owned(d->xh, &n_sa, &n_pol, &e) < 0)
			log_warn("final flush: %s", e.msg);
		else if (n_sa || n_pol)
			log_info("final flush removed %u SAs and %u policies", n_sa, n_pol);
		xfrm_close(d->xh);
	}
	ctl_life_watch_close(d);
	if (d->xev)
		xfrm_events_close(d->xev);
	for (int i = 0; i < CTL_NSOCK; i++)
		if (d->sock[i] >= 0)
			close(d->sock[i]);
	if (d->timer_fd >= 0)
		close(d->timer_fd);
	if (d->signal_fd >= 0)
		close(d->signal_fd);
	ctl_keylog_close(&d->keylog);
	ctl_loop_free(&d->loop);
	d->xh = NULL;
	d->xev = NULL;
}

struct ctl_conn *ctl_conn_find(struct ctl_daemon *d, const char *name)
{
	for (size_t i = 0; i < CTL_MAX_CONNS; i++)
		if (d->conns[i].used && !strcmp(d->conns[i].name, name))
			return &d->conns[i];
	return NULL;
}

/* The server's address: numeric or resolved (first answer). */
static int resolve_server(const struct prof_profile *p, struct sockaddr_storage *out,
			  struct pvpn_err *e)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *res = NULL;
	char port[8];
	snprintf(port, sizeof(port), "%u", p->server_port ? p->server_port : 500);
	int rc = getaddrinfo(p->server_host, port, &hints, &res);
	if (rc != 0 || !res)
		return err_set(e, -EHOSTUNREACH, "server address resolution failed: %s: %s",
			       p->server_host, gai_strerror(rc));
	memset(out, 0, sizeof(*out));
	memcpy(out, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

/* The source address and interface the kernel uses toward the server
 * (the NAT detection hashes are made of it, RFC 7296 §2.23). */
static int find_local(const struct sockaddr_storage *remote, struct sockaddr_storage *local,
		      int *ifindex, struct pvpn_err *e)
{
	int fd = socket(remote->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(e, -errno, "socket: %s", strerror(errno));
	socklen_t sl = sizeof(*local);
	int rc = 0;
	if (connect(fd, (const struct sockaddr *)remote, ss_len(remote)) < 0 ||
	    getsockname(fd, (struct sockaddr *)local, &sl) < 0) {
		rc = err_set(e, -errno, "no network path to the server: %s", strerror(errno));
		goto out;
	}
	*ifindex = 0;
	struct ifaddrs *ifs = NULL;
	if (getifaddrs(&ifs) == 0) {
		for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
			if (!i->ifa_addr || i->ifa_addr->sa_family != local->ss_family)
				continue;
			bool same = local->ss_family == AF_INET
				? ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr ==
					  ((struct sockaddr_in *)local)->sin_addr.s_addr
				: !memcmp(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
					  &((struct sockaddr_in6 *)local)->sin6_addr, 16);
			if (same) {
				*ifindex = (int)if_nametoindex(i->ifa_name);
				break;
			}
		}
		freeifaddrs(ifs);
	}
	if (!*ifindex)
		rc = err_set(e, -ENODEV, "cannot find the interface that holds the local address");
	if (local->ss_family == AF_INET)
		((struct sockaddr_in *)local)->sin_port = htons(500);
	else
		((struct sockaddr_in6 *)local)->sin6_port = htons(500);
out:
	close(fd);
	return rc;
}

int ctl_conn_start(struct ctl_daemon *d, const char *name, const struct prof_profile *p,
		   struct ctl_conn **out, struct pvpn_err *e)
{
	int rc;
	struct ctl_conn *c = ctl_conn_find(d, name);
	size_t idx = 0;
	if (c && c->sa)
		return err_set(e, -EALREADY, "%s is already active", name);
	bool reassert = c && c->reasserting;   /* a reconnect keeps its block policies */
	if (!c) {
		for (idx = 0; idx < CTL_MAX_CONNS; idx++)
			if (!d->conns[idx].used)
				break;
		if (idx == CTL_MAX_CONNS)
			return err_set(e, -ENOSPC, "too many connections (max %d)", CTL_MAX_CONNS);
		c = &d->conns[idx];
		memset(c, 0, sizeof(*c));
		c->used = true;
		prof_init(&c->prof);
		snprintf(c->name, sizeof(c->name), "%s", name);
	} else {
		idx = (size_t)(c - d->conns);
		prof_free(&c->prof);
		prof_init(&c->prof);
	}
	c->d = d;
	c->reqid = XFRM_REQID_MIN + 1 + (uint32_t)idx;
	c->status = IKE_STATUS_DISCONNECTED;
	c->error = IKE_ERR_NONE;
	c->ever_connected = false;
	c->have_assigned = false;
	c->no_reconnect = false;
	c->reasserting = false;
	c->rx_spi = c->tx_spi = 0;
	c->rx_packets = c->tx_packets = 0;
	c->rx_moved_ms = c->poll_ms = 0;
	err_clear(&c->last_error);
	if ((rc = prof_copy(&c->prof, p)) < 0) {
		err_set(e, rc, "out of memory");
		goto fail;
	}
	if (!c->prof.name[0])
		snprintf(c->prof.name, sizeof(c->prof.name), "%s", name);
	c->started_ms = clock_mono_ms();
	ctl_state_cleanup(d->xh, c->name);
	/* Under IncludeAllNetworks' blocks DNS may not get out: a reconnect
	 * then keeps the address it had. */
	if ((rc = resolve_server(&c->prof, &c->remote, e)) < 0 &&
	    !(reassert && ctl_block_active(c) && c->remote.ss_family))
		goto fail;
	/* IncludeAllNetworks: blocks in before the first IKE packet (block.c). */
	if ((rc = ctl_block_up(d, c, e)) < 0)
		goto fail;
	if ((rc = find_local(&c->remote, &c->local, &c->ifindex, e)) < 0)
		goto fail;
	if (d->sock[sock_slot(c->remote.ss_family, 500)] < 0) {
		rc = err_set(e, -EAFNOSUPPORT, "no IKE socket for the server's address family");
		goto fail;
	}
	struct ike_config cfg;
	rc = ctl_translate_config(&c->prof, &c->local, &c->remote, c->reqid, &cfg, e);
	if (rc == 0) {
		c->sa = ike_sa_new(&cfg, e);
		if (!c->sa)
			rc = e->code ? e->code : -EINVAL;
	}
	ike_config_clear(&cfg);
	if (rc < 0)
		goto fail;
	char b1[80], b2[80];
	CLOG(c, LOG_NOTICE, "connecting to %s (%s) from %s", c->prof.server_host,
	     ss_str(&c->remote, b1, sizeof(b1)), ss_str(&c->local, b2, sizeof(b2)));
	c->status = IKE_STATUS_CONNECTING;
	rc = ike_connect(c->sa, clock_mono_ms());
	if (rc < 0) {
		err_set(e, rc, "the engine refused to connect");
		goto fail;
	}
	conn_drain(d, c);
	rearm_timer(d);
	if (out)
		*out = c;
	return 0;
fail:
	if (c->sa) {
		ike_sa_free(c->sa);
		c->sa = NULL;
	}
	c->last_error = *e;
	c->status = IKE_STATUS_DISCONNECTED;
	if (!reassert)
		ctl_block_down(d, c);
	return rc;
}

int ctl_conn_stop(struct ctl_daemon *d, struct ctl_conn *c)
{
	bool waiting = ctl_life_user_stop(d, c);
	if (waiting || !c->sa)
		ctl_block_down(d, c);   /* the user ended it: IncludeAllNetworks' blocks go */
	if (waiting)
		return 0;
	ctl_reauth_abort(d, c);
	if (!c->sa)
		return -ENOTCONN;
	ike_disconnect(c->sa, clock_mono_ms());
	conn_drain(d, c);
	rearm_timer(d);
	return 0;
}

int ctl_daemon_run(struct ctl_daemon *d)
{
	struct pvpn_err e = { 0 };
	d->loop.stop = false;
	while (!d->loop.stop) {
		if (ctl_loop_run_once(&d->loop, -1, &e) < 0) {
			log_err("event loop: %s", e.msg);
			d->exit_code = 1;
			break;
		}
	}
	return d->exit_code;
}
