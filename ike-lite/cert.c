/* cert.c — our key and certificate chain, and the server's chain checked
 * up to the profile's trust anchors (RFC 7296 §3.6, §3.7; RFC 4945 for
 * what the identity must match).  Everything comes from memory: ike-lite
 * reads no files and fetches nothing itself.  Revocation: CRLs given in
 * the config first; for a certificate without one, OCSP (ocsp.c) through
 * the config's fetch callback, and only once the chain has verified (no
 * URI of an unverified certificate is ever followed). */
#include "ike-lite/auth.h"
#include "ike-lite/constants.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

static int add_der(struct ike_certs *c, X509 *x)
{
	uint8_t *der = NULL;
	int n;

	if (c->n_own >= IKE_CERT_MAX_CHAIN)
		return -E2BIG;
	if ((n = i2d_X509(x, &der)) <= 0)
		return -EIO;
	c->own_der[c->n_own] = der;
	c->own_der_len[c->n_own++] = (size_t)n;
	return 0;
}

static int load_own(struct ike_certs *c, const struct ike_config *cfg, struct pvpn_err *e)
{
	BIO *bio = NULL;
	X509 *x = NULL, *first = NULL;
	PKCS12 *p12 = NULL;
	STACK_OF(X509) *ca = NULL;
	int rc = 0;

	if (!(bio = BIO_new_mem_buf(cfg->cert.data, (int)cfg->cert.len)))
		return err_set(e, -ENOMEM, "out of memory");
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		if (!first)
			first = X509_dup(x);
		if ((rc = add_der(c, x)) < 0) {
			X509_free(x);
			rc = err_set(e, rc, "CertificateFile: more than %d certificates",
				     IKE_CERT_MAX_CHAIN);
			goto out;
		}
		X509_free(x);
	}
	ERR_clear_error();
	if (!first) {
		/* PKCS#12 without a password (RFC 7292). */
		const uint8_t *p = cfg->cert.data;
		EVP_PKEY *k = NULL;
		if ((p12 = d2i_PKCS12(NULL, &p, (long)cfg->cert.len)) &&
		    PKCS12_parse(p12, "", &k, &first, &ca) == 1 && first) {
			if (!c->key)
				c->key = k;
			else
				EVP_PKEY_free(k);
			add_der(c, first);
			for (int i = 0; ca && i < sk_X509_num(ca); i++)
				add_der(c, sk_X509_value(ca, i));
		} else {
			ERR_clear_error();
			rc = err_set(e, -EINVAL, "CertificateFile: no PEM certificate (or PKCS#12 "
				     "without password) found");
			goto out;
		}
	}
	if (!c->key && cfg->key.len) {
		BIO *kb = BIO_new_mem_buf(cfg->key.data, (int)cfg->key.len);
		/* An empty password callback result: encrypted keys are refused
		 * instead of prompting on a terminal. */
		c->key = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, (void *)"") : NULL;
		BIO_free(kb);
		if (!c->key) {
			const uint8_t *p = cfg->key.data;
			c->key = d2i_AutoPrivateKey(NULL, &p, (long)cfg->key.len);
		}
		ERR_clear_error();
	}
	if (!c->key) {
		rc = err_set(e, -EINVAL, "PrivateKeyFile: no usable private key (PEM or DER, "
			     "not encrypted)");
		goto out;
	}
	if (X509_check_private_key(first, c->key) != 1) {
		ERR_clear_error();
		rc = err_set(e, -EINVAL, "PrivateKeyFile: the key does not belong to the "
			     "certificate in CertificateFile");
		goto out;
	}
out:
	sk_X509_pop_free(ca, X509_free);
	PKCS12_free(p12);
	X509_free(first);
	BIO_free(bio);
	return rc;
}

static int load_trust(struct ike_certs *c, const struct ike_config *cfg, struct pvpn_err *e)
{
	BIO *bio = BIO_new_mem_buf(cfg->ca.data, (int)cfg->ca.len);
	X509 *x;
	size_t n = 0;
	int rc = 0;

	if (!bio || !(c->store = X509_STORE_new())) {
		BIO_free(bio);
		return err_set(e, -ENOMEM, "out of memory");
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		uint8_t *spki = NULL;
		int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
		/* RFC 7296 §3.7: SHA-1 of each anchor's SubjectPublicKeyInfo. */
		if (len > 0 && n < IKE_CERT_MAX_ANCHORS) {
			SHA1(spki, (size_t)len, c->certreq + 20 * n);
			n++;
		}
		OPENSSL_free(spki);
		X509_STORE_add_cert(c->store, x);
		X509_free(x);
	}
	ERR_clear_error();
	BIO_free(bio);
	c->certreq_len = 20 * n;
	if (!n)
		rc = err_set(e, -EINVAL, "ServerCertificateAuthorityFile: no PEM certificate found");
	if (!rc && cfg->crl.len) {
		X509_CRL *crl;
		if (!(bio = BIO_new_mem_buf(cfg->crl.data, (int)cfg->crl.len)) ||
		    !(c->crls = sk_X509_CRL_new_null())) {
			BIO_free(bio);
			return err_set(e, -ENOMEM, "out of memory");
		}
		while ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)))
			if (!sk_X509_CRL_push(c->crls, crl))
				X509_CRL_free(crl);
		ERR_clear_error();
		BIO_free(bio);
	}
	return rc;
}

int ike_certs_load(struct ike_certs *c, const struct ike_config *cfg, struct pvpn_err *e)
{
	int rc = 0;

	memset(c, 0, sizeof(*c));
	if (cfg->cert.len && (rc = load_own(c, cfg, e)) < 0)
		goto fail;
	if (cfg->ca.len && (rc = load_trust(c, cfg, e)) < 0)
		goto fail;
	snprintf(c->cn, sizeof(c->cn), "%s", cfg->server_cert_cn);
	snprintf(c->issuer_cn, sizeof(c->issuer_cn), "%s", cfg->server_cert_issuer_cn);
	c->rev_check = cfg->revocation_check;
	c->rev_strict = cfg->revocation_strict;
	c->ocsp_fetch = cfg->ocsp_fetch;
	c->ocsp_ctx = cfg->ocsp_ctx;
	c->rnd = cfg->rand;
	snprintf(c->log_name, sizeof(c->log_name), "%s", cfg->log_name ? cfg->log_name : "");
	return 0;
fail:
	ike_certs_free(c);
	return rc;
}

void ike_certs_free(struct ike_certs *c)
{
	EVP_PKEY_free(c->key);
	for (size_t i = 0; i < c->n_own; i++)
		OPENSSL_free(c->own_der[i]);
	X509_STORE_free(c->store);
	sk_X509_CRL_pop_free(c->crls, X509_CRL_free);
	memset(c, 0, sizeof(*c));
}

/* ------------------------------------------------------------ identity */

bool ike_cert_has_id(X509 *x, uint8_t id_type, const uint8_t *id, size_t len)
{
	char buf[256];

	switch (id_type) {
	case IKE_ID_FQDN:
		if (!len || len >= sizeof(buf) || memchr(id, 0, len))
			return false;
		memcpy(buf, id, len);
		buf[len] = '\0';
		/* RFC 4945 §3.1.2: dNSName in subjectAltName; no partial
		 * wildcards, never the CN when a SAN is present. */
		return X509_check_host(x, buf, len, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
	case IKE_ID_RFC822_ADDR:
		if (!len || len >= sizeof(buf) || memchr(id, 0, len))
			return false;
		memcpy(buf, id, len);
		buf[len] = '\0';
		return X509_check_email(x, buf, len, 0) == 1;
	case IKE_ID_IPV4_ADDR:
		return len == 4 && X509_check_ip(x, id, 4, 0) == 1;
	case IKE_ID_IPV6_ADDR:
		return len == 16 && X509_check_ip(x, id, 16, 0) == 1;
	case IKE_ID_DER_ASN1_DN: {
		const uint8_t *p = id;
		X509_NAME *n = d2i_X509_NAME(NULL, &p, (long)len);
		bool ok = n && p == id + len && X509_NAME_cmp(n, X509_get_subject_name(x)) == 0;
		X509_NAME_free(n);
		return ok;
	}
	default:
		/* KEY_ID and the rest say nothing a certificate can confirm. */
		return false;
	}
}

static bool cn_is(X509_NAME *name, const char *want)
{
	char cn[256];
	int n = X509_NAME_get_text_by_NID(name, NID_commonName, cn, sizeof(cn));
	return n > 0 && (size_t)n == strlen(want) && strcmp(cn, want) == 0;
}

/* ------------------------------------------------------------- the chain */

struct rev_state {
	uint32_t no_crl;        /* bit d: no usable CRL for the certificate at depth d */
};

static int crl_cb(int ok, X509_STORE_CTX *ctx)
{
	struct rev_state *rs = X509_STORE_CTX_get_app_data(ctx);
	int err = X509_STORE_CTX_get_error(ctx), depth = X509_STORE_CTX_get_error_depth(ctx);

	/* No CRL (or only an out-of-date one) for a certificate is not yet a
	 * failure: OCSP may answer for it after the chain verified, and
	 * StrictRevocationCheck decides then.  A certificate listed as
	 * revoked always fails. */
	if (!ok && rs && (err == X509_V_ERR_UNABLE_TO_GET_CRL || err == X509_V_ERR_CRL_HAS_EXPIRED ||
			  err == X509_V_ERR_CRL_NOT_YET_VALID)) {
		if (depth >= 0 && depth < 32)
			rs->no_crl |= 1u << depth;
		return 1;
	}
	return ok;
}

int ike_certs_verify_peer(const struct ike_certs *c, const struct ike_cert_blob *certs,
			  size_t n, uint8_t idr_type, const uint8_t *idr, size_t idr_len,
			  const struct ike_id *want_id, time_t now, EVP_PKEY **pub,
			  enum ike_error *why, struct pvpn_err *e)
{
	X509 *ee = NULL;
	STACK_OF(X509) *untrusted = NULL;
	X509_STORE_CTX *ctx = NULL;
	struct rev_state rs = { 0 };
	int rc = -EACCES;

	*pub = NULL;
	*why = IKE_ERR_SERVER_CERT_INVALID;
	if (!c->store)
		return err_set(e, -EINVAL, "no trust anchors for the server's certificate");
	if (!n)
		return err_set(e, -EACCES, "the server sent no certificate");
	if (!(untrusted = sk_X509_new_null()))
		return err_set(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = certs[i].data;
		X509 *x;
		if (certs[i].encoding != IKE_CERT_X509_SIG) {
			if (i == 0) {
				rc = err_set(e, -EACCES, "the server's first CERT payload is not an "
					     "X.509 certificate (encoding %u)", certs[i].encoding);
				goto out;
			}
			continue;  /* CRLs, hash-and-URL: not used */
		}
		if (!(x = d2i_X509(NULL, &p, (long)certs[i].len)) || p != certs[i].data + certs[i].len) {
			X509_free(x);
			ERR_clear_error();
			rc = err_set(e, -EACCES, "the server's certificate %zu is not valid DER", i + 1);
			goto out;
		}
		if (i == 0)
			ee = x;
		else if (!sk_X509_push(untrusted, x)) {
			X509_free(x);
			rc = err_set(e, -ENOMEM, "out of memory");
			goto out;
		}
	}

	if (!(ctx = X509_STORE_CTX_new()) || X509_STORE_CTX_init(ctx, c->store, ee, untrusted) != 1) {
		rc = err_set(e, -ENOMEM, "out of memory");
		goto out;
	}
	X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(param, now);
	/* CRLs only from what we were given (no distribution point is
	 * fetched); certificates they do not cover go to OCSP below. */
	if (c->rev_check) {
		X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
		if (c->crls)
			X509_STORE_CTX_set0_crls(ctx, c->crls);
		X509_STORE_CTX_set_app_data(ctx, &rs);
		X509_STORE_CTX_set_verify_cb(ctx, crl_cb);
	}
	if (X509_verify_cert(ctx) != 1) {
		int err = X509_STORE_CTX_get_error(ctx);
		if (err == X509_V_ERR_CERT_HAS_EXPIRED)
			*why = IKE_ERR_SERVER_CERT_EXPIRED;
		else if (err == X509_V_ERR_CERT_NOT_YET_VALID)
			*why = IKE_ERR_SERVER_CERT_NOT_YET_VALID;
		rc = err_set(e, -EACCES, "the server's certificate chain does not verify: %s "
			     "(at depth %d)", X509_verify_cert_error_string(err),
			     X509_STORE_CTX_get_error_depth(ctx));
		ERR_clear_error();
		goto out;
	}
	/* RFC 4945 §5.1.3.2: a keyUsage extension must allow signatures. */
	uint32_t ku = X509_get_key_usage(ee);
	if (ku != UINT32_MAX && !(ku & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION))) {
		rc = err_set(e, -EACCES, "the server's certificate may not be used for signatures "
			     "(keyUsage)");
		goto out;
	}
	if (c->issuer_cn[0]) {
		STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
		bool found = false;
		/* The issuer named in the profile must be in the verified chain. */
		for (int i = 1; chain && i < sk_X509_num(chain); i++)
			if (cn_is(X509_get_subject_name(sk_X509_value(chain, i)), c->issuer_cn))
				found = true;
		if (!found) {
			rc = err_set(e, -EACCES, "the server's certificate is not issued by '%.80s' "
				     "(ServerCertificateIssuerCommonName)", c->issuer_cn);
			goto out;
		}
	}
	*why = IKE_ERR_SERVER_IDENTITY_MISMATCH;
	if (c->cn[0] && !cn_is(X509_get_subject_name(ee), c->cn)) {
		rc = err_set(e, -EACCES, "the server's certificate is not for '%.80s' "
			     "(ServerCertificateCommonName)", c->cn);
		goto out;
	}
	if (!ike_cert_has_id(ee, idr_type, idr, idr_len)) {
		rc = err_set(e, -EACCES, "the server's certificate does not hold the identity it "
			     "claims (IDr)");
		goto out;
	}
	if (want_id && want_id->type && !ike_cert_has_id(ee, want_id->type, want_id->data, want_id->len)) {
		rc = err_set(e, -EACCES, "the server's certificate is not for the server we asked "
			     "for (RemoteIdentifier or Server)");
		goto out;
	}
	/* Last, as it may wait on the network: the chain has verified, the
	 * identity fits; now what the CRLs did not answer goes to OCSP. */
	if (c->rev_check && rs.no_crl &&
	    ike_ocsp_check_chain(c, X509_STORE_CTX_get0_chain(ctx), rs.no_crl, now, e) < 0) {
		*why = IKE_ERR_SERVER_CERT_INVALID;
		rc = -EACCES;
		goto out;
	}
	if (!(*pub = X509_get_pubkey(ee))) {
		*why = IKE_ERR_SERVER_CERT_INVALID;
		rc = err_set(e, -EACCES, "the server's certificate key cannot be used");
		goto out;
	}
	*why = IKE_ERR_NONE;
	rc = 0;
out:
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(ee);
	return rc;
}
