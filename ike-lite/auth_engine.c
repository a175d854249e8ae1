/* auth_engine.c — the engine's side of certificate and EAP authentication
 * in IKE_AUTH (RFC 7296 §1.2, §2.15, §2.16, §3.6-§3.8, RFC 7427).  The
 * server proves itself (certificate chain + signature) before anything of
 * ours that depends on a credential is sent after the first request: our
 * first IKE_AUTH request carries only a signature (certificate) or
 * nothing (EAP), and the EAP answers derived from the password go out only
 * after the server's AUTH verified. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "ike-lite/auth.h"
#include "ike-lite/constants.h"
#include "ike-lite/engine_internal.h"
#include "lib/log.h"

#define AUTH_MAX 1024          /* RFC 7427 RSA-4096: 1 + ~70 + 512 */

enum { PH_FIRST = 0, PH_EAP, PH_FINAL };

struct eng_auth {
	struct ike_certs certs;
	bool have_certs;
	struct ike_eap eap;
	bool eap_on;
	int phase;
	unsigned eap_rounds;
	bool server_ok;                         /* the server's AUTH verified */
	bool eap_only;                          /* RFC 5998: the server sent no AUTH */
	uint8_t idb[4 + IKE_CFG_MAX_ID_LEN];    /* our ID body (for the MSK AUTH) */
	size_t idlen;
	uint8_t ridb[4 + IKE_CFG_MAX_ID_LEN];   /* the server's, from the first response */
	size_t ridlen;
};

int eng_auth_check_config(const struct ike_config *cfg, struct pvpn_err *err)
{
	switch (cfg->auth) {
	case IKE_CRED_PSK:
		if (!cfg->psk.len)
			return err_set(err, -EINVAL, "pre-shared key authentication needs a shared secret");
		return 0;
	case IKE_CRED_CERT:
		if (!cfg->cert.len || !cfg->key.len)
			return err_set(err, -EINVAL, "certificate authentication needs a certificate "
				       "and its private key");
		if (!cfg->ca.len)
			return err_set(err, -EINVAL, "certificate authentication needs the server's "
				       "certificate authority (ServerCertificateAuthorityFile)");
		return 0;
	case IKE_CRED_EAP:
		if (!cfg->eap_user[0] || !cfg->eap_password.len)
			return err_set(err, -EINVAL, "EAP needs a user name and a password");
		if (!cfg->ca.len)
			return err_set(err, -EINVAL, "EAP needs the server's certificate authority "
				       "(ServerCertificateAuthorityFile): the server must prove "
				       "itself before the password is used");
		return 0;
	case IKE_CRED_EAP_TLS:
		if (!cfg->cert.len || !cfg->key.len)
			return err_set(err, -EINVAL, "EAP-TLS needs a certificate and its private key");
		if (!cfg->ca.len)
			return err_set(err, -EINVAL, "EAP-TLS needs the server's certificate "
				       "authority (ServerCertificateAuthorityFile)");
		return 0;
	default:
		return err_set(err, -EINVAL, "unknown authentication kind %d", (int)cfg->auth);
	}
}

/* What EAP-Identity answers with EAP-TLS: the profile's user name, else
 * our IKE identity when it is text (FQDN, e-mail), else the subject's CN
 * of our certificate — the server matches the TLS client certificate, the
 * EAP identity only routes the request. */
static void eap_tls_identity(const struct ike_config *cfg, char *out, size_t cap)
{
	const struct ike_id *id = &cfg->local_id;

	if (cfg->eap_user[0]) {
		snprintf(out, cap, "%s", cfg->eap_user);
		return;
	}
	if ((id->type == IKE_ID_FQDN || id->type == IKE_ID_RFC822_ADDR) && id->len &&
	    id->len < cap) {
		memcpy(out, id->data, id->len);
		out[id->len] = '\0';
		if (strlen(out) == id->len)
			return;
	}
	snprintf(out, cap, "anonymous");
	BIO *b = BIO_new_mem_buf(cfg->cert.data, (int)cfg->cert.len);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	if (x) {
		char cn[256];
		if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
					      sizeof(cn)) > 0)
			snprintf(out, cap, "%s", cn);
	}
	X509_free(x);
	BIO_free(b);
	ERR_clear_error();
}

int eng_auth_setup(struct ike_sa *sa, const struct ike_config *cfg, struct pvpn_err *err)
{
	struct eng_auth *a;

	if (!(a = calloc(1, sizeof(*a))))
		return err_set(err, -ENOMEM, "out of memory");
	sa->auth = a;
	if (secret_dup(&sa->cfg.cert, &cfg->cert) < 0 || secret_dup(&sa->cfg.key, &cfg->key) < 0 ||
	    secret_dup(&sa->cfg.ca, &cfg->ca) < 0 || secret_dup(&sa->cfg.crl, &cfg->crl) < 0)
		return err_set(err, -ENOMEM, "out of memory");
	bool own_cert = cfg->auth == IKE_CRED_CERT || cfg->auth == IKE_CRED_EAP_TLS;
	if (own_cert || cfg->ca.len) {
		struct ike_config c = *cfg;
		if (!own_cert) {
			memset(&c.cert, 0, sizeof(c.cert));
			memset(&c.key, 0, sizeof(c.key));
		}
		if (ike_certs_load(&a->certs, &c, err) < 0)
			return err->code;
		a->have_certs = true;
	}
	/* The key lives in the EVP_PKEY now; the PEM copy goes. */
	secret_free(&sa->cfg.key);
	if (cfg->auth == IKE_CRED_EAP) {
		if (ike_eap_init(&a->eap, cfg->eap_user, &cfg->eap_password) < 0)
			return err_set(err, -EINVAL, "EAP: the user name is too long or the password empty");
		a->eap_on = true;
	}
	if (cfg->auth == IKE_CRED_EAP_TLS) {
		char ident[256];
		eap_tls_identity(cfg, ident, sizeof(ident));
		if (ike_eap_init_tls(&a->eap, ident, &a->certs, err) < 0)
			return err->code;
		a->eap_on = true;
	}
	return 0;
}

void eng_auth_free(struct ike_sa *sa)
{
	struct eng_auth *a = sa->auth;

	secret_free(&sa->cfg.cert);
	secret_free(&sa->cfg.key);
	secret_free(&sa->cfg.ca);
	secret_free(&sa->cfg.crl);
	secret_free(&sa->cfg.eap_password);
	if (!a)
		return;
	if (a->have_certs)
		ike_certs_free(&a->certs);
	if (a->eap_on)
		ike_eap_free(&a->eap);
	secret_wipe(a, sizeof(*a));
	free(a);
	sa->auth = NULL;
}

bool eng_auth_server_cert(const struct ike_sa *sa)
{
	return sa->auth && sa->auth->have_certs && sa->auth->certs.store;
}

bool eng_auth_in_eap(const struct ike_sa *sa)
{
	return sa->auth && sa->auth->eap_on && sa->auth->phase == PH_EAP;
}

static void fail(struct ike_sa *sa, enum ike_error e, const char *detail)
{
	/* §2.21.2: the IKE SA exists; tell the server we drop it. */
	eng_send_delete_oneshot(sa);
	eng_close(sa, e, "%s", detail);
}

int eng_auth_build_ours(struct ike_sa *sa, struct ike_builder *b, const uint8_t *idb,
			size_t idlen)
{
	struct eng_auth *a = sa->auth;
	struct pvpn_err err;
	uint8_t auth[AUTH_MAX], method = IKE_AUTH_PSK, hash = 0;
	int alen = 0;

	if (idlen > sizeof(a->idb))
		return -EINVAL;
	memcpy(a->idb, idb, idlen);
	a->idlen = idlen;
	a->phase = PH_FIRST;
	a->server_ok = false;

	struct ike_auth_input ai = {
		.prf = sa->suite.prf,
		.real_msg = sa->init_req, .real_msg_len = sa->init_req_len,
		.peer_nonce = sa->nr, .peer_nonce_len = sa->nr_len,
		.sk_p = &sa->keys.sk_pi,
		.id_body = idb, .id_body_len = idlen,
	};
	struct ike_auth_cred cred = { .psk = &sa->cfg.psk };

	if (sa->cfg.auth == IKE_CRED_CERT) {
		for (size_t i = 0; i < a->certs.n_own; i++)
			ike_build_cert(b, IKE_PT_CERT, IKE_CERT_X509_SIG, a->certs.own_der[i],
				       a->certs.own_der_len[i]);
		if (ike_sig_choose(a->certs.key, sa->peer_hashes, &method, &hash, &err) < 0) {
			eng_close(sa, IKE_ERR_CONFIGURATION_FAILED, "%s", err.msg);
			return -ENOTSUP;
		}
		cred.key = a->certs.key;
		cred.sig_hash = hash;
	}
	/* §3.7: the hashes of the anchors we accept for the server. */
	if (eng_auth_server_cert(sa))
		ike_build_cert(b, IKE_PT_CERTREQ, IKE_CERT_X509_SIG, a->certs.certreq,
			       a->certs.certreq_len);
	if (sa->cfg.auth == IKE_CRED_EAP)
		return 0;   /* §2.16: no AUTH means "EAP, please" */
	if (sa->cfg.auth == IKE_CRED_EAP_TLS) {
		/* RFC 5998 §2: EAP-TLS is mutual and generates keys (§4), so
		 * the server may leave out its AUTH.  Never with MSCHAPv2. */
		ike_build_notify(b, 0, NULL, 0, IKE_N_EAP_ONLY_AUTHENTICATION, NULL, 0);
		return 0;
	}
	if ((alen = ike_auth_compute(method, &ai, &cred, auth, sizeof(auth), &err)) < 0) {
		eng_close(sa, IKE_ERR_CONFIGURATION_FAILED, "cannot compute AUTH: %s", err.msg);
		return alen;
	}
	ike_build_auth(b, method, auth, (size_t)alen);
	secret_wipe(auth, sizeof(auth));
	return 0;
}

static int64_t wall_now(const struct ike_sa *sa)
{
	return sa->cfg.wall_clock ? sa->cfg.wall_clock() : (int64_t)time(NULL);
}

static int verify_by_cert(struct ike_sa *sa, const struct ike_message *in,
			  const struct ike_payload *pid, const struct ike_payload *pauth,
			  const struct ike_auth_input *ai)
{
	struct eng_auth *a = sa->auth;
	struct ike_cert_blob certs[IKE_CERT_MAX_CHAIN];
	const struct ike_payload *p;
	struct pvpn_err err;
	enum ike_error why;
	EVP_PKEY *pub = NULL;
	size_t n = 0, from = 0;
	char detail[IKE_DETAIL_MAX];
	uint8_t m = pauth->u.auth.method;

	if (m == IKE_AUTH_PSK || m == IKE_AUTH_DSS_SIG || m == IKE_AUTH_NULL) {
		snprintf(detail, sizeof(detail), "the server authenticates with method %u, we "
			 "expect a certificate signature", (unsigned)m);
		fail(sa, IKE_ERR_SERVER_CERT_INVALID, detail);
		return -EACCES;
	}
	while ((p = ike_message_find(in, IKE_PT_CERT, &from)) && n < IKE_CERT_MAX_CHAIN) {
		certs[n].encoding = p->u.cert.encoding;
		certs[n].data = p->u.cert.data;
		certs[n].len = p->u.cert.len;
		n++;
	}
	if (ike_certs_verify_peer(&a->certs, certs, n, pid->u.id.type, pid->u.id.data,
				  pid->u.id.len, &sa->cfg.server_cert_id, (time_t)wall_now(sa),
				  &pub, &why, &err) < 0) {
		fail(sa, why, err.msg);
		return -EACCES;
	}
	struct ike_auth_cred cred = { .key = pub, .allowed_hashes = IKE_HASHES_OURS };
	int rc = ike_auth_verify(m, ai, &cred, pauth->u.auth.data, pauth->u.auth.len, &err);
	EVP_PKEY_free(pub);
	if (rc < 0) {
		fail(sa, IKE_ERR_AUTHENTICATION_FAILED, err.msg);
		return rc;
	}
	log_msg(LOG_INFO, sa->cfg.log_name, "IKE: the server's certificate and signature "
		"verified (auth method %u)", (unsigned)m);
	return 0;
}

int eng_auth_verify_server(struct ike_sa *sa, const struct ike_message *in,
			   const struct ike_payload *pid, const struct ike_payload *pauth)
{
	struct eng_auth *a = sa->auth;
	struct pvpn_err err;

	if (a->phase == PH_FINAL) {
		/* §2.16: the last response's AUTH uses the MSK and the ID the
		 * server sent in its first response. */
		struct ike_auth_input ai = {
			.prf = sa->suite.prf,
			.real_msg = sa->init_resp, .real_msg_len = sa->init_resp_len,
			.peer_nonce = sa->ni, .peer_nonce_len = sizeof(sa->ni),
			.sk_p = &sa->keys.sk_pr,
			.id_body = a->ridb, .id_body_len = a->ridlen,
		};
		struct ike_auth_cred cred = { .psk = &a->eap.msk };
		if (pauth->u.auth.method != IKE_AUTH_PSK ||
		    ike_auth_verify(IKE_AUTH_PSK, &ai, &cred, pauth->u.auth.data, pauth->u.auth.len,
				    &err) < 0) {
			fail(sa, IKE_ERR_AUTHENTICATION_FAILED, "the server's EAP (MSK) AUTH does "
			     "not match");
			return -EACCES;
		}
		return 0;
	}
	if (!pid) {
		eng_close(sa, IKE_ERR_AUTHENTICATION_FAILED, "the server sent no identity (IDr)");
		return -EACCES;
	}
	struct ike_auth_input ai = {
		.prf = sa->suite.prf,
		.real_msg = sa->init_resp, .real_msg_len = sa->init_resp_len,
		.peer_nonce = sa->ni, .peer_nonce_len = sizeof(sa->ni),
		.sk_p = &sa->keys.sk_pr,
		/* The body as received: type, reserved, data. */
		.id_body = pid->body, .id_body_len = pid->body_len,
	};
	if (pid->body_len > sizeof(a->ridb)) {
		fail(sa, IKE_ERR_PROTOCOL_ERROR, "the server's identity is too long");
		return -EBADMSG;
	}
	memcpy(a->ridb, pid->body, pid->body_len);
	a->ridlen = pid->body_len;
	if (eng_auth_server_cert(sa)) {
		if (verify_by_cert(sa, in, pid, pauth, &ai) < 0)
			return -EACCES;
	} else {
		struct ike_auth_cred cred = { .psk = &sa->cfg.psk };
		if (pauth->u.auth.method != IKE_AUTH_PSK) {
			char why[96];
			snprintf(why, sizeof(why), "the server authenticates with method %u, we "
				 "expect a shared key", (unsigned)pauth->u.auth.method);
			fail(sa, IKE_ERR_AUTHENTICATION_FAILED, why);
			return -EACCES;
		}
		if (ike_auth_verify(IKE_AUTH_PSK, &ai, &cred, pauth->u.auth.data,
				    pauth->u.auth.len, &err) < 0) {
			fail(sa, IKE_ERR_AUTHENTICATION_FAILED, "the server's AUTH does not match "
			     "(wrong shared secret?)");
			return -EACCES;
		}
	}
	a->server_ok = true;
	if (a->eap_on)
		a->phase = PH_EAP;
	if (a->eap.method == IKE_EAP_TLS)
		ike_eap_tls_set_peer(&a->eap, pid->u.id.type, pid->u.id.data, pid->u.id.len,
				     &sa->cfg.server_cert_id, (time_t)wall_now(sa));
	return 0;
}

int eng_auth_eap_only(struct ike_sa *sa, const struct ike_message *in, uint64_t now_ms)
{
	struct eng_auth *a = sa->auth;
	const struct ike_payload *pid, *p;
	size_t from = 0;

	/* RFC 5998 §2: only when we offered it (EAP-TLS), in the first
	 * response, with an EAP Request and no error. */
	if (!a || sa->cfg.auth != IKE_CRED_EAP_TLS || a->phase != PH_FIRST ||
	    !ike_message_find(in, IKE_PT_EAP, NULL))
		return 0;
	while ((p = ike_message_find(in, IKE_PT_NOTIFY, &from)))
		if (p->u.notify.type < 16384)
			return 0;
	pid = ike_message_find(in, IKE_PT_IDR, NULL);
	if (!pid) {
		eng_close(sa, IKE_ERR_AUTHENTICATION_FAILED, "the server sent no identity (IDr)");
		return 1;
	}
	const struct ike_id *want = &sa->cfg.remote_id;
	if (want->type && (want->type != pid->u.id.type || want->len != pid->u.id.len ||
			   memcmp(want->data, pid->u.id.data, want->len) != 0)) {
		fail(sa, IKE_ERR_SERVER_IDENTITY_MISMATCH, "the server's identity is not the "
		     "configured remote identity");
		return 1;
	}
	if (pid->body_len > sizeof(a->ridb)) {
		fail(sa, IKE_ERR_PROTOCOL_ERROR, "the server's identity is too long");
		return 1;
	}
	/* The final MSK AUTH binds this identity (§2.16); TLS checks the
	 * server's certificate holds it. */
	memcpy(a->ridb, pid->body, pid->body_len);
	a->ridlen = pid->body_len;
	ike_eap_tls_set_peer(&a->eap, pid->u.id.type, pid->u.id.data, pid->u.id.len,
			     &sa->cfg.server_cert_id, (time_t)wall_now(sa));
	a->eap_only = true;
	a->phase = PH_EAP;
	log_msg(LOG_INFO, sa->cfg.log_name, "IKE: EAP-only authentication (RFC 5998): the "
		"server sent no AUTH; EAP-TLS and the MSK AUTH authenticate it");
	eng_auth_eap(sa, in, now_ms);
	return 1;
}

/* Send the next IKE_AUTH request of the EAP conversation. */
static int send_next(struct ike_sa *sa, uint8_t type, uint8_t method, const uint8_t *data,
		     size_t len, uint64_t now_ms)
{
	struct ike_builder b;
	struct pvpn_err err;
	uint8_t plain[IKE_EAP_TLS_FRAG + 256], first, *msg = NULL;
	size_t plain_len, mlen;
	int rc;

	ike_build_chain_begin(&b, plain, sizeof(plain));
	if (type == IKE_PT_AUTH)
		ike_build_auth(&b, method, data, len);
	else
		ike_build_raw(&b, IKE_PT_EAP, 0, data, len);
	if ((rc = ike_build_finish(&b, &plain_len, &first, &err)) < 0 ||
	    (rc = eng_build_protected(sa, IKE_AUTH, false, sa->next_mid, plain, plain_len, first,
				      &msg, &mlen)) < 0) {
		secret_wipe(plain, sizeof(plain));
		fail(sa, IKE_ERR_CONFIGURATION_FAILED, "cannot build the next IKE_AUTH request");
		return 0;
	}
	secret_wipe(plain, sizeof(plain));
	eng_request_clear(sa);
	rc = eng_request_start(sa, REQ_AUTH, IKE_AUTH, sa->next_mid, msg, mlen, now_ms);
	sa->next_mid++;
	return rc < 0 ? 0 : 1;
}

int eng_auth_eap(struct ike_sa *sa, const struct ike_message *in, uint64_t now_ms)
{
	struct eng_auth *a = sa->auth;
	const struct ike_payload *p = ike_message_find(in, IKE_PT_EAP, NULL);
	struct pvpn_err err;
	uint8_t out[IKE_EAP_TLS_FRAG + 64], auth[64];
	size_t out_len = 0;
	int rc;

	/* The server must have proved itself before the password is used. */
	if ((!a->server_ok && !a->eap_only) || a->phase != PH_EAP) {
		fail(sa, IKE_ERR_PROTOCOL_ERROR, "EAP before the server authenticated");
		return 0;
	}
	if (!p) {
		fail(sa, IKE_ERR_PROTOCOL_ERROR, "IKE_AUTH response without EAP while EAP is "
		     "going on");
		return 0;
	}
	/* A server that never ends the conversation (Notifications forever)
	 * must not keep us here: MSCHAPv2 needs 3 or 4 rounds, EAP-TLS one
	 * per fragment of each flight (a 64 KiB flight is 66). */
	if (++a->eap_rounds > (a->eap.method == IKE_EAP_TLS ? 160u : 16u)) {
		fail(sa, IKE_ERR_PROTOCOL_ERROR, "the server's EAP conversation does not end");
		return 0;
	}
	rc = ike_eap_step(&a->eap, p->body, p->body_len, sa->rnd, out, sizeof(out), &out_len, &err);
	if (rc < 0) {
		char why[IKE_DETAIL_MAX];
		snprintf(why, sizeof(why), "bad EAP message from the server: %.150s", err.msg);
		fail(sa, IKE_ERR_PROTOCOL_ERROR, why);
		return 0;
	}
	if (rc == IKE_EAP_FAILED) {
		fail(sa, a->eap.fail_why ? a->eap.fail_why : IKE_ERR_AUTHENTICATION_FAILED,
		     a->eap.fail_msg);
		return 0;
	}
	if (rc == IKE_EAP_CONTINUE) {
		rc = send_next(sa, IKE_PT_EAP, 0, out, out_len, now_ms);
		secret_wipe(out, sizeof(out));
		return rc;
	}
	/* EAP-Success with a verified authenticator: §2.16 AUTH from the MSK. */
	struct ike_auth_input ai = {
		.prf = sa->suite.prf,
		.real_msg = sa->init_req, .real_msg_len = sa->init_req_len,
		.peer_nonce = sa->nr, .peer_nonce_len = sa->nr_len,
		.sk_p = &sa->keys.sk_pi,
		.id_body = a->idb, .id_body_len = a->idlen,
	};
	int alen = ike_auth_msk(&ai, &a->eap.msk, auth, sizeof(auth), &err);
	if (alen < 0) {
		fail(sa, IKE_ERR_CONFIGURATION_FAILED, err.msg);
		return 0;
	}
	a->phase = PH_FINAL;
	rc = send_next(sa, IKE_PT_AUTH, IKE_AUTH_PSK, auth, (size_t)alen, now_ms);
	secret_wipe(auth, sizeof(auth));
	log_msg(LOG_INFO, sa->cfg.log_name, "IKE: %s succeeded",
		a->eap.method == IKE_EAP_TLS ? "EAP-TLS" : "EAP-MSCHAPv2");
	return rc;
}
