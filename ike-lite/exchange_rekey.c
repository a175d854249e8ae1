/* exchange_rekey.c — rekeying the Child SA with CREATE_CHILD_SA (RFC 7296
 * §1.3.3, §2.8), started by us (a randomised time before the soft
 * lifetime, or the kernel's EXPIRE) or by the server, with PFS when the
 * Child proposals carry a group (§1.3.1).  Make-before-break: the new pair
 * is installed before the old one goes; the old inbound SA stays a few
 * seconds for packets in flight (LIFE_GRACE_MS), then both old SAs are
 * removed.
 *
 * A collision (the server rekeys the pair while our own rekey of it is
 * under way) is answered with TEMPORARY_FAILURE (§2.25): the server retries
 * later and exactly one new pair survives — ours. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike-lite/engine_internal.h"
#include "lib/log.h"

#define LIFE_PLAIN_MAX 4096

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint32_t eng_rand_below(struct ike_sa *sa, uint32_t n)
{
	uint32_t r = 0;
	if (!n)
		return 0;
	sa->rnd(&r, sizeof(r));
	return r % n;
}

/* ------------------------------------------------------------ planning */

uint64_t eng_life_rekey_at(struct ike_sa *sa, uint64_t now_ms, uint32_t lifetime_s)
{
	uint64_t life = (uint64_t)lifetime_s * 1000;
	uint64_t margin = (uint64_t)sa->cfg.rekey_margin_s * 1000;
	/* §2.8: rekey RekeyMargin before the lifetime ends (default: at 90 %,
	 * where the kernel's soft limit is), less up to a third of the margin
	 * at random so both ends rarely start at the same moment. */
	if (!margin || margin >= life)
		margin = life / 10;
	return now_ms + life - margin - eng_rand_below(sa, (uint32_t)(margin / 3) + 1);
}

void eng_life_child_installed(struct ike_sa *sa, uint64_t now_ms)
{
	sa->life.rekey_ms = eng_life_rekey_at(sa, now_ms, sa->cfg.child_lifetime_s);
	if (!sa->life.ike_rekey_ms)
		eng_life_plan_ike(sa, now_ms);
}

void eng_life_free(struct ike_sa *sa)
{
	struct eng_life *l = &sa->life;
	ike_dh_free(l->dh);
	l->dh = NULL;
	if (l->r_ke) {
		secret_wipe(l->r_ke, l->r_ke_len);
		free(l->r_ke);
	}
	l->r_ke = NULL;
	l->r_ke_len = 0;
	secret_wipe(l->n_ours, sizeof(l->n_ours));
	l->rk = RK_IDLE;
	l->rekey_ms = 0;
	l->old_valid = false;
	l->ike_rk = false;
	l->ike_rekey_ms = 0;
	memset(l->more_old, 0, sizeof(l->more_old));
	ike_child_keys_free(&l->p_keys);
	l->p_valid = l->coll = l->r_wait = false;
	eng_old_ike_free(sa);
}

static void queue_alloc_spi(struct ike_sa *sa)
{
	struct ike_action a;
	memset(&a, 0, sizeof(a));
	a.type = IKE_ACT_ALLOC_SPI;
	a.u.alloc_spi.local = sa->cfg.local;
	a.u.alloc_spi.remote = sa->cfg.remote;
	eng_set_port(&a.u.alloc_spi.local, 0);
	eng_set_port(&a.u.alloc_spi.remote, 0);
	a.u.alloc_spi.proto = IPPROTO_ESP;
	eng_queue(sa, &a, NULL, 0, NULL);
}

static void remove_old(struct ike_sa *sa)
{
	if (!sa->life.old_valid)
		return;
	eng_queue_remove_child(sa, sa->life.old_spi_in, sa->life.old_spi_out, true);
	sa->life.old_valid = false;
}

static bool can_start(const struct ike_sa *sa)
{
	return sa->state == ST_ESTABLISHED && sa->child_up && sa->req.kind == REQ_NONE &&
	       !sa->delete_pending;
}

static int start(struct ike_sa *sa)
{
	sa->life.rk = RK_I_WAIT_SPI;
	sa->life.new_spi_in = 0;
	sa->life.ke_retries = 0;
	log_msg(LOG_DEBUG, sa->cfg.log_name, "IKE: rekeying Child SA %08x/%08x",
		(unsigned)sa->spi_in, (unsigned)sa->spi_out);
	queue_alloc_spi(sa);
	return 0;
}

int ike_rekey_child(struct ike_sa *sa, uint64_t now_ms)
{
	eng_enter(sa);
	if (sa->state != ST_ESTABLISHED || !sa->child_up)
		return -ENOTCONN;
	if (sa->life.rk != RK_IDLE)
		return 0;
	if (!can_start(sa)) {
		/* The window is busy (§2.3): as soon as it is free. */
		sa->life.rekey_ms = now_ms;
		return 0;
	}
	return start(sa);
}

int ike_child_expired(struct ike_sa *sa, uint32_t spi, bool hard, uint64_t now_ms)
{
	eng_enter(sa);
	if (sa->life.old_valid && (spi == sa->life.old_spi_in || spi == sa->life.old_spi_out))
		return 0;   /* a replaced pair: on its way out anyway */
	if (!sa->child_up || (spi != sa->spi_in && spi != sa->spi_out))
		return -ENOENT;
	log_msg(hard ? LOG_WARNING : LOG_DEBUG, sa->cfg.log_name,
		"IKE: the kernel reports the %s lifetime of SA %08x", hard ? "hard" : "soft",
		(unsigned)spi);
	if (sa->life.rk != RK_IDLE)
		return 0;
	sa->life.rekey_ms = now_ms;
	if (can_start(sa))
		return start(sa);
	return 0;
}

/* --------------------------------------------------------- our offer */

/* The groups we offer for PFS with proposal i: its own, else the IKE SA's
 * when PFS is on (§1.3.1: KE in CREATE_CHILD_SA). */
static size_t pfs_groups(const struct ike_sa *sa, size_t i, uint16_t *out)
{
	const struct ike_cfg_proposal *c = &sa->cfg.child_proposals[i];
	size_t n = 0;
	for (size_t j = 0; j < c->n_dh && n < IKE_CFG_MAX_ALGS; j++)
		if (c->dh[j] && ike_dh_supported(c->dh[j]))
			out[n++] = c->dh[j];
	if (!n && sa->cfg.pfs && sa->suite.dh)
		out[n++] = sa->suite.dh;
	return n;
}

static bool group_offered(const struct ike_sa *sa, uint16_t g)
{
	uint16_t gs[IKE_CFG_MAX_ALGS];
	for (size_t i = 0; i < sa->cfg.n_child_proposals; i++) {
		size_t n = pfs_groups(sa, i, gs);
		for (size_t j = 0; j < n; j++)
			if (gs[j] == g)
				return true;
	}
	return false;
}

static void make_offer(const struct ike_sa *sa, uint32_t spi, struct eng_offer *o)
{
	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < sa->cfg.n_child_proposals; i++) {
		const struct ike_cfg_proposal *c = &sa->cfg.child_proposals[i];
		struct ike_proposal *p = &o->props[i];
		uint16_t gs[IKE_CFG_MAX_ALGS];
		size_t ng = pfs_groups(sa, i, gs);
		uint8_t k = 0;
		p->num = (uint8_t)(i + 1);
		p->protocol = IKE_PROTO_ESP;
		p->spi_size = 4;
		put32(p->spi, spi);
		for (size_t j = 0; j < c->n_encr; j++)
			eng_offer_add_xf(o->xf[i], &k, IKE_TRANS_ENCR, c->encr[j].id, c->encr[j].key_bits);
		for (size_t j = 0; j < c->n_integ; j++)
			if (c->integ[j])
				eng_offer_add_xf(o->xf[i], &k, IKE_TRANS_INTEG, c->integ[j], 0);
		for (size_t j = 0; j < ng; j++)
			eng_offer_add_xf(o->xf[i], &k, IKE_TRANS_DH, gs[j], 0);
		if (!c->n_esn)
			eng_offer_add_xf(o->xf[i], &k, IKE_TRANS_ESN, IKE_ESN_NO, 0);
		for (size_t j = 0; j < c->n_esn; j++)
			eng_offer_add_xf(o->xf[i], &k, IKE_TRANS_ESN, c->esn[j], 0);
		p->nxforms = k;
		p->xforms = o->xf[i];
	}
	o->n = sa->cfg.n_child_proposals;
}

static void ts_from_cfg(const struct ike_cfg_ts *c, size_t n, struct ike_ts *out)
{
	for (size_t i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].type = c[i].type;
		out[i].ip_proto = c[i].ip_proto;
		out[i].start_port = c[i].start_port;
		out[i].end_port = c[i].end_port;
		memcpy(out[i].start, c[i].start, 16);
		memcpy(out[i].end, c[i].end, 16);
	}
}

static int send_request(struct ike_sa *sa, uint64_t now_ms)
{
	struct eng_life *l = &sa->life;
	struct eng_offer *o = NULL;
	struct ike_ts ts[IKE_CFG_MAX_TS];
	struct ike_builder b;
	struct pvpn_err err;
	uint8_t *plain = NULL, *msg = NULL, spi[4], ke[1024], first = 0;
	size_t plain_len = 0, len = 0;
	uint16_t gs[IKE_CFG_MAX_ALGS];
	int rc, kelen = 0;

	o = malloc(sizeof(*o));
	plain = malloc(LIFE_PLAIN_MAX);
	if (!o || !plain) {
		rc = -ENOMEM;
		goto out;
	}
	sa->rnd(l->n_ours, sizeof(l->n_ours));
	if (!l->dh && pfs_groups(sa, 0, gs)) {
		l->dh = ike_dh_new(gs[0], sa->rnd, &err);
		if (!l->dh) {
			rc = -ENOTSUP;
			goto out;
		}
	}
	if (l->dh && (kelen = ike_dh_public(l->dh, ke, sizeof(ke))) < 0) {
		rc = kelen;
		goto out;
	}
	make_offer(sa, l->new_spi_in, o);
	put32(spi, sa->spi_in);
	ike_build_chain_begin(&b, plain, LIFE_PLAIN_MAX);
	/* §1.3.3: the SPI we expect in inbound packets names the pair. */
	ike_build_notify(&b, IKE_PROTO_ESP, spi, 4, IKE_N_REKEY_SA, NULL, 0);
	ike_build_sa(&b, o->props, o->n);
	ike_build_nonce(&b, l->n_ours, sizeof(l->n_ours));
	if (l->dh)
		ike_build_ke(&b, ike_dh_group(l->dh), ke, (size_t)kelen);
	ts_from_cfg(sa->ts_l, sa->n_ts_l, ts);
	ike_build_ts(&b, IKE_PT_TSI, ts, sa->n_ts_l);
	ts_from_cfg(sa->ts_r, sa->n_ts_r, ts);
	ike_build_ts(&b, IKE_PT_TSR, ts, sa->n_ts_r);
	if ((rc = ike_build_finish(&b, &plain_len, &first, NULL)) < 0)
		goto out;
	if ((rc = eng_build_protected(sa, IKE_CREATE_CHILD_SA, false, sa->next_mid, plain,
				      plain_len, first, &msg, &len)) < 0)
		goto out;
	l->rk = RK_I_SENT;
	rc = eng_request_start(sa, REQ_REKEY_CHILD, IKE_CREATE_CHILD_SA, sa->next_mid++, msg, len,
			       now_ms);
	msg = NULL;
out:
	if (plain) {
		secret_wipe(plain, LIFE_PLAIN_MAX);
		free(plain);
	}
	free(o);
	secret_wipe(ke, sizeof(ke));
	if (rc < 0 && l->rk != RK_I_SENT) {
		/* Could not even build it: try again later rather than spin. */
		log_msg(LOG_WARNING, sa->cfg.log_name, "IKE: cannot build the rekey request (%d)", rc);
		ike_dh_free(l->dh);
		l->dh = NULL;
		l->rk = RK_IDLE;
		l->rekey_ms = now_ms + LIFE_RETRY_MIN_MS + LIFE_RETRY_SPAN_MS;
	}
	return rc;
}

/* ---------------------------------------------- switching to the new pair */


/* Replaced and redundant pairs beyond the one in old_*: each goes at its
 * time, or a grace period after the peer deleted its half. */
static void add_more_old(struct ike_sa *sa, uint32_t spi_in, uint32_t spi_out, uint64_t when)
{
	struct eng_old_pair *o = &sa->life.more_old[0];
	for (size_t i = 0; i < LIFE_MAX_OLD; i++) {
		if (!sa->life.more_old[i].valid) {
			o = &sa->life.more_old[i];
			break;
		}
		if (sa->life.more_old[i].remove_ms < o->remove_ms)
			o = &sa->life.more_old[i];
	}
	if (o->valid)
		/* Full: the one due first goes now. */
		eng_queue_remove_child(sa, o->spi_in, o->spi_out, true);
	o->valid = true;
	o->spi_in = spi_in;
	o->spi_out = spi_out;
	o->remove_ms = when;
}

static void remove_more_old(struct ike_sa *sa, uint64_t now_ms)
{
	for (size_t i = 0; i < LIFE_MAX_OLD; i++) {
		struct eng_old_pair *o = &sa->life.more_old[i];
		if (o->valid && now_ms >= o->remove_ms) {
			eng_queue_remove_child(sa, o->spi_in, o->spi_out, true);
			o->valid = false;
		}
	}
}

/* The installed pair spi_in/spi_out becomes the current one; the current
 * one becomes the replaced pair.  keys: "i" = our outbound; taken over. */
static void adopt_pair(struct ike_sa *sa, uint32_t spi_in, uint32_t spi_out,
		       const struct ike_suite *esp, bool esn, struct ike_child_keys *keys,
		       uint64_t now_ms, bool we_started)
{
	/* Only one replaced pair in old_*: an older one goes now. */
	remove_old(sa);
	sa->life.old_valid = true;
	sa->life.old_spi_in = sa->spi_in;
	sa->life.old_spi_out = sa->spi_out;
	/* The peer deletes the old pair when it started the rekey; if it never
	 * does, it goes after LIFE_ORPHAN_MS anyway. */
	sa->life.old_remove_ms = now_ms + LIFE_ORPHAN_MS;
	sa->spi_in = spi_in;
	sa->spi_out = spi_out;
	sa->esp = *esp;
	sa->esp_esn = esn;
	ike_child_keys_free(&sa->ck);
	sa->ck = *keys;
	memset(keys, 0, sizeof(*keys));
	sa->life.rk = RK_IDLE;
	sa->life.tf_since_ms = 0;
	sa->life.n_rekeys++;
	eng_life_child_installed(sa, now_ms);
	eng_keylog(sa);
	log_msg(LOG_INFO, sa->cfg.log_name, "IKE: Child SA rekeyed (%s): %08x/%08x replaces "
		"%08x/%08x", we_started ? "by us" : "by the server", (unsigned)spi_in,
		(unsigned)spi_out, (unsigned)sa->life.old_spi_in, (unsigned)sa->life.old_spi_out);
}

/* keys: "i" = our outbound.  Takes ownership of keys. */
static void switch_pair(struct ike_sa *sa, uint32_t spi_in, uint32_t spi_out,
			const struct ike_suite *esp, bool esn, struct ike_child_keys *keys,
			uint64_t now_ms, bool we_started)
{
	if (eng_queue_install_child(sa, true, spi_in, spi_out, esp, esn, keys) < 0) {
		ike_child_keys_free(keys);
		eng_close(sa, IKE_ERR_CONFIGURATION_FAILED, "out of memory rekeying the Child SA");
		return;
	}
	adopt_pair(sa, spi_in, spi_out, esp, esn, keys, now_ms, we_started);
}

/* The peer's pair, made while our rekey was outstanding, is the one that
 * stays (it won the collision, or ours failed): the peer, its starter,
 * deletes the old pair (§2.8.1). */
static void adopt_peer_pair(struct ike_sa *sa, uint64_t now_ms)
{
	struct eng_life *l = &sa->life;
	if (!l->p_valid)
		return;
	l->p_valid = false;
	adopt_pair(sa, l->p_spi_in, l->p_spi_out, &l->p_esp, l->p_esn, &l->p_keys, now_ms, false);
}

/* After our exchange: DELETE the old pair (§1.4.1), or the IKE SA when the
 * user disconnected meanwhile. */
static void after_exchange_del(struct ike_sa *sa, uint64_t now_ms, uint32_t del_spi_in);

static void after_exchange(struct ike_sa *sa, uint64_t now_ms)
{
	after_exchange_del(sa, now_ms, sa->life.old_valid ? sa->life.old_spi_in : 0);
}

/* del_spi_in: our inbound SPI of the pair to DELETE (0: none). */
static void after_exchange_del(struct ike_sa *sa, uint64_t now_ms, uint32_t del_spi_in)
{
	uint8_t plain[32], first = 0, *msg = NULL, spi[4];
	size_t plain_len = 0, len = 0;
	struct ike_builder b;

	eng_request_clear(sa);
	if (sa->delete_pending) {
		sa->delete_pending = false;
		if (eng_send_info_request(sa, REQ_DELETE, now_ms) < 0)
			eng_close(sa, IKE_ERR_NONE, "disconnected (DELETE could not be built)");
		return;
	}
	if (!del_spi_in || sa->state != ST_ESTABLISHED)
		return;
	put32(spi, del_spi_in);
	ike_build_chain_begin(&b, plain, sizeof(plain));
	ike_build_delete(&b, IKE_PROTO_ESP, 4, spi, 1);
	if (ike_build_finish(&b, &plain_len, &first, NULL) < 0 ||
	    eng_build_protected(sa, IKE_INFORMATIONAL, false, sa->next_mid, plain, plain_len,
				first, &msg, &len) < 0)
		return;   /* the orphan timer removes it */
	eng_request_start(sa, REQ_DELETE_CHILD, IKE_INFORMATIONAL, sa->next_mid++, msg, len, now_ms);
}

/* ------------------------------------------------ our rekey: the answer */

static int check_choice(const struct ike_sa *sa, const struct ike_sa_body *sab,
			uint16_t ke_group, struct ike_suite *esp, bool *esn, uint32_t *spi,
			char *why, size_t whylen)
{
	struct eng_offer *o = malloc(sizeof(*o));
	const struct ike_proposal *r, *mine;
	unsigned seen[6] = { 0 };
	uint16_t encr = 0, bits = 0, integ = 0, dh = 0, e = IKE_ESN_NO;
	int rc = -EBADMSG;

	if (!o)
		return -ENOMEM;
	make_offer(sa, 0, o);
	if (sab->nprops != 1) {
		snprintf(why, whylen, "the server chose %u proposals instead of one", sab->nprops);
		goto out;
	}
	r = &sab->props[0];
	if (r->num < 1 || r->num > o->n || r->protocol != IKE_PROTO_ESP || r->spi_size != 4) {
		snprintf(why, whylen, "the server's choice is not one of our ESP proposals");
		goto out;
	}
	mine = &o->props[r->num - 1];
	for (size_t i = 0; i < r->nxforms; i++) {
		const struct ike_transform *t = &r->xforms[i];
		if (!eng_offered(mine, t) || t->type < 1 || t->type > 5 || seen[t->type]++) {
			snprintf(why, whylen, "the server chose transform %u/%u that we did not "
				 "offer (or twice)", t->type, t->id);
			goto out;
		}
		switch (t->type) {
		case IKE_TRANS_ENCR: encr = t->id; bits = t->key_length; break;
		case IKE_TRANS_INTEG: integ = t->id; break;
		case IKE_TRANS_DH: dh = t->id; break;
		case IKE_TRANS_ESN: e = t->id; break;
		default: break;
		}
	}
	if (!encr) {
		snprintf(why, whylen, "the server chose no encryption algorithm");
		goto out;
	}
	/* §1.3.1: with our KE the choice must be its group; without, none. */
	if (dh != ke_group) {
		snprintf(why, whylen, "the server chose DH group %u, our KE is for group %u",
			 (unsigned)dh, (unsigned)ke_group);
		goto out;
	}
	if ((rc = ike_suite_init_esp(esp, encr, bits, integ, dh, NULL)) < 0) {
		snprintf(why, whylen, "the chosen ESP algorithms are not usable");
		goto out;
	}
	*esn = e == IKE_ESN_YES;
	*spi = get32(r->spi);
	rc = 0;
out:
	free(o);
	return rc;
}

bool eng_life_temp_failure(struct ike_sa *sa, uint64_t now_ms)
{
	struct eng_life *l = &sa->life;
	if (!l->tf_since_ms)
		l->tf_since_ms = now_ms;
	if (now_ms - l->tf_since_ms < LIFE_TF_GIVEUP_MS)
		return true;
	/* §2.25: TEMPORARY_FAILURE for several minutes on the same IKE SA:
	 * the state is out of sync; close it (pvpnd connects again). */
	eng_send_delete_oneshot(sa);
	eng_close(sa, IKE_ERR_PROTOCOL_ERROR, "the server has refused every rekey with "
		  "TEMPORARY_FAILURE for %u minutes", (unsigned)(LIFE_TF_GIVEUP_MS / 60000));
	return false;
}

static void retry_later(struct ike_sa *sa, uint64_t now_ms, const char *why)
{
	ike_dh_free(sa->life.dh);
	sa->life.dh = NULL;
	sa->life.rk = RK_IDLE;
	if (sa->life.p_valid) {
		/* The peer's rekey of the same pair went through: no need. */
		adopt_peer_pair(sa, now_ms);
		return;
	}
	/* §2.25: TEMPORARY_FAILURE means "try again in a moment"; a random
	 * delay keeps two colliding ends apart. */
	sa->life.rekey_ms = now_ms + LIFE_RETRY_MIN_MS + eng_rand_below(sa, LIFE_RETRY_SPAN_MS);
	log_msg(LOG_INFO, sa->cfg.log_name, "IKE: Child SA rekey postponed: %s", why);
}

/* §2.8.1: our rekey and the peer's of the same pair are both done.  The
 * exchange holding the lowest of the four nonces made the redundant pair;
 * its starter deletes it.  The surviving pair's starter deletes the old. */
static void resolve_child_collision(struct ike_sa *sa, uint32_t spi_out, const struct ike_suite *esp,
				    bool esn, struct ike_child_keys *keys, uint64_t now_ms)
{
	struct eng_life *l = &sa->life;
	/* Ours: our Ni and the peer's Nr; the peer's: its Ni and our Nr. */
	bool ours_redundant = eng_collision_ours_redundant(l->n_ours, sizeof(l->n_ours), l->n_peer,
							   l->n_peer_len, l->r_n_peer,
							   l->r_n_peer_len, l->r_n_ours,
							   sizeof(l->r_n_ours));
	uint32_t o_in = l->new_spi_in;

	l->n_collisions++;
	l->coll = false;
	if (ours_redundant) {
		/* Ours is never used: the peer's pair stays, the peer deletes
		 * the old one; we delete ours (its larval inbound SA goes). */
		log_msg(LOG_INFO, sa->cfg.log_name, "IKE: Child SA rekey collision (RFC 7296 "
			"§2.8.1): the server's new pair %08x/%08x stays, ours %08x/%08x is deleted",
			(unsigned)l->p_spi_in, (unsigned)l->p_spi_out, (unsigned)o_in,
			(unsigned)spi_out);
		ike_child_keys_free(keys);
		adopt_peer_pair(sa, now_ms);
		eng_queue_remove_child(sa, o_in, spi_out, true);
		after_exchange_del(sa, now_ms, o_in);
		return;
	}
	/* The peer's pair is redundant (the peer deletes it; it goes here
	 * then, or after LIFE_ORPHAN_MS); ours stays and we delete the old. */
	log_msg(LOG_INFO, sa->cfg.log_name, "IKE: Child SA rekey collision (RFC 7296 §2.8.1): "
		"our new pair %08x/%08x stays, the server deletes its %08x/%08x", (unsigned)o_in,
		(unsigned)spi_out, (unsigned)l->p_spi_in, (unsigned)l->p_spi_out);
	l->p_valid = false;
	ike_child_keys_free(&l->p_keys);
	add_more_old(sa, l->p_spi_in, l->p_spi_out, now_ms + LIFE_ORPHAN_MS);
	switch_pair(sa, o_in, spi_out, esp, esn, keys, now_ms, true);
	if (sa->state != ST_CLOSED)
		after_exchange(sa, now_ms);
}

int eng_rekey_response(struct ike_sa *sa, uint8_t *buf, size_t len, uint64_t now_ms)
{
	struct eng_life *l = &sa->life;
	struct ike_message *in = sa->m_inner;
	const struct ike_payload *psa, *pno, *pke, *p;
	struct ike_child_keys keys;
	struct ike_suite esp;
	struct secret gir = { 0 };
	struct pvpn_err err;
	char why[160], nb[32];
	uint16_t err_notify = 0, ke_group;
	uint32_t spi_out = 0;
	size_t from = 0;
	bool esn = false;
	int rc;

	if ((rc = eng_open_peer(sa, buf, len, &err)) < 0) {
		log_msg(LOG_DEBUG, sa->cfg.log_name, "IKE: bad CREATE_CHILD_SA response: %s", err.msg);
		return rc;
	}
	memset(&keys, 0, sizeof(keys));
	while ((p = ike_message_find(in, IKE_PT_NOTIFY, &from)))
		if (p->u.notify.type < 16384 && !err_notify)
			err_notify = p->u.notify.type;
	if (err_notify == IKE_N_INVALID_KE_PAYLOAD) {
		p = ike_message_find_notify(in, IKE_N_INVALID_KE_PAYLOAD);
		uint16_t g = p->u.notify.len == 2 ? (uint16_t)(p->u.notify.data[0] << 8 |
							      p->u.notify.data[1]) : 0;
		if (g && group_offered(sa, g) && l->ke_retries < 2 && ike_dh_supported(g)) {
			l->ke_retries++;
			eng_request_clear(sa);
			ike_dh_free(l->dh);
			l->dh = ike_dh_new(g, sa->rnd, &err);
			log_msg(LOG_INFO, sa->cfg.log_name, "IKE: the server wants DH group %u for "
				"the rekey; retrying", (unsigned)g);
			if (l->dh) {
				send_request(sa, now_ms);
				return 0;
			}
		}
	}
	if (err_notify) {
		eng_request_clear(sa);
		if (err_notify == IKE_N_TEMPORARY_FAILURE) {
			if (!eng_life_temp_failure(sa, now_ms))
				return 0;
			retry_later(sa, now_ms, "the server sent TEMPORARY_FAILURE");
			after_exchange(sa, now_ms);
			return 0;
		}
		ike_dh_free(l->dh);
		l->dh = NULL;
		l->rk = RK_IDLE;
		if (err_notify == IKE_N_CHILD_SA_NOT_FOUND) {
			/* §2.25: the server no longer has the pair; a new one is
			 * needed from scratch.  We make it by connecting again
			 * (out of sync state: the daemon reconnects). */
			eng_send_delete_oneshot(sa);
			eng_close(sa, IKE_ERR_PROTOCOL_ERROR, "the server no longer knows the "
				  "Child SA (CHILD_SA_NOT_FOUND)");
			return 0;
		}
		eng_send_delete_oneshot(sa);
		eng_close(sa, eng_notify_error(err_notify), "the server refused to rekey the "
			  "Child SA: %s", eng_notify_label(err_notify, nb, sizeof(nb)));
		return 0;
	}
	psa = ike_message_find(in, IKE_PT_SA, NULL);
	pno = ike_message_find(in, IKE_PT_NONCE, NULL);
	pke = ike_message_find(in, IKE_PT_KE, NULL);
	ke_group = l->dh ? ike_dh_group(l->dh) : 0;
	if (!psa || !pno || pno->u.nonce.len < IKE_NONCE_MIN || pno->u.nonce.len > IKE_NONCE_MAX ||
	    (ke_group && (!pke || pke->u.ke.group != ke_group))) {
		snprintf(why, sizeof(why), "CREATE_CHILD_SA response without SA, Nonce or a "
			 "matching KE");
		goto fail;
	}
	if (check_choice(sa, &psa->u.sa, ke_group, &esp, &esn, &spi_out, why, sizeof(why)) < 0)
		goto fail;
	if (l->dh && ike_dh_shared(l->dh, pke->u.ke.data, pke->u.ke.len, &gir, &err) < 0) {
		snprintf(why, sizeof(why), "the server's KE value is not valid: %.100s", err.msg);
		goto fail;
	}
	memcpy(l->n_peer, pno->u.nonce.data, pno->u.nonce.len);
	l->n_peer_len = pno->u.nonce.len;
	/* §2.17: KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr); we are "i". */
	rc = ike_child_keys_derive(sa->suite.prf, &sa->keys.sk_d, &esp, l->dh ? &gir : NULL,
				   l->n_ours, sizeof(l->n_ours), l->n_peer, l->n_peer_len, &keys);
	secret_free(&gir);
	ike_dh_free(l->dh);
	l->dh = NULL;
	if (rc < 0) {
		snprintf(why, sizeof(why), "Child SA key derivation failed");
		goto fail;
	}
	if (l->p_valid) {
		resolve_child_collision(sa, spi_out, &esp, esn, &keys, now_ms);
		return 0;
	}
	l->tf_since_ms = 0;
	switch_pair(sa, l->new_spi_in, spi_out, &esp, esn, &keys, now_ms, true);
	if (sa->state != ST_CLOSED)
		after_exchange(sa, now_ms);
	return 0;
fail:
	/* Authenticated but unusable: the old pair still works until its
	 * hard lifetime; log and try again a little later. */
	log_msg(LOG_WARNING, sa->cfg.log_name, "IKE: rekey response rejected: %s", why);
	eng_request_clear(sa);
	retry_later(sa, now_ms, why);
	after_exchange(sa, now_ms);
	return 0;
}

int eng_delete_child_response(struct ike_sa *sa, uint8_t *buf, size_t len, uint64_t now_ms)
{
	struct pvpn_err err;
	int rc;

	if ((rc = eng_open_peer(sa, buf, len, &err)) < 0)
		return rc;
	/* §1.4.1: the server deleted its half; ours stays for the packets
	 * still in flight, then goes. */
	if (sa->life.old_valid && sa->life.old_remove_ms > now_ms + LIFE_GRACE_MS)
		sa->life.old_remove_ms = now_ms + LIFE_GRACE_MS;
	eng_request_clear(sa);
	if (sa->delete_pending) {
		sa->delete_pending = false;
		if (eng_send_info_request(sa, REQ_DELETE, now_ms) < 0)
			eng_close(sa, IKE_ERR_NONE, "disconnected (DELETE could not be built)");
	}
	return 0;
}

/* --------------------------------------------- the server's rekey request */

static int respond(struct ike_sa *sa, uint32_t mid, struct ike_builder *b)
{
	uint8_t first = IKE_PT_NONE, *msg = NULL;
	size_t plain_len = 0, len = 0;
	int rc;

	if ((rc = ike_build_finish(b, &plain_len, &first, NULL)) < 0)
		return rc;
	if ((rc = eng_build_protected(sa, IKE_CREATE_CHILD_SA, true, mid, b->w.buf, plain_len,
				      first, &msg, &len)) < 0)
		return rc;
	return eng_respond(sa, mid, msg, len);
}

int eng_rekey_refuse(struct ike_sa *sa, uint32_t mid, uint16_t notify, const uint8_t *data,
		     size_t dlen, const char *why)
{
	uint8_t plain[64];
	struct ike_builder b;
	char nb[32];

	ike_build_chain_begin(&b, plain, sizeof(plain));
	ike_build_notify(&b, 0, NULL, 0, notify, data, dlen);
	log_msg(LOG_INFO, sa->cfg.log_name, "IKE: refused the server's CREATE_CHILD_SA with %s: %s",
		eng_notify_label(notify, nb, sizeof(nb)), why);
	return respond(sa, mid, &b);
}

/* §2.7: pick one of the peer's ESP proposals whose every transform type
 * has an algorithm we would use; the KE (if any) decides the group. */
static int choose(struct ike_sa *sa, const struct ike_sa_body *sab, const struct ike_payload *pke,
		  uint16_t *want_group)
{
	struct eng_life *l = &sa->life;
	*want_group = 0;
	for (size_t i = 0; i < sab->nprops; i++) {
		const struct ike_proposal *p = &sab->props[i];
		uint16_t encr = 0, bits = 0, integ = 0, group = 0, first_group = 0;
		bool has_integ = false, has_dh = false, esn_no = false, esn_yes = false;
		if (p->protocol != IKE_PROTO_ESP || p->spi_size != 4)
			continue;
		for (size_t j = 0; j < p->nxforms; j++) {
			const struct ike_transform *t = &p->xforms[j];
			switch (t->type) {
			case IKE_TRANS_ENCR:
				if (!encr && eng_cfg_has(sa, false, t->type, t->id, t->key_length)) {
					encr = t->id;
					bits = t->key_length;
				}
				break;
			case IKE_TRANS_INTEG:
				has_integ = true;
				if (!integ && eng_cfg_has(sa, false, t->type, t->id, 0))
					integ = t->id;
				break;
			case IKE_TRANS_DH:
				if (!t->id)
					break;   /* NONE: PFS optional */
				has_dh = true;
				if (ike_dh_supported(t->id)) {
					if (!first_group)
						first_group = t->id;
					if (pke && pke->u.ke.group == t->id)
						group = t->id;
				}
				break;
			case IKE_TRANS_ESN:
				if (t->id == IKE_ESN_NO && eng_cfg_has(sa, false, t->type, t->id, 0))
					esn_no = true;
				if (t->id == IKE_ESN_YES && eng_cfg_has(sa, false, t->type, t->id, 0))
					esn_yes = true;
				break;
			default:
				break;
			}
		}
		if (!encr || (has_integ && !integ) || (!esn_no && !esn_yes))
			continue;
		if (has_dh && !group) {
			if (first_group && !*want_group)
				*want_group = first_group;
			continue;
		}
		if (!has_dh && pke)
			continue;   /* a KE without a group to use it with */
		struct ike_suite s;
		if (ike_suite_init_esp(&s, encr, bits, integ, group, NULL) < 0)
			continue;
		l->r_prop_num = p->num;
		l->r_encr = encr;
		l->r_bits = bits;
		l->r_integ = integ;
		l->r_group = group;
		l->r_esn = !esn_no;
		l->r_spi_out = get32(p->spi);
		return 0;
	}
	return -ENOENT;
}

static size_t copy_ts(const struct ike_payload *p, struct ike_ts *out)
{
	size_t k = 0;
	for (size_t i = 0; p && i < p->u.ts.nts && k < IKE_CFG_MAX_TS; i++) {
		const struct ike_ts *t = &p->u.ts.ts[i];
		if (t->type != IKE_TS_IPV4_ADDR_RANGE && t->type != IKE_TS_IPV6_ADDR_RANGE)
			continue;
		out[k] = *t;
		out[k].raw = NULL;
		out[k].raw_len = 0;
		k++;
	}
	return k;
}

int eng_rekey_request(struct ike_sa *sa, uint32_t mid, uint64_t now_ms)
{
	struct eng_life *l = &sa->life;
	struct ike_message *in = sa->m_inner;
	const struct ike_payload *psa, *pno, *pke, *prk, *ptsi, *ptsr;
	uint16_t want = 0;
	uint8_t gb[2];
	bool coll;

	psa = ike_message_find(in, IKE_PT_SA, NULL);
	pno = ike_message_find(in, IKE_PT_NONCE, NULL);
	pke = ike_message_find(in, IKE_PT_KE, NULL);
	prk = ike_message_find_notify(in, IKE_N_REKEY_SA);
	ptsi = ike_message_find(in, IKE_PT_TSI, NULL);
	ptsr = ike_message_find(in, IKE_PT_TSR, NULL);

	if (psa && psa->u.sa.nprops && psa->u.sa.props[0].protocol == IKE_PROTO_IKE && !prk)
		/* §1.3.2: no REKEY_SA, an IKE proposal: the IKE SA itself. */
		return eng_rekey_ike_request(sa, mid, now_ms);
	if (!prk)
		return eng_rekey_refuse(sa, mid, IKE_N_NO_ADDITIONAL_SAS, NULL, 0, "only one Child SA");
	if (prk->u.notify.protocol != IKE_PROTO_ESP || prk->u.notify.spi_size != 4 ||
	    !sa->child_up || get32(prk->u.notify.spi) != sa->spi_out) {
		/* §2.25: an SA we do not have (maybe one we just replaced). */
		uint32_t s = prk->u.notify.spi_size == 4 ? get32(prk->u.notify.spi) : 0;
		if (sa->life.old_valid && s == sa->life.old_spi_out)
			return eng_rekey_refuse(sa, mid, IKE_N_TEMPORARY_FAILURE, NULL, 0,
				      "that pair was just replaced");
		return eng_rekey_refuse(sa, mid, IKE_N_CHILD_SA_NOT_FOUND, NULL, 0, "unknown SPI");
	}
	/* §2.25.1: a pair we are closing (we are leaving), or a rekey of
	 * ours not yet sent or answered only by us: a temporary condition. */
	if (sa->state != ST_ESTABLISHED || sa->delete_pending || l->r_wait || l->p_valid ||
	    (l->rk != RK_IDLE && l->rk != RK_I_SENT) || sa->life.ike_peer.valid)
		return eng_rekey_refuse(sa, mid, IKE_N_TEMPORARY_FAILURE, NULL, 0,
					"another rekey of it is under way");
	/* §2.25.1, §2.8.1: our rekey of the same pair is outstanding: answer
	 * as usual; once both are done the nonces decide which new pair stays. */
	coll = l->rk == RK_I_SENT;
	if (!psa || !pno || !ptsi || !ptsr || pno->u.nonce.len < IKE_NONCE_MIN ||
	    pno->u.nonce.len > IKE_NONCE_MAX)
		return eng_rekey_refuse(sa, mid, IKE_N_INVALID_SYNTAX, NULL, 0, "SA, Nonce, TSi or TSr missing");
	if (choose(sa, &psa->u.sa, pke, &want) < 0) {
		if (want) {
			gb[0] = (uint8_t)(want >> 8);
			gb[1] = (uint8_t)want;
			return eng_rekey_refuse(sa, mid, IKE_N_INVALID_KE_PAYLOAD, gb, 2, "another DH group");
		}
		return eng_rekey_refuse(sa, mid, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0, "no acceptable proposal");
	}
	memcpy(l->r_n_peer, pno->u.nonce.data, pno->u.nonce.len);
	l->r_n_peer_len = pno->u.nonce.len;
	if (l->r_ke) {
		secret_wipe(l->r_ke, l->r_ke_len);
		free(l->r_ke);
		l->r_ke = NULL;
		l->r_ke_len = 0;
	}
	if (l->r_group) {
		l->r_ke = malloc(pke->u.ke.len);
		if (!l->r_ke)
			return eng_rekey_refuse(sa, mid, IKE_N_TEMPORARY_FAILURE, NULL, 0, "out of memory");
		memcpy(l->r_ke, pke->u.ke.data, pke->u.ke.len);
		l->r_ke_len = pke->u.ke.len;
	}
	l->n_r_tsi = copy_ts(ptsi, l->r_tsi);
	l->n_r_tsr = copy_ts(ptsr, l->r_tsr);
	l->r_mid = mid;
	l->coll = coll;
	if (coll) {
		log_msg(LOG_INFO, sa->cfg.log_name, "IKE: the server rekeys Child SA %08x/%08x while "
			"we do (collision, RFC 7296 §2.8.1): answering it", (unsigned)sa->spi_in,
			(unsigned)sa->spi_out);
		l->r_wait = true;
	} else {
		l->rk = RK_R_WAIT_SPI;
	}
	queue_alloc_spi(sa);
	(void)now_ms;
	return 0;
}

static int answer_rekey(struct ike_sa *sa, uint32_t spi, uint64_t now_ms)
{
	struct eng_life *l = &sa->life;
	struct ike_proposal prop;
	struct ike_transform xf[4];
	struct ike_builder b;
	struct ike_suite esp;
	struct ike_child_keys keys;
	struct secret gir = { 0 };
	struct pvpn_err err;
	struct ike_dh_ctx *dh = NULL;
	uint8_t *plain = NULL, ke[1024];
	int rc, kelen = 0;
	size_t n = 0;
	bool coll = l->coll;

	memset(&keys, 0, sizeof(keys));
	/* In a collision our own rekey (its nonce, its DH) stays outstanding:
	 * the answer uses only the r_* fields and a DH of its own. */
	l->coll = false;
	if (!coll)
		l->rk = RK_IDLE;
	if (!spi)
		return eng_rekey_refuse(sa, l->r_mid, IKE_N_TEMPORARY_FAILURE, NULL, 0,
			      "the kernel could not allocate an SPI");
	if ((rc = ike_suite_init_esp(&esp, l->r_encr, l->r_bits, l->r_integ, l->r_group, &err)) < 0)
		return eng_rekey_refuse(sa, l->r_mid, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0, err.msg);
	sa->rnd(l->r_n_ours, sizeof(l->r_n_ours));
	if (l->r_group) {
		dh = ike_dh_new(l->r_group, sa->rnd, &err);
		if (!dh || (kelen = ike_dh_public(dh, ke, sizeof(ke))) < 0 ||
		    ike_dh_shared(dh, l->r_ke, l->r_ke_len, &gir, &err) < 0) {
			ike_dh_free(dh);
			return eng_rekey_refuse(sa, l->r_mid, IKE_N_INVALID_SYNTAX, NULL, 0, "bad KE value");
		}
		ike_dh_free(dh);
	}
	/* §2.17 with the server as "i": its nonce first. */
	rc = ike_child_keys_derive(sa->suite.prf, &sa->keys.sk_d, &esp, l->r_group ? &gir : NULL,
				   l->r_n_peer, l->r_n_peer_len, l->r_n_ours, sizeof(l->r_n_ours),
				   &keys);
	secret_free(&gir);
	if (rc < 0)
		return eng_rekey_refuse(sa, l->r_mid, IKE_N_TEMPORARY_FAILURE, NULL, 0, "key derivation failed");

	plain = malloc(LIFE_PLAIN_MAX);
	if (!plain) {
		ike_child_keys_free(&keys);
		return -ENOMEM;
	}
	memset(&prop, 0, sizeof(prop));
	memset(xf, 0, sizeof(xf));
	prop.num = l->r_prop_num;
	prop.protocol = IKE_PROTO_ESP;
	prop.spi_size = 4;
	put32(prop.spi, spi);
	xf[n].type = IKE_TRANS_ENCR; xf[n].id = l->r_encr; xf[n++].key_length = l->r_bits;
	if (l->r_integ) { xf[n].type = IKE_TRANS_INTEG; xf[n++].id = l->r_integ; }
	if (l->r_group) { xf[n].type = IKE_TRANS_DH; xf[n++].id = l->r_group; }
	xf[n].type = IKE_TRANS_ESN; xf[n++].id = l->r_esn ? IKE_ESN_YES : IKE_ESN_NO;
	prop.nxforms = (uint8_t)n;
	prop.xforms = xf;
	ike_build_chain_begin(&b, plain, LIFE_PLAIN_MAX);
	ike_build_sa(&b, &prop, 1);
	ike_build_nonce(&b, l->r_n_ours, sizeof(l->r_n_ours));
	if (l->r_group)
		ike_build_ke(&b, l->r_group, ke, (size_t)kelen);
	/* TSi/TSr as the server asked (they are the pair's, §2.8). */
	ike_build_ts(&b, IKE_PT_TSI, l->r_tsi, l->n_r_tsi);
	ike_build_ts(&b, IKE_PT_TSR, l->r_tsr, l->n_r_tsr);
	rc = respond(sa, l->r_mid, &b);
	secret_wipe(plain, LIFE_PLAIN_MAX);
	free(plain);
	secret_wipe(ke, sizeof(ke));
	if (rc < 0) {
		ike_child_keys_free(&keys);
		return rc;
	}
	/* Our convention: "i" keys protect what we send; here the server was
	 * the exchange's initiator, so swap. */
	{
		struct ike_child_keys mine = { .encr_i = keys.encr_r, .integ_i = keys.integ_r,
					       .encr_r = keys.encr_i, .integ_r = keys.integ_i };
		if (coll) {
			/* Installed beside the current pair (the kernel sends on
			 * the newest); which new pair stays is decided when our
			 * own rekey is answered (§2.8.1). */
			if (eng_queue_install_child(sa, true, spi, l->r_spi_out, &esp, l->r_esn,
						    &mine) < 0) {
				ike_child_keys_free(&mine);
				eng_close(sa, IKE_ERR_CONFIGURATION_FAILED,
					  "out of memory rekeying the Child SA");
			} else {
				l->p_valid = true;
				l->p_spi_in = spi;
				l->p_spi_out = l->r_spi_out;
				l->p_esp = esp;
				l->p_esn = l->r_esn;
				l->p_keys = mine;
			}
		} else {
			switch_pair(sa, spi, l->r_spi_out, &esp, l->r_esn, &mine, now_ms, false);
		}
	}
	if (l->r_ke) {
		secret_wipe(l->r_ke, l->r_ke_len);
		free(l->r_ke);
		l->r_ke = NULL;
		l->r_ke_len = 0;
	}
	return 0;
}

int eng_life_spi_allocated(struct ike_sa *sa, uint32_t spi, uint64_t now_ms)
{
	struct eng_life *l = &sa->life;
	if (l->rk == RK_R_WAIT_SPI || l->r_wait) {
		l->r_wait = false;
		answer_rekey(sa, spi, now_ms);
		return 1;
	}
	if (l->rk != RK_I_WAIT_SPI)
		return 0;
	if (!spi) {
		retry_later(sa, now_ms, "the kernel could not allocate an SPI");
		return 1;
	}
	l->new_spi_in = spi;
	if (!can_start(sa)) {
		/* The window is busy: eng_life_tick sends when it frees. */
		return 1;
	}
	send_request(sa, now_ms);
	return 1;
}

bool eng_life_old_deleted(struct ike_sa *sa, uint32_t spi, uint32_t *spi_in, uint64_t now_ms)
{
	for (size_t i = 0; i < LIFE_MAX_OLD; i++) {
		struct eng_old_pair *o = &sa->life.more_old[i];
		if (o->valid && spi == o->spi_out) {
			/* §2.8.1: the redundant pair the peer made goes. */
			*spi_in = o->spi_in;
			if (o->remove_ms > now_ms + LIFE_GRACE_MS)
				o->remove_ms = now_ms + LIFE_GRACE_MS;
			return true;
		}
	}
	if (!sa->life.old_valid || spi != sa->life.old_spi_out)
		return false;
	*spi_in = sa->life.old_spi_in;
	if (sa->life.old_remove_ms > now_ms + LIFE_GRACE_MS)
		sa->life.old_remove_ms = now_ms + LIFE_GRACE_MS;
	return true;
}

/* ------------------------------------------------------------- timers */

void eng_life_tick(struct ike_sa *sa, uint64_t now_ms)
{
	struct eng_life *l = &sa->life;
	if (l->old_valid && now_ms >= l->old_remove_ms)
		remove_old(sa);
	remove_more_old(sa, now_ms);
	eng_old_ike_tick(sa, now_ms);
	if (!can_start(sa))
		return;
	if (l->rk == RK_I_WAIT_SPI && l->new_spi_in) {
		send_request(sa, now_ms);
		return;
	}
	if (l->rk == RK_IDLE && l->ike_rekey_ms && now_ms >= l->ike_rekey_ms) {
		l->ike_rekey_ms = 0;
		eng_rekey_ike_start(sa, now_ms);
		return;
	}
	if (l->rk == RK_IDLE && l->rekey_ms && now_ms >= l->rekey_ms) {
		start(sa);
	}
}

uint64_t eng_life_deadline(const struct ike_sa *sa)
{
	const struct eng_life *l = &sa->life;
	uint64_t d = 0;
	if (l->old_valid)
		d = l->old_remove_ms;
	for (size_t i = 0; i < LIFE_MAX_OLD; i++)
		if (l->more_old[i].valid && (!d || l->more_old[i].remove_ms < d))
			d = l->more_old[i].remove_ms;
	for (size_t i = 0; i < LIFE_MAX_OLD_IKE; i++)
		if (l->old_ike[i].valid && (!d || l->old_ike[i].until_ms < d))
			d = l->old_ike[i].until_ms;
	/* Only while the window is free: otherwise the request's own timer
	 * wakes us, and a past deadline would spin the daemon. */
	if (sa->state == ST_ESTABLISHED && sa->req.kind == REQ_NONE && !sa->delete_pending &&
	    l->rk == RK_IDLE) {
		if (l->rekey_ms && (!d || l->rekey_ms < d))
			d = l->rekey_ms;
		if (l->ike_rekey_ms && (!d || l->ike_rekey_ms < d))
			d = l->ike_rekey_ms;
	}
	return d;
}
