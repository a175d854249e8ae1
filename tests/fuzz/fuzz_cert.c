/* libFuzzer target: certificate handling on what the server sends — CERT
 * payload bodies through ike_certs_verify_peer (DER parsing, chain
 * building, identity matching) and the AUTH signature parser
 * (ike_sig_verify: RFC 7427 AlgorithmIdentifier, strict DER).
 *
 * Input: byte 0 = mode.  Mode even: the rest is split at byte 1's offset
 * into up to two CERT bodies (X.509 DER), checked against a CA made once
 * at start; IDr is FQDN "vpn.example.test".  Mode odd: byte 1 is the AUTH
 * method, the rest is AUTH data checked with one of three fixed public
 * keys (RSA, P-256, Ed25519) picked by byte 0's bits 1-2.  The seeds hold
 * real certificates (a leaf and its CA) and well-formed AUTH data.
 * Must never crash, leak or read out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ike-lite/auth.h"
#include "ike-lite/constants.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ike_certs certs;
static EVP_PKEY *keys[3];
static bool ready;

static void init(void)
{
	struct ike_config cfg;
	struct pvpn_err e;
	EVP_PKEY *ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *ca = X509_new();
	X509_NAME *n;
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long l;

	X509_set_version(ca, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(ca), 1);
	X509_gmtime_adj(X509_getm_notBefore(ca), -86400);
	X509_gmtime_adj(X509_getm_notAfter(ca), 86400L * 365);
	X509_set_pubkey(ca, ca_key);
	n = X509_get_subject_name(ca);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"fuzz CA", -1, -1, 0);
	X509_set_issuer_name(ca, n);
	X509_sign(ca, ca_key, EVP_sha256());
	PEM_write_bio_X509(b, ca);
	l = BIO_get_mem_data(b, &p);
	memset(&cfg, 0, sizeof(cfg));
	cfg.ca.data = (uint8_t *)p;
	cfg.ca.len = (size_t)l;
	if (ike_certs_load(&certs, &cfg, &e) < 0)
		abort();
	BIO_free(b);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	keys[0] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	keys[1] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	keys[2] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	ready = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t fqdn[] = "vpn.example.test";
	static const uint8_t msg[] = "signed octets";
	struct pvpn_err e;

	if (!ready)
		init();
	if (size < 2)
		return 0;
	if (data[0] & 1) {
		EVP_PKEY *k = keys[(data[0] >> 1) % 3];
		(void)ike_sig_verify(k, data[1], IKE_HASHES_OURS, msg, sizeof(msg), data + 2,
				     size - 2, &e);
		return 0;
	}
	struct ike_cert_blob b[2];
	size_t rest = size - 2, cut = (size_t)data[1] * 8;
	size_t nb = 1;
	if (cut > rest)
		cut = rest;
	b[0].encoding = IKE_CERT_X509_SIG;
	b[0].data = data + 2;
	b[0].len = cut ? cut : rest;
	if (cut && cut < rest) {
		b[1].encoding = data[0] & 2 ? IKE_CERT_CRL : IKE_CERT_X509_SIG;
		b[1].data = data + 2 + cut;
		b[1].len = rest - cut;
		nb = 2;
	}
	EVP_PKEY *pub = NULL;
	enum ike_error why;
	struct ike_id want = { .type = IKE_ID_FQDN, .len = sizeof(fqdn) - 1 };
	memcpy(want.data, fqdn, sizeof(fqdn) - 1);
	if (ike_certs_verify_peer(&certs, b, nb, IKE_ID_FQDN, fqdn, sizeof(fqdn) - 1, &want,
				  time(NULL), &pub, &why, &e) == 0)
		EVP_PKEY_free(pub);
	return 0;
}
