/* fake_responder_rekey.c — see fake_responder_rekey.h.  Test-only code. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/fake_responder_rekey.h"

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void frr_free(struct fr_rekey *rk)
{
	ike_dh_free(rk->dh);
	ike_dh_free(rk->ike_dh);
	ike_sa_keys_free(&rk->req_ctx.keys);
	ike_sa_keys_free(&rk->old_ctx.keys);
	free(rk->inner2);
	memset(rk, 0, sizeof(*rk));
}

/* The roles of fr's current IKE SA: set by each public entry point (the
 * fake responder has no room for them in its own struct). */
static bool cur_is_i;

static int seal(struct fake_responder *fr, uint8_t exch, uint8_t flags, uint32_t mid,
		struct ike_builder *b, uint8_t **out, size_t *out_len)
{
	struct ike_header h;
	size_t plain_len = 0;
	uint8_t first = 0;
	int rc;

	if (b && (rc = ike_build_finish(b, &plain_len, &first, NULL)) < 0)
		return rc;
	memset(&h, 0, sizeof(h));
	memcpy(h.spi_i, fr->spi_i, 8);
	memcpy(h.spi_r, fr->spi_r, 8);
	h.version = IKE_VERSION_2_0;
	h.exchange = exch;
	h.flags = flags | (cur_is_i ? IKE_FLAG_I : 0);
	h.message_id = mid;
	if (cur_is_i)
		return eng_seal(&fr->suite, &fr->keys.sk_ei, &fr->keys.sk_ai, fr->cfg.rnd, &h,
				first, b ? b->w.buf : NULL, plain_len, out, out_len);
	return eng_seal(&fr->suite, &fr->keys.sk_er, &fr->keys.sk_ar, fr->cfg.rnd, &h, first,
			b ? b->w.buf : NULL, plain_len, out, out_len);
}

static int open_msg(struct fake_responder *fr, uint8_t *buf, size_t len)
{
	int rc;
	struct ike_header h;
	if ((rc = ike_message_parse(fr->m, buf, len, NULL)) < 0)
		return rc;
	/* §3.1: the sender's I flag must match the roles. */
	if (eng_peek_header(buf, len, &h) < 0 || !!(h.flags & IKE_FLAG_I) == cur_is_i ||
	    memcmp(h.spi_i, fr->spi_i, 8) || memcmp(h.spi_r, fr->spi_r, 8))
		return -EBADMSG;
	if (cur_is_i)
		return eng_open(&fr->suite, &fr->keys.sk_er, &fr->keys.sk_ar, buf, len, fr->m,
				fr->inner, NULL);
	return eng_open(&fr->suite, &fr->keys.sk_ei, &fr->keys.sk_ai, buf, len, fr->m,
			fr->inner, NULL);
}

static void nonce(struct fake_responder *fr, bool fix, uint8_t fill, uint8_t *out, size_t len)
{
	if (fix)
		memset(out, fill, len);
	else
		fr->cfg.rnd(out, len);
}

static uint32_t new_spi(struct fr_rekey *rk)
{
	if (!rk->next_spi)
		rk->next_spi = 0xd0000001;
	return rk->next_spi++;
}

static void default_ts(struct ike_ts *client, struct ike_ts *server)
{
	memset(client, 0, sizeof(*client));
	memset(server, 0, sizeof(*server));
	client->type = server->type = IKE_TS_IPV4_ADDR_RANGE;
	client->end_port = server->end_port = 65535;
	client->start[0] = client->end[0] = 10; client->start[1] = client->end[1] = 10;
	client->start[2] = client->end[2] = 10; client->start[3] = client->end[3] = 1;
	server->start[0] = server->end[0] = 10; server->start[1] = server->end[1] = 99;
	server->end[3] = 255;
}

/* The initiator's CREATE_CHILD_SA (already opened into fr->inner). */
static int answer_create(struct fake_responder *fr, struct fr_rekey *rk, uint32_t mid,
			 uint8_t **out, size_t *out_len)
{
	const struct ike_payload *prk, *psa, *pno, *pke, *ptsi, *ptsr;
	struct ike_builder b;
	uint8_t plain[2048], nr[32], ke[1024], gb[2];
	struct ike_proposal prop;
	struct ike_transform xf[4];
	uint16_t encr = 0, bits = 0, integ = 0, group = 0, first_group = 0;
	struct ike_child_keys keys = { 0 };
	struct secret gir = { 0 };
	struct ike_suite esp;
	struct ike_dh_ctx *dh = NULL;
	uint32_t my_spi, their_spi;
	size_t n = 0;
	int kelen = 0, rc;

	rk->n_create++;
	ike_build_chain_begin(&b, plain, sizeof(plain));
	prk = ike_message_find_notify(fr->inner, IKE_N_REKEY_SA);
	psa = ike_message_find(fr->inner, IKE_PT_SA, NULL);
	pno = ike_message_find(fr->inner, IKE_PT_NONCE, NULL);
	pke = ike_message_find(fr->inner, IKE_PT_KE, NULL);
	ptsi = ike_message_find(fr->inner, IKE_PT_TSI, NULL);
	ptsr = ike_message_find(fr->inner, IKE_PT_TSR, NULL);
	if (rk->answer_notify || rk->temp_failures) {
		uint16_t t = rk->answer_notify ? rk->answer_notify : IKE_N_TEMPORARY_FAILURE;
		if (rk->temp_failures)
			rk->temp_failures--;
		ike_build_notify(&b, 0, NULL, 0, t, NULL, 0);
		return seal(fr, IKE_CREATE_CHILD_SA, IKE_FLAG_R, mid, &b, out, out_len);
	}
	if (!prk || prk->u.notify.spi_size != 4 || get32(prk->u.notify.spi) != fr->spi_out ||
	    !psa || !pno || !ptsi || !ptsr) {
		ike_build_notify(&b, 0, NULL, 0, IKE_N_CHILD_SA_NOT_FOUND, NULL, 0);
		return seal(fr, IKE_CREATE_CHILD_SA, IKE_FLAG_R, mid, &b, out, out_len);
	}
	const struct ike_proposal *p0 = &psa->u.sa.props[0];
	for (size_t i = 0; i < p0->nxforms; i++) {
		const struct ike_transform *t = &p0->xforms[i];
		if (t->type == IKE_TRANS_ENCR && !encr) { encr = t->id; bits = t->key_length; }
		if (t->type == IKE_TRANS_INTEG && !integ) integ = t->id;
		if (t->type == IKE_TRANS_DH) {
			if (!first_group)
				first_group = t->id;
			if (pke && pke->u.ke.group == t->id)
				group = t->id;
		}
	}
	if (rk->want_group && (!pke || pke->u.ke.group != rk->want_group)) {
		gb[0] = (uint8_t)(rk->want_group >> 8);
		gb[1] = (uint8_t)rk->want_group;
		ike_build_notify(&b, 0, NULL, 0, IKE_N_INVALID_KE_PAYLOAD, gb, 2);
		return seal(fr, IKE_CREATE_CHILD_SA, IKE_FLAG_R, mid, &b, out, out_len);
	}
	if (first_group && !group)
		return -EBADMSG;   /* the engine always sends a KE for its first group */
	their_spi = get32(p0->spi);
	my_spi = new_spi(rk);
	nonce(fr, rk->fix_resp_nonce, rk->resp_nonce_fill, nr, sizeof(nr));
	if (group) {
		dh = ike_dh_new(group, fr->cfg.rnd, NULL);
		if (!dh || (kelen = ike_dh_public(dh, ke, sizeof(ke))) < 0 ||
		    ike_dh_shared(dh, pke->u.ke.data, pke->u.ke.len, &gir, NULL) < 0) {
			ike_dh_free(dh);
			return -EINVAL;
		}
		ike_dh_free(dh);
	}
	if ((rc = ike_suite_init_esp(&esp, encr, bits, integ, group, NULL)) < 0 ||
	    (rc = ike_child_keys_derive(fr->suite.prf, &fr->keys.sk_d, &esp, group ? &gir : NULL,
					pno->u.nonce.data, pno->u.nonce.len, nr, sizeof(nr),
					&keys)) < 0) {
		secret_free(&gir);
		return rc;
	}
	secret_free(&gir);
	memset(&prop, 0, sizeof(prop));
	memset(xf, 0, sizeof(xf));
	prop.num = p0->num;
	prop.protocol = IKE_PROTO_ESP;
	prop.spi_size = 4;
	put32(prop.spi, my_spi);
	xf[n].type = IKE_TRANS_ENCR; xf[n].id = encr; xf[n++].key_length = bits;
	if (integ) { xf[n].type = IKE_TRANS_INTEG; xf[n++].id = integ; }
	if (group) { xf[n].type = IKE_TRANS_DH; xf[n++].id = group; }
	xf[n].type = IKE_TRANS_ESN; xf[n++].id = IKE_ESN_NO;
	prop.nxforms = (uint8_t)n;
	prop.xforms = xf;
	ike_build_sa(&b, &prop, 1);
	ike_build_nonce(&b, nr, sizeof(nr));
	if (group)
		ike_build_ke(&b, group, ke, (size_t)kelen);
	ike_build_ts(&b, IKE_PT_TSI, ptsi->u.ts.ts, ptsi->u.ts.nts);
	ike_build_ts(&b, IKE_PT_TSR, ptsr->u.ts.ts, ptsr->u.ts.nts);
	rc = seal(fr, IKE_CREATE_CHILD_SA, IKE_FLAG_R, mid, &b, out, out_len);
	if (rc < 0) {
		ike_child_keys_free(&keys);
		return rc;
	}
	rk->old_spi_in = fr->spi_in;
	rk->old_spi_out = fr->spi_out;
	fr->spi_in = my_spi;
	fr->spi_out = their_spi;
	fr->esp = esp;
	ike_child_keys_free(&fr->ck);
	fr->ck = keys;              /* the initiator was "i": as at IKE_AUTH */
	rk->n_rekeyed++;
	rk->last_group = group;
	return 0;
}

/* The initiator rekeys the IKE SA (§1.3.2): answer with our new SPI, Nr,
 * KEr (sealed with the old keys), then switch to the new IKE SA. */
static int answer_ike_rekey(struct fake_responder *fr, struct fr_rekey *rk, uint32_t mid,
			    uint8_t **out, size_t *out_len)
{
	const struct ike_payload *psa, *pno, *pke;
	struct ike_builder b;
	uint8_t plain[2048], nr[32], ke[1024], spi_r[8];
	struct ike_proposal prop;
	struct ike_transform xf[5];
	uint16_t encr = 0, bits = 0, prf = 0, integ = 0, group = 0;
	struct ike_sa_keys keys = { 0 };
	struct secret gir = { 0 }, seed = { 0 };
	struct ike_suite s;
	struct ike_dh_ctx *dh;
	size_t n = 0;
	int kelen, rc;

	psa = ike_message_find(fr->inner, IKE_PT_SA, NULL);
	pno = ike_message_find(fr->inner, IKE_PT_NONCE, NULL);
	pke = ike_message_find(fr->inner, IKE_PT_KE, NULL);
	ike_build_chain_begin(&b, plain, sizeof(plain));
	if (rk->answer_notify || rk->temp_failures) {
		uint16_t t = rk->answer_notify ? rk->answer_notify : IKE_N_TEMPORARY_FAILURE;
		if (rk->temp_failures)
			rk->temp_failures--;
		ike_build_notify(&b, 0, NULL, 0, t, NULL, 0);
		return seal(fr, IKE_CREATE_CHILD_SA, IKE_FLAG_R, mid, &b, out, out_len);
	}
	if (!psa || !pno || !pke)
		return -EBADMSG;
	const struct ike_proposal *p0 = &psa->u.sa.props[0];
	for (size_t i = 0; i < p0->nxforms; i++) {
		const struct ike_transform *t = &p0->xforms[i];
		if (t->type == IKE_TRANS_ENCR && !encr) { encr = t->id; bits = t->key_length; }
		if (t->type == IKE_TRANS_PRF && !prf) prf = t->id;
		if (t->type == IKE_TRANS_INTEG && !integ) integ = t->id;
		if (t->type == IKE_TRANS_DH && t->id == pke->u.ke.group) group = t->id;
	}
	if (!group || p0->spi_size != 8)
		return -EBADMSG;
	fr->cfg.rnd(spi_r, 8);
	nonce(fr, rk->fix_resp_nonce, rk->resp_nonce_fill, nr, sizeof(nr));
	dh = ike_dh_new(group, fr->cfg.rnd, NULL);
	if (!dh || (kelen = ike_dh_public(dh, ke, sizeof(ke))) < 0 ||
	    ike_dh_shared(dh, pke->u.ke.data, pke->u.ke.len, &gir, NULL) < 0) {
		ike_dh_free(dh);
		return -EINVAL;
	}
	ike_dh_free(dh);
	if ((rc = ike_suite_init(&s, encr, bits, integ, prf, group, NULL)) < 0 ||
	    (rc = ike_skeyseed_rekey(fr->suite.prf, &fr->keys.sk_d, &gir, pno->u.nonce.data,
				     pno->u.nonce.len, nr, sizeof(nr), &seed)) < 0 ||
	    (rc = ike_sa_keys_derive(&s, &seed, pno->u.nonce.data, pno->u.nonce.len, nr,
				     sizeof(nr), p0->spi, spi_r, &keys)) < 0) {
		secret_free(&gir);
		secret_free(&seed);
		return rc;
	}
	secret_free(&gir);
	secret_free(&seed);
	memset(&prop, 0, sizeof(prop));
	memset(xf, 0, sizeof(xf));
	prop.num = p0->num;
	prop.protocol = IKE_PROTO_IKE;
	prop.spi_size = 8;
	memcpy(prop.spi, spi_r, 8);
	xf[n].type = IKE_TRANS_ENCR; xf[n].id = encr; xf[n++].key_length = bits;
	xf[n].type = IKE_TRANS_PRF; xf[n++].id = prf;
	if (integ) { xf[n].type = IKE_TRANS_INTEG; xf[n++].id = integ; }
	xf[n].type = IKE_TRANS_DH; xf[n++].id = group;
	prop.nxforms = (uint8_t)n;
	prop.xforms = xf;
	ike_build_sa(&b, &prop, 1);
	ike_build_nonce(&b, nr, sizeof(nr));
	ike_build_ke(&b, group, ke, (size_t)kelen);
	if ((rc = seal(fr, IKE_CREATE_CHILD_SA, IKE_FLAG_R, mid, &b, out, out_len)) < 0) {
		ike_sa_keys_free(&keys);
		return rc;
	}
	memcpy(rk->old_ike_spi_i, fr->spi_i, 8);
	memcpy(fr->spi_i, p0->spi, 8);
	memcpy(fr->spi_r, spi_r, 8);
	ike_sa_keys_free(&fr->keys);
	fr->keys = keys;
	fr->suite = s;
	fr->next_mid = 0;
	/* The initiator of this exchange starts the new IKE SA (§2.18). */
	rk->fr_is_i = false;
	rk->n_ike_rekeyed++;
	return 0;
}

int frr_handle(struct fake_responder *fr, struct fr_rekey *rk, const uint8_t *msg, size_t len,
	       uint8_t **out, size_t *out_len)
{
	struct ike_header h;
	uint8_t *copy;
	int rc;

	cur_is_i = rk->fr_is_i;
	fr_strip_marker(&msg, &len);
	if (eng_peek_header(msg, len, &h) < 0 || (h.flags & IKE_FLAG_R))
		return -EBADMSG;
	if (h.exchange != IKE_CREATE_CHILD_SA && h.exchange != IKE_INFORMATIONAL)
		return fr_handle(fr, msg, len, out, out_len);
	copy = malloc(len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, msg, len);
	if ((rc = open_msg(fr, copy, len)) < 0)
		goto out;
	if (h.exchange == IKE_CREATE_CHILD_SA) {
		const struct ike_payload *psa = ike_message_find(fr->inner, IKE_PT_SA, NULL);
		if (psa && psa->u.sa.nprops && psa->u.sa.props[0].protocol == IKE_PROTO_IKE)
			rc = answer_ike_rekey(fr, rk, h.message_id, out, out_len);
		else
			rc = answer_create(fr, rk, h.message_id, out, out_len);
		goto out;
	}
	fr->n_info++;
	if (ike_message_find_notify(fr->inner, IKE_N_UPDATE_SA_ADDRESSES)) {
		/* MOBIKE (RFC 4555 §3.5): fake_responder.c builds the answer. */
		struct ike_builder b;
		uint8_t plain[256];
		ike_build_chain_begin(&b, plain, sizeof(plain));
		fr_build_update_answer(fr, &b);
		rc = seal(fr, IKE_INFORMATIONAL, IKE_FLAG_R, h.message_id, &b, out, out_len);
		goto out;
	}
	const struct ike_payload *pd = ike_message_find(fr->inner, IKE_PT_DELETE, NULL);
	if (pd && pd->u.del.protocol == IKE_PROTO_ESP && pd->u.del.nspis == 1) {
		/* §1.4.1: answer with the deletion of our half of that pair. */
		struct ike_builder b;
		uint8_t plain[64], spi[4];
		rk->n_delete_child++;
		rk->deleted_spi = get32(pd->u.del.spis);
		ike_build_chain_begin(&b, plain, sizeof(plain));
		put32(spi, rk->deleted_spi == rk->old_spi_out ? rk->old_spi_in : fr->spi_in);
		ike_build_delete(&b, IKE_PROTO_ESP, 4, spi, 1);
		rc = seal(fr, IKE_INFORMATIONAL, IKE_FLAG_R, h.message_id, &b, out, out_len);
		goto out;
	}
	rc = seal(fr, IKE_INFORMATIONAL, IKE_FLAG_R, h.message_id, NULL, out, out_len);
out:
	free(copy);
	return rc;
}

int frr_request_rekey(struct fake_responder *fr, struct fr_rekey *rk, uint8_t **out,
		      size_t *out_len)
{
	struct ike_builder b;
	struct ike_proposal prop;
	struct ike_transform xf[4];
	struct ike_ts tc, ts;
	uint8_t plain[2048], spi[4], ke[1024];
	size_t n = 0;
	int kelen = 0;

	cur_is_i = rk->fr_is_i;
	rk->pending_spi_in = new_spi(rk);
	nonce(fr, rk->fix_req_nonce, rk->req_nonce_fill, rk->n_ours, sizeof(rk->n_ours));
	ike_dh_free(rk->dh);
	rk->dh = NULL;
	if (rk->group) {
		rk->dh = ike_dh_new(rk->group, fr->cfg.rnd, NULL);
		if (!rk->dh || (kelen = ike_dh_public(rk->dh, ke, sizeof(ke))) < 0)
			return -EINVAL;
	}
	memset(&prop, 0, sizeof(prop));
	memset(xf, 0, sizeof(xf));
	prop.num = 1;
	prop.protocol = IKE_PROTO_ESP;
	prop.spi_size = 4;
	put32(prop.spi, rk->pending_spi_in);
	xf[n].type = IKE_TRANS_ENCR; xf[n].id = fr->esp.encr; xf[n++].key_length = fr->esp.encr_key_bits;
	if (fr->esp.integ) { xf[n].type = IKE_TRANS_INTEG; xf[n++].id = fr->esp.integ; }
	if (rk->group) { xf[n].type = IKE_TRANS_DH; xf[n++].id = rk->group; }
	xf[n].type = IKE_TRANS_ESN; xf[n++].id = IKE_ESN_NO;
	prop.nxforms = (uint8_t)n;
	prop.xforms = xf;
	put32(spi, fr->spi_in);
	default_ts(&tc, &ts);
	ike_build_chain_begin(&b, plain, sizeof(plain));
	ike_build_notify(&b, IKE_PROTO_ESP, spi, 4, IKE_N_REKEY_SA, NULL, 0);
	ike_build_sa(&b, &prop, 1);
	ike_build_nonce(&b, rk->n_ours, sizeof(rk->n_ours));
	if (rk->group)
		ike_build_ke(&b, rk->group, ke, (size_t)kelen);
	ike_build_ts(&b, IKE_PT_TSI, &ts, 1);     /* the exchange initiator's side: ours */
	ike_build_ts(&b, IKE_PT_TSR, &tc, 1);
	return seal(fr, IKE_CREATE_CHILD_SA, 0, fr->next_mid++, &b, out, out_len);
}

int frr_rekey_answer(struct fake_responder *fr, struct fr_rekey *rk, uint8_t *msg, size_t len)
{
	const struct ike_payload *psa, *pno, *pke;
	struct ike_child_keys keys = { 0 };
	struct secret gir = { 0 };
	struct ike_suite esp;
	uint16_t encr = 0, bits = 0, integ = 0, group = 0;
	int rc;

	cur_is_i = rk->fr_is_i;
	if ((rc = open_msg(fr, msg, len)) < 0)
		return rc;
	psa = ike_message_find(fr->inner, IKE_PT_SA, NULL);
	pno = ike_message_find(fr->inner, IKE_PT_NONCE, NULL);
	pke = ike_message_find(fr->inner, IKE_PT_KE, NULL);
	if (!psa || !pno || psa->u.sa.nprops != 1)
		return -ENOENT;
	const struct ike_proposal *p = &psa->u.sa.props[0];
	for (size_t i = 0; i < p->nxforms; i++) {
		const struct ike_transform *t = &p->xforms[i];
		if (t->type == IKE_TRANS_ENCR) { encr = t->id; bits = t->key_length; }
		if (t->type == IKE_TRANS_INTEG) integ = t->id;
		if (t->type == IKE_TRANS_DH) group = t->id;
	}
	if (group != rk->group || (group && (!pke || pke->u.ke.group != group)))
		return -EBADMSG;
	if (group && ike_dh_shared(rk->dh, pke->u.ke.data, pke->u.ke.len, &gir, NULL) < 0)
		return -EINVAL;
	if ((rc = ike_suite_init_esp(&esp, encr, bits, integ, group, NULL)) < 0 ||
	    (rc = ike_child_keys_derive(fr->suite.prf, &fr->keys.sk_d, &esp, group ? &gir : NULL,
					rk->n_ours, sizeof(rk->n_ours), pno->u.nonce.data,
					pno->u.nonce.len, &keys)) < 0) {
		secret_free(&gir);
		return rc;
	}
	secret_free(&gir);
	rk->old_spi_in = fr->spi_in;
	rk->old_spi_out = fr->spi_out;
	fr->spi_in = rk->pending_spi_in;
	fr->spi_out = get32(p->spi);
	fr->esp = esp;
	ike_child_keys_free(&fr->ck);
	/* The responder was this exchange's "i": swap so "i" stays the
	 * IKE initiator's direction, as at IKE_AUTH. */
	fr->ck.encr_i = keys.encr_r;
	fr->ck.integ_i = keys.integ_r;
	fr->ck.encr_r = keys.encr_i;
	fr->ck.integ_r = keys.integ_i;
	rk->n_rekeyed++;
	rk->last_group = group;
	return 0;
}

int frr_request_delete_old(struct fake_responder *fr, struct fr_rekey *rk, uint8_t **out,
			   size_t *out_len)
{
	struct ike_builder b;
	uint8_t plain[64], spi[4];

	cur_is_i = rk->fr_is_i;
	put32(spi, rk->old_spi_in);
	ike_build_chain_begin(&b, plain, sizeof(plain));
	ike_build_delete(&b, IKE_PROTO_ESP, 4, spi, 1);
	return seal(fr, IKE_INFORMATIONAL, 0, fr->next_mid++, &b, out, out_len);
}

/* ------------------------------------------- its own rekey of the IKE SA */

static int keys_dup(struct ike_sa_keys *d, const struct ike_sa_keys *s)
{
	memset(d, 0, sizeof(*d));
	if (secret_dup(&d->sk_d, &s->sk_d) < 0 || secret_dup(&d->sk_ai, &s->sk_ai) < 0 ||
	    secret_dup(&d->sk_ar, &s->sk_ar) < 0 || secret_dup(&d->sk_ei, &s->sk_ei) < 0 ||
	    secret_dup(&d->sk_er, &s->sk_er) < 0 || secret_dup(&d->sk_pi, &s->sk_pi) < 0 ||
	    secret_dup(&d->sk_pr, &s->sk_pr) < 0) {
		ike_sa_keys_free(d);
		return -ENOMEM;
	}
	return 0;
}

static int ctx_save(struct fake_responder *fr, struct fr_rekey *rk, struct fr_ike_ctx *c)
{
	ike_sa_keys_free(&c->keys);
	c->valid = true;
	c->is_i = rk->fr_is_i;
	memcpy(c->spi_i, fr->spi_i, 8);
	memcpy(c->spi_r, fr->spi_r, 8);
	c->suite = fr->suite;
	c->next_mid = fr->next_mid;
	return keys_dup(&c->keys, &fr->keys);
}

int frr_request_ike_rekey(struct fake_responder *fr, struct fr_rekey *rk, uint8_t **out,
			  size_t *out_len)
{
	struct ike_builder b;
	struct ike_proposal prop;
	struct ike_transform xf[6];
	uint8_t plain[2048], ke[1024];
	uint16_t ke_group;
	size_t n = 0;
	int kelen, rc;

	cur_is_i = rk->fr_is_i;
	fr->cfg.rnd(rk->ike_new_spi, 8);
	nonce(fr, rk->fix_req_nonce, rk->req_nonce_fill, rk->ike_ni, sizeof(rk->ike_ni));
	ke_group = rk->ike_ke_group ? rk->ike_ke_group
				    : rk->ike_offer[0] ? rk->ike_offer[0] : fr->suite.dh;
	ike_dh_free(rk->ike_dh);
	rk->ike_dh = ike_dh_new(ke_group, fr->cfg.rnd, NULL);
	if (!rk->ike_dh || (kelen = ike_dh_public(rk->ike_dh, ke, sizeof(ke))) < 0)
		return -EINVAL;
	memset(&prop, 0, sizeof(prop));
	memset(xf, 0, sizeof(xf));
	prop.num = 1;
	prop.protocol = IKE_PROTO_IKE;
	prop.spi_size = 8;
	memcpy(prop.spi, rk->ike_new_spi, 8);
	xf[n].type = IKE_TRANS_ENCR; xf[n].id = fr->suite.encr; xf[n++].key_length = fr->suite.encr_key_bits;
	xf[n].type = IKE_TRANS_PRF; xf[n++].id = fr->suite.prf;
	if (fr->suite.integ) { xf[n].type = IKE_TRANS_INTEG; xf[n++].id = fr->suite.integ; }
	if (!rk->ike_offer[0]) {
		xf[n].type = IKE_TRANS_DH; xf[n++].id = fr->suite.dh;
	}
	for (size_t i = 0; i < 2 && rk->ike_offer[i]; i++) {
		xf[n].type = IKE_TRANS_DH; xf[n++].id = rk->ike_offer[i];
	}
	prop.nxforms = (uint8_t)n;
	prop.xforms = xf;
	if ((rc = ctx_save(fr, rk, &rk->req_ctx)) < 0)
		return rc;
	ike_build_chain_begin(&b, plain, sizeof(plain));
	ike_build_sa(&b, &prop, 1);
	ike_build_nonce(&b, rk->ike_ni, sizeof(rk->ike_ni));
	ike_build_ke(&b, ke_group, ke, (size_t)kelen);
	rc = seal(fr, IKE_CREATE_CHILD_SA, 0, fr->next_mid++, &b, out, out_len);
	rk->req_ctx.next_mid = fr->next_mid;
	return rc;
}

int frr_open_ctx(struct fake_responder *fr, const struct fr_ike_ctx *c, uint8_t *msg, size_t len)
{
	struct ike_header h;
	int rc;

	if ((rc = ike_message_parse(fr->m, msg, len, NULL)) < 0)
		return rc;
	if (eng_peek_header(msg, len, &h) < 0 || !!(h.flags & IKE_FLAG_I) == c->is_i ||
	    memcmp(h.spi_i, c->spi_i, 8) || memcmp(h.spi_r, c->spi_r, 8))
		return -EBADMSG;
	if (c->is_i)
		return eng_open(&c->suite, &c->keys.sk_er, &c->keys.sk_ar, msg, len, fr->m,
				fr->inner, NULL);
	return eng_open(&c->suite, &c->keys.sk_ei, &c->keys.sk_ai, msg, len, fr->m, fr->inner,
			NULL);
}

int frr_open(struct fake_responder *fr, struct fr_rekey *rk, uint8_t *msg, size_t len)
{
	cur_is_i = rk->fr_is_i;
	return open_msg(fr, msg, len);
}

int frr_ike_rekey_answer(struct fake_responder *fr, struct fr_rekey *rk, uint8_t *msg, size_t len)
{
	const struct ike_payload *psa, *pno, *pke, *pn;
	struct ike_sa_keys keys = { 0 };
	struct secret gir = { 0 }, seed = { 0 };
	struct ike_suite s;
	uint16_t encr = 0, bits = 0, prf = 0, integ = 0, group = 0;
	int rc;

	if (!rk->req_ctx.valid)
		return -EINVAL;
	if ((rc = frr_open_ctx(fr, &rk->req_ctx, msg, len)) < 0)
		return rc;
	if ((pn = ike_message_find(fr->inner, IKE_PT_NOTIFY, NULL)) && pn->u.notify.type < 16384) {
		rk->ike_answer_notify = pn->u.notify.type;
		return 1;
	}
	psa = ike_message_find(fr->inner, IKE_PT_SA, NULL);
	pno = ike_message_find(fr->inner, IKE_PT_NONCE, NULL);
	pke = ike_message_find(fr->inner, IKE_PT_KE, NULL);
	if (!psa || !pno || !pke || psa->u.sa.nprops != 1 || psa->u.sa.props[0].spi_size != 8)
		return -ENOENT;
	const struct ike_proposal *p = &psa->u.sa.props[0];
	for (size_t i = 0; i < p->nxforms; i++) {
		const struct ike_transform *t = &p->xforms[i];
		if (t->type == IKE_TRANS_ENCR) { encr = t->id; bits = t->key_length; }
		if (t->type == IKE_TRANS_PRF) prf = t->id;
		if (t->type == IKE_TRANS_INTEG) integ = t->id;
		if (t->type == IKE_TRANS_DH) group = t->id;
	}
	if (group != ike_dh_group(rk->ike_dh) || pke->u.ke.group != group)
		return -EBADMSG;
	if (ike_dh_shared(rk->ike_dh, pke->u.ke.data, pke->u.ke.len, &gir, NULL) < 0)
		return -EINVAL;
	/* §2.18: it started the exchange: its nonce and SPI first, the old
	 * SA's PRF and SK_d. */
	if ((rc = ike_suite_init(&s, encr, bits, integ, prf, group, NULL)) < 0 ||
	    (rc = ike_skeyseed_rekey(rk->req_ctx.suite.prf, &rk->req_ctx.keys.sk_d, &gir,
				     rk->ike_ni, sizeof(rk->ike_ni), pno->u.nonce.data,
				     pno->u.nonce.len, &seed)) < 0 ||
	    (rc = ike_sa_keys_derive(&s, &seed, rk->ike_ni, sizeof(rk->ike_ni), pno->u.nonce.data,
				     pno->u.nonce.len, rk->ike_new_spi, p->spi, &keys)) < 0) {
		secret_free(&gir);
		secret_free(&seed);
		return rc;
	}
	secret_free(&gir);
	secret_free(&seed);
	/* The request's IKE SA is the one replaced. */
	ike_sa_keys_free(&rk->old_ctx.keys);
	rk->old_ctx = rk->req_ctx;
	memset(&rk->req_ctx, 0, sizeof(rk->req_ctx));
	memcpy(fr->spi_i, rk->ike_new_spi, 8);
	memcpy(fr->spi_r, p->spi, 8);
	ike_sa_keys_free(&fr->keys);
	fr->keys = keys;
	fr->suite = s;
	fr->next_mid = 0;
	rk->fr_is_i = true;
	rk->n_own_ike_rekeys++;
	return 0;
}

static int ctx_seal(struct fake_responder *fr, struct fr_ike_ctx *c, uint8_t exch, uint8_t flags,
		    uint32_t mid, struct ike_builder *b, uint8_t **out, size_t *out_len)
{
	struct ike_header h;
	size_t plain_len = 0;
	uint8_t first = 0;
	int rc;

	if (b && (rc = ike_build_finish(b, &plain_len, &first, NULL)) < 0)
		return rc;
	memset(&h, 0, sizeof(h));
	memcpy(h.spi_i, c->spi_i, 8);
	memcpy(h.spi_r, c->spi_r, 8);
	h.version = IKE_VERSION_2_0;
	h.exchange = exch;
	h.flags = flags | (c->is_i ? IKE_FLAG_I : 0);
	h.message_id = mid;
	if (c->is_i)
		return eng_seal(&c->suite, &c->keys.sk_ei, &c->keys.sk_ai, fr->cfg.rnd, &h, first,
				b ? b->w.buf : NULL, plain_len, out, out_len);
	return eng_seal(&c->suite, &c->keys.sk_er, &c->keys.sk_ar, fr->cfg.rnd, &h, first,
			b ? b->w.buf : NULL, plain_len, out, out_len);
}

int frr_request_delete_old_ike(struct fake_responder *fr, struct fr_rekey *rk, uint8_t **out,
			       size_t *out_len)
{
	struct ike_builder b;
	uint8_t plain[16];

	if (!rk->old_ctx.valid)
		return -EINVAL;
	ike_build_chain_begin(&b, plain, sizeof(plain));
	ike_build_delete(&b, IKE_PROTO_IKE, 0, NULL, 0);
	return ctx_seal(fr, &rk->old_ctx, IKE_INFORMATIONAL, 0, rk->old_ctx.next_mid++, &b, out,
			out_len);
}

int frr_request_empty(struct fake_responder *fr, struct fr_rekey *rk, uint8_t **out,
		      size_t *out_len)
{
	cur_is_i = rk->fr_is_i;
	return seal(fr, IKE_INFORMATIONAL, 0, fr->next_mid++, NULL, out, out_len);
}
