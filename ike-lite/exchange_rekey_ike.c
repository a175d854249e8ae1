/* exchange_rekey_ike.c — rekeying the IKE SA ourselves (RFC 7296 §1.3.2,
 * §2.18): CREATE_CHILD_SA with SA(IKE, our new SPI), Ni, KEi; the new keys
 * from SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr); the old IKE SA is
 * then deleted and the Child SA simply belongs to the new one (its kernel
 * SAs do not change).  We stay the new IKE SA's original initiator, so the
 * engine's roles do not change; Message IDs start again at 0 (§2.18).
 *
 * A rekey of the IKE SA started by the server is still refused with
 * TEMPORARY_FAILURE (exchange_rekey.c); the server keeps the old one, and we
 * rekey it before our own IKELifetime ends. */
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
		bool ok = false;
		for (size_t j = 0; j < mine->nxforms; j++)
			if (mine->xforms[j].type == t->type && mine->xforms[j].id == t->id &&
			    mine->xforms[j].key_length == t->key_length)
				ok = true;
		if (!ok || t->type < 1 || t->type > 4 || seen[t->type]++) {
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

	if ((rc = ike_message_parse(sa->m_outer, buf, len, &err)) < 0 ||
	    (rc = eng_open(&sa->suite, &sa->keys.sk_er, &sa->keys.sk_ar, buf, len, sa->m_outer,
			   in, &err)) < 0)
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
	/* The old IKE SA goes (§1.3.2): DELETE on it, once (it is replaced
	 * whether or not the answer comes). */
	eng_send_delete_oneshot(sa);
	log_msg(LOG_INFO, sa->cfg.log_name, "IKE: IKE SA rekeyed: %02x%02x%02x%02x... replaces "
		"%02x%02x%02x%02x...", l->ike_spi_i[0], l->ike_spi_i[1], l->ike_spi_i[2],
		l->ike_spi_i[3], sa->spi_i[0], sa->spi_i[1], sa->spi_i[2], sa->spi_i[3]);
	memcpy(sa->spi_i, l->ike_spi_i, 8);
	memcpy(sa->spi_r, spi_r, 8);
	memcpy(sa->ni, l->n_ours, sizeof(sa->ni));
	memcpy(sa->nr, pno->u.nonce.data, pno->u.nonce.len);
	sa->nr_len = pno->u.nonce.len;
	ike_sa_keys_free(&sa->keys);
	sa->keys = keys;
	sa->suite = s;
	sa->next_mid = 0;
	sa->peer_mid = 0;
	sa->resp_cache_valid = false;
	l->n_ike_rekeys++;
	/* The key log gets a block for the new IKE SA. */
	secret_free(&sa->g_ir);
	secret_free(&sa->skeyseed);
	sa->g_ir = gir;
	sa->skeyseed = seed;
	eng_keylog(sa);
	eng_life_plan_ike(sa, now_ms);
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
	if (sa->delete_pending) {
		sa->delete_pending = false;
		if (eng_send_info_request(sa, REQ_DELETE, now_ms) < 0)
			eng_close(sa, IKE_ERR_NONE, "disconnected (DELETE could not be built)");
	}
	return 0;
}
