/* mobike.h — ctl/'s side of a path change under a running tunnel (internal
 * to ctl/): the engine's IKE_ACT_MIGRATE applied to the kernel (MOBIKE,
 * RFC 4555 §3.5; a NAT mapping change, RFC 3948 / RFC 7296 §2.23), and the
 * kernel's MAPPING events handed to the engine that owns the SA. */
#ifndef PVPN_CTL_MOBIKE_H
#define PVPN_CTL_MOBIKE_H

#include "ctl/ctl.h"

/* Move c's SA pairs, policy templates, server bypass route (and, when the
 * interface changed, its virtual IPs and routes) to the new path; update
 * c->inst, the crash-recovery record, c->local / c->remote / c->ifindex;
 * log "moved to A from B".  0, or negative with c->last_error filled (the
 * caller then ends the IKE SA, and pvpnd reconnects). */
int ctl_mobike_migrate(struct ctl_daemon *d, struct ctl_conn *c,
		       const struct ike_act_migrate *m);

/* The kernel's XFRM MAPPING event: the engine owning the SA (by SPI) is
 * told the peer's new address and port (ike_nat_mapping) and its actions
 * are drained.  Events for SAs that are not ours are ignored. */
void ctl_mobike_mapping(struct ctl_daemon *d, const struct xfrm_ev_mapping *ev);

/* lifecycle.c: watch links, addresses and routes (rtnetlink) and check
 * the path to every connected server ~200 ms after a change, instead of
 * polling.  Not fatal when it cannot open: the 5 s poll stays. */
void ctl_life_watch_open(struct ctl_daemon *d);
void ctl_life_watch_close(struct ctl_daemon *d);

#endif
