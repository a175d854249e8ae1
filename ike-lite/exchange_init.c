/* exchange_init.c — IKE_SA_INIT as initiator (RFC 7296 §1.2, §2.6, §2.23). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike-lite/engine_internal.h"
#include "ike-lite/auth.h"
#include "lib/log.h"

void eng_offer_add_xf(struct ike_transform *xs, uint8_t *n, uint8_t type, uint16_t id,
		      uint16_t bits)
{
	struct ike_transform *t = &xs[(*n)++];
	memset(t, 0, sizeof(*t));
	t->type = type;
	t->id = id;
	t->key_length = bits;
}

/* ike: IKE SA proposals; else ESP with our inbound SPI (never a DH in
 * IKE_AUTH, §1.2). */
void eng_make_offer(const struct ike_sa *sa, bool ike, struct eng_offer *o)
{
	const struct ike_cfg_proposal *ps = ike ? sa->cfg.ike_proposals : sa->cfg.child_proposals;
	size_t n = ike ? sa->cfg.n_ike_proposals : sa->cfg.n_child_proposals;

	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < n; i++) {
		const struct ike_cfg_proposal *c = &ps[i];
		struct ike_proposal *p = &o->props[i];
		uint8_t k = 0;
		p->num = (uint8_t)(i + 1);
		p->protocol = ike ? IKE_PROTO_IKE : IKE_PROTO_ESP;
		if (!ike) {
			p->spi_size = 4;
			p->spi[0] = (uint8_t)(sa->spi_in >> 24);
			p->spi[1] = (uint8_t)(sa->spi_in >> 16);
			p->spi[2] = (uint8_t)(sa->spi_in >> 8);
			p->spi[3] = (uint8_t)sa->spi_in;
		}
		for (size_t j = 0; j < c->n_encr; j++)
			eng_offer_add_xf(o->xf[i], &k, IKE_TRANS_ENCR, c->encr[j].id, c->encr[j].key_bits);
		if (ike)
			for (size_t j = 0; j < c->n_prf; j++)
				eng_offer_add_xf(o->xf[i], &k, IKE_TRANS_PRF, c->prf[j], 0);
		for (size_t j = 0; j < c->n_integ; j++)
			if (c->integ[j])
				eng_offer_add_xf(o->xf[i], &k, IKE_TRANS_INTEG, c->integ[j], 0);
		if (ike) {
			for (size_t j = 0; j < c->n_dh; j++)
				eng_offer_add_xf(o->xf[i], &k, IKE_TRANS_DH, c->dh[j], 0);
		} else {
			if (!c->n_esn)
				eng_offer_add_xf(o->xf[i], &k, IKE_TRANS_ESN, IKE_ESN_NO, 0);
			for (size_t j = 0; j < c->n_esn; j++)
				eng_offer_add_xf(o->xf[i], &k, IKE_TRANS_ESN, c->esn[j], 0);
		}
		p->nxforms = k;
		p->xforms = o->xf[i];
	}
	o->n = n;
}

/* Whether one of our IKE (ike) or ESP proposals holds the transform: a
 * peer's proposal (§2.7, a rekey the server starts) is acceptable when
 * each of its choices passes this.  A DH group only when this build has
 * it; no ESN configured means ESN "no", as eng_make_offer offers. */
bool eng_cfg_has(const struct ike_sa *sa, bool ike, uint8_t type, uint16_t id, uint16_t bits)
{
	const struct ike_cfg_proposal *ps = ike ? sa->cfg.ike_proposals : sa->cfg.child_proposals;
	size_t n = ike ? sa->cfg.n_ike_proposals : sa->cfg.n_child_proposals;

	for (size_t i = 0; i < n; i++) {
		const struct ike_cfg_proposal *c = &ps[i];
		switch (type) {
		case IKE_TRANS_ENCR:
			for (size_t j = 0; j < c->n_encr; j++)
				if (c->encr[j].id == id && c->encr[j].key_bits == bits)
					return true;
			break;
		case IKE_TRANS_PRF:
			for (size_t j = 0; j < c->n_prf; j++)
				if (c->prf[j] == id)
					return true;
			break;
		case IKE_TRANS_INTEG:
			for (size_t j = 0; j < c->n_integ; j++)
				if (c->integ[j] == id)
					return true;
			break;
		case IKE_TRANS_DH:
			for (size_t j = 0; j < c->n_dh; j++)
				if (c->dh[j] == id && ike_dh_supported(id))
					return true;
			break;
		case IKE_TRANS_ESN:
			if (!c->n_esn && id == IKE_ESN_NO)
				return true;
			for (size_t j = 0; j < c->n_esn; j++)
				if (c->esn[j] == id)
					return true;
			break;
		default:
			break;
		}
	}
	return false;
}

/* The responder's choice (§3.3.6): one proposal, numbered as one of ours,
 * of the right protocol, every transform from that proposal of ours, one
 * of each type that needs one.  On success *out holds the choice. */
struct eng_choice {
	uint16_t encr, encr_bits, prf, integ, dh, esn;
	bool has_esn;
	uint8_t spi[8];
};

bool eng_offered(const struct ike_proposal *p, const struct ike_transform *t)
{
	for (size_t i = 0; i < p->nxforms; i++)
		if (p->xforms[i].type == t->type && p->xforms[i].id == t->id &&
		    p->xforms[i].key_length == t->key_length)
			return true;
	return false;
}

int eng_check_choice(const struct ike_sa *sa, bool ike, const struct ike_sa_body *sab,
		     struct eng_choice *out, char *why, size_t whylen)
{
	struct eng_offer o;
	const struct ike_proposal *r, *mine;
	unsigned seen[6] = { 0 };

	eng_make_offer(sa, ike, &o);
	memset(out, 0, sizeof(*out));
	if (sab->nprops != 1) {
		snprintf(why, whylen, "the server chose %u proposals instead of one", sab->nprops);
		return -EBADMSG;
	}
	r = &sab->props[0];
	if (r->num < 1 || r->num > o.n) {
		snprintf(why, whylen, "the server chose proposal %u, we offered %zu", r->num, o.n);
		return -EBADMSG;
	}
	mine = &o.props[r->num - 1];
	if (r->protocol != mine->protocol || r->spi_size != (ike ? 0 : 4)) {
		snprintf(why, whylen, "the chosen proposal has protocol %u with a %u-byte SPI",
			 r->protocol, r->spi_size);
		return -EBADMSG;
	}
	for (size_t i = 0; i < r->nxforms; i++) {
		const struct ike_transform *t = &r->xforms[i];
		if (t->type < 1 || t->type > 5 || !eng_offered(mine, t)) {
			snprintf(why, whylen, "the server chose transform %u/%u (%u bits) that we "
				 "did not offer", t->type, t->id, t->key_length);
			return -EBADMSG;
		}
		if (seen[t->type]++) {
			snprintf(why, whylen, "the server chose two transforms of type %u", t->type);
			return -EBADMSG;
		}
		switch (t->type) {
		case IKE_TRANS_ENCR: out->encr = t->id; out->encr_bits = t->key_length; break;
		case IKE_TRANS_PRF: out->prf = t->id; break;
		case IKE_TRANS_INTEG: out->integ = t->id; break;
		case IKE_TRANS_DH: out->dh = t->id; break;
		case IKE_TRANS_ESN: out->esn = t->id; out->has_esn = true; break;
		}
	}
	memcpy(out->spi, r->spi, r->spi_size);
	/* Every type we offered must be chosen (integ may be absent for AEAD,
	 * checked by the suite). */
	for (size_t i = 0; i < mine->nxforms; i++)
		if (mine->xforms[i].type != IKE_TRANS_INTEG && !seen[mine->xforms[i].type]) {
			snprintf(why, whylen, "the server chose no transform of type %u",
				 mine->xforms[i].type);
			return -EBADMSG;
		}
	return 0;
}

static bool group_offered(const struct ike_sa *sa, uint16_t g)
{
	for (size_t i = 0; i < sa->cfg.n_ike_proposals; i++)
		for (size_t j = 0; j < sa->cfg.ike_proposals[i].n_dh; j++)
			if (sa->cfg.ike_proposals[i].dh[j] == g)
				return true;
	return false;
}

static int build_init(struct ike_sa *sa, uint8_t **out, size_t *out_len)
{
	struct ike_builder b;
	struct ike_header h;
	struct eng_offer *o = NULL;
	uint8_t *buf = NULL, ke[1024], hash[20];
	uint8_t zero[8] = { 0 };
	struct pvpn_err err;
	size_t len;
	int rc, kelen;
	/* RFC 7427 §4: SHA2-256, SHA2-384, SHA2-512. */
	/* RFC 7427 §4; identity (5) for Ed25519, RFC 8420 §2. */
	static const uint8_t sha[] = { 0, 2, 0, 3, 0, 4, 0, 5 };

	if (!(o = malloc(sizeof(*o))) || !(buf = malloc(ENG_MSG_MAX))) {
		rc = -ENOMEM;
		goto out;
	}
	eng_make_offer(sa, true, o);
	if ((kelen = ike_dh_public(sa->dh, ke, sizeof(ke))) < 0) {
		rc = kelen;
		goto out;
	}
	memset(&h, 0, sizeof(h));
	memcpy(h.spi_i, sa->spi_i, 8);
	h.version = IKE_VERSION_2_0;
	h.exchange = IKE_SA_INIT;
	h.flags = IKE_FLAG_I;
	h.message_id = 0;
	ike_build_begin(&b, buf, ENG_MSG_MAX, &h);
	/* §2.6: the cookie comes first. */
	if (sa->cookie_len)
		ike_build_notify(&b, 0, NULL, 0, IKE_N_COOKIE, sa->cookie, sa->cookie_len);
	ike_build_sa(&b, o->props, o->n);
	ike_build_ke(&b, sa->dh_group, ke, (size_t)kelen);
	ike_build_nonce(&b, sa->ni, sizeof(sa->ni));
	/* §2.23: in the request SPIr is zero. */
	eng_natd_hash(sa->spi_i, zero, &sa->cfg.local, eng_port(&sa->cfg.local), hash);
	ike_build_notify(&b, 0, NULL, 0, IKE_N_NAT_DETECTION_SOURCE_IP, hash, 20);
	eng_natd_hash(sa->spi_i, zero, &sa->cfg.remote, eng_port(&sa->cfg.remote), hash);
	ike_build_notify(&b, 0, NULL, 0, IKE_N_NAT_DETECTION_DESTINATION_IP, hash, 20);
	if (!sa->cfg.disable_fragmentation)
		ike_build_notify(&b, 0, NULL, 0, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED, NULL, 0);
	ike_build_notify(&b, 0, NULL, 0, IKE_N_SIGNATURE_HASH_ALGORITHMS, sha, sizeof(sha));
	if ((rc = ike_build_finish(&b, &len, NULL, &err)) < 0) {
		log_msg(LOG_ERR, sa->cfg.log_name, "IKE: building IKE_SA_INIT: %s", err.msg);
		goto out;
	}
	*out = buf;
	*out_len = len;
	buf = NULL;
out:
	free(o);
	free(buf);
	return rc;
}

static int send_init(struct ike_sa *sa, uint64_t now_ms)
{
	uint8_t *msg;
	size_t len;
	int rc;

	if ((rc = build_init(sa, &msg, &len)) < 0) {
		eng_close(sa, IKE_ERR_CONFIGURATION_FAILED, "cannot build IKE_SA_INIT (%d)", rc);
		return rc;
	}
	free(sa->init_req);
	sa->init_req = malloc(len);
	if (!sa->init_req) {
		free(msg);
		eng_close(sa, IKE_ERR_CONFIGURATION_FAILED, "out of memory");
		return -ENOMEM;
	}
	memcpy(sa->init_req, msg, len);
	sa->init_req_len = len;
	sa->state = ST_INIT_SENT;
	return eng_request_start(sa, REQ_INIT, IKE_SA_INIT, 0, msg, len, now_ms);
}

static int new_dh(struct ike_sa *sa, uint16_t group)
{
	struct pvpn_err err;

	ike_dh_free(sa->dh);
	sa->dh = ike_dh_new(group, sa->rnd, &err);
	if (!sa->dh) {
		eng_close(sa, IKE_ERR_CONFIGURATION_FAILED, "DH group %u: %s", (unsigned)group, err.msg);
		return -ENOTSUP;
	}
	sa->dh_group = group;
	return 0;
}

int eng_init_start(struct ike_sa *sa, uint64_t now_ms)
{
	int rc;

	/* §2.6: a non-zero SPI; fresh nonce (§2.10). */
	do
		sa->rnd(sa->spi_i, 8);
	while (!memcmp(sa->spi_i, "\0\0\0\0\0\0\0\0", 8));
	sa->rnd(sa->ni, sizeof(sa->ni));
	if ((rc = new_dh(sa, sa->cfg.ike_proposals[0].dh[0])) < 0)
		return rc;
	sa->next_mid = 0;
	return send_init(sa, now_ms);
}

/* §2.23: compare the responder's NATD hashes with what we see. */
static void detect_nat(struct ike_sa *sa, const struct ike_message *m, const struct ike_path *path)
{
	uint8_t want[20];
	size_t from = 0;
	const struct ike_payload *p;
	bool any_src = false, src_match = false, any_dst = false, dst_match = false;
	struct sockaddr_storage peer = path ? path->remote : sa->cfg.remote;
	uint16_t peer_port = eng_port(&peer);

	while ((p = ike_message_find(m, IKE_PT_NOTIFY, &from))) {
		const struct ike_notify_body *n = &p->u.notify;
		if (n->type == IKE_N_NAT_DETECTION_SOURCE_IP) {
			any_src = true;
			eng_natd_hash(sa->spi_i, sa->spi_r, &peer, peer_port, want);
			if (n->len == 20 && !memcmp(n->data, want, 20))
				src_match = true;
		} else if (n->type == IKE_N_NAT_DETECTION_DESTINATION_IP) {
			any_dst = true;
			eng_natd_hash(sa->spi_i, sa->spi_r, &sa->cfg.local,
				      eng_port(&sa->cfg.local), want);
			if (n->len == 20 && !memcmp(n->data, want, 20))
				dst_match = true;
		}
	}
	if (!any_src || !any_dst)
		return;   /* the responder does not do NAT-T */
	sa->nat_remote = !src_match;
	sa->nat_local = !dst_match;
	if (sa->nat_local || sa->nat_remote) {
		/* §2.23: from IKE_AUTH on, port 4500 with the marker. */
		sa->natt = true;
		eng_set_port(&sa->path.local, sa->cfg.natt_port);
		eng_set_port(&sa->path.remote, sa->cfg.natt_port);
		log_msg(LOG_NOTICE, sa->cfg.log_name, "IKE: NAT detected (%s%s%s); moving to port %u",
			sa->nat_local ? "in front of us" : "",
			sa->nat_local && sa->nat_remote ? ", " : "",
			sa->nat_remote ? "in front of the server" : "", (unsigned)sa->cfg.natt_port);
	}
}

static int derive(struct ike_sa *sa, const struct eng_choice *c, const struct ike_ke_body *ke)
{
	struct pvpn_err err;
	int rc;

	if ((rc = ike_suite_init(&sa->suite, c->encr, c->encr_bits, c->integ, c->prf, c->dh, &err)) < 0) {
		/* Each transform was offered but together they make no suite
		 * (e.g. AES-GCM with an integrity algorithm).  Unprotected, so
		 * possibly forged (§2.4): refuse it and keep waiting. */
		snprintf(sa->last_reject, sizeof(sa->last_reject), "unusable IKE proposal: %.160s",
			 err.msg);
		log_msg(LOG_WARNING, sa->cfg.log_name, "IKE: IKE_SA_INIT response rejected: %s",
			sa->last_reject);
		return -EBADMSG;
	}
	if ((rc = ike_dh_shared(sa->dh, ke->data, ke->len, &sa->g_ir, &err)) < 0)
		return rc;   /* a bad KE value: drop, as if never received */
	if ((rc = ike_skeyseed(c->prf, sa->ni, sizeof(sa->ni), sa->nr, sa->nr_len, &sa->g_ir,
			       &sa->skeyseed)) < 0 ||
	    (rc = ike_sa_keys_derive(&sa->suite, &sa->skeyseed, sa->ni, sizeof(sa->ni), sa->nr,
				     sa->nr_len, sa->spi_i, sa->spi_r, &sa->keys)) < 0) {
		eng_close(sa, IKE_ERR_CONFIGURATION_FAILED, "key derivation failed (%d)", rc);
		return rc;
	}
	sa->have_keys = true;
	ike_dh_free(sa->dh);
	sa->dh = NULL;
	return 0;
}

int eng_init_response(struct ike_sa *sa, uint8_t *buf, size_t len,
		      const struct ike_path *path, uint64_t now_ms)
{
	struct ike_message *m = sa->m_outer;
	const struct ike_payload *psa, *pke, *pno, *p;
	struct pvpn_err err;
	struct eng_choice c;
	char why[160], nb[32];
	size_t from = 0;
	uint16_t err_notify = 0;
	int rc;

	if (sa->state != ST_INIT_SENT)
		return -EINVAL;
	if ((rc = ike_message_parse(m, buf, len, &err)) < 0) {
		log_msg(LOG_DEBUG, sa->cfg.log_name, "IKE: bad IKE_SA_INIT response: %s", err.msg);
		return rc;
	}
	/* Notifies first: COOKIE and INVALID_KE_PAYLOAD come alone (§1.2, §2.6). */
	while ((p = ike_message_find(m, IKE_PT_NOTIFY, &from))) {
		const struct ike_notify_body *n = &p->u.notify;
		if (n->type == IKE_N_COOKIE) {
			if (n->len < 1 || n->len > ENG_COOKIE_MAX)
				return -EBADMSG;
			if (sa->cookie_rounds >= ENG_MAX_COOKIES)
				return -EAGAIN;   /* keep waiting; the budget decides */
			sa->cookie_rounds++;
			memcpy(sa->cookie, n->data, n->len);
			sa->cookie_len = n->len;
			log_msg(LOG_INFO, sa->cfg.log_name, "IKE: the server asks for a cookie; retrying");
			return send_init(sa, now_ms);
		}
		if (n->type == IKE_N_INVALID_KE_PAYLOAD) {
			uint16_t g;
			if (n->len != 2)
				return -EBADMSG;
			g = (uint16_t)(n->data[0] << 8 | n->data[1]);
			/* Only a group we offered, not the one we sent, a bounded
			 * number of times; else ignore it (§2.4 hint). */
			if (!group_offered(sa, g) || g == sa->dh_group ||
			    sa->ke_retries >= ENG_MAX_KE_RETRIES || !ike_dh_supported(g)) {
				sa->last_notify = n->type;
				sa->stats.ignored_notifies++;
				return -EAGAIN;
			}
			sa->ke_retries++;
			log_msg(LOG_INFO, sa->cfg.log_name, "IKE: the server wants DH group %u; retrying",
				(unsigned)g);
			if ((rc = new_dh(sa, g)) < 0)
				return rc;
			return send_init(sa, now_ms);
		}
		if (n->type < 16384 && !err_notify)
			err_notify = n->type;
	}
	psa = ike_message_find(m, IKE_PT_SA, NULL);
	pke = ike_message_find(m, IKE_PT_KE, NULL);
	pno = ike_message_find(m, IKE_PT_NONCE, NULL);
	if (err_notify || !psa || !pke || !pno) {
		/* §2.4: an unprotected error may be forged; wait for a valid
		 * response until the budget runs out, then report it. */
		if (err_notify) {
			sa->last_notify = err_notify;
			sa->stats.ignored_notifies++;
			log_msg(LOG_INFO, sa->cfg.log_name, "IKE: the server sent %s (unprotected; "
				"still waiting for a valid answer)",
				eng_notify_label(err_notify, nb, sizeof(nb)));
		}
		return -EAGAIN;
	}
	if (!memcmp(m->hdr.spi_r, "\0\0\0\0\0\0\0\0", 8))
		return -EBADMSG;
	if ((rc = eng_check_choice(sa, true, &psa->u.sa, &c, why, sizeof(why))) < 0) {
		/* Not an answer to our offer: unprotected, so possibly forged
		 * (§2.4); keep waiting, and report it if nothing better comes. */
		log_msg(LOG_WARNING, sa->cfg.log_name, "IKE: IKE_SA_INIT response rejected: %s", why);
		snprintf(sa->last_reject, sizeof(sa->last_reject), "%s", why);
		return rc;
	}
	if (c.dh != sa->dh_group || pke->u.ke.group != sa->dh_group) {
		snprintf(sa->last_reject, sizeof(sa->last_reject), "the server chose DH group %u "
			 "but we sent a KE for group %u", (unsigned)c.dh, (unsigned)sa->dh_group);
		log_msg(LOG_WARNING, sa->cfg.log_name, "IKE: IKE_SA_INIT response rejected: %s",
			sa->last_reject);
		return -EBADMSG;
	}
	if (pno->u.nonce.len < IKE_NONCE_MIN || pno->u.nonce.len > IKE_NONCE_MAX)
		return -EBADMSG;
	memcpy(sa->spi_r, m->hdr.spi_r, 8);
	memcpy(sa->nr, pno->u.nonce.data, pno->u.nonce.len);
	sa->nr_len = pno->u.nonce.len;
	if ((rc = derive(sa, &c, &pke->u.ke)) < 0) {
		if (sa->state != ST_CLOSED)
			memset(sa->spi_r, 0, 8);
		return rc;
	}
	free(sa->init_resp);
	sa->init_resp = malloc(len);
	if (!sa->init_resp) {
		eng_close(sa, IKE_ERR_CONFIGURATION_FAILED, "out of memory");
		return -ENOMEM;
	}
	memcpy(sa->init_resp, buf, len);
	sa->init_resp_len = len;
	detect_nat(sa, m, path);
	/* RFC 7427 §4: the hashes the responder will verify our signature with. */
	sa->peer_hashes = 0;
	from = 0;
	while ((p = ike_message_find(m, IKE_PT_NOTIFY, &from)))
		if (p->u.notify.type == IKE_N_SIGNATURE_HASH_ALGORITHMS)
			sa->peer_hashes |= ike_sig_hashes_parse(p->u.notify.data, p->u.notify.len);
	eng_request_clear(sa);
	sa->last_reject[0] = '\0';
	sa->next_mid = 1;
	sa->state = ST_WAIT_SPI;
	/* The kernel reserves our inbound SPI (ike_spi_allocated). */
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
	return 0;
}

/* For exchange_auth.c: the Child offer and choice checks share this. */
int eng_check_child_choice(const struct ike_sa *sa, const struct ike_sa_body *sab,
			   uint16_t *encr, uint16_t *bits, uint16_t *integ, bool *esn,
			   uint32_t *spi, char *why, size_t whylen)
{
	struct eng_choice c;
	int rc = eng_check_choice(sa, false, sab, &c, why, whylen);
	if (rc < 0)
		return rc;
	*encr = c.encr;
	*bits = c.encr_bits;
	*integ = c.integ;
	*esn = c.has_esn && c.esn == IKE_ESN_YES;
	*spi = (uint32_t)c.spi[0] << 24 | (uint32_t)c.spi[1] << 16 | (uint32_t)c.spi[2] << 8 | c.spi[3];
	/* RFC 4303 §2.1: SPI 0 is never sent (the kernel's larval states
	 * use it) and 1..255 are reserved. */
	if (*spi < 256) {
		snprintf(why, whylen, "the server chose the reserved ESP SPI %u", (unsigned)*spi);
		return -EBADMSG;
	}
	return 0;
}

/* For the fake responder and exchange_auth.c: our SA offer as payloads. */
int eng_build_offer(const struct ike_sa *sa, bool ike, struct ike_builder *b)
{
	struct eng_offer *o = malloc(sizeof(*o));
	int rc;
	if (!o)
		return -ENOMEM;
	eng_make_offer(sa, ike, o);
	rc = ike_build_sa(b, o->props, o->n);
	free(o);
	return rc;
}
