/* lifecycle.h — ctl/'s side of the tunnel's life after it came up: a
 * rekeyed Child SA's new SA pair installed next to the old one, the old
 * pair removed after its grace period (internal to ctl/). */
#ifndef PVPN_CTL_LIFECYCLE_H
#define PVPN_CTL_LIFECYCLE_H

#include "ctl/ctl.h"

/* The engine's INSTALL_CHILD with rekey set: the two SAs only (the
 * policies stay and pick the newest outbound SA).  0 or negative with
 * c->last_error filled. */
int ctl_life_install_rekeyed(struct ctl_daemon *d, struct ctl_conn *c,
			     const struct ike_act_child *ch);
/* The engine's REMOVE_CHILD with old_only set. */
void ctl_life_remove_old(struct ctl_daemon *d, struct ctl_conn *c,
			 const struct ike_act_remove_child *r);

/* Reconnecting after an unplanned loss (RFC 7296 §2.4 dead peer, the
 * server's DELETE, a restarted server, a network failure): called by
 * conn_finished once the old state is gone.  true = a reconnect is
 * scheduled with backoff (status reasserting); the connection stays. */
bool ctl_life_on_finished(struct ctl_daemon *d, struct ctl_conn *c);
/* From the timer, before the engines' deadlines run: reconnects that are
 * due, and inbound ESP counters fed to engines whose liveness check is due
 * (a check only when the peer sent nothing). */
void ctl_life_timer(struct ctl_daemon *d, uint64_t now_ms);
/* The earliest reconnect due; 0 = none. */
uint64_t ctl_life_deadline(const struct ctl_daemon *d);
/* The user stopped c: no reconnect.  true when c was only waiting to
 * reconnect (nothing to send; it is now disconnected). */
bool ctl_life_user_stop(struct ctl_daemon *d, struct ctl_conn *c);

/* conn.c: drain an engine's queued actions (after calling into it). */
void ctl_conn_drain(struct ctl_daemon *d, struct ctl_conn *c);
/* conn.c: one SA of ch into the kernel (a first install, a rekey, a
 * re-authentication alike): inbound fills the larval SA the SPI
 * allocation left (added when there is none), outbound is added.  The
 * key material is wiped.  0 or negative errno with e filled. */
int ctl_conn_add_sa(struct ctl_daemon *d, const struct ike_act_child *ch, bool inbound,
		    struct pvpn_err *e);

#endif
