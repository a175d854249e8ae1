/* fake_responder.c — see fake_responder.h.  Test-only: it trusts the
 * initiator more than a real responder would. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "tests/lib/fake_responder.h"

void fr_init(struct fake_responder *fr, const struct fr_config *cfg)
{
	memset(fr, 0, sizeof(*fr));
	fr->cfg = *cfg;
	fr->m = calloc(1, sizeof(*fr->m));
	fr->inner = calloc(1, sizeof(*fr->inner));
}

void fr_free(struct fake_responder *fr)
{
	ike_sa_keys_free(&fr->keys);
	ike_child_keys_free(&fr->ck);
	free(fr->init_req);
	free(fr->init_resp);
	free(fr->m);
	free(fr->inner);
	memset(fr, 0, sizeof(*fr));
}

static void hdr(struct fake_responder *fr, struct ike_header *h, uint8_t exch, uint8_t flags,
		uint32_t mid)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->spi_i, fr->spi_i, 8);
	memcpy(h->spi_r, fr->spi_r, 8);
	h->version = IKE_VERSION_2_0;
	h->exchange = exch;
	h->flags = flags;
	h->message_id = mid;
}

static int finish_plain(struct ike_builder *b, size_t *len, uint8_t *first)
{
	return ike_build_finish(b, len, first, NULL);
}

static int init_notify_only(struct fake_responder *fr, uint16_t type, const uint8_t *data,
			    size_t dlen, uint8_t **out, size_t *out_len)
{
	struct ike_builder b;
	struct ike_header h;
	uint8_t *buf = malloc(512);

	memset(fr->spi_r, 0, 8);
	hdr(fr, &h, IKE_SA_INIT, IKE_FLAG_R, 0);
	ike_build_begin(&b, buf, 512, &h);
	ike_build_notify(&b, 0, NULL, 0, type, data, dlen);
	*out = buf;
	return ike_build_finish(&b, out_len, NULL, NULL);
}

static const uint8_t the_cookie[16] = { 0xc0, 0x0c, 0x1e, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 };

static int handle_init(struct fake_responder *fr, const uint8_t *msg, size_t len,
		       uint8_t **out, size_t *out_len)
{
	struct ike_message *m = fr->m;
	const struct ike_payload *psa, *pke, *pno, *pc;
	struct ike_proposal prop;
	struct ike_transform xf[5];
	struct ike_builder b;
	struct ike_header h;
	struct ike_dh_ctx *dh = NULL;
	struct secret gir = { 0 }, seed = { 0 };
	uint8_t ke[1024], hash[20], *buf;
	int rc, kelen;
	uint16_t encr = 0, bits = 0, prf = 0, integ = 0, group = 0;

	fr->n_init++;
	if ((rc = ike_message_parse(m, msg, len, NULL)) < 0)
		return rc;
	memcpy(fr->spi_i, m->hdr.spi_i, 8);
	pc = ike_message_find_notify(m, IKE_N_COOKIE);
	if (fr->cfg.require_cookie &&
	    (!pc || pc->u.notify.len != sizeof(the_cookie) ||
	     memcmp(pc->u.notify.data, the_cookie, sizeof(the_cookie))))
		return init_notify_only(fr, IKE_N_COOKIE, the_cookie, sizeof(the_cookie), out, out_len);
	if (fr->cfg.no_proposal)
		return init_notify_only(fr, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0, out, out_len);
	psa = ike_message_find(m, IKE_PT_SA, NULL);
	pke = ike_message_find(m, IKE_PT_KE, NULL);
	pno = ike_message_find(m, IKE_PT_NONCE, NULL);
	if (!psa || !pke || !pno || !psa->u.sa.nprops)
		return -EBADMSG;
	if (fr->cfg.want_group && pke->u.ke.group != fr->cfg.want_group) {
		uint8_t g[2] = { (uint8_t)(fr->cfg.want_group >> 8), (uint8_t)fr->cfg.want_group };
		return init_notify_only(fr, IKE_N_INVALID_KE_PAYLOAD, g, 2, out, out_len);
	}
	/* The first proposal, the first transform of each type. */
	const struct ike_proposal *p0 = &psa->u.sa.props[0];
	for (size_t i = p0->nxforms; i-- > 0;) {
		const struct ike_transform *t = &p0->xforms[i];
		switch (t->type) {
		case IKE_TRANS_ENCR: encr = t->id; bits = t->key_length; break;
		case IKE_TRANS_PRF: prf = t->id; break;
		case IKE_TRANS_INTEG: integ = t->id; break;
		case IKE_TRANS_DH: group = t->id; break;
		}
	}
	group = pke->u.ke.group;
	if ((rc = ike_suite_init(&fr->suite, encr, bits, integ, prf, group, NULL)) < 0)
		return rc;
	fr->ni_len = pno->u.nonce.len;
	memcpy(fr->ni, pno->u.nonce.data, fr->ni_len);
	fr->cfg.rnd(fr->spi_r, 8);
	fr->cfg.rnd(fr->nr, sizeof(fr->nr));
	if (!(dh = ike_dh_new(group, fr->cfg.rnd, NULL)))
		return -ENOTSUP;
	kelen = ike_dh_public(dh, ke, sizeof(ke));
	if ((rc = ike_dh_shared(dh, pke->u.ke.data, pke->u.ke.len, &gir, NULL)) < 0 ||
	    (rc = ike_skeyseed(prf, fr->ni, fr->ni_len, fr->nr, sizeof(fr->nr), &gir, &seed)) < 0 ||
	    (rc = ike_sa_keys_derive(&fr->suite, &seed, fr->ni, fr->ni_len, fr->nr, sizeof(fr->nr),
				     fr->spi_i, fr->spi_r, &fr->keys)) < 0)
		goto out;

	memset(&prop, 0, sizeof(prop));
	memset(xf, 0, sizeof(xf));
	prop.num = p0->num;
	prop.protocol = IKE_PROTO_IKE;
	size_t n = 0;
	xf[n].type = IKE_TRANS_ENCR; xf[n].id = fr->cfg.bogus_transform ? IKE_ENCR_3DES : encr;
	xf[n++].key_length = fr->cfg.bogus_transform ? 0 : bits;
	xf[n].type = IKE_TRANS_PRF; xf[n++].id = prf;
	if (integ) { xf[n].type = IKE_TRANS_INTEG; xf[n++].id = integ; }
	xf[n].type = IKE_TRANS_DH; xf[n++].id = group;
	prop.nxforms = (uint8_t)n;
	prop.xforms = xf;

	buf = malloc(2048);
	hdr(fr, &h, IKE_SA_INIT, IKE_FLAG_R, 0);
	ike_build_begin(&b, buf, 2048, &h);
	ike_build_sa(&b, &prop, 1);
	ike_build_ke(&b, group, ke, (size_t)kelen);
	ike_build_nonce(&b, fr->nr, sizeof(fr->nr));
	/* A responder without a NAT on the path sends NAT detection only when
	 * asked (natd): then a MOBIKE initiator moves to 4500 (RFC 4555 §3.3). */
	if (fr->cfg.nat || fr->cfg.natd || fr->cfg.nat_server) {
		struct sockaddr_storage self = fr->cfg.self, peer = fr->cfg.peer;
		if (fr->cfg.nat)   /* what a NAT's rewriting looks like */
			eng_set_port(&peer, 61000);
		if (fr->cfg.nat_server)   /* its own address is forwarded from elsewhere */
			eng_set_port(&self, 61500);
		eng_natd_hash(fr->spi_i, fr->spi_r, &self, eng_port(&self), hash);
		ike_build_notify(&b, 0, NULL, 0, IKE_N_NAT_DETECTION_SOURCE_IP, hash, 20);
		eng_natd_hash(fr->spi_i, fr->spi_r, &peer, eng_port(&peer), hash);
		ike_build_notify(&b, 0, NULL, 0, IKE_N_NAT_DETECTION_DESTINATION_IP, hash, 20);
	}
	if ((rc = ike_build_finish(&b, out_len, NULL, NULL)) < 0) {
		free(buf);
		goto out;
	}
	*out = buf;
	free(fr->init_req);
	free(fr->init_resp);
	fr->init_req = malloc(len);
	memcpy(fr->init_req, msg, len);
	fr->init_req_len = len;
	fr->init_resp = malloc(*out_len);
	memcpy(fr->init_resp, buf, *out_len);
	fr->init_resp_len = *out_len;
out:
	ike_dh_free(dh);
	secret_free(&gir);
	secret_free(&seed);
	return rc;
}

static int seal_resp(struct fake_responder *fr, uint8_t exch, uint8_t flags, uint32_t mid,
		     struct ike_builder *b, uint8_t **out, size_t *out_len)
{
	struct ike_header h;
	size_t plain_len = 0;
	uint8_t first = 0;
	int rc;

	if (b && (rc = finish_plain(b, &plain_len, &first)) < 0)
		return rc;
	if (b && fr->cfg.mutate_plain)
		fr->cfg.mutate_plain(b->w.buf, plain_len, fr->cfg.mutate_ctx);
	hdr(fr, &h, exch, flags, mid);
	return eng_seal(&fr->suite, &fr->keys.sk_er, &fr->keys.sk_ar, fr->cfg.rnd, &h, first,
			b ? b->w.buf : NULL, plain_len, out, out_len);
}

static int open_req(struct fake_responder *fr, uint8_t *buf, size_t len)
{
	int rc;
	if ((rc = ike_message_parse(fr->m, buf, len, NULL)) < 0)
		return rc;
	return eng_open(&fr->suite, &fr->keys.sk_ei, &fr->keys.sk_ai, buf, len, fr->m,
			fr->inner, NULL);
}

static int handle_auth(struct fake_responder *fr, uint8_t *msg, size_t len,
		       uint8_t **out, size_t *out_len)
{
	struct ike_message *in = fr->inner;
	const struct ike_payload *pid, *pau, *psa;
	struct ike_builder b;
	uint8_t plain[2048], idb[300], auth[64];
	struct secret psk = { 0 };
	uint32_t mid = 1;
	int rc, alen;

	fr->n_auth++;
	if ((rc = open_req(fr, msg, len)) < 0)
		return rc;
	mid = fr->m->hdr.message_id;
	if (fr->cfg.skf_auth) {
		/* Fragment 1 of 2 (RFC 7383 §2.5); the content does not matter. */
		struct ike_header h;
		uint8_t *buf = calloc(1, 512), junk[64] = { 0 };
		hdr(fr, &h, IKE_AUTH, IKE_FLAG_R, mid);
		ike_build_begin(&b, buf, 512, &h);
		ike_build_skf_begin(&b, IKE_PT_IDR, 1, 2, 8);
		ike_build_bytes(&b, junk, sizeof(junk));
		ike_build_sk_end(&b, 1, 16, NULL);
		*out = buf;
		return ike_build_finish(&b, out_len, NULL, NULL);
	}
	pid = ike_message_find(in, IKE_PT_IDI, NULL);
	pau = ike_message_find(in, IKE_PT_AUTH, NULL);
	psa = ike_message_find(in, IKE_PT_SA, NULL);
	if (!pid || !pau || !psa)
		return -EBADMSG;
	secret_set(&psk, fr->cfg.psk, strlen(fr->cfg.psk));
	struct ike_auth_cred cred = { .psk = &psk };
	struct ike_auth_input ai = {
		.prf = fr->suite.prf, .real_msg = fr->init_req, .real_msg_len = fr->init_req_len,
		.peer_nonce = fr->nr, .peer_nonce_len = sizeof(fr->nr), .sk_p = &fr->keys.sk_pi,
		.id_body = pid->body, .id_body_len = pid->body_len,
	};
	ike_build_chain_begin(&b, plain, sizeof(plain));
	if (ike_auth_verify(IKE_AUTH_PSK, &ai, &cred, pau->u.auth.data, pau->u.auth.len, NULL) < 0) {
		ike_build_notify(&b, 0, NULL, 0, IKE_N_AUTHENTICATION_FAILED, NULL, 0);
		rc = seal_resp(fr, IKE_AUTH, IKE_FLAG_R, mid, &b, out, out_len);
		goto out;
	}
	fr->auth_ok = true;
	size_t idlen = strlen(fr->cfg.id);
	idb[0] = IKE_ID_FQDN; idb[1] = idb[2] = idb[3] = 0;
	memcpy(idb + 4, fr->cfg.id, idlen);
	struct ike_auth_input ar = {
		.prf = fr->suite.prf, .real_msg = fr->init_resp, .real_msg_len = fr->init_resp_len,
		.peer_nonce = fr->ni, .peer_nonce_len = fr->ni_len, .sk_p = &fr->keys.sk_pr,
		.id_body = idb, .id_body_len = 4 + idlen,
	};
	if ((alen = ike_auth_compute(IKE_AUTH_PSK, &ar, &cred, auth, sizeof(auth), NULL)) < 0) {
		rc = alen;
		goto out;
	}
	if (fr->cfg.bad_own_auth)
		auth[0] ^= 1;
	ike_build_id(&b, IKE_PT_IDR, IKE_ID_FQDN, (const uint8_t *)fr->cfg.id, idlen);
	ike_build_auth(&b, IKE_AUTH_PSK, auth, (size_t)alen);
	if (fr->cfg.mobike)   /* RFC 4555 §3.3 */
		ike_build_notify(&b, 0, NULL, 0, IKE_N_MOBIKE_SUPPORTED, NULL, 0);
	if (fr->cfg.auth_child_error) {
		ike_build_notify(&b, 0, NULL, 0, fr->cfg.auth_child_error, NULL, 0);
		rc = seal_resp(fr, IKE_AUTH, IKE_FLAG_R, mid, &b, out, out_len);
		goto out;
	}
	if (fr->cfg.auth_lifetime_s) {
		uint32_t v = fr->cfg.auth_lifetime_s;
		uint8_t lt[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
		ike_build_notify(&b, 0, NULL, 0, IKE_N_AUTH_LIFETIME, lt, 4);
	}
	/* CP reply: 10.10.10.1, DNS 10.99.0.53, domain example.test. */
	{
		static const uint8_t vip[4] = { 10, 10, 10, 1 }, dns[4] = { 10, 99, 0, 53 };
		struct ike_cp_attr cp[3] = {
			{ IKE_CP_INTERNAL_IP4_ADDRESS, vip, 4 },
			{ IKE_CP_INTERNAL_IP4_DNS, dns, 4 },
			{ IKE_CP_INTERNAL_DNS_DOMAIN, (const uint8_t *)"example.test", 12 },
		};
		ike_build_cp(&b, IKE_CFG_REPLY, cp, 3);
	}
	/* Child: first proposal, first of each type. */
	{
		const struct ike_proposal *p0 = &psa->u.sa.props[0];
		struct ike_proposal prop;
		struct ike_transform xf[4];
		uint16_t encr = 0, bits = 0, integ = 0;
		size_t n = 0;
		for (size_t i = p0->nxforms; i-- > 0;) {
			const struct ike_transform *t = &p0->xforms[i];
			if (t->type == IKE_TRANS_ENCR) { encr = t->id; bits = t->key_length; }
			if (t->type == IKE_TRANS_INTEG) integ = t->id;
		}
		fr->spi_out = (uint32_t)p0->spi[0] << 24 | (uint32_t)p0->spi[1] << 16 |
			      (uint32_t)p0->spi[2] << 8 | p0->spi[3];
		fr->spi_in = 0xc1d2e3f4;
		memset(&prop, 0, sizeof(prop));
		memset(xf, 0, sizeof(xf));
		prop.num = p0->num;
		prop.protocol = IKE_PROTO_ESP;
		prop.spi_size = 4;
		prop.spi[0] = 0xc1; prop.spi[1] = 0xd2; prop.spi[2] = 0xe3; prop.spi[3] = 0xf4;
		xf[n].type = IKE_TRANS_ENCR; xf[n].id = encr; xf[n++].key_length = bits;
		if (integ) { xf[n].type = IKE_TRANS_INTEG; xf[n++].id = integ; }
		xf[n].type = IKE_TRANS_ESN; xf[n++].id = IKE_ESN_NO;
		prop.nxforms = (uint8_t)n;
		prop.xforms = xf;
		ike_build_sa(&b, &prop, 1);
		if ((rc = ike_suite_init_esp(&fr->esp, encr, bits, integ, 0, NULL)) < 0 ||
		    (rc = ike_child_keys_derive(fr->suite.prf, &fr->keys.sk_d, &fr->esp, NULL, fr->ni,
						fr->ni_len, fr->nr, sizeof(fr->nr), &fr->ck)) < 0)
			goto out;
	}
	{
		struct ike_ts tsi, tsr;
		memset(&tsi, 0, sizeof(tsi));
		memset(&tsr, 0, sizeof(tsr));
		tsi.type = tsr.type = IKE_TS_IPV4_ADDR_RANGE;
		tsi.end_port = tsr.end_port = 65535;
		tsi.start[0] = tsi.end[0] = 10; tsi.start[1] = tsi.end[1] = 10;
		tsi.start[2] = tsi.end[2] = 10; tsi.start[3] = tsi.end[3] = 1;
		tsr.start[0] = tsr.end[0] = 10; tsr.start[1] = tsr.end[1] = 99;
		tsr.end[3] = 255;
		ike_build_ts(&b, IKE_PT_TSI, &tsi, 1);
		ike_build_ts(&b, IKE_PT_TSR, &tsr, 1);
	}
	rc = seal_resp(fr, IKE_AUTH, IKE_FLAG_R, mid, &b, out, out_len);
out:
	secret_free(&psk);
	return rc;
}

int fr_build_update_answer(struct fake_responder *fr, struct ike_builder *b)
{
	const struct ike_payload *pc;
	struct sockaddr_storage self = fr->mob_self, peer = fr->mob_peer;
	uint8_t hash[20];

	if (!ike_message_find_notify(fr->inner, IKE_N_UPDATE_SA_ADDRESSES))
		return 0;
	fr->n_update++;
	if (fr->cfg.update_error) {
		ike_build_notify(b, 0, NULL, 0, fr->cfg.update_error, NULL, 0);
		return 1;
	}
	if (!self.ss_family) {
		self = fr->cfg.self;
		eng_set_port(&self, 4500);
	}
	if (!peer.ss_family) {
		peer = fr->cfg.peer;
		eng_set_port(&peer, 4500);
	}
	/* RFC 4555 §3.5: NAT detection as the responder sees this path. */
	eng_natd_hash(fr->spi_i, fr->spi_r, &self, eng_port(&self), hash);
	ike_build_notify(b, 0, NULL, 0, IKE_N_NAT_DETECTION_SOURCE_IP, hash, 20);
	eng_natd_hash(fr->spi_i, fr->spi_r, &peer, eng_port(&peer), hash);
	ike_build_notify(b, 0, NULL, 0, IKE_N_NAT_DETECTION_DESTINATION_IP, hash, 20);
	pc = ike_message_find_notify(fr->inner, IKE_N_COOKIE2);
	if (pc && !fr->cfg.update_no_cookie2)   /* §3.11: echoed as received */
		ike_build_notify(b, 0, NULL, 0, IKE_N_COOKIE2, pc->u.notify.data, pc->u.notify.len);
	return 1;
}

void fr_strip_marker(const uint8_t **msg, size_t *len)
{
	if (*len >= 4 + 28 && !(*msg)[0] && !(*msg)[1] && !(*msg)[2] && !(*msg)[3]) {
		*msg += 4;
		*len -= 4;
	}
}

int fr_handle(struct fake_responder *fr, const uint8_t *msg, size_t len,
	      uint8_t **out, size_t *out_len)
{
	struct ike_header h;
	uint8_t *copy;
	int rc;

	/* RFC 3948 §2.2: tests may hand over datagrams as sent on port 4500. */
	fr_strip_marker(&msg, &len);
	if (eng_peek_header(msg, len, &h) < 0 || (h.flags & IKE_FLAG_R))
		return -EBADMSG;
	if (h.exchange == IKE_SA_INIT)
		return handle_init(fr, msg, len, out, out_len);
	copy = malloc(len);
	memcpy(copy, msg, len);
	if (h.exchange == IKE_AUTH) {
		rc = handle_auth(fr, copy, len, out, out_len);
	} else if (h.exchange == IKE_INFORMATIONAL) {
		fr->n_info++;
		rc = open_req(fr, copy, len);
		if (rc == 0) {
			struct ike_builder b;
			uint8_t plain[256];
			ike_build_chain_begin(&b, plain, sizeof(plain));
			rc = seal_resp(fr, IKE_INFORMATIONAL, IKE_FLAG_R, h.message_id,
				       fr_build_update_answer(fr, &b) ? &b : NULL, out, out_len);
		}
	} else {
		rc = -EOPNOTSUPP;
	}
	free(copy);
	return rc;
}

int fr_request(struct fake_responder *fr, enum fr_req kind, uint8_t **out, size_t *out_len)
{
	struct ike_builder b;
	uint8_t plain[512];
	uint8_t exch = IKE_INFORMATIONAL;
	uint8_t spi[4] = { (uint8_t)(fr->spi_in >> 24), (uint8_t)(fr->spi_in >> 16),
			   (uint8_t)(fr->spi_in >> 8), (uint8_t)fr->spi_in };

	ike_build_chain_begin(&b, plain, sizeof(plain));
	switch (kind) {
	case FR_REQ_EMPTY:
		return seal_resp(fr, exch, 0, fr->next_mid++, NULL, out, out_len);
	case FR_REQ_DELETE_IKE:
		ike_build_delete(&b, IKE_PROTO_IKE, 0, NULL, 0);
		break;
	case FR_REQ_DELETE_CHILD:
		ike_build_delete(&b, IKE_PROTO_ESP, 4, spi, 1);
		break;
	case FR_REQ_CREATE_CHILD: {
		uint8_t nonce[32];
		memset(nonce, 0x5a, sizeof(nonce));
		exch = IKE_CREATE_CHILD_SA;
		ike_build_notify(&b, IKE_PROTO_ESP, spi, 4, IKE_N_REKEY_SA, NULL, 0);
		ike_build_nonce(&b, nonce, sizeof(nonce));
		break;
	}
	}
	return seal_resp(fr, exch, 0, fr->next_mid++, &b, out, out_len);
}

int fr_open_response(struct fake_responder *fr, uint8_t *msg, size_t len)
{
	return open_req(fr, msg, len);
}
