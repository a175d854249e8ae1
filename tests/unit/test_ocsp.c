/* Unit tests for OCSP (RFC 6960): ike-lite/ocsp.c's response checks
 * (good, revoked, unknown, wrong signer, delegated responder with and
 * without id-kp-OCSPSigning, stale, from the future, nonce mismatch,
 * another certificate's CertID, garbage), the chain walk in
 * ike_certs_verify_peer through a fetch callback that answers like a
 * responder (and fails), and ctl/ocsp_http.c's URL and reply parsers and
 * its fetch against a loopback server in a child process.  Every
 * certificate and response is made here at run time with OpenSSL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ctl/ctl.h"
#include "ike-lite/auth.h"
#include "ike-lite/constants.h"
#include "lib/err.h"

#define DAY 86400L
#define LEAF_URL "http://ocsp.leaf.test:2560/"
#define INTER_URL "http://[::1]/inter"

static time_t now;

static EVP_PKEY *ec_key(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(k);
	return k;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *val)
{
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, val);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/* kind: 'c' CA, 'l' leaf (SAN vpn.example.test), 'o' OCSP responder,
 * 'n' responder without the OCSPSigning EKU.  aia: OCSP URL or NULL. */
static X509 *mkcert(EVP_PKEY *key, const char *cn, X509 *ix, EVP_PKEY *ikey, char kind,
		    const char *aia)
{
	static long serial = 100;
	X509 *x = X509_new();
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_time_adj_ex(X509_getm_notBefore(x), -1, 0, &now);
	X509_time_adj_ex(X509_getm_notAfter(x), 30, 0, &now);
	X509_set_pubkey(x, key);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, ix ? X509_get_subject_name(ix) : n);
	if (kind == 'c') {
		add_ext(x, ix ? ix : x, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, ix ? ix : x, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		add_ext(x, ix, NID_basic_constraints, "CA:FALSE");
		add_ext(x, ix, NID_key_usage, "digitalSignature");
		if (kind == 'l')
			add_ext(x, ix, NID_subject_alt_name, "DNS:vpn.example.test");
		if (kind == 'o')
			add_ext(x, ix, NID_ext_key_usage, "OCSPSigning");
	}
	if (aia) {
		char v[128];
		snprintf(v, sizeof(v), "OCSP;URI:%s", aia);
		add_ext(x, ix ? ix : x, NID_info_access, v);
	}
	assert_true(X509_sign(x, ikey ? ikey : key, EVP_sha256()) > 0);
	return x;
}

/* root -> inter -> leaf; inter also issues a delegated responder and a
 * responder certificate without the EKU; another CA stands apart. */
static EVP_PKEY *k_root, *k_inter, *k_leaf, *k_resp, *k_other;
static X509 *root, *inter, *leaf, *resp_ok, *resp_noeku, *other, *leaf2;
static struct ike_certs certs;

static int setup(void **state)
{
	(void)state;
	now = time(NULL);
	k_root = ec_key();
	k_inter = ec_key();
	k_leaf = ec_key();
	k_resp = ec_key();
	k_other = ec_key();
	root = mkcert(k_root, "ocsp test root", NULL, NULL, 'c', NULL);
	inter = mkcert(k_inter, "ocsp test intermediate", root, k_root, 'c', INTER_URL);
	leaf = mkcert(k_leaf, "vpn.example.test", inter, k_inter, 'l', LEAF_URL);
	leaf2 = mkcert(k_leaf, "vpn.example.test", inter, k_inter, 'l', LEAF_URL);
	resp_ok = mkcert(k_resp, "ocsp responder", inter, k_inter, 'o', NULL);
	resp_noeku = mkcert(k_resp, "not a responder", inter, k_inter, 'n', NULL);
	other = mkcert(k_other, "other CA", NULL, NULL, 'c', NULL);

	BIO *b = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_X509(b, root), 1);
	char *p;
	long l = BIO_get_mem_data(b, &p);
	struct ike_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(secret_set(&cfg.ca, p, (size_t)l), 0);
	BIO_free(b);
	struct pvpn_err e;
	assert_int_equal(ike_certs_load(&certs, &cfg, &e), 0);
	secret_free(&cfg.ca);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ike_certs_free(&certs);
	X509 *xs[] = { root, inter, leaf, leaf2, resp_ok, resp_noeku, other };
	for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++)
		X509_free(xs[i]);
	EVP_PKEY *ks[] = { k_root, k_inter, k_leaf, k_resp, k_other };
	for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++)
		EVP_PKEY_free(ks[i]);
	return 0;
}

/* ------------------------------------------------------ making responses */

struct rspec {
	X509 *about, *issuer;           /* the CertID */
	X509 *signer;                   /* certificate named as responder */
	EVP_PKEY *key;                  /* key that signs */
	int status;                     /* V_OCSP_CERTSTATUS_* */
	long this_off, next_off;        /* seconds from now; next_off 0 = no nextUpdate */
	const uint8_t *nonce;           /* echoed nonce, NULL = none */
	size_t nonce_len;
	bool include_signer;
};

static uint8_t *make_resp(const struct rspec *s, size_t *len)
{
	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	OCSP_CERTID *id = OCSP_cert_to_id(NULL, s->about, s->issuer);
	ASN1_TIME *tu = X509_time_adj_ex(NULL, 0, s->this_off, &now);
	ASN1_TIME *nu = s->next_off ? X509_time_adj_ex(NULL, 0, s->next_off, &now) : NULL;
	ASN1_TIME *rt = X509_time_adj_ex(NULL, 0, -DAY, &now);
	assert_non_null(bs);
	assert_non_null(id);
	assert_non_null(OCSP_basic_add1_status(bs, id, s->status,
					       s->status == V_OCSP_CERTSTATUS_REVOKED ?
					       OCSP_REVOKED_STATUS_KEYCOMPROMISE : 0,
					       s->status == V_OCSP_CERTSTATUS_REVOKED ? rt : NULL,
					       tu, nu));
	if (s->nonce)
		assert_int_equal(OCSP_basic_add1_nonce(bs, (unsigned char *)s->nonce,
						       (int)s->nonce_len), 1);
	assert_int_equal(OCSP_basic_sign(bs, s->signer, s->key, EVP_sha256(), NULL,
					 s->include_signer ? 0 : OCSP_NOCERTS), 1);
	OCSP_RESPONSE *r = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
	assert_non_null(r);
	uint8_t *der = NULL;
	int n = i2d_OCSP_RESPONSE(r, &der);
	assert_true(n > 0);
	uint8_t *copy = malloc((size_t)n);
	memcpy(copy, der, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(der);
	OCSP_RESPONSE_free(r);
	OCSP_BASICRESP_free(bs);
	OCSP_CERTID_free(id);
	ASN1_TIME_free(tu);
	ASN1_TIME_free(nu);
	ASN1_TIME_free(rt);
	return copy;
}

static const uint8_t nonce[IKE_OCSP_NONCE_LEN] = "0123456789abcdef0123456789abcde";

/* A good answer about leaf from inter itself, nonce echoed, fresh. */
static struct rspec base(void)
{
	struct rspec s = {
		.about = leaf, .issuer = inter, .signer = inter, .key = k_inter,
		.status = V_OCSP_CERTSTATUS_GOOD, .this_off = -60, .next_off = DAY,
		.nonce = nonce, .nonce_len = sizeof(nonce),
	};
	return s;
}

static int check_spec(const struct rspec *s, struct pvpn_err *e)
{
	size_t len;
	uint8_t *r = make_resp(s, &len);
	err_clear(e);
	int rc = ike_ocsp_check_response(r, len, leaf, inter, nonce, sizeof(nonce), now, e);
	free(r);
	if (rc < 0)
		assert_true(strlen(e->msg) > 0);
	return rc;
}

/* ------------------------------------------------------- response checks */

static void response_good_revoked_unknown(void **state)
{
	(void)state;
	struct pvpn_err e;
	struct rspec s = base();
	assert_int_equal(check_spec(&s, &e), IKE_OCSP_GOOD);
	s.status = V_OCSP_CERTSTATUS_REVOKED;
	assert_int_equal(check_spec(&s, &e), IKE_OCSP_REVOKED);
	assert_non_null(strstr(e.msg, "revoked"));
	assert_non_null(strstr(e.msg, "keyCompromise"));
	s.status = V_OCSP_CERTSTATUS_UNKNOWN;
	assert_int_equal(check_spec(&s, &e), IKE_OCSP_UNKNOWN);
}

static void response_signers(void **state)
{
	(void)state;
	struct pvpn_err e;
	struct rspec s = base();
	/* RFC 6960 §4.2.2.2: a delegated responder with id-kp-OCSPSigning. */
	s.signer = resp_ok;
	s.key = k_resp;
	s.include_signer = true;
	assert_int_equal(check_spec(&s, &e), IKE_OCSP_GOOD);
	/* Its certificate missing from the response: unknown signer. */
	s.include_signer = false;
	assert_true(check_spec(&s, &e) < 0);
	/* Issued by the CA but without the EKU. */
	s.signer = resp_noeku;
	s.include_signer = true;
	assert_true(check_spec(&s, &e) < 0);
	assert_non_null(strstr(e.msg, "OCSPSigning"));
	/* Another CA (not the issuer) signs, with its own certificate. */
	s.signer = other;
	s.key = k_other;
	assert_true(check_spec(&s, &e) < 0);
	/* The root is trusted but is not the leaf's issuer. */
	s.signer = root;
	s.key = k_root;
	assert_true(check_spec(&s, &e) < 0);
	/* An impostor with the issuer's name and another key. */
	X509 *fake = mkcert(k_other, "ocsp test intermediate", NULL, NULL, 'c', NULL);
	s.signer = fake;
	s.key = k_other;
	s.include_signer = true;
	assert_true(check_spec(&s, &e) < 0);
	X509_free(fake);
}

static void response_times(void **state)
{
	(void)state;
	struct pvpn_err e;
	struct rspec s = base();
	/* Stale: nextUpdate passed (beyond the skew). */
	s.this_off = -3 * DAY;
	s.next_off = -DAY;
	assert_true(check_spec(&s, &e) < 0);
	assert_non_null(strstr(e.msg, "stale"));
	/* Within the skew: fine. */
	s.this_off = -DAY;
	s.next_off = -60;
	assert_int_equal(check_spec(&s, &e), IKE_OCSP_GOOD);
	/* From the future. */
	s.this_off = 3600;
	s.next_off = DAY;
	assert_true(check_spec(&s, &e) < 0);
	assert_non_null(strstr(e.msg, "future"));
	/* No nextUpdate: only a recent thisUpdate counts. */
	s.this_off = -60;
	s.next_off = 0;
	assert_int_equal(check_spec(&s, &e), IKE_OCSP_GOOD);
	s.this_off = -2 * DAY;
	assert_true(check_spec(&s, &e) < 0);
}

static void response_nonce_and_certid(void **state)
{
	(void)state;
	struct pvpn_err e;
	struct rspec s = base();
	static const uint8_t wrong[IKE_OCSP_NONCE_LEN] = "ffffffffffffffffffffffffffffffff";
	s.nonce = wrong;
	assert_true(check_spec(&s, &e) < 0);
	assert_non_null(strstr(e.msg, "nonce"));
	/* Not echoed (a pre-produced answer): allowed. */
	s.nonce = NULL;
	assert_int_equal(check_spec(&s, &e), IKE_OCSP_GOOD);
	/* About another certificate of the same issuer. */
	s = base();
	s.about = leaf2;
	assert_true(check_spec(&s, &e) < 0);
	assert_non_null(strstr(e.msg, "CertID"));
}

static void response_garbage(void **state)
{
	(void)state;
	struct pvpn_err e;
	size_t len;
	struct rspec s = base();
	uint8_t *r = make_resp(&s, &len);

	assert_int_equal(ike_ocsp_check_response(r, len, leaf, inter, nonce, sizeof(nonce), now, &e),
			 IKE_OCSP_GOOD);
	/* Every truncation fails. */
	for (size_t cut = 0; cut < len; cut += 7)
		assert_true(ike_ocsp_check_response(r, cut, leaf, inter, nonce, sizeof(nonce), now,
						    &e) < 0);
	/* A flipped bit in the signature (the last bytes) fails. */
	r[len - 3] ^= 0x01;
	assert_true(ike_ocsp_check_response(r, len, leaf, inter, nonce, sizeof(nonce), now, &e) < 0);
	r[len - 3] ^= 0x01;
	/* Trailing bytes after the DER fail. */
	uint8_t *longer = malloc(len + 1);
	memcpy(longer, r, len);
	longer[len] = 0;
	assert_true(ike_ocsp_check_response(longer, len + 1, leaf, inter, nonce, sizeof(nonce), now,
					    &e) < 0);
	free(longer);
	free(r);
	/* Random bytes. */
	uint8_t junk[300];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	assert_true(ike_ocsp_check_response(junk, sizeof(junk), leaf, inter, nonce, sizeof(nonce),
					    now, &e) < 0);
	assert_true(ike_ocsp_check_response(NULL, 0, leaf, inter, nonce, sizeof(nonce), now, &e) < 0);
	/* tryLater: a valid response that says nothing. */
	OCSP_RESPONSE *tl = OCSP_response_create(OCSP_RESPONSE_STATUS_TRYLATER, NULL);
	uint8_t *der = NULL;
	int n = i2d_OCSP_RESPONSE(tl, &der);
	assert_true(n > 0);
	assert_true(ike_ocsp_check_response(der, (size_t)n, leaf, inter, nonce, sizeof(nonce), now,
					    &e) < 0);
	assert_non_null(strstr(e.msg, "trylater"));
	OPENSSL_free(der);
	OCSP_RESPONSE_free(tl);
}

static void request_has_certid_and_nonce(void **state)
{
	(void)state;
	struct pvpn_err e;
	uint8_t *der = NULL;
	size_t len = 0;
	assert_int_equal(ike_ocsp_request(leaf, inter, nonce, sizeof(nonce), &der, &len, &e), 0);
	const uint8_t *p = der;
	OCSP_REQUEST *rq = d2i_OCSP_REQUEST(NULL, &p, (long)len);
	assert_non_null(rq);
	assert_ptr_equal(p, der + len);
	assert_int_equal(OCSP_request_onereq_count(rq), 1);
	OCSP_CERTID *want = OCSP_cert_to_id(NULL, leaf, inter);
	assert_int_equal(OCSP_id_cmp(OCSP_onereq_get0_id(OCSP_request_onereq_get0(rq, 0)), want), 0);
	/* The nonce goes back in a response and checks out. */
	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	assert_int_equal(OCSP_copy_nonce(bs, rq), 1);
	assert_int_equal(OCSP_check_nonce(rq, bs), 1);
	OCSP_BASICRESP_free(bs);
	OCSP_CERTID_free(want);
	OCSP_REQUEST_free(rq);
	OPENSSL_free(der);
}

/* ------------------------------------------ the chain, through a callback */

/* The leaf the fake responder answers about when not leaf. */
static X509 *leaf_override;

/* What the fake responder answers for leaf and inter. */
static struct {
	int leaf_status, inter_status;   /* V_OCSP_CERTSTATUS_*, or -1: fail the fetch */
	bool echo_nonce, bad_nonce;
	const char *fail_url;            /* this URL's fetch fails */
	int calls;
	char urls[4][128];
} fr;

static int fake_fetch(void *ctx, const char *url, const uint8_t *req, size_t req_len,
		      uint8_t **resp, size_t *resp_len, struct pvpn_err *err)
{
	assert_ptr_equal(ctx, &fr);
	if (fr.calls < 4)
		snprintf(fr.urls[fr.calls], sizeof(fr.urls[0]), "%s", url);
	fr.calls++;
	const uint8_t *p = req;
	OCSP_REQUEST *rq = d2i_OCSP_REQUEST(NULL, &p, (long)req_len);
	assert_non_null(rq);
	X509 *the_leaf = leaf_override ? leaf_override : leaf;
	OCSP_CERTID *leaf_id = OCSP_cert_to_id(NULL, the_leaf, inter);
	bool about_leaf = OCSP_id_cmp(OCSP_onereq_get0_id(OCSP_request_onereq_get0(rq, 0)),
				      leaf_id) == 0;
	OCSP_CERTID_free(leaf_id);
	int st = about_leaf ? fr.leaf_status : fr.inter_status;
	if (st < 0 || (fr.fail_url && !strcmp(url, fr.fail_url))) {
		OCSP_REQUEST_free(rq);
		return err_set(err, -ETIMEDOUT, "no answer within 3000 ms");
	}
	/* The request's nonce, to echo. */
	OCSP_BASICRESP *tmp = OCSP_BASICRESP_new();
	assert_int_equal(OCSP_copy_nonce(tmp, rq), 1);
	int idx = OCSP_BASICRESP_get_ext_by_NID(tmp, NID_id_pkix_OCSP_Nonce, -1);
	assert_true(idx >= 0);
	ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(OCSP_BASICRESP_get_ext(tmp, idx));
	/* The extension's value is an OCTET STRING holding the nonce. */
	const uint8_t *q = ASN1_STRING_get0_data(os);
	ASN1_OCTET_STRING *inner = d2i_ASN1_OCTET_STRING(NULL, &q, ASN1_STRING_length(os));
	assert_non_null(inner);
	uint8_t echoed[64];
	size_t elen = (size_t)ASN1_STRING_length(inner);
	assert_true(elen == IKE_OCSP_NONCE_LEN);
	memcpy(echoed, ASN1_STRING_get0_data(inner), elen);
	if (fr.bad_nonce)
		echoed[0] ^= 1;
	ASN1_OCTET_STRING_free(inner);
	OCSP_BASICRESP_free(tmp);
	OCSP_REQUEST_free(rq);

	struct rspec s = {
		.about = about_leaf ? the_leaf : inter, .issuer = about_leaf ? inter : root,
		.signer = about_leaf ? inter : root, .key = about_leaf ? k_inter : k_root,
		.status = st, .this_off = -60, .next_off = DAY,
		.nonce = fr.echo_nonce ? echoed : NULL, .nonce_len = elen,
	};
	size_t len;
	uint8_t *r = make_resp(&s, &len);
	*resp = r;
	*resp_len = len;
	return 0;
}

static int verify_chain(X509 *ee, X509 *mid, enum ike_error *why, struct pvpn_err *e)
{
	uint8_t *d0 = NULL, *d1 = NULL;
	int n0 = i2d_X509(ee, &d0), n1 = i2d_X509(mid, &d1);
	assert_true(n0 > 0 && n1 > 0);
	struct ike_cert_blob b[2] = {
		{ IKE_CERT_X509_SIG, d0, (size_t)n0 },
		{ IKE_CERT_X509_SIG, d1, (size_t)n1 },
	};
	static const uint8_t fqdn[] = "vpn.example.test";
	EVP_PKEY *pub = NULL;
	err_clear(e);
	int rc = ike_certs_verify_peer(&certs, b, 2, IKE_ID_FQDN, fqdn, sizeof(fqdn) - 1, NULL, now,
				       &pub, why, e);
	if (rc == 0)
		assert_int_equal(EVP_PKEY_eq(pub, k_leaf), 1);
	else
		assert_null(pub);
	EVP_PKEY_free(pub);
	OPENSSL_free(d0);
	OPENSSL_free(d1);
	return rc;
}

static void reset_fr(int leaf_st, int inter_st, bool strict)
{
	memset(&fr, 0, sizeof(fr));
	fr.leaf_status = leaf_st;
	fr.inter_status = inter_st;
	fr.echo_nonce = true;
	certs.rev_check = true;
	certs.rev_strict = strict;
	certs.ocsp_fetch = fake_fetch;
	certs.ocsp_ctx = &fr;
}

static void chain_good(void **state)
{
	(void)state;
	enum ike_error why;
	struct pvpn_err e;
	reset_fr(V_OCSP_CERTSTATUS_GOOD, V_OCSP_CERTSTATUS_GOOD, true);
	assert_int_equal(verify_chain(leaf, inter, &why, &e), 0);
	/* Leaf first, then the intermediate, each at its own responder; the
	 * anchor is not asked. */
	assert_int_equal(fr.calls, 2);
	assert_string_equal(fr.urls[0], LEAF_URL);
	assert_string_equal(fr.urls[1], INTER_URL);
	/* A responder that does not echo the nonce is fine. */
	reset_fr(V_OCSP_CERTSTATUS_GOOD, V_OCSP_CERTSTATUS_GOOD, true);
	fr.echo_nonce = false;
	assert_int_equal(verify_chain(leaf, inter, &why, &e), 0);
	/* One that echoes another nonce is not: strict fails, lenient goes on. */
	reset_fr(V_OCSP_CERTSTATUS_GOOD, V_OCSP_CERTSTATUS_GOOD, true);
	fr.bad_nonce = true;
	assert_int_equal(verify_chain(leaf, inter, &why, &e), -EACCES);
	assert_non_null(strstr(e.msg, "nonce"));
	reset_fr(V_OCSP_CERTSTATUS_GOOD, V_OCSP_CERTSTATUS_GOOD, false);
	fr.bad_nonce = true;
	assert_int_equal(verify_chain(leaf, inter, &why, &e), 0);
	assert_int_equal(fr.calls, 2);
}

static void chain_revoked(void **state)
{
	(void)state;
	enum ike_error why;
	struct pvpn_err e;
	/* Revoked fails even without StrictRevocationCheck. */
	reset_fr(V_OCSP_CERTSTATUS_REVOKED, V_OCSP_CERTSTATUS_GOOD, false);
	assert_int_equal(verify_chain(leaf, inter, &why, &e), -EACCES);
	assert_int_equal(why, IKE_ERR_SERVER_CERT_INVALID);
	assert_non_null(strstr(e.msg, "server certificate revoked (OCSP)"));
	assert_int_equal(fr.calls, 1);   /* no need to ask further */
	reset_fr(V_OCSP_CERTSTATUS_GOOD, V_OCSP_CERTSTATUS_REVOKED, false);
	assert_int_equal(verify_chain(leaf, inter, &why, &e), -EACCES);
	assert_int_equal(why, IKE_ERR_SERVER_CERT_INVALID);
	assert_non_null(strstr(e.msg, "server certificate revoked (OCSP)"));
	assert_non_null(strstr(e.msg, "ocsp test intermediate"));
	/* Revocation off: nobody is asked. */
	reset_fr(V_OCSP_CERTSTATUS_REVOKED, V_OCSP_CERTSTATUS_REVOKED, false);
	certs.rev_check = false;
	assert_int_equal(verify_chain(leaf, inter, &why, &e), 0);
	assert_int_equal(fr.calls, 0);
}

static void chain_no_answer(void **state)
{
	(void)state;
	enum ike_error why;
	struct pvpn_err e;
	/* The fetch fails: strict fails closed with the reason ... */
	reset_fr(-1, -1, true);
	assert_int_equal(verify_chain(leaf, inter, &why, &e), -EACCES);
	assert_int_equal(why, IKE_ERR_SERVER_CERT_INVALID);
	assert_non_null(strstr(e.msg, "StrictRevocationCheck"));
	assert_non_null(strstr(e.msg, "no answer"));
	/* ... lenient goes on after asking both. */
	reset_fr(-1, -1, false);
	assert_int_equal(verify_chain(leaf, inter, &why, &e), 0);
	assert_int_equal(fr.calls, 2);
	/* unknown is no answer either. */
	reset_fr(V_OCSP_CERTSTATUS_UNKNOWN, V_OCSP_CERTSTATUS_GOOD, true);
	assert_int_equal(verify_chain(leaf, inter, &why, &e), -EACCES);
	assert_non_null(strstr(e.msg, "does not know"));
	reset_fr(V_OCSP_CERTSTATUS_UNKNOWN, V_OCSP_CERTSTATUS_GOOD, false);
	assert_int_equal(verify_chain(leaf, inter, &why, &e), 0);
	/* No callback at all (OCSP off): strict fails, lenient goes on. */
	reset_fr(V_OCSP_CERTSTATUS_GOOD, V_OCSP_CERTSTATUS_GOOD, true);
	certs.ocsp_fetch = NULL;
	assert_int_equal(verify_chain(leaf, inter, &why, &e), -EACCES);
	certs.rev_strict = false;
	assert_int_equal(verify_chain(leaf, inter, &why, &e), 0);
	assert_int_equal(fr.calls, 0);
	certs.rev_check = false;
}

static void chain_unverified_is_never_fetched(void **state)
{
	(void)state;
	enum ike_error why;
	struct pvpn_err e;
	/* A leaf with an AIA URL from a CA we do not trust. */
	X509 *rogue = mkcert(k_leaf, "vpn.example.test", other, k_other, 'l', LEAF_URL);
	reset_fr(V_OCSP_CERTSTATUS_GOOD, V_OCSP_CERTSTATUS_GOOD, false);
	assert_int_equal(verify_chain(rogue, other, &why, &e), -EACCES);
	assert_int_equal(fr.calls, 0);
	X509_free(rogue);
	/* The chain verifies but the identity does not fit: nothing fetched. */
	X509 *wrong = mkcert(k_leaf, "wrong.example.test", inter, k_inter, 'n', LEAF_URL);
	reset_fr(V_OCSP_CERTSTATUS_GOOD, V_OCSP_CERTSTATUS_GOOD, false);
	assert_int_equal(verify_chain(wrong, inter, &why, &e), -EACCES);
	assert_int_equal(why, IKE_ERR_SERVER_IDENTITY_MISMATCH);
	assert_int_equal(fr.calls, 0);
	X509_free(wrong);
	certs.rev_check = false;
}

static void chain_urls(void **state)
{
	(void)state;
	enum ike_error why;
	struct pvpn_err e;
	/* Two responders: the first does not answer, the second does. */
	X509 *two = mkcert(k_leaf, "vpn.example.test", inter, k_inter, 'l',
			   "http://first.test/,OCSP;URI:http://second.test/");
	reset_fr(V_OCSP_CERTSTATUS_GOOD, V_OCSP_CERTSTATUS_GOOD, true);
	fr.fail_url = "http://first.test/";
	leaf_override = two;
	assert_int_equal(verify_chain(two, inter, &why, &e), 0);
	assert_int_equal(fr.calls, 3);
	assert_string_equal(fr.urls[0], "http://first.test/");
	assert_string_equal(fr.urls[1], "http://second.test/");
	/* Neither answers: two unanswered fetches are the budget of one check,
	 * so the intermediate's responder is not asked (each costs a timeout
	 * in the daemon); lenient goes on, strict fails at the leaf. */
	reset_fr(-1, V_OCSP_CERTSTATUS_GOOD, false);
	assert_int_equal(verify_chain(two, inter, &why, &e), 0);
	assert_int_equal(fr.calls, 2);
	reset_fr(-1, V_OCSP_CERTSTATUS_GOOD, true);
	assert_int_equal(verify_chain(two, inter, &why, &e), -EACCES);
	assert_int_equal(fr.calls, 2);
	X509_free(two);
	/* Only http:// responders are asked: https and ldap are skipped. */
	X509 *tls = mkcert(k_leaf, "vpn.example.test", inter, k_inter, 'l',
			   "https://ocsp.test/,OCSP;URI:ldap://ocsp.test/");
	leaf_override = tls;
	reset_fr(V_OCSP_CERTSTATUS_GOOD, V_OCSP_CERTSTATUS_GOOD, true);
	assert_int_equal(verify_chain(tls, inter, &why, &e), -EACCES);
	assert_non_null(strstr(e.msg, "http://"));
	assert_int_equal(fr.calls, 0);   /* strict stops at the leaf */
	reset_fr(V_OCSP_CERTSTATUS_GOOD, V_OCSP_CERTSTATUS_GOOD, false);
	assert_int_equal(verify_chain(tls, inter, &why, &e), 0);
	assert_int_equal(fr.calls, 1);   /* the intermediate only */
	assert_string_equal(fr.urls[0], INTER_URL);
	X509_free(tls);
	leaf_override = NULL;
	certs.rev_check = false;
}

static void load_copies_ocsp_settings(void **state)
{
	(void)state;
	struct ike_config cfg;
	struct ike_certs c;
	struct pvpn_err e;
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	assert_int_equal(PEM_write_bio_X509(b, root), 1);
	long l = BIO_get_mem_data(b, &p);
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(secret_set(&cfg.ca, p, (size_t)l), 0);
	BIO_free(b);
	cfg.revocation_check = true;
	cfg.revocation_strict = true;
	cfg.ocsp_fetch = fake_fetch;
	cfg.ocsp_ctx = &fr;
	cfg.log_name = "office";
	assert_int_equal(ike_certs_load(&c, &cfg, &e), 0);
	assert_true(c.rev_check && c.rev_strict);
	assert_ptr_equal(c.ocsp_fetch, fake_fetch);
	assert_ptr_equal(c.ocsp_ctx, &fr);
	assert_string_equal(c.log_name, "office");
	ike_certs_free(&c);
	secret_free(&cfg.ca);
}

static void chain_crl_answers_first(void **state)
{
	(void)state;
	enum ike_error why;
	struct pvpn_err e;
	/* inter's CRL (empty) covers the leaf: only the intermediate is asked. */
	X509_CRL *crl = X509_CRL_new();
	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(inter));
	ASN1_TIME *t = X509_time_adj_ex(NULL, 0, -60, &now), *t2 = X509_time_adj_ex(NULL, 1, 0, &now);
	X509_CRL_set1_lastUpdate(crl, t);
	X509_CRL_set1_nextUpdate(crl, t2);
	assert_true(X509_CRL_sign(crl, k_inter, EVP_sha256()) > 0);
	certs.crls = sk_X509_CRL_new_null();
	sk_X509_CRL_push(certs.crls, crl);
	reset_fr(V_OCSP_CERTSTATUS_REVOKED, V_OCSP_CERTSTATUS_GOOD, true);
	assert_int_equal(verify_chain(leaf, inter, &why, &e), 0);
	assert_int_equal(fr.calls, 1);
	assert_string_equal(fr.urls[0], INTER_URL);
	sk_X509_CRL_pop_free(certs.crls, X509_CRL_free);
	certs.crls = NULL;
	certs.rev_check = false;
	ASN1_TIME_free(t);
	ASN1_TIME_free(t2);
}

/* ---------------------------------------------------- ctl/ocsp_http.c */

static void url_parser(void **state)
{
	(void)state;
	struct ctl_ocsp_url u;
	struct pvpn_err e;

	assert_int_equal(ctl_ocsp_parse_url("http://ocsp.example.com", &u, &e), 0);
	assert_string_equal(u.host, "ocsp.example.com");
	assert_int_equal(u.port, 80);
	assert_string_equal(u.path, "/");
	assert_int_equal(ctl_ocsp_parse_url("HTTP://10.0.0.1:8080/ocsp?a=b", &u, &e), 0);
	assert_string_equal(u.host, "10.0.0.1");
	assert_int_equal(u.port, 8080);
	assert_string_equal(u.path, "/ocsp?a=b");
	assert_int_equal(ctl_ocsp_parse_url("http://[fd00::1]:2560/", &u, &e), 0);
	assert_string_equal(u.host, "fd00::1");
	assert_true(u.numeric);
	assert_int_equal(u.port, 2560);

	static const char *const bad[] = {
		"https://ocsp.example.com/", "ftp://x/", "http://", "http:///x", "http://:80/",
		"http://user@host/", "http://user:pw@host/", "http://host:0/", "http://host:65536/",
		"http://host:123456/", "http://host:/", "http://host:8o/", "http://host/pa th",
		"http://host/a\x01", "http://host/a\x7f", "http://[::1/", "http://[zz]/",
		"http://host#frag", "http://host/#frag", "http://host\r\n/", "http://-host/",
		"http://.host/", "http://host?x", "http://h\xc3\xa9st/", "ocsp.example.com",
		"", " http://host/",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		assert_int_equal(ctl_ocsp_parse_url(bad[i], &u, &e), -EINVAL);
		assert_true(strlen(e.msg) > 0);
	}
	assert_int_equal(ctl_ocsp_parse_url(NULL, &u, &e), -EINVAL);
	char longurl[400] = "http://h/";
	memset(longurl + 9, 'a', 300);
	longurl[309] = '\0';
	assert_int_equal(ctl_ocsp_parse_url(longurl, &u, &e), -EINVAL);
	char longhost[400] = "http://";
	memset(longhost + 7, 'a', 260);
	longhost[267] = '\0';
	assert_int_equal(ctl_ocsp_parse_url(longhost, &u, &e), -EINVAL);
}

static int reply(const char *s, const uint8_t **body, size_t *blen)
{
	struct pvpn_err e;
	return ctl_ocsp_parse_reply((const uint8_t *)s, strlen(s), body, blen, &e);
}

static void reply_parser(void **state)
{
	(void)state;
	const uint8_t *body;
	size_t blen;

	assert_int_equal(reply("HTTP/1.0 200 OK\r\nContent-Type: application/ocsp-response\r\n"
			       "Content-Length: 3\r\n\r\nabcdef", &body, &blen), 0);
	assert_int_equal(blen, 3);
	assert_memory_equal(body, "abc", 3);
	/* Without Content-Length: all that came. */
	assert_int_equal(reply("HTTP/1.1 200 OK\r\ncontent-type:application/ocsp-response\r\n\r\n"
			       "xyz", &body, &blen), 0);
	assert_int_equal(blen, 3);
	assert_memory_equal(body, "xyz", 3);
	assert_true(reply("HTTP/1.0 404 Not Found\r\nContent-Type: application/ocsp-response\r\n"
			  "\r\nabc", &body, &blen) < 0);
	assert_true(reply("HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\nabc", &body, &blen) < 0);
	assert_true(reply("HTTP/1.0 200 OK\r\nContent-Type: application/ocsp-responsex\r\n\r\nabc",
			  &body, &blen) < 0);
	assert_true(reply("HTTP/1.0 200 OK\r\n\r\nabc", &body, &blen) < 0);
	assert_true(reply("HTTP/1.0 200 OK\r\nContent-Type: application/ocsp-response\r\n", &body,
			  &blen) < 0);
	assert_true(reply("HTTP/1.0 200 OK\r\nContent-Type: application/ocsp-response\r\n"
			  "Content-Length: 10\r\n\r\nabc", &body, &blen) < 0);
	assert_true(reply("HTTP/1.0 200 OK\r\nContent-Type: application/ocsp-response\r\n"
			  "Content-Length: -1\r\n\r\nabc", &body, &blen) < 0);
	assert_true(reply("HTTP/1.0 200 OK\r\nContent-Type: application/ocsp-response\r\n"
			  "Content-Length: 99999999999999999999\r\n\r\nabc", &body, &blen) < 0);
	assert_true(reply("HTTP/1.0 200 OK\r\nContent-Type: application/ocsp-response\r\n\r\n",
			  &body, &blen) < 0);
	assert_true(reply("SMTP 220 hello\r\n\r\nabc", &body, &blen) < 0);
	assert_true(reply("HTTP/1.0 2x0 OK\r\n\r\nabc", &body, &blen) < 0);
	assert_true(reply("", &body, &blen) < 0);
}

int ctl_translate_auth(const struct prof_profile *p, struct ike_config *cfg, struct pvpn_err *e);

/* EnableRevocationCheck hands the engine the HTTP fetcher; without it the
 * engine gets none. */
static void translate_wires_fetcher(void **state)
{
	(void)state;
	char path[] = "/tmp/pvpn-test-ocsp-ca-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	BIO *b = BIO_new_fd(fd, BIO_CLOSE);
	assert_int_equal(PEM_write_bio_X509(b, root), 1);
	BIO_free(b);
	static struct prof_profile p;
	struct ike_config cfg;
	struct pvpn_err e;
	for (int on = 0; on < 2; on++) {
		memset(&p, 0, sizeof(p));
		snprintf(p.server_ca_file, sizeof(p.server_ca_file), "%s", path);
		p.enable_revocation_check = on;
		memset(&cfg, 0, sizeof(cfg));
		assert_int_equal(ctl_translate_auth(&p, &cfg, &e), 0);
		assert_true(cfg.ca.len > 0);
		assert_int_equal(cfg.revocation_check, on);
		if (on)
			assert_ptr_equal(cfg.ocsp_fetch, ctl_ocsp_fetch);
		else
			assert_null(cfg.ocsp_fetch);
		secret_free(&cfg.ca);
		secret_free(&cfg.crl);
	}
	unlink(path);
}

/* A loopback server in a child: answers one connection with canned, or
 * says nothing when canned is NULL.  Returns the port. */
static uint16_t serve(const char *canned, pid_t *pid)
{
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	assert_true(ls >= 0);
	assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(ls, 1), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &al), 0);
	*pid = fork();
	assert_true(*pid >= 0);
	if (*pid == 0) {
		int c = accept(ls, NULL, NULL);
		char buf[2048];
		size_t got = 0;
		ssize_t r;
		alarm(5);
		/* Read the request: the header and the 5-byte body. */
		while (got < sizeof(buf) - 1 && (r = recv(c, buf + got, sizeof(buf) - 1 - got, 0)) > 0) {
			got += (size_t)r;
			buf[got] = '\0';
			char *end = strstr(buf, "\r\n\r\n");
			if (end && (size_t)(end + 4 - buf) + 5 <= got)
				break;
		}
		buf[got] = '\0';
		bool ok = strncmp(buf, "POST /ocsp HTTP/1.0\r\n", 21) == 0 &&
			  strstr(buf, "\r\nContent-Type: application/ocsp-request\r\n") &&
			  strstr(buf, "\r\nContent-Length: 5\r\n") && strstr(buf, "\r\n\r\nhello");
		if (!canned) {
			sleep(3);
			_exit(0);
		}
		if (ok)
			(void)!write(c, canned, strlen(canned));
		_exit(ok ? 0 : 3);
	}
	close(ls);
	return ntohs(a.sin_port);
}

static void http_fetch(void **state)
{
	(void)state;
	struct ctl_ocsp_http o = { .timeout_ms = 500, .max_resp = 1024 };
	struct pvpn_err e;
	uint8_t *resp = NULL;
	size_t rlen = 0;
	char url[64];
	pid_t pid;
	int st;

	uint16_t port = serve("HTTP/1.0 200 OK\r\nContent-Type: application/ocsp-response\r\n"
			      "Content-Length: 4\r\n\r\nDER!", &pid);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/ocsp", port);
	assert_int_equal(ctl_ocsp_fetch(&o, url, (const uint8_t *)"hello", 5, &resp, &rlen, &e), 0);
	assert_int_equal(rlen, 4);
	assert_memory_equal(resp, "DER!", 4);
	free(resp);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* A silent server: the deadline ends it. */
	port = serve(NULL, &pid);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/ocsp", port);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	resp = NULL;
	assert_true(ctl_ocsp_fetch(&o, url, (const uint8_t *)"hello", 5, &resp, &rlen, &e) < 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_null(resp);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 400 && ms < 2500);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);

	/* Too big an answer: more than max_resp and the 4 KiB header room. */
	static char big[6000];
	int n = snprintf(big, sizeof(big), "HTTP/1.0 200 OK\r\nContent-Type: "
			 "application/ocsp-response\r\n\r\n");
	memset(big + n, 'A', sizeof(big) - 1 - (size_t)n);
	big[sizeof(big) - 1] = '\0';
	o.max_resp = 100;
	port = serve(big, &pid);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/ocsp", port);
	resp = NULL;
	assert_true(ctl_ocsp_fetch(&o, url, (const uint8_t *)"hello", 5, &resp, &rlen, &e) < 0);
	assert_null(resp);
	assert_non_null(strstr(e.msg, "bigger"));
	waitpid(pid, &st, 0);

	/* Refused: a port nobody listens on. */
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
	close(s);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/ocsp", ntohs(a.sin_port));
	assert_true(ctl_ocsp_fetch(&o, url, (const uint8_t *)"hello", 5, &resp, &rlen, &e) < 0);
	assert_non_null(strstr(e.msg, "cannot connect"));
	/* Not http. */
	assert_int_equal(ctl_ocsp_fetch(&o, "https://127.0.0.1/", (const uint8_t *)"hello", 5,
					&resp, &rlen, &e), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(response_good_revoked_unknown),
		cmocka_unit_test(response_signers),
		cmocka_unit_test(response_times),
		cmocka_unit_test(response_nonce_and_certid),
		cmocka_unit_test(response_garbage),
		cmocka_unit_test(request_has_certid_and_nonce),
		cmocka_unit_test(chain_good),
		cmocka_unit_test(chain_revoked),
		cmocka_unit_test(chain_no_answer),
		cmocka_unit_test(chain_unverified_is_never_fetched),
		cmocka_unit_test(chain_crl_answers_first),
		cmocka_unit_test(chain_urls),
		cmocka_unit_test(load_copies_ocsp_settings),
		cmocka_unit_test(url_parser),
		cmocka_unit_test(reply_parser),
		cmocka_unit_test(http_fetch),
		cmocka_unit_test(translate_wires_fetcher),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
