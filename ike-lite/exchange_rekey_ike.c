/* exchange_rekey_ike.c — rekeying the IKE SA (RFC 7296 §1.3.2, §2.18) in
 * both directions: CREATE_CHILD_SA with SA(IKE, new SPI), Ni, KEi; the new
 * keys from SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr), where "i" is
 * whoever started that exchange: it becomes the new IKE SA's original
 * initiator (sa->life.peer_initiated false), whatever the roles of the old one were.
 * The Child SA simply belongs to the new IKE SA (its kernel SAs do not
 * change); Message IDs start again at 0 (§2.18).  The rekey's initiator
 * deletes the old IKE SA; we keep it a while (struct eng_ike_ctx) to answer
 * that DELETE and retransmissions on it.
 *
 * A collision (§2.8.2: both ends rekey at once) is answered as usual; when
 * both exchanges are done, the new IKE SA whose exchange holds the lowest
 * of the four nonces is redundant and deleted by the end that started it;
 * the other end's new SA survives and its starter deletes the old one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike-lite/engine_internal.h"
#include "lib/log.h"

#define IKE_RK_PLAIN_MAX 4096

void eng_life_plan_ike(struct ike_sa *sa, uint64_t now_ms)
{
	sa->life.ike_rekey_ms = eng_life_rekey_at(sa, now_ms, sa->cfg.ike_lifetime_s);
}

/* Our IKE proposals (those of IKE_SA_INIT) with the new SPI (§3.3.1: 8
 * bytes when rekeying). */
static void make_offer(const struct ike_sa *sa, const uint8_t spi[8], struct eng_offer *o)
{
	eng_make_offer(sa, true, o);
	for (size_t i = 0; i < o->n; i++) {
		o->props[i].spi_size = 8;
		memcpy(o->props[i].spi, spi, 8);
	}
}

int eng_rekey_ike_start(struct ike_sa *sa, uint64_t now_ms)
{
	struct eng_life *l = &sa->life;
	struct eng_offer *o = malloc(sizeof(*o));
	uint8_t *plain = malloc(IKE_RK_PLAIN_MAX), *msg = NULL, ke[1024], first = 0;
	struct ike_builder b;
	struct pvpn_err err;
	size_t plain_len = 0, len = 0;
	int rc, kelen;

	if (!o || !plain) {
		rc = -ENOMEM;
		goto out;
	}
	do
		sa->rnd(l->ike_spi_i, 8);
	while (!memcmp(l->ike_spi_i, "\0\0\0\0\0\0\0\0", 8));
	sa->rnd(l->n_ours, sizeof(l->n_ours));
	ike_dh_free(l->dh);
	/* The KE is for the group the IKE SA uses now (we offered it). */
	l->dh = ike_dh_new(sa->suite.dh, sa->rnd, &err);
	if (!l->dh) {
		rc = -ENOTSUP;
		goto out;
	}
	if ((kelen = ike_dh_public(l->dh, ke, sizeof(ke))) < 0) {
		rc = kelen;
		goto out;
	}
	make_offer(sa, l->ike_spi_i, o);
	ike_build_chain_begin(&b, plain, IKE_RK_PLAIN_MAX);
	ike_build_sa(&b, o->props, o->n);
	ike_build_nonce(&b, l->n_ours, sizeof(l->n_ours));
	ike_build_ke(&b, sa->suite.dh, ke, (size_t)kelen);
	if ((rc = ike_build_finish(&b, &plain_len, &first, NULL)) < 0 ||
	    (rc = eng_build_protected(sa, IKE_CREATE_CHILD_SA, false, sa->next_mid, plain,
				      plain_len, first, &msg, &len)) < 0)
		goto out;
	log_msg(LOG_DEBUG, sa->cfg.log_name, "IKE: rekeying the IKE SA");
	l->ike_rk = true;
	rc = eng_request_start(sa, REQ_REKEY_IKE, IKE_CREATE_CHILD_SA, sa->next_mid++, msg, len,
			       now_ms);
out:
	if (plain) {
		secret_wipe(plain, IKE_RK_PLAIN_MAX);
		free(plain);
	}
	free(o);
	secret_wipe(ke, sizeof(ke));
	if (rc < 0 && !l->ike_rk) {
		ike_dh_free(l->dh);
		l->dh = NULL;
		l->ike_rekey_ms = now_ms + 30000;
		log_msg(LOG_WARNING, sa->cfg.log_name, "IKE: cannot build the IKE SA rekey (%d)", rc);
	}
	return rc;
}

static int check_choice(const struct ike_sa *sa, const struct ike_sa_body *sab,
			struct ike_suite *s, uint8_t spi_r[8], char *why, size_t whylen)
{
	struct eng_offer *o = malloc(sizeof(*o));
	const struct ike_proposal *r, *mine;
	uint16_t encr = 0, bits = 0, prf = 0, integ = 0, dh = 0;
	unsigned seen[6] = { 0 };
	int rc = -EBADMSG;

	if (!o)
		return -ENOMEM;
	make_offer(sa, sa->life.ike_spi_i, o);
	if (sab->nprops != 1) {
		snprintf(why, whylen, "%u proposals chosen", sab->nprops);
		goto out;
	}
	r = &sab->props[0];
	if (r->num < 1 || r->num > o->n || r->protocol != IKE_PROTO_IKE || r->spi_size != 8 ||
	    !memcmp(r->spi, "\0\0\0\0\0\0\0\0", 8)) {
		snprintf(why, whylen, "the choice is not one of our IKE proposals with a new SPI");
		goto out;
	}
	mine = &o->props[r->num - 1];
	for (size_t i = 0; i < r->nxforms; i++) {
		const struct ike_transform *t = &r->xforms[i];
		if (!eng_offered(mine, t) || t->type < 1 || t->type > 4 || seen[t->type]++) {
			snprintf(why, whylen, "transform %u/%u was not offered", t->type, t->id);
			goto out;
		}
		if (t->type == IKE_TRANS_ENCR) { encr = t->id; bits = t->key_length; }
		if (t->type == IKE_TRANS_PRF) prf = t->id;
		if (t->type == IKE_TRANS_INTEG) integ = t->id;
		if (t->type == IKE_TRANS_DH) dh = t->id;
	}
	if (dh != sa->suite.dh) {
		snprintf(why, whylen, "DH group %u chosen, our KE is for %u", dh, sa->suite.dh);
		goto out;
	}
	if ((rc = ike_suite_init(s, encr, bits, integ, prf, dh, NULL)) < 0) {
		snprintf(why, whylen, "the chosen algorithms do not make a usable suite");
		goto out;
	}
	memcpy(spi_r, r->spi, 8);
	rc = 0;
out:
	free(o);
	return rc;
}

/* ------------------------------------------ replaced and redundant IKE SAs */

static void ctx_free(struct eng_ike_ctx *c)
{
	ike_sa_keys_free(&c->keys);
	if (c->resp) {
		secret_wipe(c->resp, c->resp_len);
		free(c->resp);
	}
	secret_wipe(c, sizeof(*c));
}

void eng_old_ike_free(struct ike_sa *sa)
{
	for (size_t i = 0; i < LIFE_MAX_OLD_IKE; i++)
		ctx_free(&sa->life.old_ike[i]);
	ike_sa_keys_free(&sa->life.ike_peer.keys);
	secret_free(&sa->life.ike_peer.gir);
	secret_free(&sa->life.ike_peer.seed);
	secret_wipe(&sa->life.ike_peer, sizeof(sa->life.ike_peer));
}

/* A free slot; when none, the one to be forgotten first is. */
static struct eng_ike_ctx *ctx_slot(struct ike_sa *sa)
{
	struct eng_ike_ctx *c = &sa->life.old_ike[0];
	for (size_t i = 0; i < LIFE_MAX_OLD_IKE; i++) {
		if (!sa->life.old_ike[i].valid)
			return &sa->life.old_ike[i];
		if (sa->life.old_ike[i].until_ms < c->until_ms)
			c = &sa->life.old_ike[i];
	}
	ctx_free(c);
	return c;
}

uint64_t eng_old_ike_tick(struct ike_sa *sa, uint64_t now_ms)
{
	uint64_t d = 0;
	for (size_t i = 0; i < LIFE_MAX_OLD_IKE; i++) {
		struct eng_ike_ctx *c = &sa->life.old_ike[i];
		if (!c->valid)
			continue;
		if (now_ms >= c->until_ms) {
			ctx_free(c);
			continue;
		}
		if (!d || c->until_ms < d)
			d = c->until_ms;
	}
	return d;
}

bool eng_old_ike_match(const struct ike_sa *sa, const struct ike_header *h)
{
	for (size_t i = 0; i < LIFE_MAX_OLD_IKE; i++) {
		const struct eng_ike_ctx *c = &sa->life.old_ike[i];
		if (c->valid && !memcmp(c->spi_i, h->spi_i, 8) && !memcmp(c->spi_r, h->spi_r, 8))
			return true;
	}
	return false;
}

static struct eng_ike_ctx *ctx_find(struct ike_sa *sa, const struct ike_header *h)
{
	for (size_t i = 0; i < LIFE_MAX_OLD_IKE; i++) {
		struct eng_ike_ctx *c = &sa->life.old_ike[i];
		if (c->valid && !memcmp(c->spi_i, h->spi_i, 8) && !memcmp(c->spi_r, h->spi_r, 8))
			return c;
	}
	return NULL;
}

/* Seal a message of ours on a kept IKE SA with its roles and keys. */
static int ctx_seal(struct ike_sa *sa, const struct eng_ike_ctx *c, uint8_t exch, bool response,
		    uint32_t mid, struct ike_builder *b, uint8_t **out, size_t *out_len)
{
	struct ike_header h;
	size_t plain_len = 0;
	uint8_t first = IKE_PT_NONE;
	int rc;

	if (b && (rc = ike_build_finish(b, &plain_len, &first, NULL)) < 0)
		return rc;
	memset(&h, 0, sizeof(h));
	memcpy(h.spi_i, c->spi_i, 8);
	memcpy(h.spi_r, c->spi_r, 8);
	h.version = IKE_VERSION_2_0;
	h.exchange = exch;
	/* §3.1, §2.14: as eng_build_protected, with this SA's roles. */
	h.flags = (c->we_initiated ? IKE_FLAG_I : 0) | (response ? IKE_FLAG_R : 0);
	h.message_id = mid;
	if (c->we_initiated)
		return eng_seal(&c->suite, &c->keys.sk_ei, &c->keys.sk_ai, sa->rnd, &h, first,
				b ? b->w.buf : NULL, plain_len, out, out_len);
	return eng_seal(&c->suite, &c->keys.sk_er, &c->keys.sk_ar, sa->rnd, &h, first,
			b ? b->w.buf : NULL, plain_len, out, out_len);
}

/* DELETE(IKE) on a kept IKE SA, sent once (§1.4.1). */
static void ctx_send_delete(struct ike_sa *sa, struct eng_ike_ctx *c)
{
	uint8_t plain[16], *msg = NULL;
	size_t len = 0;
	struct ike_builder b;

	ike_build_chain_begin(&b, plain, sizeof(plain));
	ike_build_delete(&b, IKE_PROTO_IKE, 0, NULL, 0);
	if (ctx_seal(sa, c, IKE_INFORMATIONAL, false, c->next_mid, &b, &msg, &len) == 0) {
		c->next_mid++;
		eng_send_raw(sa, msg, len, false);
		free(msg);
	}
}

int eng_old_ike_receive(struct ike_sa *sa, const uint8_t *dgram, size_t len,
			const struct ike_header *h, uint64_t now_ms)
{
	struct eng_ike_ctx *c = ctx_find(sa, h);
	const struct ike_payload *p;
	struct ike_builder b;
	struct pvpn_err err;
	uint8_t *buf = NULL, *msg = NULL, plain[64];
	size_t from = 0, mlen = 0;
	bool del = false;
	int rc = -EINVAL;

	(void)now_ms;
	if (!c)
		return -ENOENT;
	/* §3.1: I set only by the original initiator of that IKE SA. */
	if (!!(h->flags & IKE_FLAG_I) == c->we_initiated) {
		sa->stats.rx_dropped++;
		return -EBADMSG;
	}
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, dgram, len);
	if ((rc = ike_message_parse(sa->m_outer, buf, len, &err)) < 0 ||
	    (rc = eng_open(&c->suite, c->we_initiated ? &c->keys.sk_er : &c->keys.sk_ei,
			   c->we_initiated ? &c->keys.sk_ar : &c->keys.sk_ai, buf, len,
			   sa->m_outer, sa->m_inner, &err)) < 0)
		goto out;
	if (h->flags & IKE_FLAG_R) {
		/* The answer to our DELETE of it: nothing more to do. */
		rc = 0;
		goto out;
	}
	if (c->resp_valid && h->message_id == c->resp_mid && h->message_id + 1 == c->peer_mid) {
		rc = eng_send_raw(sa, c->resp, c->resp_len, true);   /* §2.1 */
		goto out;
	}
	if (h->message_id != c->peer_mid) {
		rc = -EINVAL;
		goto out;
	}
	c->peer_mid++;
	ike_build_chain_begin(&b, plain, sizeof(plain));
	if (h->exchange == IKE_CREATE_CHILD_SA) {
		/* §2.25.2: this IKE SA is on its way out. */
		ike_build_notify(&b, 0, NULL, 0, IKE_N_TEMPORARY_FAILURE, NULL, 0);
	} else if (h->exchange == IKE_INFORMATIONAL) {
		while ((p = ike_message_find(sa->m_inner, IKE_PT_DELETE, &from)))
			if (p->u.del.protocol == IKE_PROTO_IKE)
				del = true;
	} else {
		rc = -EOPNOTSUPP;
		goto out;
	}
	/* §1.4.1: deleting the replaced IKE SA ends nothing of ours: the
	 * Child SA lives on the new one.  Other requests get an empty answer. */
	if ((rc = ctx_seal(sa, c, h->exchange, true, h->message_id,
			   h->exchange == IKE_CREATE_CHILD_SA ? &b : NULL, &msg, &mlen)) < 0)
		goto out;
	rc = eng_send_raw(sa, msg, mlen, false);
	if (del) {
		log_msg(LOG_DEBUG, sa->cfg.log_name, "IKE: the server deleted the replaced IKE SA "
			"%02x%02x%02x%02x...", c->spi_i[0], c->spi_i[1], c->spi_i[2], c->spi_i[3]);
		free(msg);
		ctx_free(c);
	} else {
		if (c->resp) {
			secret_wipe(c->resp, c->resp_len);
			free(c->resp);
		}
		c->resp = msg;
		c->resp_len = mlen;
		c->resp_mid = h->message_id;
		c->resp_valid = true;
	}
out:
	if (rc < 0)
		sa->stats.rx_dropped++;
	else
		sa->stats.rx_ok++;
	secret_wipe(buf, len);
	free(buf);
	return rc;
}

/* The current IKE SA becomes a kept one; the new one (keys and secrets
 * taken over) becomes current.  we_init: we started the exchange that made
 * it, so we are its original initiator (§2.18). */
static void switch_ike(struct ike_sa *sa, const uint8_t spi_i[8], const uint8_t spi_r[8],
		       const struct ike_suite *s, struct ike_sa_keys *keys, bool we_init,
		       struct secret *gir, struct secret *seed, uint64_t now_ms)
{
	struct eng_ike_ctx *c = ctx_slot(sa);

	c->valid = true;
	memcpy(c->spi_i, sa->spi_i, 8);
	memcpy(c->spi_r, sa->spi_r, 8);
	c->we_initiated = !sa->life.peer_initiated;
	c->suite = sa->suite;
	c->keys = sa->keys;
	c->next_mid = sa->next_mid;
	c->peer_mid = sa->peer_mid;
	c->resp = sa->resp_cache;
	c->resp_len = sa->resp_cache_len;
	c->resp_mid = sa->resp_cache_mid;
	c->resp_valid = sa->resp_cache_valid;
	c->until_ms = now_ms + LIFE_OLD_IKE_MS;
	sa->resp_cache = NULL;
	sa->resp_cache_len = 0;
	sa->resp_cache_valid = false;

	log_msg(LOG_INFO, sa->cfg.log_name, "IKE: IKE SA rekeyed (%s): %02x%02x%02x%02x.../"
		"%02x%02x%02x%02x... replaces %02x%02x%02x%02x.../%02x%02x%02x%02x...",
		we_init ? "by us" : "by the server", spi_i[0], spi_i[1], spi_i[2], spi_i[3],
		spi_r[0], spi_r[1], spi_r[2], spi_r[3], sa->spi_i[0], sa->spi_i[1], sa->spi_i[2],
		sa->spi_i[3], sa->spi_r[0], sa->spi_r[1], sa->spi_r[2], sa->spi_r[3]);
	memcpy(sa->spi_i, spi_i, 8);
	memcpy(sa->spi_r, spi_r, 8);
	sa->life.peer_initiated = !we_init;
	sa->keys = *keys;
	memset(keys, 0, sizeof(*keys));
	sa->suite = *s;
	sa->next_mid = 0;
	sa->peer_mid = 0;
	sa->life.n_ike_rekeys++;
	sa->life.tf_since_ms = 0;
	/* The key log gets a block for the new IKE SA (spi_i = its initiator). */
	secret_free(&sa->g_ir);
	secret_free(&sa->skeyseed);
	sa->g_ir = *gir;
	sa->skeyseed = *seed;
	memset(gir, 0, sizeof(*gir));
	memset(seed, 0, sizeof(*seed));
	eng_keylog(sa);
	eng_life_plan_ike(sa, now_ms);
}

/* The peer's new IKE SA (made while ours was outstanding) becomes current;
 * its starter, the peer, deletes the old one (§2.8.2). */
static void adopt_peer(struct ike_sa *sa, uint64_t now_ms)
{
	struct eng_ike_new *p = &sa->life.ike_peer;
	switch_ike(sa, p->spi_i, p->spi_r, &p->suite, &p->keys, false, &p->gir, &p->seed, now_ms);
	secret_wipe(p, sizeof(*p));
}

bool eng_nonce_lower(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	return c < 0 || (c == 0 && alen < blen);
}

bool eng_collision_ours_redundant(const uint8_t *our_ni, size_t our_ni_len, const uint8_t *our_nr,
				  size_t our_nr_len, const uint8_t *peer_ni, size_t peer_ni_len,
				  const uint8_t *peer_nr, size_t peer_nr_len)
{
	const uint8_t *low = our_ni;
	size_t low_len = our_ni_len;

	if (eng_nonce_lower(our_nr, our_nr_len, low, low_len)) {
		low = our_nr;
		low_len = our_nr_len;
	}
	/* The lowest is ours unless a nonce of the peer's exchange is lower
	 * (a tie keeps ours lowest). */
	return !eng_nonce_lower(peer_ni, peer_ni_len, low, low_len) &&
	       !eng_nonce_lower(peer_nr, peer_nr_len, low, low_len);
}

/* §2.8.2: both our rekey and the peer's are done.  The exchange holding
 * the lowest of the four nonces made the redundant IKE SA; its starter
 * deletes it, and the survivor's starter deletes the old one. */
static void resolve_collision(struct ike_sa *sa, const uint8_t spi_r[8], const struct ike_suite *s,
			      struct ike_sa_keys *keys, struct secret *gir, struct secret *seed,
			      const uint8_t *nr, size_t nr_len, uint64_t now_ms)
{
	struct eng_life *l = &sa->life;
	struct eng_ike_new *p = &l->ike_peer;
	/* Ours: our Ni and the peer's Nr; the peer's: its Ni and our Nr. */
	bool ours_redundant = eng_collision_ours_redundant(l->n_ours, sizeof(l->n_ours), nr, nr_len,
							   p->ni, p->ni_len, p->nr, sizeof(p->nr));

	l->n_collisions++;
	if (ours_redundant) {
		/* Ours is redundant: the peer's survives (the peer deletes
		 * the old IKE SA); we delete ours. */
		struct eng_ike_ctx *c;
		log_msg(LOG_INFO, sa->cfg.log_name, "IKE: IKE SA rekey collision: the server's "
			"new IKE SA survives, ours is deleted");
		adopt_peer(sa, now_ms);
		c = ctx_slot(sa);
		c->valid = true;
		memcpy(c->spi_i, l->ike_spi_i, 8);
		memcpy(c->spi_r, spi_r, 8);
		c->we_initiated = true;
		c->suite = *s;
		c->keys = *keys;
		memset(keys, 0, sizeof(*keys));
		c->until_ms = now_ms + LIFE_OLD_IKE_MS;
		secret_free(gir);
		secret_free(seed);
		ctx_send_delete(sa, c);
		return;
	}
	/* The peer's is redundant (the peer deletes it, we answer that on
	 * the kept copy); ours survives and we delete the old one. */
	log_msg(LOG_INFO, sa->cfg.log_name, "IKE: IKE SA rekey collision: our new IKE SA "
		"survives, the server's is deleted by the server");
	eng_send_delete_oneshot(sa);
	switch_ike(sa, l->ike_spi_i, spi_r, s, keys, true, gir, seed, now_ms);
	{
		struct eng_ike_ctx *c = ctx_slot(sa);
		c->valid = true;
		memcpy(c->spi_i, p->spi_i, 8);
		memcpy(c->spi_r, p->spi_r, 8);
		c->we_initiated = false;
		c->suite = p->suite;
		c->keys = p->keys;
		memset(&p->keys, 0, sizeof(p->keys));
		c->until_ms = now_ms + LIFE_OLD_IKE_MS;
		secret_free(&p->gir);
		secret_free(&p->seed);
		secret_wipe(p, sizeof(*p));
	}
}

int eng_rekey_ike_response(struct ike_sa *sa, uint8_t *buf, size_t len, uint64_t now_ms)
{
	struct eng_life *l = &sa->life;
	struct ike_message *in = sa->m_inner;
	const struct ike_payload *psa, *pno, *pke, *p;
	struct ike_suite s;
	struct ike_sa_keys keys;
	struct secret gir = { 0 }, seed = { 0 };
	struct pvpn_err err;
	uint8_t spi_r[8];
	char why[160], nb[32];
	uint16_t err_notify = 0;
	size_t from = 0;
	int rc;

	if ((rc = eng_open_peer(sa, buf, len, &err)) < 0)
		return rc;
	memset(&keys, 0, sizeof(keys));
	eng_request_clear(sa);
	l->ike_rk = false;
	while ((p = ike_message_find(in, IKE_PT_NOTIFY, &from)))
		if (p->u.notify.type < 16384 && !err_notify)
			err_notify = p->u.notify.type;
	psa = ike_message_find(in, IKE_PT_SA, NULL);
	pno = ike_message_find(in, IKE_PT_NONCE, NULL);
	pke = ike_message_find(in, IKE_PT_KE, NULL);
	if (err_notify == IKE_N_TEMPORARY_FAILURE && !eng_life_temp_failure(sa, now_ms))
		return 0;
	if (err_notify) {
		snprintf(why, sizeof(why), "the server sent %s",
			 eng_notify_label(err_notify, nb, sizeof(nb)));
		goto later;
	}
	if (!psa || !pno || !pke || pno->u.nonce.len < IKE_NONCE_MIN ||
	    pno->u.nonce.len > IKE_NONCE_MAX || pke->u.ke.group != sa->suite.dh) {
		snprintf(why, sizeof(why), "the answer lacks SA, Nonce or a matching KE");
		goto later;
	}
	if (check_choice(sa, &psa->u.sa, &s, spi_r, why, sizeof(why)) < 0)
		goto later;
	if (ike_dh_shared(l->dh, pke->u.ke.data, pke->u.ke.len, &gir, &err) < 0) {
		snprintf(why, sizeof(why), "the server's KE value is not valid");
		goto later;
	}
	/* §2.18 with the OLD SA's PRF and SK_d. */
	if (ike_skeyseed_rekey(sa->suite.prf, &sa->keys.sk_d, &gir, l->n_ours, sizeof(l->n_ours),
			       pno->u.nonce.data, pno->u.nonce.len, &seed) < 0 ||
	    ike_sa_keys_derive(&s, &seed, l->n_ours, sizeof(l->n_ours), pno->u.nonce.data,
			       pno->u.nonce.len, l->ike_spi_i, spi_r, &keys) < 0) {
		secret_free(&gir);
		secret_free(&seed);
		snprintf(why, sizeof(why), "key derivation failed");
		goto later;
	}
	ike_dh_free(l->dh);
	l->dh = NULL;
	l->tf_since_ms = 0;
	if (l->ike_peer.valid) {
		resolve_collision(sa, spi_r, &s, &keys, &gir, &seed, pno->u.nonce.data,
				  pno->u.nonce.len, now_ms);
	} else {
		/* The old IKE SA goes (§1.3.2): DELETE on it, once (it is
		 * replaced whether or not the answer comes). */
		eng_send_delete_oneshot(sa);
		switch_ike(sa, l->ike_spi_i, spi_r, &s, &keys, true, &gir, &seed, now_ms);
	}
	if (sa->delete_pending) {
		sa->delete_pending = false;
		if (eng_send_info_request(sa, REQ_DELETE, now_ms) < 0)
			eng_close(sa, IKE_ERR_NONE, "disconnected (DELETE could not be built)");
	}
	return 0;
later:
	/* The old IKE SA still works: try again in a while. */
	ike_dh_free(l->dh);
	l->dh = NULL;
	log_msg(LOG_WARNING, sa->cfg.log_name, "IKE: IKE SA rekey failed: %s; retrying later", why);
	l->ike_rekey_ms = now_ms + LIFE_RETRY_MIN_MS + eng_rand_below(sa, LIFE_RETRY_SPAN_MS);
	if (l->ike_peer.valid)
		/* The peer's colliding rekey is the only one: it stands. */
		adopt_peer(sa, now_ms);
	if (sa->delete_pending) {
		sa->delete_pending = false;
		if (eng_send_info_request(sa, REQ_DELETE, now_ms) < 0)
			eng_close(sa, IKE_ERR_NONE, "disconnected (DELETE could not be built)");
	}
	return 0;
}

/* ------------------------------------------------ the peer's IKE SA rekey */

struct ike_pick {
	uint8_t num;
	uint8_t spi[8];
	uint16_t encr, bits, prf, integ, group;
	struct ike_suite s;
};

/* §2.7, §1.3.2: one of the peer's IKE proposals made only of algorithms we
 * offer ourselves; the KE decides the group.  *want: a group of ours the
 * peer offered when the KE is for another (INVALID_KE_PAYLOAD, §1.2). */
static int choose_ike(const struct ike_sa *sa, const struct ike_sa_body *sab, uint16_t ke_group,
		      struct ike_pick *out, uint16_t *want)
{
	*want = 0;
	for (size_t i = 0; i < sab->nprops; i++) {
		const struct ike_proposal *p = &sab->props[i];
		struct ike_pick k;
		bool has_integ = false;
		uint16_t first_group = 0;

		if (p->protocol != IKE_PROTO_IKE || p->spi_size != 8 ||
		    !memcmp(p->spi, "\0\0\0\0\0\0\0\0", 8))
			continue;
		memset(&k, 0, sizeof(k));
		for (size_t j = 0; j < p->nxforms; j++) {
			const struct ike_transform *t = &p->xforms[j];
			switch (t->type) {
			case IKE_TRANS_ENCR:
				if (!k.encr && eng_cfg_has(sa, true, t->type, t->id, t->key_length)) {
					k.encr = t->id;
					k.bits = t->key_length;
				}
				break;
			case IKE_TRANS_PRF:
				if (!k.prf && eng_cfg_has(sa, true, t->type, t->id, 0))
					k.prf = t->id;
				break;
			case IKE_TRANS_INTEG:
				has_integ = true;
				if (!k.integ && eng_cfg_has(sa, true, t->type, t->id, 0))
					k.integ = t->id;
				break;
			case IKE_TRANS_DH:
				if (!eng_cfg_has(sa, true, t->type, t->id, 0))
					break;
				if (!first_group)
					first_group = t->id;
				if (t->id == ke_group)
					k.group = t->id;
				break;
			default:
				break;
			}
		}
		if (!k.encr || !k.prf || (has_integ && !k.integ) || !first_group)
			continue;
		if (!k.group) {
			if (!*want)
				*want = first_group;
			continue;
		}
		if (ike_suite_init(&k.s, k.encr, k.bits, k.integ, k.prf, k.group, NULL) < 0)
			continue;
		k.num = p->num;
		memcpy(k.spi, p->spi, 8);
		*out = k;
		return 0;
	}
	return -ENOENT;
}

int eng_rekey_ike_request(struct ike_sa *sa, uint32_t mid, uint64_t now_ms)
{
	struct eng_life *l = &sa->life;
	struct ike_message *in = sa->m_inner;
	const struct ike_payload *psa, *pno, *pke;
	struct ike_proposal prop;
	struct ike_transform xf[5];
	struct ike_builder b;
	struct ike_pick k;
	struct ike_sa_keys keys;
	struct secret gir = { 0 }, seed = { 0 };
	struct ike_dh_ctx *dh = NULL;
	struct pvpn_err err;
	uint8_t *plain = NULL, *msg = NULL, ke[1024], nr[LIFE_NONCE_LEN], spi_r[8], gb[2];
	uint8_t first = IKE_PT_NONE;
	uint16_t want = 0;
	size_t n = 0, plain_len = 0, mlen = 0;
	int rc, kelen;
	bool collision;

	memset(&keys, 0, sizeof(keys));
	psa = ike_message_find(in, IKE_PT_SA, NULL);
	pno = ike_message_find(in, IKE_PT_NONCE, NULL);
	pke = ike_message_find(in, IKE_PT_KE, NULL);
	/* §2.25.2: an IKE SA we are closing is not rekeyed. */
	if (sa->state != ST_ESTABLISHED || sa->delete_pending)
		return eng_rekey_refuse(sa, mid, IKE_N_TEMPORARY_FAILURE, NULL, 0,
					"we are closing the IKE SA");
	collision = sa->req.kind == REQ_REKEY_IKE && l->ike_rk;
	/* One thing at a time: another exchange of ours (or a Child SA rekey)
	 * under way on this IKE SA makes it a temporary condition (§2.25). */
	if ((sa->req.kind != REQ_NONE && !collision) || l->ike_peer.valid ||
	    l->rk != RK_IDLE || l->r_wait || l->p_valid)
		return eng_rekey_refuse(sa, mid, IKE_N_TEMPORARY_FAILURE, NULL, 0,
					"another exchange is under way");
	if (!psa || !pno || !pke || pno->u.nonce.len < IKE_NONCE_MIN ||
	    pno->u.nonce.len > IKE_NONCE_MAX)
		return eng_rekey_refuse(sa, mid, IKE_N_INVALID_SYNTAX, NULL, 0,
					"SA, Nonce or KE missing");
	if (choose_ike(sa, &psa->u.sa, pke->u.ke.group, &k, &want) < 0) {
		if (want) {
			gb[0] = (uint8_t)(want >> 8);
			gb[1] = (uint8_t)want;
			return eng_rekey_refuse(sa, mid, IKE_N_INVALID_KE_PAYLOAD, gb, 2,
						"the KE is for a group we do not use");
		}
		return eng_rekey_refuse(sa, mid, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0,
					"no acceptable IKE proposal");
	}
	do
		sa->rnd(spi_r, 8);
	while (!memcmp(spi_r, "\0\0\0\0\0\0\0\0", 8));
	sa->rnd(nr, sizeof(nr));
	dh = ike_dh_new(k.group, sa->rnd, &err);
	if (!dh || (kelen = ike_dh_public(dh, ke, sizeof(ke))) < 0) {
		ike_dh_free(dh);
		return eng_rekey_refuse(sa, mid, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0,
					"cannot make a KE value");
	}
	if (ike_dh_shared(dh, pke->u.ke.data, pke->u.ke.len, &gir, &err) < 0) {
		ike_dh_free(dh);
		secret_wipe(ke, sizeof(ke));
		return eng_rekey_refuse(sa, mid, IKE_N_INVALID_SYNTAX, NULL, 0, "bad KE value");
	}
	ike_dh_free(dh);
	/* §2.18: the peer started this exchange, so it is "i": its nonce and
	 * SPI first; the OLD SA's PRF and SK_d. */
	if (ike_skeyseed_rekey(sa->suite.prf, &sa->keys.sk_d, &gir, pno->u.nonce.data,
			       pno->u.nonce.len, nr, sizeof(nr), &seed) < 0 ||
	    ike_sa_keys_derive(&k.s, &seed, pno->u.nonce.data, pno->u.nonce.len, nr, sizeof(nr),
			       k.spi, spi_r, &keys) < 0) {
		rc = eng_rekey_refuse(sa, mid, IKE_N_TEMPORARY_FAILURE, NULL, 0,
				      "key derivation failed");
		goto out;
	}
	plain = malloc(IKE_RK_PLAIN_MAX);
	if (!plain) {
		rc = -ENOMEM;
		goto out;
	}
	memset(&prop, 0, sizeof(prop));
	memset(xf, 0, sizeof(xf));
	prop.num = k.num;
	prop.protocol = IKE_PROTO_IKE;
	prop.spi_size = 8;
	memcpy(prop.spi, spi_r, 8);
	xf[n].type = IKE_TRANS_ENCR; xf[n].id = k.encr; xf[n++].key_length = k.bits;
	xf[n].type = IKE_TRANS_PRF; xf[n++].id = k.prf;
	if (k.integ) { xf[n].type = IKE_TRANS_INTEG; xf[n++].id = k.integ; }
	xf[n].type = IKE_TRANS_DH; xf[n++].id = k.group;
	prop.nxforms = (uint8_t)n;
	prop.xforms = xf;
	ike_build_chain_begin(&b, plain, IKE_RK_PLAIN_MAX);
	ike_build_sa(&b, &prop, 1);
	ike_build_nonce(&b, nr, sizeof(nr));
	ike_build_ke(&b, k.group, ke, (size_t)kelen);
	if ((rc = ike_build_finish(&b, &plain_len, &first, NULL)) < 0 ||
	    (rc = eng_build_protected(sa, IKE_CREATE_CHILD_SA, true, mid, plain, plain_len, first,
				      &msg, &mlen)) < 0 ||
	    (rc = eng_respond(sa, mid, msg, mlen)) < 0)
		goto out;
	if (collision) {
		/* §2.8.2: kept until our own rekey is done. */
		struct eng_ike_new *p = &l->ike_peer;
		p->valid = true;
		memcpy(p->spi_i, k.spi, 8);
		memcpy(p->spi_r, spi_r, 8);
		p->suite = k.s;
		p->keys = keys;
		memset(&keys, 0, sizeof(keys));
		p->gir = gir;
		p->seed = seed;
		memset(&gir, 0, sizeof(gir));
		memset(&seed, 0, sizeof(seed));
		memcpy(p->ni, pno->u.nonce.data, pno->u.nonce.len);
		p->ni_len = pno->u.nonce.len;
		memcpy(p->nr, nr, sizeof(nr));
		log_msg(LOG_INFO, sa->cfg.log_name, "IKE: the server rekeys the IKE SA while we do "
			"(collision, RFC 7296 §2.8.2): answered, the nonces decide when ours is done");
		rc = 0;
		goto out;
	}
	/* The peer deletes the old IKE SA (§1.3.2); we answer that on the
	 * kept copy.  The Child SA moves along. */
	switch_ike(sa, k.spi, spi_r, &k.s, &keys, false, &gir, &seed, now_ms);
	rc = 0;
out:
	ike_sa_keys_free(&keys);
	secret_free(&gir);
	secret_free(&seed);
	secret_wipe(ke, sizeof(ke));
	secret_wipe(nr, sizeof(nr));
	if (plain) {
		secret_wipe(plain, IKE_RK_PLAIN_MAX);
		free(plain);
	}
	return rc;
}
