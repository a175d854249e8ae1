/* Unit tests for cert.c: the server's chain against our anchors (good,
 * expired, not yet valid, wrong CA, wrong SAN, missing intermediate, bad
 * signature, key usage, CN checks, revocation), identities, CERTREQ
 * hashes, and loading our own key and certificate.  Every certificate is
 * made by the test with OpenSSL at run time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "ike-lite/auth.h"
#include "ike-lite/constants.h"
#include "lib/err.h"

#define DAY 86400L

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

/* A certificate for key, signed by ikey (issuer cert ix; NULL: self). */
static X509 *mkcert(EVP_PKEY *key, const char *cn, X509 *ix, EVP_PKEY *ikey, bool ca,
		    long from, long to, const char *san, const char *ku)
{
	static long serial = 1;
	X509 *x = X509_new();
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_time_adj_ex(X509_getm_notBefore(x), 0, from, &now);
	X509_time_adj_ex(X509_getm_notAfter(x), 0, to, &now);
	X509_set_pubkey(x, key);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, ix ? X509_get_subject_name(ix) : n);
	if (ca) {
		add_ext(x, ix ? ix : x, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, ix ? ix : x, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		add_ext(x, ix, NID_basic_constraints, "CA:FALSE");
		add_ext(x, ix, NID_key_usage, ku ? ku : "digitalSignature");
		if (san)
			add_ext(x, ix, NID_subject_alt_name, san);
	}
	assert_true(X509_sign(x, ikey ? ikey : key, EVP_sha256()) > 0);
	return x;
}

static size_t der(X509 *x, uint8_t **out)
{
	*out = NULL;
	int n = i2d_X509(x, out);
	assert_true(n > 0);
	return (size_t)n;
}

static char *pem_of(X509 *const *xs, size_t n, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	for (size_t i = 0; i < n; i++)
		assert_int_equal(PEM_write_bio_X509(b, xs[i]), 1);
	char *p;
	long l = BIO_get_mem_data(b, &p);
	char *copy = malloc((size_t)l);
	memcpy(copy, p, (size_t)l);
	*len = (size_t)l;
	BIO_free(b);
	return copy;
}

/* The world: root CA -> intermediate -> server; another root. */
static EVP_PKEY *k_root, *k_inter, *k_srv, *k_other;
static X509 *root, *inter, *other;
static struct ike_certs certs;

static int setup(void **state)
{
	(void)state;
	now = time(NULL);
	k_root = ec_key();
	k_inter = ec_key();
	k_srv = ec_key();
	k_other = ec_key();
	root = mkcert(k_root, "pvpn test root", NULL, NULL, true, -DAY, 30 * DAY, NULL, NULL);
	inter = mkcert(k_inter, "pvpn test intermediate", root, k_root, true, -DAY, 30 * DAY, NULL, NULL);
	other = mkcert(k_other, "some other root", NULL, NULL, true, -DAY, 30 * DAY, NULL, NULL);

	struct ike_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	size_t len;
	char *p = pem_of(&root, 1, &len);
	assert_int_equal(secret_set(&cfg.ca, p, len), 0);
	free(p);
	struct pvpn_err e;
	assert_int_equal(ike_certs_load(&certs, &cfg, &e), 0);
	secret_free(&cfg.ca);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ike_certs_free(&certs);
	X509_free(root);
	X509_free(inter);
	X509_free(other);
	EVP_PKEY_free(k_root);
	EVP_PKEY_free(k_inter);
	EVP_PKEY_free(k_srv);
	EVP_PKEY_free(k_other);
	return 0;
}

static const uint8_t fqdn[] = "vpn.example.test";
#define FQDN_LEN (sizeof(fqdn) - 1)

/* Verify [leaf, extra...] with IDr = FQDN vpn.example.test. */
static int check(X509 *leaf, X509 *extra, enum ike_error *why, const struct ike_id *want)
{
	uint8_t *d0, *d1 = NULL;
	struct ike_cert_blob b[2];
	size_t n = 1;
	struct pvpn_err e;
	EVP_PKEY *pub = NULL;

	b[0].encoding = IKE_CERT_X509_SIG;
	b[0].len = der(leaf, &d0);
	b[0].data = d0;
	if (extra) {
		b[1].encoding = IKE_CERT_X509_SIG;
		b[1].len = der(extra, &d1);
		b[1].data = d1;
		n = 2;
	}
	int rc = ike_certs_verify_peer(&certs, b, n, IKE_ID_FQDN, fqdn, FQDN_LEN, want, now, &pub,
				       why, &e);
	if (rc == 0) {
		assert_non_null(pub);
		assert_int_equal(EVP_PKEY_eq(pub, k_srv), 1);
		assert_int_equal(*why, IKE_ERR_NONE);
	} else {
		assert_null(pub);
		assert_true(strlen(e.msg) > 0);
	}
	EVP_PKEY_free(pub);
	OPENSSL_free(d0);
	OPENSSL_free(d1);
	return rc;
}

static X509 *server(long from, long to, const char *san)
{
	return mkcert(k_srv, "vpn.example.test", inter, k_inter, false, from, to, san, NULL);
}

static void good_chain(void **state)
{
	(void)state;
	enum ike_error why;
	X509 *s = server(-DAY, 10 * DAY, "DNS:vpn.example.test");
	assert_int_equal(check(s, inter, &why, NULL), 0);
	/* The profile's identity, when given, must be in the certificate too. */
	struct ike_id want = { .type = IKE_ID_FQDN, .len = FQDN_LEN };
	memcpy(want.data, fqdn, FQDN_LEN);
	assert_int_equal(check(s, inter, &why, &want), 0);
	X509_free(s);
}

static void expired_and_not_yet_valid(void **state)
{
	(void)state;
	enum ike_error why;
	X509 *s = server(-10 * DAY, -DAY, "DNS:vpn.example.test");
	assert_int_equal(check(s, inter, &why, NULL), -EACCES);
	assert_int_equal(why, IKE_ERR_SERVER_CERT_EXPIRED);
	X509_free(s);
	s = server(DAY, 10 * DAY, "DNS:vpn.example.test");
	assert_int_equal(check(s, inter, &why, NULL), -EACCES);
	assert_int_equal(why, IKE_ERR_SERVER_CERT_NOT_YET_VALID);
	X509_free(s);
}

static void wrong_ca(void **state)
{
	(void)state;
	enum ike_error why;
	/* Signed by a root we do not trust. */
	X509 *s = mkcert(k_srv, "vpn.example.test", other, k_other, false, -DAY, DAY,
			 "DNS:vpn.example.test", NULL);
	assert_int_equal(check(s, other, &why, NULL), -EACCES);
	assert_int_equal(why, IKE_ERR_SERVER_CERT_INVALID);
	/* Self-signed server certificate. */
	X509_free(s);
	s = mkcert(k_srv, "vpn.example.test", NULL, NULL, false, -DAY, DAY, "DNS:vpn.example.test", NULL);
	assert_int_equal(check(s, NULL, &why, NULL), -EACCES);
	assert_int_equal(why, IKE_ERR_SERVER_CERT_INVALID);
	X509_free(s);
}

static void missing_intermediate(void **state)
{
	(void)state;
	enum ike_error why;
	X509 *s = server(-DAY, DAY, "DNS:vpn.example.test");
	assert_int_equal(check(s, NULL, &why, NULL), -EACCES);
	assert_int_equal(why, IKE_ERR_SERVER_CERT_INVALID);
	assert_int_equal(check(s, inter, &why, NULL), 0);
	X509_free(s);
}

static void wrong_san(void **state)
{
	(void)state;
	enum ike_error why;
	X509 *s = server(-DAY, DAY, "DNS:other.example.test");
	assert_int_equal(check(s, inter, &why, NULL), -EACCES);
	assert_int_equal(why, IKE_ERR_SERVER_IDENTITY_MISMATCH);
	X509_free(s);
	/* No partial wildcards; a full-label wildcard is fine. */
	s = server(-DAY, DAY, "DNS:vpn*.example.test");
	assert_int_equal(check(s, inter, &why, NULL), -EACCES);
	X509_free(s);
	s = server(-DAY, DAY, "DNS:*.example.test");
	assert_int_equal(check(s, inter, &why, NULL), 0);
	X509_free(s);
	/* IDr matches, but the profile asked for another server. */
	s = server(-DAY, DAY, "DNS:vpn.example.test");
	struct ike_id want = { .type = IKE_ID_IPV4_ADDR, .len = 4, .data = { 192, 0, 2, 2 } };
	assert_int_equal(check(s, inter, &why, &want), -EACCES);
	assert_int_equal(why, IKE_ERR_SERVER_IDENTITY_MISMATCH);
	X509_free(s);
	s = server(-DAY, DAY, "DNS:vpn.example.test,IP:192.0.2.2");
	assert_int_equal(check(s, inter, &why, &want), 0);
	X509_free(s);
}

static void bad_signature(void **state)
{
	(void)state;
	enum ike_error why;
	X509 *s = server(-DAY, DAY, "DNS:vpn.example.test");
	uint8_t *d;
	size_t n = der(s, &d);
	struct ike_cert_blob b[2] = { { IKE_CERT_X509_SIG, d, n }, { IKE_CERT_X509_SIG, NULL, 0 } };
	uint8_t *di;
	b[1].len = der(inter, &di);
	b[1].data = di;
	struct pvpn_err e;
	EVP_PKEY *pub = NULL;
	/* The last byte is in the signature's BIT STRING. */
	d[n - 1] ^= 1;
	assert_int_equal(ike_certs_verify_peer(&certs, b, 2, IKE_ID_FQDN, fqdn, FQDN_LEN, NULL, now,
					       &pub, &why, &e), -EACCES);
	assert_null(pub);
	assert_int_equal(why, IKE_ERR_SERVER_CERT_INVALID);
	d[n - 1] ^= 1;
	/* Trailing bytes after the DER and truncation. */
	b[0].len = n - 1;
	assert_int_equal(ike_certs_verify_peer(&certs, b, 2, IKE_ID_FQDN, fqdn, FQDN_LEN, NULL, now,
					       &pub, &why, &e), -EACCES);
	/* Not X.509 at all. */
	b[0].len = n;
	b[0].encoding = IKE_CERT_RAW_RSA;
	assert_int_equal(ike_certs_verify_peer(&certs, b, 2, IKE_ID_FQDN, fqdn, FQDN_LEN, NULL, now,
					       &pub, &why, &e), -EACCES);
	b[0].encoding = IKE_CERT_X509_SIG;
	assert_int_equal(ike_certs_verify_peer(&certs, b, 2, IKE_ID_FQDN, fqdn, FQDN_LEN, NULL, now,
					       &pub, &why, &e), 0);
	EVP_PKEY_free(pub);
	/* No certificate at all. */
	pub = NULL;
	assert_int_equal(ike_certs_verify_peer(&certs, b, 0, IKE_ID_FQDN, fqdn, FQDN_LEN, NULL, now,
					       &pub, &why, &e), -EACCES);
	OPENSSL_free(d);
	OPENSSL_free(di);
	X509_free(s);
}

static void key_usage(void **state)
{
	(void)state;
	enum ike_error why;
	X509 *s = mkcert(k_srv, "vpn.example.test", inter, k_inter, false, -DAY, DAY,
			 "DNS:vpn.example.test", "keyEncipherment");
	assert_int_equal(check(s, inter, &why, NULL), -EACCES);
	assert_int_equal(why, IKE_ERR_SERVER_CERT_INVALID);
	X509_free(s);
}

static void common_names(void **state)
{
	(void)state;
	enum ike_error why;
	X509 *s = server(-DAY, DAY, "DNS:vpn.example.test");
	snprintf(certs.cn, sizeof(certs.cn), "vpn.example.test");
	snprintf(certs.issuer_cn, sizeof(certs.issuer_cn), "pvpn test intermediate");
	assert_int_equal(check(s, inter, &why, NULL), 0);
	snprintf(certs.issuer_cn, sizeof(certs.issuer_cn), "pvpn test root");
	assert_int_equal(check(s, inter, &why, NULL), 0);
	snprintf(certs.issuer_cn, sizeof(certs.issuer_cn), "pvpn test");
	assert_int_equal(check(s, inter, &why, NULL), -EACCES);
	assert_int_equal(why, IKE_ERR_SERVER_CERT_INVALID);
	certs.issuer_cn[0] = '\0';
	snprintf(certs.cn, sizeof(certs.cn), "vpn.example.tes");
	assert_int_equal(check(s, inter, &why, NULL), -EACCES);
	assert_int_equal(why, IKE_ERR_SERVER_IDENTITY_MISMATCH);
	certs.cn[0] = '\0';
	X509_free(s);
}

static void identities(void **state)
{
	(void)state;
	X509 *s = server(-DAY, DAY, "DNS:vpn.example.test,IP:2001:db8::1,email:ops@example.test");
	const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	assert_true(ike_cert_has_id(s, IKE_ID_IPV6_ADDR, v6, 16));
	assert_false(ike_cert_has_id(s, IKE_ID_IPV6_ADDR, v6, 15));
	assert_true(ike_cert_has_id(s, IKE_ID_RFC822_ADDR, (const uint8_t *)"ops@example.test", 16));
	assert_false(ike_cert_has_id(s, IKE_ID_RFC822_ADDR, (const uint8_t *)"op@example.test", 15));
	/* An embedded NUL never matches. */
	assert_false(ike_cert_has_id(s, IKE_ID_FQDN, (const uint8_t *)"vpn.example.test\0x", 18));
	assert_false(ike_cert_has_id(s, IKE_ID_KEY_ID, (const uint8_t *)"abc", 3));
	/* DER_ASN1_DN: the subject, exactly. */
	uint8_t *dn = NULL;
	int n = i2d_X509_NAME(X509_get_subject_name(s), &dn);
	assert_true(n > 0);
	assert_true(ike_cert_has_id(s, IKE_ID_DER_ASN1_DN, dn, (size_t)n));
	assert_false(ike_cert_has_id(s, IKE_ID_DER_ASN1_DN, dn, (size_t)n - 1));
	dn[n - 1] ^= 1;
	assert_false(ike_cert_has_id(s, IKE_ID_DER_ASN1_DN, dn, (size_t)n));
	OPENSSL_free(dn);
	X509_free(s);
}

static void certreq_hashes(void **state)
{
	(void)state;
	uint8_t *spki = NULL, h[20];
	int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(root), &spki);
	assert_true(n > 0);
	SHA1(spki, (size_t)n, h);
	OPENSSL_free(spki);
	assert_int_equal(certs.certreq_len, 20);
	assert_memory_equal(certs.certreq, h, 20);
}

static void revocation(void **state)
{
	(void)state;
	enum ike_error why;
	X509 *s = server(-DAY, DAY, "DNS:vpn.example.test");
	/* Strict without any CRL: fail closed. */
	certs.rev_check = true;
	certs.rev_strict = true;
	assert_int_equal(check(s, inter, &why, NULL), -EACCES);
	/* Lenient without CRLs: fine. */
	certs.rev_strict = false;
	assert_int_equal(check(s, inter, &why, NULL), 0);
	/* The intermediate revokes the server's certificate. */
	X509_CRL *crl = X509_CRL_new(), *crl_root = X509_CRL_new();
	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(inter));
	ASN1_TIME *t = ASN1_TIME_adj(NULL, now, -1, 0), *t2 = ASN1_TIME_adj(NULL, now, 5, 0);
	X509_CRL_set1_lastUpdate(crl, t);
	X509_CRL_set1_nextUpdate(crl, t2);
	X509_REVOKED *r = X509_REVOKED_new();
	X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(s));
	X509_REVOKED_set_revocationDate(r, t);
	X509_CRL_add0_revoked(crl, r);
	X509_CRL_sort(crl);
	assert_true(X509_CRL_sign(crl, k_inter, EVP_sha256()) > 0);
	X509_CRL_set_version(crl_root, 1);
	X509_CRL_set_issuer_name(crl_root, X509_get_subject_name(root));
	X509_CRL_set1_lastUpdate(crl_root, t);
	X509_CRL_set1_nextUpdate(crl_root, t2);
	assert_true(X509_CRL_sign(crl_root, k_root, EVP_sha256()) > 0);
	certs.crls = sk_X509_CRL_new_null();
	sk_X509_CRL_push(certs.crls, crl);
	sk_X509_CRL_push(certs.crls, crl_root);
	assert_int_equal(check(s, inter, &why, NULL), -EACCES);
	assert_int_equal(why, IKE_ERR_SERVER_CERT_INVALID);
	/* Another server certificate is not on the list: fine, also strictly. */
	X509 *s2 = server(-DAY, DAY, "DNS:vpn.example.test");
	certs.rev_strict = true;
	assert_int_equal(check(s2, inter, &why, NULL), 0);
	/* Revocation off: the revoked one passes (the profile's choice). */
	certs.rev_check = false;
	assert_int_equal(check(s, inter, &why, NULL), 0);
	certs.rev_strict = false;
	ASN1_TIME_free(t);
	ASN1_TIME_free(t2);
	X509_free(s);
	X509_free(s2);
}

static void own_credentials(void **state)
{
	(void)state;
	X509 *c = mkcert(k_srv, "client", inter, k_inter, false, -DAY, DAY, "email:c@example.test", NULL);
	X509 *chain[2] = { c, inter };
	size_t len;
	char *pem = pem_of(chain, 2, &len);
	struct ike_config cfg;
	struct ike_certs mine;
	struct pvpn_err e;
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(secret_set(&cfg.cert, pem, len), 0);
	free(pem);
	/* The key in PEM (PKCS#8). */
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, k_srv, NULL, NULL, 0, NULL, NULL);
	char *kp;
	long kl = BIO_get_mem_data(b, &kp);
	assert_int_equal(secret_set(&cfg.key, kp, (size_t)kl), 0);
	BIO_free(b);
	assert_int_equal(ike_certs_load(&mine, &cfg, &e), 0);
	assert_int_equal(mine.n_own, 2);
	assert_non_null(mine.key);
	assert_null(mine.store);
	ike_certs_free(&mine);
	/* A key that does not belong to the certificate. */
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, k_other, NULL, NULL, 0, NULL, NULL);
	kl = BIO_get_mem_data(b, &kp);
	assert_int_equal(secret_set(&cfg.key, kp, (size_t)kl), 0);
	BIO_free(b);
	assert_int_equal(ike_certs_load(&mine, &cfg, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "does not belong"));
	/* DER key. */
	uint8_t *dk = NULL;
	int dl = i2d_PrivateKey(k_srv, &dk);
	assert_true(dl > 0);
	assert_int_equal(secret_set(&cfg.key, dk, (size_t)dl), 0);
	OPENSSL_free(dk);
	assert_int_equal(ike_certs_load(&mine, &cfg, &e), 0);
	ike_certs_free(&mine);
	/* PKCS#12 without a password, named as both files. */
	{
		STACK_OF(X509) *cas = sk_X509_new_null();
		sk_X509_push(cas, inter);
		PKCS12 *p12 = PKCS12_create("", "client", k_srv, c, cas, 0, 0, 0, 0, 0);
		assert_non_null(p12);
		uint8_t *pd = NULL;
		int pl = i2d_PKCS12(p12, &pd);
		assert_true(pl > 0);
		assert_int_equal(secret_set(&cfg.cert, pd, (size_t)pl), 0);
		assert_int_equal(secret_set(&cfg.key, pd, (size_t)pl), 0);
		assert_int_equal(ike_certs_load(&mine, &cfg, &e), 0);
		assert_int_equal(mine.n_own, 2);
		assert_int_equal(EVP_PKEY_eq(mine.key, k_srv), 1);
		ike_certs_free(&mine);
		OPENSSL_free(pd);
		PKCS12_free(p12);
		sk_X509_free(cas);
	}
	/* Garbage everywhere. */
	assert_int_equal(secret_set(&cfg.cert, "not a certificate", 17), 0);
	assert_int_equal(ike_certs_load(&mine, &cfg, &e), -EINVAL);
	secret_free(&cfg.cert);
	assert_int_equal(secret_set(&cfg.ca, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 58), 0);
	assert_int_equal(ike_certs_load(&mine, &cfg, &e), -EINVAL);
	secret_free(&cfg.ca);
	secret_free(&cfg.key);
	X509_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_chain),
		cmocka_unit_test(expired_and_not_yet_valid),
		cmocka_unit_test(wrong_ca),
		cmocka_unit_test(missing_intermediate),
		cmocka_unit_test(wrong_san),
		cmocka_unit_test(bad_signature),
		cmocka_unit_test(key_usage),
		cmocka_unit_test(common_names),
		cmocka_unit_test(identities),
		cmocka_unit_test(certreq_hashes),
		cmocka_unit_test(revocation),
		cmocka_unit_test(own_credentials),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
