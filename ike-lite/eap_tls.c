/* eap_tls.c — the EAP-TLS peer (RFC 5216) inside IKE_AUTH (RFC 7296
 * §2.16), for EAP-only authentication (RFC 5998) with a client
 * certificate.  OpenSSL's libssl runs the TLS 1.2 client over memory BIOs;
 * this file does the EAP-TLS framing (Flags L/M/S, the TLS Message Length,
 * fragmentation both ways, RFC 5216 §2.1.5 and §3.1), hands the server's
 * certificate chain to cert.c (the same chain, date, identity and
 * revocation checks as an IKE certificate; OpenSSL's own verification is
 * replaced, not trusted) and derives the MSK (RFC 5216 §2.3).
 *
 * TLS 1.3 (RFC 9190) is not offered: its EAP-TLS needs the commitment
 * message and another exporter, and strongSwan 5.9 defaults to TLS 1.2. */
#include "ike-lite/auth.h"
#include "ike-lite/constants.h"
#include "lib/reader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

/* RFC 5216 §3.1 Flags */
#define F_L 0x80        /* Length included */
#define F_M 0x40        /* More fragments */
#define F_S 0x20        /* EAP-TLS Start */

struct ike_eap_tls {
	const struct ike_certs *certs;
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *rbio, *wbio;               /* owned by ssl */
	struct ike_eap *eap;            /* for the verify callback */

	/* What the server's certificate must hold. */
	uint8_t idr_type;
	uint8_t idr[IKE_CFG_MAX_ID_LEN];
	size_t idr_len;
	struct ike_id want;
	time_t now;
	bool peer_set;

	/* A TLS message from the server, being reassembled. */
	uint8_t *in;
	size_t in_len, in_want;         /* in_want: from the L flag, 0 = unknown */
	bool in_frag;

	/* Our TLS message, being sent in fragments. */
	uint8_t *out;
	size_t out_len, out_off;

	bool started, hs_done, verified, failed;
};

int ike_eap_init_tls(struct ike_eap *eap, const char *identity, const struct ike_certs *certs,
		     struct pvpn_err *e)
{
	struct ike_eap_tls *t;
	size_t n = strlen(identity);

	memset(eap, 0, sizeof(*eap));
	if (!n || n >= sizeof(eap->user))
		return err_set(e, -EINVAL, "EAP-TLS: the EAP identity is empty or too long");
	if (!certs || !certs->key || !certs->n_own || !certs->store)
		return err_set(e, -EINVAL, "EAP-TLS needs our certificate, its key and the "
			       "server's certificate authority");
	memcpy(eap->user, identity, n);
	eap->user_len = n;
	eap->method = IKE_EAP_TLS;
	if (!(t = calloc(1, sizeof(*t))))
		return err_set(e, -ENOMEM, "out of memory");
	t->certs = certs;
	t->eap = eap;
	eap->tls = t;
	return 0;
}

void ike_eap_tls_set_peer(struct ike_eap *eap, uint8_t idr_type, const uint8_t *idr,
			  size_t idr_len, const struct ike_id *want_id, time_t now)
{
	struct ike_eap_tls *t = eap->tls;

	if (!t)
		return;
	t->idr_type = idr_type;
	t->idr_len = idr_len < sizeof(t->idr) ? idr_len : sizeof(t->idr);
	if (t->idr_len)
		memcpy(t->idr, idr, t->idr_len);
	if (want_id)
		t->want = *want_id;
	t->now = now;
	t->peer_set = true;
}

void ike_eap_tls_free(struct ike_eap *eap)
{
	struct ike_eap_tls *t = eap->tls;

	if (!t)
		return;
	SSL_free(t->ssl);               /* frees both BIOs */
	SSL_CTX_free(t->ctx);
	if (t->in) {
		secret_wipe(t->in, IKE_EAP_TLS_MAX);
		free(t->in);
	}
	if (t->out) {
		secret_wipe(t->out, t->out_len);
		free(t->out);
	}
	secret_wipe(t, sizeof(*t));
	free(t);
	eap->tls = NULL;
	ERR_clear_error();
}

bool ike_eap_tls_done(const struct ike_eap *eap)
{
	const struct ike_eap_tls *t = eap->tls;

	return t && t->hs_done && t->verified && !t->failed && eap->msk.len == 64 &&
	       t->out_off >= t->out_len;
}

static void set_fail(struct ike_eap *eap, enum ike_error why, const char *what, const char *detail)
{
	if (eap->tls->failed)
		return;                 /* the first reason is the one that counts */
	eap->tls->failed = true;
	eap->fail_why = why;
	snprintf(eap->fail_msg, sizeof(eap->fail_msg), "EAP-TLS: %.80s%s%.160s", what,
		 detail && detail[0] ? ": " : "", detail ? detail : "");
}

/* Replaces OpenSSL's chain verification: the server's chain goes through
 * cert.c like an IKE certificate (anchors from the profile, dates,
 * keyUsage, CN, the identity the server claimed in IDr and the one we
 * asked for, CRLs). */
static int verify_server(X509_STORE_CTX *xs, void *arg)
{
	struct ike_eap_tls *t = arg;
	X509 *leaf = X509_STORE_CTX_get0_cert(xs);
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_untrusted(xs);
	struct ike_cert_blob blobs[IKE_CERT_MAX_CHAIN];
	uint8_t *ders[IKE_CERT_MAX_CHAIN] = { 0 };
	struct pvpn_err err = { 0 };
	enum ike_error why = IKE_ERR_SERVER_CERT_INVALID;
	EVP_PKEY *pub = NULL;
	size_t n = 0;
	int ok = 0;

	if (!t->peer_set) {
		set_fail(t->eap, IKE_ERR_PROTOCOL_ERROR, "TLS began before the server's identity "
			 "was known", NULL);
		goto out;
	}
	if (!leaf) {
		set_fail(t->eap, IKE_ERR_SERVER_CERT_INVALID, "the TLS server sent no certificate",
			 NULL);
		goto out;
	}
	/* The end entity first (like CERT payloads, RFC 7296 §3.6), then the
	 * rest of what the server sent, in its order. */
	for (int i = -1; i < (chain ? sk_X509_num(chain) : 0) && n < IKE_CERT_MAX_CHAIN; i++) {
		X509 *x = i < 0 ? leaf : sk_X509_value(chain, i);
		int len;
		if (i >= 0 && X509_cmp(x, leaf) == 0)
			continue;
		if ((len = i2d_X509(x, &ders[n])) <= 0) {
			set_fail(t->eap, IKE_ERR_SERVER_CERT_INVALID, "a TLS server certificate "
				 "cannot be encoded", NULL);
			goto out;
		}
		blobs[n].encoding = IKE_CERT_X509_SIG;
		blobs[n].data = ders[n];
		blobs[n].len = (size_t)len;
		n++;
	}
	if (ike_certs_verify_peer(t->certs, blobs, n, t->idr_type, t->idr, t->idr_len,
				  &t->want, t->now, &pub, &why, &err) < 0) {
		set_fail(t->eap, why, "the TLS server certificate is refused", err.msg);
		goto out;
	}
	EVP_PKEY_free(pub);
	t->verified = true;
	ok = 1;
out:
	for (size_t i = 0; i < n; i++)
		OPENSSL_free(ders[i]);
	if (!ok)
		X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
	return ok;
}

static int tls_start(struct ike_eap_tls *t, struct pvpn_err *e)
{
	const struct ike_certs *c = t->certs;

	if (!(t->ctx = SSL_CTX_new(TLS_client_method())))
		goto fail;
	/* RFC 5216 is TLS 1.2 at most here (see the top of the file); no
	 * tickets: nothing is resumed. */
	if (SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(t->ctx, TLS1_2_VERSION) != 1)
		goto fail;
	/* strongSwan's TLS server (5.9) sends no renegotiation_info (RFC
	 * 5746), which OpenSSL 3 refuses by default.  That extension guards
	 * renegotiation, which we never do (refused outright here), so a
	 * server without it is allowed. */
	SSL_CTX_set_options(t->ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
			    SSL_OP_NO_COMPRESSION | SSL_OP_LEGACY_SERVER_CONNECT);
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_cert_verify_callback(t->ctx, verify_server, t);
	if (!(t->ssl = SSL_new(t->ctx)))
		goto fail;
	/* Our certificate, its intermediates and key. */
	for (size_t i = 0; i < c->n_own; i++) {
		const uint8_t *p = c->own_der[i];
		X509 *x = d2i_X509(NULL, &p, (long)c->own_der_len[i]);
		int ok = x && (i == 0 ? SSL_use_certificate(t->ssl, x) : SSL_add1_chain_cert(t->ssl, x));
		X509_free(x);
		if (!ok)
			goto fail;
	}
	if (SSL_use_PrivateKey(t->ssl, c->key) != 1 || SSL_check_private_key(t->ssl) != 1)
		goto fail;
	if (!(t->rbio = BIO_new(BIO_s_mem())))
		goto fail;
	if (!(t->wbio = BIO_new(BIO_s_mem()))) {
		BIO_free(t->rbio);
		t->rbio = NULL;
		goto fail;
	}
	BIO_set_mem_eof_return(t->rbio, -1);
	SSL_set_bio(t->ssl, t->rbio, t->wbio);
	SSL_set_connect_state(t->ssl);
	if (!(t->in = malloc(IKE_EAP_TLS_MAX)))
		goto fail;
	t->started = true;
	return 0;
fail:
	/* Back to "not started": nothing half-made stays behind. */
	SSL_free(t->ssl);
	SSL_CTX_free(t->ctx);
	t->ssl = NULL;
	t->ctx = NULL;
	t->rbio = t->wbio = NULL;
	ERR_clear_error();
	return err_set(e, -ENOMEM, "EAP-TLS: the TLS client cannot be set up with our "
		       "certificate and key");
}

/* Drive the handshake and take what TLS wants to send into t->out. */
static int tls_run(struct ike_eap *eap, struct pvpn_err *e)
{
	struct ike_eap_tls *t = eap->tls;
	int r = SSL_do_handshake(t->ssl);

	if (r == 1) {
		t->hs_done = true;
	} else {
		int se = SSL_get_error(t->ssl, r);
		if (se != SSL_ERROR_WANT_READ) {
			char buf[120];
			unsigned long ec = ERR_peek_last_error();
			enum ike_error why = IKE_ERR_AUTHENTICATION_FAILED;
			int reason = ec ? ERR_GET_REASON(ec) : 0;
			ERR_error_string_n(ec, buf, sizeof(buf));
			ERR_clear_error();
			/* The server's alert about our certificate (RFC 5246
			 * §7.2.2: bad_certificate .. certificate_unknown,
			 * unknown_ca, access_denied) names the client certificate. */
			if (reason > SSL_AD_REASON_OFFSET) {
				int alert = reason - SSL_AD_REASON_OFFSET;
				if ((alert >= SSL3_AD_BAD_CERTIFICATE && alert <= SSL3_AD_CERTIFICATE_UNKNOWN) ||
				    alert == TLS1_AD_UNKNOWN_CA || alert == TLS1_AD_ACCESS_DENIED)
					why = IKE_ERR_CLIENT_CERT_REJECTED;
			}
			/* The verify callback already named a certificate problem. */
			set_fail(eap, why, why == IKE_ERR_CLIENT_CERT_REJECTED ? "the server refused "
				 "our certificate in the TLS handshake" : "the TLS handshake failed",
				 ec ? buf : "no reason given");
			return IKE_EAP_FAILED;
		}
	}
	size_t pend = BIO_ctrl_pending(t->wbio);
	if (t->out) {
		secret_wipe(t->out, t->out_len);
		free(t->out);
		t->out = NULL;
	}
	t->out_len = t->out_off = 0;
	if (pend) {
		if (pend > IKE_EAP_TLS_MAX || !(t->out = malloc(pend)))
			return err_set(e, -ENOMEM, "EAP-TLS: our TLS message is too big");
		if (BIO_read(t->wbio, t->out, (int)pend) != (int)pend)
			return err_set(e, -EIO, "EAP-TLS: reading our TLS message failed");
		t->out_len = pend;
	}
	if (t->hs_done) {
		uint8_t km[128];
		/* RFC 5216 §2.3: Key_Material = TLS-PRF-128(master_secret,
		 * "client EAP encryption", client.random || server.random);
		 * MSK = Key_Material(0,63).  OpenSSL's exporter without a
		 * context is exactly that PRF over those randoms. */
		static const char label[] = "client EAP encryption";
		if (!t->verified) {
			set_fail(eap, IKE_ERR_SERVER_CERT_INVALID, "the TLS handshake ended without "
				 "the server's certificate verified", NULL);
			return IKE_EAP_FAILED;
		}
		if (SSL_export_keying_material(t->ssl, km, sizeof(km), label, sizeof(label) - 1,
					       NULL, 0, 0) != 1 ||
		    secret_set(&eap->msk, km, 64) < 0) {
			secret_wipe(km, sizeof(km));
			ERR_clear_error();
			return err_set(e, -EIO, "EAP-TLS: deriving the MSK failed");
		}
		secret_wipe(km, sizeof(km));
		eap->authenticated = true;
	}
	return IKE_EAP_CONTINUE;
}

/* An EAP-TLS Response: the next fragment of t->out, or an empty one (an
 * acknowledgement, or the last word after the server's Finished). */
static int put_response(struct ike_eap_tls *t, uint8_t id, uint8_t *out, size_t cap,
			size_t *out_len, struct pvpn_err *e)
{
	size_t left = t->out_len - t->out_off;
	size_t chunk = left > IKE_EAP_TLS_FRAG ? IKE_EAP_TLS_FRAG : left;
	bool first = t->out_off == 0, more = chunk < left;
	/* RFC 5216 §3.1: L on the first fragment of a fragmented message. */
	bool with_l = first && more;
	size_t len = 6 + (with_l ? 4 : 0) + chunk;
	uint8_t *p = out;

	if (len > cap)
		return err_set(e, -ENOBUFS, "EAP-TLS response does not fit");
	*p++ = IKE_EAP_RESPONSE;
	*p++ = id;
	*p++ = (uint8_t)(len >> 8);
	*p++ = (uint8_t)len;
	*p++ = IKE_EAP_TLS;
	*p++ = (uint8_t)((with_l ? F_L : 0) | (more ? F_M : 0));
	if (with_l) {
		*p++ = (uint8_t)(t->out_len >> 24);
		*p++ = (uint8_t)(t->out_len >> 16);
		*p++ = (uint8_t)(t->out_len >> 8);
		*p++ = (uint8_t)t->out_len;
	}
	if (chunk)
		memcpy(p, t->out + t->out_off, chunk);
	t->out_off += chunk;
	*out_len = len;
	return IKE_EAP_CONTINUE;
}

int ike_eap_tls_request(struct ike_eap *eap, uint8_t id, const uint8_t *data, size_t len,
			uint8_t *out, size_t cap, size_t *out_len, struct pvpn_err *e)
{
	struct ike_eap_tls *t = eap->tls;
	struct reader r;
	uint8_t flags = 0;
	uint32_t tls_len = 0;
	const uint8_t *frag = NULL;
	size_t frag_len;
	int rc;

	*out_len = 0;
	if (!t || eap->method != IKE_EAP_TLS)
		return err_set(e, -EPROTO, "EAP-TLS was not configured");
	if (t->failed)
		return err_set(e, -EPROTO, "EAP-TLS already failed");
	rd_init(&r, data, len);
	if (!rd_u8(&r, &flags))
		return err_set(e, -EBADMSG, "EAP-TLS request without Flags");
	if ((flags & F_L) && !rd_u32(&r, &tls_len))
		return err_set(e, -EBADMSG, "EAP-TLS request with the L flag but no TLS "
			       "Message Length");
	frag_len = rd_left(&r);
	if (frag_len && !rd_ptr(&r, frag_len, &frag))
		return err_set(e, -EBADMSG, "EAP-TLS request is truncated");

	/* RFC 5216 §2.1.1: Start has S set and no data, once. */
	if (flags & F_S) {
		if (t->started)
			return err_set(e, -EPROTO, "a second EAP-TLS Start");
		if (flags & (F_L | F_M) || frag_len)
			return err_set(e, -EBADMSG, "EAP-TLS Start with data or other flags");
		if ((rc = tls_start(t, e)) < 0)
			return rc;
		if ((rc = tls_run(eap, e)) != IKE_EAP_CONTINUE)
			return rc;
		if (!t->out_len)
			return err_set(e, -EIO, "EAP-TLS: TLS produced no ClientHello");
		return put_response(t, id, out, cap, out_len, e);
	}
	if (!t->started)
		return err_set(e, -EPROTO, "EAP-TLS data before the Start");

	/* §2.1.5: while our message goes out in fragments, each Request
	 * must be an empty acknowledgement. */
	if (t->out_off < t->out_len) {
		if (flags || frag_len)
			return err_set(e, -EPROTO, "EAP-TLS data while our fragments were "
				       "not yet acknowledged");
		if (t->out_off == 0)
			return err_set(e, -EPROTO, "EAP-TLS acknowledgement of nothing");
		return put_response(t, id, out, cap, out_len, e);
	}
	if (t->hs_done)
		return err_set(e, -EPROTO, "EAP-TLS data after the handshake ended");

	if (flags & F_L) {
		if (!tls_len || tls_len > IKE_EAP_TLS_MAX)
			return err_set(e, -EMSGSIZE, "EAP-TLS Message Length %u is out of range "
				       "(1 to %u)", tls_len, (unsigned)IKE_EAP_TLS_MAX);
		if (t->in_frag && tls_len != t->in_want)
			return err_set(e, -EBADMSG, "EAP-TLS Message Length changed between "
				       "fragments");
		if (!t->in_frag && frag_len > tls_len)
			return err_set(e, -EBADMSG, "EAP-TLS data longer than its Message Length");
	}
	if ((flags & F_M) && !t->in_frag && !(flags & F_L))
		return err_set(e, -EBADMSG, "first EAP-TLS fragment without its Message Length");
	if (!frag_len)
		return err_set(e, -EBADMSG, "empty EAP-TLS request while we expect TLS data");
	size_t limit = t->in_frag ? t->in_want : (flags & F_L) ? tls_len : IKE_EAP_TLS_MAX;
	if (t->in_len + frag_len > limit)
		return err_set(e, -EMSGSIZE, "EAP-TLS fragments exceed the Message Length");
	if (!(flags & F_M) && (t->in_frag || (flags & F_L)) && t->in_len + frag_len != limit)
		return err_set(e, -EBADMSG, "EAP-TLS message of %zu bytes, %zu announced",
			       t->in_len + frag_len, limit);

	/* Accepted: nothing above changed any state. */
	memcpy(t->in + t->in_len, frag, frag_len);
	t->in_len += frag_len;
	if (!t->in_frag && (flags & F_L))
		t->in_want = tls_len;
	if (flags & F_M) {
		t->in_frag = true;
		/* §2.1.5: acknowledge with an empty EAP-TLS Response. */
		return put_response(t, id, out, cap, out_len, e);
	}
	/* A whole TLS message: to TLS. */
	int w = BIO_write(t->rbio, t->in, (int)t->in_len);
	size_t fed = t->in_len;
	t->in_len = t->in_want = 0;
	t->in_frag = false;
	if (w != (int)fed)
		return err_set(e, -ENOMEM, "EAP-TLS: TLS cannot take the message");
	if ((rc = tls_run(eap, e)) != IKE_EAP_CONTINUE)
		return rc;
	return put_response(t, id, out, cap, out_len, e);
}
