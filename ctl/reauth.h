/* reauth.h — ctl/'s side of re-authentication (RFC 4478), internal to
 * ctl/: when the engine's ike_reauth_deadline comes, a second IKE SA for
 * the same connection (same profile, config and reqid) is made; its Child
 * SA goes in as extra SAs beside the old ones (the policies stay and pick
 * the newest outbound SA); once it is up the old IKE SA is deleted and the
 * new one takes c->sa.  The status stays connected throughout.  When the
 * new one gets another virtual IP or other selectors, the switch is a full
 * one (old state out, new state in).  When it fails, the old one stays
 * until its own end. */
#ifndef PVPN_CTL_REAUTH_H
#define PVPN_CTL_REAUTH_H

#include "ctl/ctl.h"

/* From the timer: start re-authentications that are due, run the timers
 * of the second and the retiring IKE SAs. */
void ctl_reauth_timer(struct ctl_daemon *d, uint64_t now_ms);
/* The earliest of those; 0 = none. */
uint64_t ctl_reauth_deadline(const struct ctl_daemon *d);
/* A datagram from c's server: true when it belonged to c's second or
 * retiring IKE SA (then it was handled). */
bool ctl_reauth_receive(struct ctl_daemon *d, struct ctl_conn *c, const uint8_t *buf,
			size_t len, const struct ike_path *path, uint64_t now_ms);
/* c ends or is stopped: the second IKE SA goes (DELETE sent once, its
 * SAs removed), the retiring one too. */
void ctl_reauth_abort(struct ctl_daemon *d, struct ctl_conn *c);

/* conn.c, for reauth.c: send a SEND action for c; install a Child SA in
 * full (SAs, policies, VIP, routes) into c->inst; remove all of c->inst. */
void ctl_conn_send(struct ctl_daemon *d, struct ctl_conn *c, const struct ike_act_send *s);
int ctl_conn_install_full(struct ctl_daemon *d, struct ctl_conn *c, const struct ike_act_child *ch);
void ctl_conn_teardown(struct ctl_daemon *d, struct ctl_conn *c);
/* The engine's ALLOC_SPI for c (either IKE SA): the reserved inbound SPI
 * under c->reqid with *larval_out filled, or 0 when the kernel refused
 * (logged, the message prefixed by what). */
uint32_t ctl_conn_alloc_spi(struct ctl_daemon *d, struct ctl_conn *c,
			    const struct ike_act_alloc_spi *as, const char *what,
			    struct xfrm_sa_id *larval_out);

#endif
