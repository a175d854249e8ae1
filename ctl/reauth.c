/* reauth.c — see reauth.h.  Make-before-break re-authentication (RFC 4478,
 * RFC 7296 §2.8.3): the new IKE SA and its Child SA exist before the old
 * ones are deleted. */
#include "ctl/reauth.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl/lifecycle.h"
#include "lib/clock.h"
#include "lib/log.h"

#define RLOG(c, lvl, ...) log_msg(lvl, (c)->name, __VA_ARGS__)

/* A failed attempt (a lost exchange, a busy server) is tried again this
 * long after, up to REAUTH_TRIES attempts per lifetime the server gave. */
#define REAUTH_RETRY_MS 5000
#define REAUTH_TRIES    3

static void remove_sa(struct ctl_daemon *d, struct ctl_conn *c, const struct xfrm_sa_id *id)
{
	struct pvpn_err e = { 0 };
	if (xfrm_sa_delete(d->xh, id, &e) < 0 && e.code != -ESRCH && e.code != -ENOENT)
		RLOG(c, LOG_WARNING, "removing SA %08x: %s", id->spi, e.msg);
}

/* The second IKE SA's kernel state (its SAs and an unfilled SPI). */
static void remove_new_state(struct ctl_daemon *d, struct ctl_conn *c)
{
	struct ctl_reauth *ra = &c->reauth;
	for (size_t i = 0; i < ra->n_sas; i++)
		remove_sa(d, c, &ra->sas[i]);
	ra->n_sas = 0;
	if (ra->has_larval)
		remove_sa(d, c, &ra->larval);
	ra->has_larval = false;
}

/* The old IKE SA after the switch: only its DELETE exchange is left; its
 * kernel state is gone already, so only SEND and the end matter. */
static void drain_old(struct ctl_daemon *d, struct ctl_conn *c)
{
	struct ctl_reauth *ra = &c->reauth;
	struct ike_action a;
	bool ended = false;

	while (ra->old && ike_next_action(ra->old, &a)) {
		if (a.type == IKE_ACT_SEND)
			ctl_conn_send(d, c, &a.u.send);
		else if (a.type == IKE_ACT_KEYLOG)
			ctl_keylog_write_engine(&d->keylog, a.u.keylog.text, a.u.keylog.len);
		else if (a.type == IKE_ACT_STATUS && a.u.status.status == IKE_STATUS_DISCONNECTED)
			ended = true;
	}
	if (ended) {
		RLOG(c, LOG_INFO, "re-authentication: the old IKE SA is deleted");
		ike_sa_free(ra->old);
		ra->old = NULL;
	}
}

/* The old IKE SA leaves: DELETE (RFC 7296 §1.4.1), answered in the
 * background by drain_old. */
static void retire(struct ctl_daemon *d, struct ctl_conn *c, struct ike_sa *old)
{
	struct ctl_reauth *ra = &c->reauth;
	if (ra->old) {   /* an earlier one still waiting: it goes now */
		ike_sa_free(ra->old);
		ra->old = NULL;
	}
	ra->old = old;
	ike_disconnect(old, clock_mono_ms());
	drain_old(d, c);
}

static bool same_vips(const struct ctl_conn *c)
{
	const struct ike_act_config *o = &c->assigned, *n = &c->reauth.assigned;
	if (c->have_assigned != c->reauth.have_assigned)
		return false;
	if (!c->have_assigned)
		return true;
	if (o->has_vip4 != n->has_vip4 || o->has_vip6 != n->has_vip6)
		return false;
	if (o->has_vip4 && o->vip4.s_addr != n->vip4.s_addr)
		return false;
	return !o->has_vip6 || !memcmp(&o->vip6, &n->vip6, sizeof(o->vip6));
}

/* The policies the new Child SA would have are the ones installed. */
static bool same_policies(const struct ctl_conn *c, const struct ike_act_child *ch)
{
	static struct xfrm_policy pols[CTL_MAX_POLICIES];
	struct pvpn_err e = { 0 };
	size_t n = 0;

	if (ctl_translate_policies(ch, 0, pols, CTL_MAX_POLICIES, &n, &e) < 0 ||
	    n != c->inst.n_policies)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool found = false;
		for (size_t k = 0; k < c->inst.n_policies && !found; k++)
			found = pols[i].dir == c->inst.policies[k].dir &&
				!memcmp(&pols[i].sel, &c->inst.policies[k].sel, sizeof(pols[i].sel));
		if (!found)
			return false;
	}
	return true;
}

/* Beside the old SAs, like a Child SA rekey (ctl_life_install_rekeyed):
 * inbound first (it fills the SPI the kernel reserved), then outbound,
 * which the policies' template picks from now on (newest SA of the reqid). */
static int install_beside(struct ctl_daemon *d, struct ctl_conn *c, const struct ike_act_child *ch)
{
	struct ctl_reauth *ra = &c->reauth;
	struct pvpn_err e = { 0 };
	int rc;

	if ((rc = ctl_conn_add_sa(d, ch, true, &e)) < 0)
		goto fail;
	ra->has_larval = false;
	ra->sas[ra->n_sas] = (struct xfrm_sa_id){ .spi = ch->spi_in, .proto = IPPROTO_ESP };
	ctl_sockaddr_to_xfrm(&ch->local, &ra->sas[ra->n_sas++].dst);
	if ((rc = ctl_conn_add_sa(d, ch, false, &e)) < 0)
		goto fail;
	ra->sas[ra->n_sas] = (struct xfrm_sa_id){ .spi = ch->spi_out, .proto = IPPROTO_ESP };
	ctl_sockaddr_to_xfrm(&ch->remote, &ra->sas[ra->n_sas++].dst);
	ra->child = (struct ctl_child_rec){
		.encr_id = ch->encr_id, .encr_key_bits = ch->encr_key_bits,
		.integ_id = ch->integ_id, .encap = ch->encap,
		.soft_lifetime_s = ch->soft_lifetime_s,
	};
	RLOG(c, LOG_NOTICE, "re-authentication: new CHILD SA installed beside the old one: "
	     "SPIs in %08x out %08x", ch->spi_in, ch->spi_out);
	return 0;
fail:
	return err_set(&c->last_error, rc, "installing the re-authenticated Child SA: %s", e.msg);
}

/* Another virtual IP or other selectors: the old state cannot serve the
 * new SA, so the switch is a full one (a short break). */
static int switch_full(struct ctl_daemon *d, struct ctl_conn *c, const struct ike_act_child *ch)
{
	struct ctl_reauth *ra = &c->reauth;
	struct ike_sa *old = c->sa;
	int rc;

	RLOG(c, LOG_WARNING, "re-authentication: the server gave %s; switching over in full "
	     "(the tunnel breaks briefly)", same_vips(c) ? "other traffic selectors"
							 : "another virtual IP");
	ctl_conn_teardown(d, c);
	c->assigned = ra->assigned;
	c->have_assigned = ra->have_assigned;
	c->has_larval = ra->has_larval;
	c->larval = ra->larval;
	ra->has_larval = false;
	c->sa = ra->sa;
	ra->sa = NULL;
	ra->switched = true;
	rc = ctl_conn_install_full(d, c, ch);
	if (rc == 0) {
		ra->done++;
		RLOG(c, LOG_NOTICE, "re-authenticated (%u) in full: SPIs in %08x out %08x; "
		     "deleting the old IKE SA", ra->done, ch->spi_in, ch->spi_out);
	}
	retire(d, c, old);
	return rc;
}

/* The new IKE SA is up: the old one's SAs go (policies, routes and VIP
 * stay: they are the same), the new one takes c->sa. */
static void switch_over(struct ctl_daemon *d, struct ctl_conn *c)
{
	struct ctl_reauth *ra = &c->reauth;
	struct ike_sa *old = c->sa;
	uint32_t in = 0, out = 0;

	for (size_t i = 0; i < c->inst.n_sas; i++)
		remove_sa(d, c, &c->inst.sas[i]);
	memcpy(c->inst.sas, ra->sas, sizeof(ra->sas));
	c->inst.n_sas = ra->n_sas;
	ra->n_sas = 0;
	c->child = ra->child;
	c->has_larval = false;
	c->sa = ra->sa;
	ra->sa = NULL;
	ra->done++;
	ike_child_spis(c->sa, &in, &out);
	RLOG(c, LOG_NOTICE, "re-authenticated (%u): the new IKE SA carries the tunnel "
	     "(SPIs in %08x out %08x); deleting the old IKE SA", ra->done, in, out);
	int rc = ctl_state_save(c->name, &c->inst);
	if (rc < 0)
		RLOG(c, LOG_WARNING, "cannot record the new SAs for crash recovery: %s",
		     strerror(-rc));
	retire(d, c, old);
}

static void failed(struct ctl_daemon *d, struct ctl_conn *c, const char *why)
{
	struct ctl_reauth *ra = &c->reauth;
	ra->failed++;
	if (ra->tries < REAUTH_TRIES) {
		ra->retry_at_ms = clock_mono_ms() + REAUTH_RETRY_MS;
		RLOG(c, LOG_WARNING, "re-authentication failed: %s; the current IKE SA stays, "
		     "trying again in %u s", why && why[0] ? why : "unknown reason",
		     REAUTH_RETRY_MS / 1000);
	} else {
		ra->retry_at_ms = 0;
		RLOG(c, LOG_WARNING, "re-authentication failed: %s; the current IKE SA stays until "
		     "the server ends it", why && why[0] ? why : "unknown reason");
	}
	remove_new_state(d, c);
	ike_sa_free(ra->sa);
	ra->sa = NULL;
}

/* Apply the second IKE SA's actions (before it takes c->sa). */
static void drain_new(struct ctl_daemon *d, struct ctl_conn *c)
{
	struct ctl_reauth *ra = &c->reauth;
	struct ike_action a;
	bool up = false, down = false;
	char why[IKE_DETAIL_MAX + 64] = "";

	while (ra->sa && ike_next_action(ra->sa, &a)) {
		switch (a.type) {
		case IKE_ACT_SEND:
			ctl_conn_send(d, c, &a.u.send);
			break;
		case IKE_ACT_ALLOC_SPI: {
			/* The same reqid: the policies in place serve it. */
			struct xfrm_sa_id larval;
			uint32_t spi = ctl_conn_alloc_spi(d, c, &a.u.alloc_spi,
							  "re-authentication: ", &larval);
			if (spi && !ra->has_larval) {
				ra->has_larval = true;
				ra->larval = larval;
			}
			ike_spi_allocated(ra->sa, spi, clock_mono_ms());
			break;
		}
		case IKE_ACT_CONFIG:
			ra->assigned = a.u.config;
			ra->have_assigned = true;
			break;
		case IKE_ACT_KEYLOG:
			ctl_keylog_write_engine(&d->keylog, a.u.keylog.text, a.u.keylog.len);
			break;
		case IKE_ACT_INSTALL_CHILD:
			if (a.u.install.rekey) {
				/* Not before it is up; nothing to do. */
				break;
			}
			ra->same = same_vips(c) && same_policies(c, &a.u.install);
			if (ra->same) {
				if (install_beside(d, c, &a.u.install) < 0) {
					snprintf(why, sizeof(why), "%s", c->last_error.msg);
					ike_disconnect(ra->sa, clock_mono_ms());
				}
				break;
			}
			/* The new SA is c->sa from here on: conn.c goes on. */
			if (switch_full(d, c, &a.u.install) < 0) {
				RLOG(c, LOG_ERR, "%s", c->last_error.msg);
				ike_disconnect(c->sa, clock_mono_ms());
			}
			ctl_conn_drain(d, c);
			return;
		case IKE_ACT_REMOVE_CHILD:
			remove_new_state(d, c);
			break;
		case IKE_ACT_STATUS:
			if (a.u.status.status == IKE_STATUS_CONNECTED)
				up = true;
			else if (a.u.status.status == IKE_STATUS_DISCONNECTED) {
				down = true;
				if (!why[0])
					snprintf(why, sizeof(why), "%s%s%s",
						 ike_error_name(a.u.status.error),
						 a.u.status.detail[0] ? ": " : "", a.u.status.detail);
			}
			break;
		default:
			break;
		}
	}
	if (down)
		failed(d, c, why);
	else if (up && ra->sa)
		switch_over(d, c);
}

static void start(struct ctl_daemon *d, struct ctl_conn *c, uint64_t dl, uint64_t now)
{
	struct ctl_reauth *ra = &c->reauth;
	struct ike_config cfg;
	struct pvpn_err e = { 0 };
	int rc;

	if (ra->tried_for != dl)
		ra->tries = 0;
	ra->tried_for = dl;
	ra->tries++;
	ra->retry_at_ms = 0;
	ra->same = ra->switched = false;
	ra->have_assigned = false;
	ra->n_sas = 0;
	ra->has_larval = false;
	rc = ctl_translate_config(&c->prof, &c->local, &c->remote, c->reqid, &cfg, &e);
	if (rc == 0) {
		cfg.reauth = true;
		if (c->have_assigned && c->assigned.has_vip4)
			cfg.reauth_vip4 = c->assigned.vip4;
		if (c->have_assigned && c->assigned.has_vip6)
			cfg.reauth_vip6 = c->assigned.vip6;
		ra->sa = ike_sa_new(&cfg, &e);
		if (!ra->sa)
			rc = e.code ? e.code : -EINVAL;
	}
	ike_config_clear(&cfg);
	if (rc < 0) {
		/* The configuration will not get better by waiting. */
		ra->failed++;
		RLOG(c, LOG_WARNING, "cannot re-authenticate: %s; the current IKE SA stays until "
		     "the server ends it", e.msg);
		return;
	}
	RLOG(c, LOG_NOTICE, "re-authenticating: a new IKE SA beside the current one (RFC 4478)");
	if (ike_connect(ra->sa, now) < 0) {
		failed(d, c, "the engine refused to connect");
		return;
	}
	drain_new(d, c);
}

void ctl_reauth_timer(struct ctl_daemon *d, uint64_t now_ms)
{
	for (size_t i = 0; i < CTL_MAX_CONNS; i++) {
		struct ctl_conn *c = &d->conns[i];
		struct ctl_reauth *ra = &c->reauth;
		uint64_t t;
		if (!c->used)
			continue;
		if (ra->sa && (t = ike_next_deadline(ra->sa)) && t <= now_ms) {
			ike_tick(ra->sa, now_ms);
			drain_new(d, c);
		}
		if (ra->old && (t = ike_next_deadline(ra->old)) && t <= now_ms) {
			ike_tick(ra->old, now_ms);
			drain_old(d, c);
		}
		if (c->sa && !ra->sa && c->status == IKE_STATUS_CONNECTED && !d->stopping &&
		    (t = ike_reauth_deadline(c->sa)) && t <= now_ms &&
		    (t != ra->tried_for || (ra->retry_at_ms && now_ms >= ra->retry_at_ms)))
			start(d, c, t, now_ms);
	}
}

uint64_t ctl_reauth_deadline(const struct ctl_daemon *d)
{
	uint64_t next = 0;
	for (size_t i = 0; i < CTL_MAX_CONNS; i++) {
		const struct ctl_conn *c = &d->conns[i];
		const struct ctl_reauth *ra = &c->reauth;
		uint64_t t[3] = { 0, 0, 0 };
		if (!c->used)
			continue;
		if (ra->sa)
			t[0] = ike_next_deadline(ra->sa);
		if (ra->old)
			t[1] = ike_next_deadline(ra->old);
		if (c->sa && !ra->sa && c->status == IKE_STATUS_CONNECTED) {
			t[2] = ike_reauth_deadline(c->sa);
			if (t[2] && t[2] == ra->tried_for)
				t[2] = ra->retry_at_ms;
		}
		for (size_t k = 0; k < 3; k++)
			if (t[k] && (!next || t[k] < next))
				next = t[k];
	}
	return next;
}

bool ctl_reauth_receive(struct ctl_daemon *d, struct ctl_conn *c, const uint8_t *buf,
			size_t len, const struct ike_path *path, uint64_t now_ms)
{
	struct ctl_reauth *ra = &c->reauth;
	int rc;

	if (ra->sa && ike_owns_datagram(ra->sa, buf, len, path)) {
		if ((rc = ike_receive(ra->sa, buf, len, path, now_ms)) < 0)
			RLOG(c, LOG_DEBUG, "re-authentication: dropped a %zu-byte datagram: %s", len,
			     strerror(-rc));
		drain_new(d, c);
		return true;
	}
	if (ra->old && ike_owns_datagram(ra->old, buf, len, path)) {
		if ((rc = ike_receive(ra->old, buf, len, path, now_ms)) < 0)
			RLOG(c, LOG_DEBUG, "old IKE SA: dropped a %zu-byte datagram: %s", len,
			     strerror(-rc));
		drain_old(d, c);
		return true;
	}
	return false;
}

void ctl_reauth_abort(struct ctl_daemon *d, struct ctl_conn *c)
{
	struct ctl_reauth *ra = &c->reauth;
	struct ike_action a;

	if (ra->sa) {
		RLOG(c, LOG_INFO, "re-authentication abandoned: the connection ends");
		/* One DELETE if it got that far; no waiting for the answer. */
		ike_disconnect(ra->sa, clock_mono_ms());
		while (ike_next_action(ra->sa, &a))
			if (a.type == IKE_ACT_SEND)
				ctl_conn_send(d, c, &a.u.send);
		remove_new_state(d, c);
		ike_sa_free(ra->sa);
		ra->sa = NULL;
	}
	if (ra->old) {
		ike_sa_free(ra->old);
		ra->old = NULL;
	}
}
