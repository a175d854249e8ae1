/* libFuzzer target: the EAP-TLS peer's framing (eap_tls.c, through
 * eap.c) on packets from the server.  The input is a sequence of EAP
 * packets, each preceded by a 2-byte big-endian length, fed in order to
 * one conversation as the engine would after each IKE_AUTH response.  A
 * packet whose first byte is 0xFD is replaced by an EAP-TLS Start (id from
 * byte 1), so the fuzzer reaches the TLS states quickly.  The peer has a
 * real certificate and anchors (made once at start-up).
 * Must never crash, leak or read out of bounds; every answer must be a
 * well-formed EAP-TLS (or Identity/Nak/Notification) response no bigger
 * than one fragment; DONE only with a finished, verified handshake and an
 * MSK (which no input can forge without the server's key). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ike-lite/auth.h"
#include "ike-lite/constants.h"
#include "lib/secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct ike_certs certs;

static void fixed_rand(void *buf, size_t len)
{
	memset(buf, 0x5a, len);
}

static X509 *mkcert(EVP_PKEY *key, const char *cn, X509 *ix, EVP_PKEY *ikey)
{
	X509 *x = X509_new();
	X509V3_CTX ctx;
	if (!x)
		abort();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), ix ? 2 : 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -86400);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, ix ? X509_get_subject_name(ix) : X509_get_subject_name(x));
	X509V3_set_ctx(&ctx, ix ? ix : x, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
						  ix ? "CA:FALSE" : "critical,CA:TRUE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (X509_sign(x, ikey ? ikey : key, EVP_sha256()) <= 0)
		abort();
	return x;
}

static void pem(BIO *b, struct secret *out)
{
	char *p;
	long l = BIO_get_mem_data(b, &p);
	if (l <= 0 || secret_set(out, p, (size_t)l) < 0)
		abort();
	BIO_free(b);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	EVP_PKEY *kr = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *kc = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *root = mkcert(kr, "fuzz root", NULL, NULL);
	X509 *cli = mkcert(kc, "fuzz client", root, kr);
	struct ike_config cfg;
	struct pvpn_err e;
	BIO *b;

	memset(&cfg, 0, sizeof(cfg));
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, cli);
	pem(b, &cfg.cert);
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, kc, NULL, NULL, 0, NULL, NULL);
	pem(b, &cfg.key);
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, root);
	pem(b, &cfg.ca);
	cfg.auth = IKE_CRED_EAP_TLS;
	if (ike_certs_load(&certs, &cfg, &e) < 0)
		abort();
	secret_free(&cfg.cert);
	secret_free(&cfg.key);
	secret_free(&cfg.ca);
	X509_free(root);
	X509_free(cli);
	EVP_PKEY_free(kr);
	EVP_PKEY_free(kc);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t idr[] = "vpn.example.test";
	struct ike_eap eap;
	uint8_t out[IKE_EAP_TLS_FRAG + 64], start[6];
	size_t out_len, pos = 0;
	struct pvpn_err e;

	if (ike_eap_init_tls(&eap, "fuzz@example.test", &certs, &e) < 0)
		abort();
	ike_eap_tls_set_peer(&eap, IKE_ID_FQDN, idr, sizeof(idr) - 1, NULL, time(NULL));
	while (pos + 2 <= size) {
		size_t n = (size_t)data[pos] << 8 | data[pos + 1];
		pos += 2;
		if (n > size - pos)
			n = size - pos;
		const uint8_t *p = data + pos;
		pos += n;
		if (n >= 2 && p[0] == 0xFD) {
			start[0] = IKE_EAP_REQUEST;
			start[1] = p[1];
			start[2] = 0;
			start[3] = 6;
			start[4] = IKE_EAP_TLS;
			start[5] = 0x20;
			p = start;
			n = sizeof(start);
		}
		int rc = ike_eap_step(&eap, p, n, fixed_rand, out, sizeof(out), &out_len, &e);
		if (rc == IKE_EAP_CONTINUE) {
			/* A well-formed response, at most one fragment. */
			if (out_len < 5 || out_len > IKE_EAP_TLS_FRAG + 10 ||
			    ((size_t)out[2] << 8 | out[3]) != out_len || out[0] != IKE_EAP_RESPONSE)
				abort();
			if (out[4] == IKE_EAP_TLS && (out_len < 6 || (out[5] & 0x3f) ||
						      ((out[5] & 0x80) && out_len < 10)))
				abort();
		} else if (rc < 0) {
			if (out_len != 0)
				abort();   /* a refused packet gets no answer */
		}
		if (rc == IKE_EAP_DONE && (!ike_eap_tls_done(&eap) || eap.msk.len != 64))
			abort();
		if (rc == IKE_EAP_DONE || rc == IKE_EAP_FAILED)
			break;
	}
	ike_eap_free(&eap);
	return 0;
}
