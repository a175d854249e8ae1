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

#endif
