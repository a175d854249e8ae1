/* mobike.c — see mobike.h.
 *
 * The engine has already moved the IKE SA (UPDATE_SA_ADDRESSES answered,
 * or the server's NAT rebound) when IKE_ACT_MIGRATE arrives; what is left
 * is the kernel: the SAs keep their SPIs, keys and sequence numbers
 * (xfrm_sa_move), the policies keep their selectors and get new template
 * endpoints (xfrm_policy_move).  The records in c->inst follow each step,
 * so a failure half-way still tears down exactly what is installed. */
#include "ctl/mobike.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "ctl/lifecycle.h"
#include "lib/clock.h"
#include "lib/log.h"

#define CLOG_MOVE(c, ...) log_msg(LOG_WARNING, (c)->name, __VA_ARGS__)

/* Replace the address of ss (keeping its port) with a's. */
static void set_addr(struct sockaddr_storage *ss, const struct sockaddr_storage *a)
{
	uint16_t port = 0;
	if (ss->ss_family == AF_INET)
		port = ((struct sockaddr_in *)ss)->sin_port;
	else if (ss->ss_family == AF_INET6)
		port = ((struct sockaddr_in6 *)ss)->sin6_port;
	*ss = *a;
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = port;
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = port;
}

/* The interface that holds address a (0 when none does). */
static int ifindex_of(const struct xfrm_addr *a)
{
	struct ifaddrs *ifs = NULL;
	int idx = 0;

	if (getifaddrs(&ifs) < 0)
		return 0;
	for (struct ifaddrs *i = ifs; i && !idx; i = i->ifa_next) {
		struct xfrm_addr x = { 0 };
		if (!i->ifa_addr || i->ifa_addr->sa_family != a->family)
			continue;
		ctl_sockaddr_to_xfrm((const struct sockaddr_storage *)(const void *)i->ifa_addr, &x);
		if (xfrm_addr_equal(&x, a))
			idx = (int)if_nametoindex(i->ifa_name);
	}
	freeifaddrs(ifs);
	return idx;
}

static bool listed(const struct ike_act_migrate *m, uint32_t spi)
{
	for (size_t i = 0; i < m->n_pairs && i < IKE_MIGRATE_MAX_PAIRS; i++)
		if (m->pairs[i].spi_in == spi || m->pairs[i].spi_out == spi)
			return true;
	return false;
}

/* Routes and virtual IPs: the bypass route to the server carries our
 * outer address as its source, so it follows the move; on another
 * interface, everything that named the old one is added again on the new
 * one.  Failures here are logged, not fatal: the SAs moved, the tunnel
 * works for what the remaining routes cover. */
static void move_routes(struct ctl_daemon *d, struct ctl_conn *c, const struct xfrm_move *mv,
			int new_ifindex)
{
	struct ctl_installed *in = &c->inst;
	struct pvpn_err e = { 0 };
	bool new_if = new_ifindex && new_ifindex != c->ifindex;
	char b[INET6_ADDRSTRLEN];

	if (new_if) {
		for (size_t i = 0; i < in->n_addrs; i++) {
			struct xfrm_ifaddr a = in->addrs[i];
			if (xfrm_addr_del(d->xh, &a, &e) < 0 && e.code != -EADDRNOTAVAIL &&
			    e.code != -ENOENT && e.code != -ENODEV)
				CLOG_MOVE(c, "removing the virtual IP from the old interface: %s", e.msg);
			a.ifindex = new_ifindex;
			if (xfrm_addr_add(d->xh, &a, &e) < 0 && e.code != -EEXIST)
				CLOG_MOVE(c, "adding the virtual IP %s on the new interface: %s",
					  xfrm_addr_str(&a.addr, b, sizeof(b)), e.msg);
			in->addrs[i] = a;
		}
	}
	for (size_t i = 0; i < in->n_routes; i++) {
		struct xfrm_route r = in->routes[i];
		bool bypass = xfrm_addr_equal(&r.src, &mv->old_local);
		if (!bypass && !(new_if && r.ifindex == c->ifindex))
			continue;
		if (xfrm_route_del(d->xh, &r, &e) < 0 && e.code != -ESRCH && e.code != -ENOENT &&
		    e.code != -ENODEV)
			CLOG_MOVE(c, "removing a route of the old path: %s", e.msg);
		if (bypass) {
			struct xfrm_route_info ri;
			struct pvpn_err le = { 0 };
			r.src = mv->new_local;
			if (xfrm_addr_equal(&r.dst, &mv->old_remote))
				r.dst = mv->new_remote;
			/* The server's gateway on the new path, as the kernel
			 * now routes it (our own bypass route is gone). */
			if (xfrm_route_lookup(d->xh, &r.dst, &ri, &le) == 0 && ri.ifindex) {
				r.gw = ri.gw;
				r.ifindex = new_ifindex ? new_ifindex : ri.ifindex;
			}
		}
		if (new_if && r.ifindex == c->ifindex)
			r.ifindex = new_ifindex;
		if (xfrm_route_add(d->xh, &r, &e) < 0 && e.code != -EEXIST)
			CLOG_MOVE(c, "route %s/%u on the new path: %s",
				  xfrm_addr_str(&r.dst, b, sizeof(b)), r.dst_len, e.msg);
		in->routes[i] = r;
	}
	if (new_if)
		c->ifindex = new_ifindex;
}

int ctl_mobike_migrate(struct ctl_daemon *d, struct ctl_conn *c, const struct ike_act_migrate *m)
{
	struct xfrm_move mv;
	struct pvpn_err e = { 0 };
	char from[INET6_ADDRSTRLEN + 8], to[INET6_ADDRSTRLEN + 8];
	char rfrom[INET6_ADDRSTRLEN], rto[INET6_ADDRSTRLEN];
	size_t moved = 0, pols = 0;
	int rc = 0;

	memset(&mv, 0, sizeof(mv));
	ctl_sockaddr_to_xfrm(&m->old_local, &mv.old_local);
	ctl_sockaddr_to_xfrm(&m->old_remote, &mv.old_remote);
	ctl_sockaddr_to_xfrm(&m->new_local, &mv.new_local);
	ctl_sockaddr_to_xfrm(&m->new_remote, &mv.new_remote);
	if (m->new_encap) {
		mv.new_encap.sport = m->new_encap_local_port;
		mv.new_encap.dport = m->new_encap_remote_port;
	}
	xfrm_addr_str(&mv.old_local, from, sizeof(from));
	xfrm_addr_str(&mv.new_local, to, sizeof(to));
	xfrm_addr_str(&mv.old_remote, rfrom, sizeof(rfrom));
	xfrm_addr_str(&mv.new_remote, rto, sizeof(rto));
	int new_ifindex = ifindex_of(&mv.new_local);

	for (size_t i = 0; i < c->inst.n_sas; i++) {
		struct xfrm_sa_id *id = &c->inst.sas[i];
		if (!listed(m, id->spi))
			continue;
		uint32_t spi = id->spi;
		rc = xfrm_sa_move(d->xh, id, &mv, &e);
		if (rc < 0) {
			if (!id->spi) {
				/* Gone from the kernel: forget it. */
				memmove(id, id + 1, (c->inst.n_sas - i - 1) * sizeof(*id));
				c->inst.n_sas--;
			}
			err_set(&c->last_error, rc, "moving SA %08x to the new path: %s", spi, e.msg);
			goto out;
		}
		moved++;
	}
	for (size_t i = 0; i < c->inst.n_policies; i++) {
		rc = xfrm_policy_move(d->xh, &c->inst.policies[i], &mv, &e);
		if (rc < 0) {
			err_set(&c->last_error, rc, "moving a policy to the new path: %s", e.msg);
			goto out;
		}
		pols += (size_t)rc;
	}
	rc = 0;
	move_routes(d, c, &mv, new_ifindex);
	set_addr(&c->local, &m->new_local);
	set_addr(&c->remote, &m->new_remote);
	c->child.encap = m->new_encap;
	/* The move is done: the watcher compares with c->local again. */
	memset(&c->path_reported, 0, sizeof(c->path_reported));
	c->path_lost = false;
	if (!xfrm_addr_equal(&mv.old_local, &mv.new_local))
		log_msg(LOG_NOTICE, c->name, "moved to %s from %s (%zu SAs, %zu policies%s)", to, from,
			moved, pols, m->new_encap ? ", UDP-encapsulated" : "");
	if (!xfrm_addr_equal(&mv.old_remote, &mv.new_remote) ||
	    m->old_encap_remote_port != m->new_encap_remote_port || m->old_encap != m->new_encap)
		log_msg(LOG_NOTICE, c->name, "server path moved to %s:%u from %s:%u (%zu SAs)", rto,
			m->new_encap ? m->new_encap_remote_port : 0, rfrom,
			m->old_encap ? m->old_encap_remote_port : 0, moved);
out:
	/* A failed move ends the IKE SA (conn.c); connect again from the new
	 * path at once rather than not at all (ctl_life_on_finished). */
	if (rc < 0)
		c->path_changed = true;
	{
		int src = ctl_state_save(c->name, &c->inst);
		if (src < 0)
			log_msg(LOG_WARNING, c->name, "cannot record the moved SAs for crash recovery: %s",
				strerror(-src));
	}
	return rc;
}

void ctl_mobike_mapping(struct ctl_daemon *d, const struct xfrm_ev_mapping *ev)
{
	struct sockaddr_storage ss;
	char b[INET6_ADDRSTRLEN];

	memset(&ss, 0, sizeof(ss));
	if (ev->new_addr.family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;
		s->sin_family = AF_INET;
		s->sin_addr = ev->new_addr.v4;
		s->sin_port = htons(ev->new_port);
	} else if (ev->new_addr.family == AF_INET6) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
		s->sin6_family = AF_INET6;
		s->sin6_addr = ev->new_addr.v6;
		s->sin6_port = htons(ev->new_port);
	} else {
		return;
	}
	for (size_t k = 0; k < CTL_MAX_CONNS; k++) {
		struct ctl_conn *c = &d->conns[k];
		bool ours = false;
		if (!c->used || !c->sa)
			continue;
		for (size_t i = 0; i < c->inst.n_sas && !ours; i++)
			ours = c->inst.sas[i].spi == ev->id.spi &&
			       xfrm_addr_equal(&c->inst.sas[i].dst, &ev->id.dst);
		if (!ours)
			continue;
		int rc = ike_nat_mapping(c->sa, &ss, clock_mono_ms());
		if (rc == 1)
			log_msg(LOG_NOTICE, c->name, "the server's NAT mapping changed: now %s:%u",
				xfrm_addr_str(&ev->new_addr, b, sizeof(b)), ev->new_port);
		else if (rc < 0 && rc != -EPERM)
			log_msg(LOG_INFO, c->name, "NAT mapping event for SA %08x not applied: %s",
				ev->id.spi, strerror(-rc));
		ctl_conn_drain(d, c);
		return;
	}
}
