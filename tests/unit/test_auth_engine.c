/* Unit tests for certificate and EAP authentication in the engine: the
 * fake responder answers IKE_SA_INIT; IKE_AUTH is answered here, as a
 * certificate-holding server would (RFC 7296 §1.2, §2.15, §2.16), with a
 * PKI made by the test.  Checks what our requests carry (CERT, CERTREQ,
 * signature AUTH, no AUTH for EAP, the MSK AUTH), that the server is
 * verified before anything derived from the password leaves, and that
 * each failure ends with its own error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "ike-lite/auth.h"
#include "ike-lite/ike.h"
#include "tests/lib/engine_harness.h"
#include "tests/lib/fake_responder.h"

/* ---------------------------------------------------------------- PKI */

static EVP_PKEY *k_ca, *k_srv, *k_cli, *k_rogue;
static X509 *ca, *srv_cert, *srv_expired, *cli_cert;

static X509 *mkcert(EVP_PKEY *key, const char *cn, X509 *ix, EVP_PKEY *ikey, long from,
		    long to, const char *san)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509V3_CTX ctx;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), to);
	X509_set_pubkey(x, key);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, ix ? X509_get_subject_name(ix) : n);
	X509V3_set_ctx(&ctx, ix ? ix : x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
						 ix ? "CA:FALSE" : "critical,CA:TRUE");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	if (san) {
		e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	assert_true(X509_sign(x, ikey ? ikey : key, EVP_sha256()) > 0);
	return x;
}

static void pem_cert(X509 *x, struct secret *out)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	PEM_write_bio_X509(b, x);
	long l = BIO_get_mem_data(b, &p);
	secret_set(out, p, (size_t)l);
	BIO_free(b);
}

static int group_setup(void **state)
{
	(void)state;
	k_ca = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	k_srv = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	k_cli = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	k_rogue = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	ca = mkcert(k_ca, "test CA", NULL, NULL, -86400, 86400L * 30, NULL);
	srv_cert = mkcert(k_srv, "server.test", ca, k_ca, -86400, 86400L * 30, "DNS:server.test");
	srv_expired = mkcert(k_srv, "server.test", ca, k_ca, -86400L * 30, -86400, "DNS:server.test");
	cli_cert = mkcert(k_cli, "client.test", ca, k_ca, -86400, 86400L * 30, "DNS:client.test");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	X509_free(ca); X509_free(srv_cert); X509_free(srv_expired); X509_free(cli_cert);
	EVP_PKEY_free(k_ca); EVP_PKEY_free(k_srv); EVP_PKEY_free(k_cli); EVP_PKEY_free(k_rogue);
	return 0;
}

/* ------------------------------------------------------------ harness */

enum srv_mode {
	SRV_GOOD = 0,
	SRV_EXPIRED,        /* sends an expired certificate */
	SRV_BAD_AUTH,       /* signs with a key that is not the certificate's */
	SRV_WRONG_IDR,      /* claims an identity its certificate lacks */
	SRV_REJECT_CLIENT,  /* AUTHENTICATION_FAILED to our AUTH */
	SRV_EAP_BAD_AUTHENTICATOR, /* MSCHAPv2 success with a wrong S= */
	SRV_EAP_WRONG_PASSWORD,    /* MSCHAPv2 failure E=691 */
	SRV_EAP_BAD_MSK_AUTH,      /* the final AUTH is wrong */
	SRV_EAP_ENDLESS,           /* EAP Notifications that never end */
};

struct h {
	struct ike_config cfg;
	struct ike_sa *sa;
	struct fake_responder fr;
	struct fr_config frc;
	enum srv_mode mode;
	uint64_t now;
	unsigned n_auth_req;
	bool saw_cert, saw_certreq, saw_auth, client_auth_ok, saw_eap_nt, msk_auth_ok;
	uint8_t client_auth_method;
	bool connected, disconnected, installed;
	enum ike_error error;
	char detail[IKE_DETAIL_MAX];
	/* EAP server state */
	uint8_t ac[16], pc[16], nt[24];
	bool eap_success_sent;
};

static void h_init(struct h *t, enum ike_cred_kind kind, enum srv_mode mode)
{
	memset(t, 0, sizeof(*t));
	eh_rng = 0x0123456789abcdefULL;
	ike_config_init(&t->cfg);
	eh_addr4(&t->cfg.local, "192.0.2.1", 500);
	eh_addr4(&t->cfg.remote, "192.0.2.2", 500);
	t->cfg.local_id.type = IKE_ID_FQDN;
	t->cfg.local_id.len = 11;
	memcpy(t->cfg.local_id.data, "client.test", 11);
	t->cfg.server_cert_id.type = IKE_ID_FQDN;
	t->cfg.server_cert_id.len = 11;
	memcpy(t->cfg.server_cert_id.data, "server.test", 11);
	struct ike_cfg_proposal *p = &t->cfg.ike_proposals[0], *c = &t->cfg.child_proposals[0];
	t->cfg.n_ike_proposals = t->cfg.n_child_proposals = 1;
	p->n_encr = 1; p->encr[0].id = 20; p->encr[0].key_bits = 256;
	p->n_prf = 1; p->prf[0] = 5;
	p->n_dh = 1; p->dh[0] = 31;
	c->n_encr = 1; c->encr[0].id = 20; c->encr[0].key_bits = 256;
	t->cfg.rand = eh_rand;
	t->cfg.auth = kind;
	pem_cert(ca, &t->cfg.ca);
	if (kind == IKE_CRED_CERT) {
		pem_cert(cli_cert, &t->cfg.cert);
		BIO *b = BIO_new(BIO_s_mem());
		char *kp;
		PEM_write_bio_PrivateKey(b, k_cli, NULL, NULL, 0, NULL, NULL);
		long kl = BIO_get_mem_data(b, &kp);
		secret_set(&t->cfg.key, kp, (size_t)kl);
		BIO_free(b);
	} else {
		snprintf(t->cfg.eap_user, sizeof(t->cfg.eap_user), "User");
		secret_set(&t->cfg.eap_password, "clientPass", 10);
	}
	t->frc.self = t->cfg.remote;
	t->frc.peer = t->cfg.local;
	t->frc.psk = "unused";
	t->frc.id = "server.test";
	t->frc.rnd = eh_rand;
	t->mode = mode;
	t->now = 1000000;
	struct pvpn_err err;
	fr_init(&t->fr, &t->frc);
	t->sa = ike_sa_new(&t->cfg, &err);
	assert_non_null(t->sa);
}

static void h_free(struct h *t)
{
	ike_sa_free(t->sa);
	fr_free(&t->fr);
	ike_config_clear(&t->cfg);
}

static size_t der_of(X509 *x, uint8_t *out)
{
	uint8_t *p = out;
	int n = i2d_X509(x, &p);
	assert_true(n > 0);
	return (size_t)n;
}

/* The server's part of the first IKE_AUTH response: IDr, CERT, AUTH. */
static void server_auth(struct h *t, struct ike_builder *b)
{
	struct fake_responder *fr = &t->fr;
	static uint8_t der[2048];
	const char *id = t->mode == SRV_WRONG_IDR ? "other.test" : "server.test";
	uint8_t idb[64] = { IKE_ID_FQDN, 0, 0, 0 }, auth[512];
	size_t idl = 4 + strlen(id);
	memcpy(idb + 4, id, strlen(id));
	ike_build_id(b, IKE_PT_IDR, IKE_ID_FQDN, (const uint8_t *)id, strlen(id));
	size_t n = der_of(t->mode == SRV_EXPIRED ? srv_expired : srv_cert, der);
	ike_build_cert(b, IKE_PT_CERT, IKE_CERT_X509_SIG, der, n);
	struct ike_auth_input ai = { .prf = fr->suite.prf, .real_msg = fr->init_resp,
		.real_msg_len = fr->init_resp_len, .peer_nonce = fr->ni, .peer_nonce_len = fr->ni_len,
		.sk_p = &fr->keys.sk_pr, .id_body = idb, .id_body_len = idl };
	struct ike_auth_cred cred = { .key = t->mode == SRV_BAD_AUTH ? k_rogue : k_srv,
				      .sig_hash = IKE_HASH_SHA2_384 };
	int alen = ike_auth_compute(IKE_AUTH_DIGITAL_SIGNATURE, &ai, &cred, auth, sizeof(auth), NULL);
	assert_true(alen > 0);
	ike_build_auth(b, IKE_AUTH_DIGITAL_SIGNATURE, auth, (size_t)alen);
}

static void child_part(struct h *t, struct ike_builder *b)
{
	struct ike_proposal prop;
	struct ike_transform xf[2];
	memset(&prop, 0, sizeof(prop));
	memset(xf, 0, sizeof(xf));
	prop.num = 1;
	prop.protocol = IKE_PROTO_ESP;
	prop.spi_size = 4;
	prop.spi[0] = 0xc1; prop.spi[1] = 0xd2; prop.spi[2] = 0xe3; prop.spi[3] = 0xf4;
	xf[0].type = IKE_TRANS_ENCR; xf[0].id = 20; xf[0].key_length = 256;
	xf[1].type = IKE_TRANS_ESN; xf[1].id = IKE_ESN_NO;
	prop.nxforms = 2;
	prop.xforms = xf;
	ike_build_sa(b, &prop, 1);
	struct ike_ts ts;
	memset(&ts, 0, sizeof(ts));
	ts.type = IKE_TS_IPV4_ADDR_RANGE;
	ts.end_port = 65535;
	memset(ts.end, 0xff, 4);
	ike_build_ts(b, IKE_PT_TSI, &ts, 1);
	ike_build_ts(b, IKE_PT_TSR, &ts, 1);
	(void)t;
}

static void eap_payload(struct ike_builder *b, const uint8_t *p, size_t n)
{
	ike_build_raw(b, IKE_PT_EAP, 0, p, n);
}

/* Answer one IKE_AUTH request of ours. */
static int handle_auth(struct h *t, uint8_t *msg, size_t len, uint8_t **out, size_t *out_len)
{
	struct fake_responder *fr = &t->fr;
	struct ike_header h;
	struct ike_builder b;
	uint8_t plain[4096], first;
	size_t plain_len;
	const struct ike_payload *p;

	assert_int_equal(ike_message_parse(fr->m, msg, len, NULL), 0);
	assert_int_equal(eng_open(&fr->suite, &fr->keys.sk_ei, &fr->keys.sk_ai, msg, len, fr->m,
				  fr->inner, NULL), 0);
	t->n_auth_req++;
	struct ike_message *in = fr->inner;
	ike_build_chain_begin(&b, plain, sizeof(plain));
	if (t->n_auth_req == 1) {
		t->saw_cert = ike_message_find(in, IKE_PT_CERT, NULL) != NULL;
		if ((p = ike_message_find(in, IKE_PT_CERTREQ, NULL))) {
			/* §3.7: SHA-1 of our CA's SubjectPublicKeyInfo. */
			uint8_t *spki = NULL, hsh[20];
			int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(ca), &spki);
			SHA1(spki, (size_t)n, hsh);
			OPENSSL_free(spki);
			t->saw_certreq = p->u.cert.encoding == IKE_CERT_X509_SIG &&
					 p->u.cert.len == 20 && !memcmp(p->u.cert.data, hsh, 20);
		}
		p = ike_message_find(in, IKE_PT_AUTH, NULL);
		t->saw_auth = p != NULL;
		if (p) {
			const struct ike_payload *pid = ike_message_find(in, IKE_PT_IDI, NULL);
			struct ike_auth_input ai = { .prf = fr->suite.prf, .real_msg = fr->init_req,
				.real_msg_len = fr->init_req_len, .peer_nonce = fr->nr,
				.peer_nonce_len = sizeof(fr->nr), .sk_p = &fr->keys.sk_pi,
				.id_body = pid->body, .id_body_len = pid->body_len };
			struct ike_auth_cred cred = { .key = k_cli, .allowed_hashes = IKE_HASHES_OURS };
			t->client_auth_method = p->u.auth.method;
			t->client_auth_ok = ike_auth_verify(p->u.auth.method, &ai, &cred, p->u.auth.data,
							    p->u.auth.len, NULL) == 0;
		}
		if (t->mode == SRV_REJECT_CLIENT) {
			ike_build_notify(&b, 0, NULL, 0, IKE_N_AUTHENTICATION_FAILED, NULL, 0);
		} else {
			server_auth(t, &b);
			if (t->cfg.auth == IKE_CRED_EAP) {
				/* MSCHAPv2 challenge (RFC 2759 §9.2's). */
				static const uint8_t ac[16] = { 0x5B, 0x5D, 0x7C, 0x7D, 0x7B, 0x3F, 0x2F, 0x3E,
								0x3C, 0x2C, 0x60, 0x21, 0x32, 0x26, 0x26, 0x28 };
				uint8_t e[29] = { IKE_EAP_REQUEST, 1, 0, 29, IKE_EAP_MSCHAPV2, 1, 5, 0, 24, 16 };
				memcpy(e + 10, ac, 16);
				memcpy(e + 26, "srv", 3);
				memcpy(t->ac, ac, 16);
				eap_payload(&b, e, sizeof(e));
			} else {
				child_part(t, &b);
			}
		}
	} else if (t->mode == SRV_EAP_ENDLESS) {
		const uint8_t note[6] = { IKE_EAP_REQUEST, (uint8_t)t->n_auth_req, 0, 6,
					  IKE_EAP_NOTIFICATION, '!' };
		eap_payload(&b, note, sizeof(note));
	} else if (t->cfg.auth == IKE_CRED_EAP && !t->eap_success_sent && t->pc[0] == 0 && !t->saw_eap_nt) {
		/* The MSCHAPv2 Response. */
		p = ike_message_find(in, IKE_PT_EAP, NULL);
		assert_non_null(p);
		assert_int_equal(p->body[4], IKE_EAP_MSCHAPV2);
		assert_int_equal(p->body[5], 2);
		memcpy(t->pc, p->body + 10, 16);
		memcpy(t->nt, p->body + 34, 24);
		uint8_t want[24];
		ike_mschap_nt_response(t->ac, t->pc, "User", 4, (const uint8_t *)"clientPass", 10, want);
		t->saw_eap_nt = true;
		if (t->mode == SRV_EAP_WRONG_PASSWORD || memcmp(want, t->nt, 24) != 0) {
			const char *m = "E=691 R=0 C=00000000000000000000000000000000 V=3 M=denied";
			uint8_t e[128] = { IKE_EAP_REQUEST, 2, 0, 0, IKE_EAP_MSCHAPV2, 4, 5, 0, 0 };
			size_t n = 9 + strlen(m);
			e[3] = (uint8_t)n;
			e[8] = (uint8_t)(n - 5);
			memcpy(e + 9, m, strlen(m));
			eap_payload(&b, e, n);
		} else {
			char ar[43];
			ike_mschap_authenticator_response((const uint8_t *)"clientPass", 10, t->nt, t->pc,
							  t->ac, "User", 4, ar);
			if (t->mode == SRV_EAP_BAD_AUTHENTICATOR)
				ar[10] = ar[10] == 'A' ? 'B' : 'A';
			uint8_t e[64] = { IKE_EAP_REQUEST, 2, 0, 51, IKE_EAP_MSCHAPV2, 3, 5, 0, 46 };
			memcpy(e + 9, ar, 42);
			eap_payload(&b, e, 51);
		}
	} else if (t->cfg.auth == IKE_CRED_EAP && !t->eap_success_sent) {
		p = ike_message_find(in, IKE_PT_EAP, NULL);
		assert_non_null(p);
		const uint8_t s[4] = { IKE_EAP_SUCCESS, 3, 0, 4 };
		eap_payload(&b, s, 4);
		t->eap_success_sent = true;
	} else {
		/* The MSK-based AUTH of ours; answer with the server's and the Child SA. */
		uint8_t msk[64], auth[64];
		assert_int_equal(ike_mschap_msk((const uint8_t *)"clientPass", 10, t->nt, msk), 0);
		struct secret sm = { msk, 64 };
		p = ike_message_find(in, IKE_PT_AUTH, NULL);
		assert_non_null(p);
		const uint8_t idi[15] = { IKE_ID_FQDN, 0, 0, 0, 'c', 'l', 'i', 'e', 'n', 't', '.', 't', 'e', 's', 't' };
		struct ike_auth_input ai = { .prf = fr->suite.prf, .real_msg = fr->init_req,
			.real_msg_len = fr->init_req_len, .peer_nonce = fr->nr,
			.peer_nonce_len = sizeof(fr->nr), .sk_p = &fr->keys.sk_pi,
			.id_body = idi, .id_body_len = sizeof(idi) };
		struct ike_auth_cred cred = { .psk = &sm };
		t->msk_auth_ok = p->u.auth.method == IKE_AUTH_PSK &&
				 ike_auth_verify(IKE_AUTH_PSK, &ai, &cred, p->u.auth.data, p->u.auth.len, NULL) == 0;
		const uint8_t idr[15] = { IKE_ID_FQDN, 0, 0, 0, 's', 'e', 'r', 'v', 'e', 'r', '.', 't', 'e', 's', 't' };
		struct ike_auth_input ar = { .prf = fr->suite.prf, .real_msg = fr->init_resp,
			.real_msg_len = fr->init_resp_len, .peer_nonce = fr->ni, .peer_nonce_len = fr->ni_len,
			.sk_p = &fr->keys.sk_pr, .id_body = idr, .id_body_len = sizeof(idr) };
		int n = ike_auth_psk(&ar, &sm, auth, sizeof(auth), NULL);
		assert_true(n > 0);
		if (t->mode == SRV_EAP_BAD_MSK_AUTH)
			auth[0] ^= 1;
		ike_build_auth(&b, IKE_AUTH_PSK, auth, (size_t)n);
		child_part(t, &b);
	}
	assert_int_equal(ike_build_finish(&b, &plain_len, &first, NULL), 0);
	memset(&h, 0, sizeof(h));
	memcpy(h.spi_i, fr->spi_i, 8);
	memcpy(h.spi_r, fr->spi_r, 8);
	h.version = 0x20;
	h.exchange = IKE_AUTH;
	h.flags = IKE_FLAG_R;
	h.message_id = fr->m->hdr.message_id;
	return eng_seal(&fr->suite, &fr->keys.sk_er, &fr->keys.sk_ar, eh_rand, &h, first, plain,
			plain_len, out, out_len);
}

static void run(struct h *t)
{
	struct ike_action a;
	ike_connect(t->sa, t->now);
	for (int guard = 0; guard < 200; guard++) {
		bool moved = false;
		while (ike_next_action(t->sa, &a)) {
			moved = true;
			if (a.type == IKE_ACT_ALLOC_SPI) {
				ike_spi_allocated(t->sa, 0x11223344, t->now);
				break;
			}
			if (a.type == IKE_ACT_STATUS) {
				if (a.u.status.status == IKE_STATUS_CONNECTED)
					t->connected = true;
				if (a.u.status.status == IKE_STATUS_DISCONNECTED) {
					t->disconnected = true;
					t->error = a.u.status.error;
					snprintf(t->detail, sizeof(t->detail), "%s", a.u.status.detail);
				}
			}
			if (a.type == IKE_ACT_INSTALL_CHILD)
				t->installed = true;
			if (a.type != IKE_ACT_SEND || a.u.send.retransmit)
				continue;
			uint8_t *copy = malloc(a.u.send.len), *resp = NULL;
			size_t rlen = 0;
			memcpy(copy, a.u.send.data, a.u.send.len);
			struct ike_path back = a.u.send.path;
			uint8_t exch = copy[18];
			int rc;
			if (exch == IKE_SA_INIT)
				rc = fr_handle(&t->fr, copy, a.u.send.len, &resp, &rlen);
			else if (exch == IKE_AUTH)
				rc = handle_auth(t, copy, a.u.send.len, &resp, &rlen);
			else
				rc = -1;   /* DELETE and the like: nobody answers */
			free(copy);
			if (rc == 0) {
				ike_receive(t->sa, resp, rlen, &back, t->now);
				free(resp);
			}
			break;
		}
		if (!moved)
			break;
	}
}

/* ------------------------------------------------------------ tests */

static void ed25519_needs_rfc7427(void **state)
{
	(void)state;
	struct h t;
	/* The fake responder announces no SIGNATURE_HASH_ALGORITHMS, and
	 * Ed25519 has no classic method (RFC 8420 §2): a clear configuration
	 * error before any IKE_AUTH request. */
	h_init(&t, IKE_CRED_CERT, SRV_GOOD);
	run(&t);
	assert_int_equal(t.n_auth_req, 0);
	assert_false(t.connected);
	assert_true(t.disconnected);
	assert_int_equal(t.error, IKE_ERR_CONFIGURATION_FAILED);
	assert_non_null(strstr(t.detail, "RFC 7427"));
	h_free(&t);
}

static void cert_success_ecdsa_classic(void **state)
{
	(void)state;
	struct h t;
	/* An ECDSA P-384 client key: classic method 10 without RFC 7427. */
	EVP_PKEY *old = k_cli;
	X509 *oldc = cli_cert;
	k_cli = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	cli_cert = mkcert(k_cli, "client.test", ca, k_ca, -86400, 86400L * 30, "DNS:client.test");
	h_init(&t, IKE_CRED_CERT, SRV_GOOD);
	run(&t);
	assert_true(t.saw_cert);
	assert_true(t.saw_certreq);
	assert_int_equal(t.client_auth_method, IKE_AUTH_ECDSA_384);
	assert_true(t.client_auth_ok);
	assert_true(t.connected);
	assert_true(t.installed);
	h_free(&t);
	EVP_PKEY_free(k_cli);
	X509_free(cli_cert);
	k_cli = old;
	cli_cert = oldc;
}

static struct h *fail_case(enum ike_cred_kind kind, enum srv_mode mode, enum ike_error want)
{
	static struct h t;
	EVP_PKEY *old = k_cli;
	X509 *oldc = cli_cert;
	if (kind == IKE_CRED_CERT) {
		k_cli = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		cli_cert = mkcert(k_cli, "client.test", ca, k_ca, -86400, 86400L * 30, "DNS:client.test");
	}
	h_init(&t, kind, mode);
	run(&t);
	assert_false(t.connected);
	assert_false(t.installed);
	assert_true(t.disconnected);
	if (t.error != want)
		fprintf(stderr, "error %d (%s), want %d\n", t.error, t.detail, want);
	assert_int_equal(t.error, want);
	h_free(&t);
	if (kind == IKE_CRED_CERT) {
		EVP_PKEY_free(k_cli);
		X509_free(cli_cert);
		k_cli = old;
		cli_cert = oldc;
	}
	return &t;
}

static void cert_failures(void **state)
{
	(void)state;
	fail_case(IKE_CRED_CERT, SRV_EXPIRED, IKE_ERR_SERVER_CERT_EXPIRED);
	fail_case(IKE_CRED_CERT, SRV_BAD_AUTH, IKE_ERR_AUTHENTICATION_FAILED);
	fail_case(IKE_CRED_CERT, SRV_WRONG_IDR, IKE_ERR_SERVER_IDENTITY_MISMATCH);
	fail_case(IKE_CRED_CERT, SRV_REJECT_CLIENT, IKE_ERR_CLIENT_CERT_REJECTED);
}

static void eap_success(void **state)
{
	(void)state;
	struct h t;
	h_init(&t, IKE_CRED_EAP, SRV_GOOD);
	run(&t);
	assert_false(t.saw_auth);          /* §2.16: no AUTH in the first request */
	assert_false(t.saw_cert);
	assert_true(t.saw_certreq);
	assert_true(t.saw_eap_nt);
	assert_true(t.eap_success_sent);
	assert_true(t.msk_auth_ok);
	assert_true(t.connected);
	assert_true(t.installed);
	assert_int_equal(t.n_auth_req, 4);
	h_free(&t);
}

static void eap_server_not_trusted_first(void **state)
{
	(void)state;
	/* The server's certificate or signature fails: the MSCHAPv2 challenge
	 * in the same message is never answered (no password-derived data). */
	struct h *t = fail_case(IKE_CRED_EAP, SRV_EXPIRED, IKE_ERR_SERVER_CERT_EXPIRED);
	assert_false(t->saw_eap_nt);
	assert_int_equal(t->n_auth_req, 1);
	t = fail_case(IKE_CRED_EAP, SRV_BAD_AUTH, IKE_ERR_AUTHENTICATION_FAILED);
	assert_false(t->saw_eap_nt);
	assert_int_equal(t->n_auth_req, 1);
	t = fail_case(IKE_CRED_EAP, SRV_WRONG_IDR, IKE_ERR_SERVER_IDENTITY_MISMATCH);
	assert_false(t->saw_eap_nt);
}

static void eap_failures(void **state)
{
	(void)state;
	struct h *t = fail_case(IKE_CRED_EAP, SRV_EAP_WRONG_PASSWORD, IKE_ERR_AUTHENTICATION_FAILED);
	assert_non_null(strstr(t->detail, "wrong user name or password"));
	t = fail_case(IKE_CRED_EAP, SRV_EAP_BAD_AUTHENTICATOR, IKE_ERR_AUTHENTICATION_FAILED);
	assert_false(t->eap_success_sent);
	t = fail_case(IKE_CRED_EAP, SRV_EAP_BAD_MSK_AUTH, IKE_ERR_AUTHENTICATION_FAILED);
	assert_true(t->msk_auth_ok);   /* ours was right; the server's was not */
	t = fail_case(IKE_CRED_EAP, SRV_EAP_ENDLESS, IKE_ERR_PROTOCOL_ERROR);
	assert_true(t->n_auth_req > 3 && t->n_auth_req < 20);
}

static void config_checks(void **state)
{
	(void)state;
	struct ike_config cfg;
	struct pvpn_err err;
	struct h t;
	h_init(&t, IKE_CRED_CERT, SRV_GOOD);
	cfg = t.cfg;
	/* No CA: refused (the server must be verifiable). */
	struct secret ca_save = cfg.ca;
	memset(&cfg.ca, 0, sizeof(cfg.ca));
	assert_null(ike_sa_new(&cfg, &err));
	assert_non_null(strstr(err.msg, "ServerCertificateAuthorityFile"));
	cfg.ca = ca_save;
	/* A key that is not the certificate's. */
	struct secret key_save = cfg.key;
	BIO *b = BIO_new(BIO_s_mem());
	char *kp;
	PEM_write_bio_PrivateKey(b, k_rogue, NULL, NULL, 0, NULL, NULL);
	long kl = BIO_get_mem_data(b, &kp);
	struct secret rogue = { (uint8_t *)kp, (size_t)kl };
	cfg.key = rogue;
	assert_null(ike_sa_new(&cfg, &err));
	assert_non_null(strstr(err.msg, "does not belong"));
	BIO_free(b);
	cfg.key = key_save;
	/* EAP without a password. */
	cfg.auth = IKE_CRED_EAP;
	assert_null(ike_sa_new(&cfg, &err));
	h_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ed25519_needs_rfc7427),
		cmocka_unit_test(cert_success_ecdsa_classic),
		cmocka_unit_test(cert_failures),
		cmocka_unit_test(eap_success),
		cmocka_unit_test(eap_server_not_trusted_first),
		cmocka_unit_test(eap_failures),
		cmocka_unit_test(config_checks),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
