/* Unit tests for eap_tls.c: a whole EAP-TLS conversation against a real
 * TLS 1.2 server (OpenSSL over memory BIOs, in this process) that frames
 * its flights as an EAP-TLS server would (RFC 5216 §2.1.5, §3.1):
 * reassembly of the server's fragments, fragmentation of ours, the MSK
 * against the server's own export, the server certificate through cert.c
 * (untrusted, wrong identity), hostile framing refused without changing
 * the conversation, EAP-Success out of turn, Nak.  Every certificate is
 * made at run time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ike-lite/auth.h"
#include "ike-lite/constants.h"
#include "ike-lite/ike.h"
#include "lib/err.h"
#include "lib/secret.h"
#include "tests/lib/engine_harness.h"
#include "tests/lib/fake_responder.h"

#define DAY 86400L
#define F_L 0x80
#define F_M 0x40
#define F_S 0x20

static time_t now;

static void rnd(void *buf, size_t len)
{
	memset(buf, 0x5a, len);
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

static X509 *mkcert(EVP_PKEY *key, const char *cn, X509 *ix, EVP_PKEY *ikey, bool ca,
		    const char *san)
{
	static long serial = 100;
	X509 *x = X509_new();
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_time_adj_ex(X509_getm_notBefore(x), 0, -DAY, &now);
	X509_time_adj_ex(X509_getm_notAfter(x), 0, 30 * DAY, &now);
	X509_set_pubkey(x, key);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, ix ? X509_get_subject_name(ix) : n);
	if (ca) {
		add_ext(x, ix ? ix : x, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, ix ? ix : x, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		add_ext(x, ix, NID_basic_constraints, "CA:FALSE");
		add_ext(x, ix, NID_key_usage, "digitalSignature,keyEncipherment");
		add_ext(x, ix, NID_subject_alt_name, san);
	}
	assert_true(X509_sign(x, ikey ? ikey : key, EVP_sha256()) > 0);
	return x;
}

static void pem_certs(X509 *const *xs, size_t n, struct secret *out)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(PEM_write_bio_X509(b, xs[i]), 1);
	long l = BIO_get_mem_data(b, &p);
	assert_int_equal(secret_set(out, p, (size_t)l), 0);
	BIO_free(b);
}

static void pem_key(EVP_PKEY *k, struct secret *out)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	assert_int_equal(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL), 1);
	long l = BIO_get_mem_data(b, &p);
	assert_int_equal(secret_set(out, p, (size_t)l), 0);
	BIO_free(b);
}

/* root -> inter -> server (EC) and client (RSA-2048, so our flight
 * needs more than one fragment); another root nobody trusts. */
static EVP_PKEY *k_root, *k_inter, *k_srv, *k_cli, *k_other;
static X509 *root, *inter, *srv, *cli, *other, *srv_other;
static struct ike_certs ours, ours_other_ca;

static void load_ours(struct ike_certs *c, X509 *anchor)
{
	struct ike_config cfg;
	struct pvpn_err e;
	X509 *chain[2] = { cli, inter };

	memset(&cfg, 0, sizeof(cfg));
	pem_certs(chain, 2, &cfg.cert);
	pem_key(k_cli, &cfg.key);
	pem_certs(&anchor, 1, &cfg.ca);
	cfg.auth = IKE_CRED_EAP_TLS;
	assert_int_equal(ike_certs_load(c, &cfg, &e), 0);
	secret_free(&cfg.cert);
	secret_free(&cfg.key);
	secret_free(&cfg.ca);
}

static int setup(void **state)
{
	(void)state;
	now = time(NULL);
	k_root = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	k_inter = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	k_srv = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	k_other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	k_cli = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	assert_non_null(k_cli);
	root = mkcert(k_root, "eap-tls test root", NULL, NULL, true, NULL);
	inter = mkcert(k_inter, "eap-tls test intermediate", root, k_root, true, NULL);
	other = mkcert(k_other, "untrusted root", NULL, NULL, true, NULL);
	srv = mkcert(k_srv, "vpn.example.test", inter, k_inter, false, "DNS:vpn.example.test");
	srv_other = mkcert(k_srv, "vpn.example.test", other, k_other, false, "DNS:vpn.example.test");
	cli = mkcert(k_cli, "client", inter, k_inter, false, "email:c@example.test");
	load_ours(&ours, root);
	load_ours(&ours_other_ca, other);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ike_certs_free(&ours);
	ike_certs_free(&ours_other_ca);
	X509_free(root); X509_free(inter); X509_free(other);
	X509_free(srv); X509_free(srv_other); X509_free(cli);
	EVP_PKEY_free(k_root); EVP_PKEY_free(k_inter); EVP_PKEY_free(k_srv);
	EVP_PKEY_free(k_cli); EVP_PKEY_free(k_other);
	return 0;
}

/* ------------------------------------------------- the EAP-TLS server */

struct srv {
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *rb, *wb;
	uint8_t id;
	size_t frag;                    /* the server's fragment size */
	bool hostile;                   /* inject bad packets before each good one */
	uint8_t in[IKE_EAP_TLS_MAX];    /* our message, reassembled */
	size_t in_len;
	unsigned our_frags;             /* our responses with M set */
	unsigned refused;               /* hostile packets refused */
	uint8_t resp[2048];
	size_t resp_len;
	/* The server's flight being sent (engine tests). */
	uint8_t out[IKE_EAP_TLS_MAX];
	size_t out_len, out_off;
	bool success_sent;
};

static void srv_init(struct srv *s, X509 *cert, X509 *chain, X509 *client_anchor, size_t frag)
{
	memset(s, 0, sizeof(*s));
	s->ctx = SSL_CTX_new(TLS_server_method());
	assert_non_null(s->ctx);
	assert_int_equal(SSL_CTX_use_certificate(s->ctx, cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(s->ctx, k_srv), 1);
	if (chain)
		assert_int_equal(SSL_CTX_add1_chain_cert(s->ctx, chain), 1);
	X509_STORE_add_cert(SSL_CTX_get_cert_store(s->ctx), client_anchor);
	SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_options(s->ctx, SSL_OP_NO_TICKET);
	s->ssl = SSL_new(s->ctx);
	s->rb = BIO_new(BIO_s_mem());
	s->wb = BIO_new(BIO_s_mem());
	BIO_set_mem_eof_return(s->rb, -1);
	SSL_set_bio(s->ssl, s->rb, s->wb);
	SSL_set_accept_state(s->ssl);
	s->frag = frag;
	s->id = 1;
}

static void srv_free(struct srv *s)
{
	SSL_free(s->ssl);
	SSL_CTX_free(s->ctx);
}

static size_t mkreq(uint8_t *p, uint8_t code, uint8_t id, int type, int flags, long tls_len,
		    const uint8_t *data, size_t n)
{
	size_t len = 4;
	p[0] = code;
	p[1] = id;
	if (type >= 0)
		p[len++] = (uint8_t)type;
	if (flags >= 0)
		p[len++] = (uint8_t)flags;
	if (tls_len >= 0) {
		p[len++] = (uint8_t)(tls_len >> 24);
		p[len++] = (uint8_t)(tls_len >> 16);
		p[len++] = (uint8_t)(tls_len >> 8);
		p[len++] = (uint8_t)tls_len;
	}
	if (n)
		memcpy(p + len, data, n);
	len += n;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	return len;
}

/* A packet that must be refused: negative, nothing to send, and the
 * conversation goes on as if it never came (checked by the caller
 * finishing the handshake). */
static void refused(struct srv *s, struct ike_eap *eap, const uint8_t *p, size_t len)
{
	struct pvpn_err e = { 0 };
	uint8_t out[2048];
	size_t ol = 99;
	int rc = ike_eap_step(eap, p, len, rnd, out, sizeof(out), &ol, &e);
	assert_true(rc < 0);
	assert_int_equal(ol, 0);
	assert_true(e.msg[0] != '\0');
	s->refused++;
}

/* Bad in any state of the TLS conversation. */
static void inject_always(struct srv *s, struct ike_eap *eap, bool mid_frag)
{
	uint8_t p[64], junk[32];
	size_t n;

	memset(junk, 0x16, sizeof(junk));
	n = mkreq(p, IKE_EAP_REQUEST, s->id, IKE_EAP_TLS, -1, -1, NULL, 0);     /* no Flags */
	refused(s, eap, p, n);
	n = mkreq(p, IKE_EAP_REQUEST, s->id, IKE_EAP_TLS, F_L, -1, junk, 2);    /* L, 2 bytes */
	refused(s, eap, p, n);
	n = mkreq(p, IKE_EAP_REQUEST, s->id, IKE_EAP_TLS, F_L, 0, NULL, 0);     /* length 0 */
	refused(s, eap, p, n);
	n = mkreq(p, IKE_EAP_REQUEST, s->id, IKE_EAP_TLS, F_L | F_M, IKE_EAP_TLS_MAX + 1L, junk, 8);
	refused(s, eap, p, n);
	n = mkreq(p, IKE_EAP_REQUEST, s->id, IKE_EAP_TLS, F_L, 0x7fffffffL, junk, 8);
	refused(s, eap, p, n);
	n = mkreq(p, IKE_EAP_REQUEST, s->id, IKE_EAP_TLS, F_S, -1, NULL, 0);    /* 2nd Start */
	refused(s, eap, p, n);
	n = mkreq(p, IKE_EAP_REQUEST, s->id, IKE_EAP_TLS, F_S | F_L, 5, junk, 5);
	refused(s, eap, p, n);
	n = mkreq(p, IKE_EAP_REQUEST, s->id, IKE_EAP_TLS, 0, -1, junk, 8);      /* EAP Length lies */
	p[3] = (uint8_t)(p[3] + 3);
	refused(s, eap, p, n);
	n = mkreq(p, IKE_EAP_RESPONSE, s->id, IKE_EAP_TLS, 0, -1, junk, 8);     /* wrong code */
	refused(s, eap, p, n);
	n = mkreq(p, 9, s->id, -1, -1, -1, NULL, 0);                            /* unknown code */
	refused(s, eap, p, n);
	n = mkreq(p, IKE_EAP_REQUEST, s->id, -1, -1, -1, NULL, 0);              /* no type */
	refused(s, eap, p, n);
	if (!mid_frag) {
		/* A first fragment must carry L; data longer than L. */
		n = mkreq(p, IKE_EAP_REQUEST, s->id, IKE_EAP_TLS, F_M, -1, junk, 8);
		refused(s, eap, p, n);
		n = mkreq(p, IKE_EAP_REQUEST, s->id, IKE_EAP_TLS, F_L, 4, junk, 8);
		refused(s, eap, p, n);
		n = mkreq(p, IKE_EAP_REQUEST, s->id, IKE_EAP_TLS, F_L | F_M, 4, junk, 8);
		refused(s, eap, p, n);
		/* An empty request while TLS data is due. */
		n = mkreq(p, IKE_EAP_REQUEST, s->id, IKE_EAP_TLS, 0, -1, NULL, 0);
		refused(s, eap, p, n);
	} else {
		/* L changing between fragments. */
		n = mkreq(p, IKE_EAP_REQUEST, s->id, IKE_EAP_TLS, F_L | F_M, 12345, junk, 8);
		refused(s, eap, p, n);
	}
}

static int send_req(struct srv *s, struct ike_eap *eap, const uint8_t *p, size_t n)
{
	struct pvpn_err e = { 0 };
	int rc = ike_eap_step(eap, p, n, rnd, s->resp, sizeof(s->resp), &s->resp_len, &e);
	s->id++;
	if (rc == IKE_EAP_CONTINUE) {
		assert_true(s->resp_len >= 6);
		assert_int_equal(s->resp[0], IKE_EAP_RESPONSE);
		assert_int_equal(s->resp[1], p[1]);
		assert_int_equal((size_t)(s->resp[2] << 8 | s->resp[3]), s->resp_len);
		assert_true(s->resp_len <= IKE_EAP_TLS_FRAG + 10);
	}
	return rc;
}

/* Send the server's TLS output in fragments of s->frag.  Every response
 * but the last must be an empty acknowledgement. */
static int send_flight(struct srv *s, struct ike_eap *eap, const uint8_t *d, size_t len)
{
	static uint8_t p[IKE_EAP_TLS_MAX + 16];
	size_t off = 0;
	int rc = IKE_EAP_CONTINUE;

	while (off < len) {
		size_t chunk = len - off > s->frag ? s->frag : len - off;
		bool first = off == 0, more = off + chunk < len;
		size_t n;
		if (s->hostile) {
			inject_always(s, eap, !first);
			if (!first && !more) {
				/* The last fragment one byte short, one too long. */
				n = mkreq(p, IKE_EAP_REQUEST, s->id, IKE_EAP_TLS, 0, -1, d + off, chunk - 1);
				refused(s, eap, p, n);
				uint8_t big[IKE_EAP_TLS_FRAG + 1];
				memcpy(big, d + off, chunk);
				big[chunk] = 0;
				n = mkreq(p, IKE_EAP_REQUEST, s->id, IKE_EAP_TLS, 0, -1, big, chunk + 1);
				refused(s, eap, p, n);
			}
		}
		n = mkreq(p, IKE_EAP_REQUEST, s->id, IKE_EAP_TLS,
			  (first && more ? F_L : 0) | (more ? F_M : 0), first && more ? (long)len : -1,
			  d + off, chunk);
		rc = send_req(s, eap, p, n);
		off += chunk;
		if (rc != IKE_EAP_CONTINUE)
			return rc;
		if (more) {
			assert_int_equal(s->resp_len, 6);
			assert_int_equal(s->resp[4], IKE_EAP_TLS);
			assert_int_equal(s->resp[5], 0);
		}
	}
	return rc;
}

/* Identity, Start, then TLS until both sides are done.  Returns what the
 * peer last said (CONTINUE when the handshake finished). */
static int converse(struct srv *s, struct ike_eap *eap)
{
	uint8_t p[64], out[IKE_EAP_TLS_MAX];
	size_t n;
	int rc;

	n = mkreq(p, IKE_EAP_REQUEST, s->id, IKE_EAP_IDENTITY, -1, -1, NULL, 0);
	assert_int_equal(send_req(s, eap, p, n), IKE_EAP_CONTINUE);
	assert_int_equal(s->resp[4], IKE_EAP_IDENTITY);
	if (s->hostile) {
		/* Data before the Start. */
		n = mkreq(p, IKE_EAP_REQUEST, s->id, IKE_EAP_TLS, 0, -1, (const uint8_t *)"\x16\x03", 2);
		refused(s, eap, p, n);
	}
	n = mkreq(p, IKE_EAP_REQUEST, s->id, IKE_EAP_TLS, F_S, -1, NULL, 0);
	if ((rc = send_req(s, eap, p, n)) != IKE_EAP_CONTINUE)
		return rc;
	for (int round = 0; round < 200; round++) {
		uint8_t flags = s->resp[5];
		size_t off = 6 + ((flags & F_L) ? 4 : 0);
		assert_int_equal(s->resp[4], IKE_EAP_TLS);
		assert_true(s->resp_len >= off);
		memcpy(s->in + s->in_len, s->resp + off, s->resp_len - off);
		s->in_len += s->resp_len - off;
		if (flags & F_M) {
			s->our_frags++;
			if (s->hostile) {
				/* Data while our fragments await acknowledgement. */
				n = mkreq(p, IKE_EAP_REQUEST, s->id, IKE_EAP_TLS, 0, -1,
					  (const uint8_t *)"\x16\x03", 2);
				refused(s, eap, p, n);
			}
			n = mkreq(p, IKE_EAP_REQUEST, s->id, IKE_EAP_TLS, 0, -1, NULL, 0);
			if ((rc = send_req(s, eap, p, n)) != IKE_EAP_CONTINUE)
				return rc;
			continue;
		}
		if (!s->in_len) {
			/* The peer's empty answer to our last flight. */
			assert_true(SSL_is_init_finished(s->ssl));
			return IKE_EAP_CONTINUE;
		}
		assert_int_equal(BIO_write(s->rb, s->in, (int)s->in_len), (int)s->in_len);
		s->in_len = 0;
		SSL_do_handshake(s->ssl);
		size_t pend = BIO_ctrl_pending(s->wb);
		assert_true(pend > 0 && pend <= sizeof(out));
		assert_int_equal(BIO_read(s->wb, out, (int)pend), (int)pend);
		if ((rc = send_flight(s, eap, out, pend)) != IKE_EAP_CONTINUE)
			return rc;
	}
	fail_msg("the conversation did not end");
	return -1;
}

static int success(struct ike_eap *eap)
{
	uint8_t p[4] = { IKE_EAP_SUCCESS, 99, 0, 4 }, out[64];
	size_t ol;
	struct pvpn_err e;
	return ike_eap_step(eap, p, 4, rnd, out, sizeof(out), &ol, &e);
}

static void start_peer(struct ike_eap *eap, const struct ike_certs *c, const char *idr)
{
	struct pvpn_err e;
	assert_int_equal(ike_eap_init_tls(eap, "c@example.test", c, &e), 0);
	ike_eap_tls_set_peer(eap, IKE_ID_FQDN, (const uint8_t *)idr, strlen(idr), NULL, now);
}

static void check_msk(struct srv *s, struct ike_eap *eap)
{
	uint8_t km[128];
	static const char label[] = "client EAP encryption";
	assert_int_equal(SSL_export_keying_material(s->ssl, km, sizeof(km), label,
						    sizeof(label) - 1, NULL, 0, 0), 1);
	assert_int_equal(eap->msk.len, 64);
	assert_memory_equal(eap->msk.data, km, 64);
	/* The server saw our certificate. */
	X509 *peer = SSL_get1_peer_certificate(s->ssl);
	assert_non_null(peer);
	assert_int_equal(X509_cmp(peer, cli), 0);
	X509_free(peer);
}

static void handshake(void **state)
{
	(void)state;
	struct srv s;
	struct ike_eap eap;

	srv_init(&s, srv, inter, root, 1000);
	start_peer(&eap, &ours, "vpn.example.test");
	assert_int_equal(converse(&s, &eap), IKE_EAP_CONTINUE);
	assert_true(ike_eap_tls_done(&eap));
	assert_int_equal(success(&eap), IKE_EAP_DONE);
	check_msk(&s, &eap);
	/* Our RSA certificate and the intermediate did not fit one fragment. */
	assert_true(s.our_frags >= 1);
	assert_int_equal(SSL_version(s.ssl), TLS1_2_VERSION);
	ike_eap_free(&eap);
	srv_free(&s);
}

static void small_fragments_hostile(void **state)
{
	(void)state;
	struct srv s;
	struct ike_eap eap;

	srv_init(&s, srv, inter, root, 97);
	s.hostile = true;
	start_peer(&eap, &ours, "vpn.example.test");
	assert_int_equal(converse(&s, &eap), IKE_EAP_CONTINUE);
	assert_true(s.refused > 100);
	assert_int_equal(success(&eap), IKE_EAP_DONE);
	check_msk(&s, &eap);
	ike_eap_free(&eap);
	srv_free(&s);
}

static void untrusted_server(void **state)
{
	(void)state;
	struct srv s;
	struct ike_eap eap;

	/* The server's chain leads to a root we do not trust. */
	srv_init(&s, srv_other, NULL, root, 300);
	start_peer(&eap, &ours, "vpn.example.test");
	assert_int_equal(converse(&s, &eap), IKE_EAP_FAILED);
	assert_int_equal(eap.fail_why, IKE_ERR_SERVER_CERT_INVALID);
	assert_non_null(strstr(eap.fail_msg, "TLS server certificate"));
	assert_int_equal(eap.msk.len, 0);
	assert_false(ike_eap_tls_done(&eap));
	/* Nothing more is taken. */
	assert_true(success(&eap) < 0);
	ike_eap_free(&eap);
	srv_free(&s);

	/* The same with our anchors swapped: now the good server is the
	 * stranger. */
	srv_init(&s, srv, inter, root, 1000);
	start_peer(&eap, &ours_other_ca, "vpn.example.test");
	assert_int_equal(converse(&s, &eap), IKE_EAP_FAILED);
	assert_int_equal(eap.fail_why, IKE_ERR_SERVER_CERT_INVALID);
	ike_eap_free(&eap);
	srv_free(&s);
}

static void identity_mismatch(void **state)
{
	(void)state;
	struct srv s;
	struct ike_eap eap;

	/* The IKE identity (IDr) is not in the TLS certificate. */
	srv_init(&s, srv, inter, root, 1000);
	start_peer(&eap, &ours, "other.example.test");
	assert_int_equal(converse(&s, &eap), IKE_EAP_FAILED);
	assert_int_equal(eap.fail_why, IKE_ERR_SERVER_IDENTITY_MISMATCH);
	assert_int_equal(eap.msk.len, 0);
	ike_eap_free(&eap);
	srv_free(&s);

	/* No identity known yet: refused, not trusted blindly. */
	struct pvpn_err e;
	srv_init(&s, srv, inter, root, 1000);
	assert_int_equal(ike_eap_init_tls(&eap, "c@example.test", &ours, &e), 0);
	assert_int_equal(converse(&s, &eap), IKE_EAP_FAILED);
	assert_int_equal(eap.fail_why, IKE_ERR_PROTOCOL_ERROR);
	ike_eap_free(&eap);
	srv_free(&s);
}

static void server_refuses_our_cert(void **state)
{
	(void)state;
	struct srv s;
	struct ike_eap eap;

	/* The server trusts only the other root: its alert ends our side. */
	srv_init(&s, srv, inter, other, 1000);
	start_peer(&eap, &ours, "vpn.example.test");
	int rc = converse(&s, &eap);
	assert_int_equal(rc, IKE_EAP_FAILED);
	assert_non_null(strstr(eap.fail_msg, "refused our certificate"));
	assert_int_equal(eap.fail_why, IKE_ERR_CLIENT_CERT_REJECTED);
	assert_int_equal(eap.msk.len, 0);
	ike_eap_free(&eap);
	srv_free(&s);
}

static void early_success(void **state)
{
	(void)state;
	struct ike_eap eap;
	uint8_t p[16], out[2048];
	size_t n, ol;
	struct pvpn_err e;

	/* Before anything. */
	start_peer(&eap, &ours, "vpn.example.test");
	assert_int_equal(success(&eap), IKE_EAP_FAILED);
	assert_int_equal(eap.msk.len, 0);
	ike_eap_free(&eap);

	/* After the Start, mid-handshake. */
	start_peer(&eap, &ours, "vpn.example.test");
	n = mkreq(p, IKE_EAP_REQUEST, 1, IKE_EAP_TLS, F_S, -1, NULL, 0);
	assert_int_equal(ike_eap_step(&eap, p, n, rnd, out, sizeof(out), &ol, &e), IKE_EAP_CONTINUE);
	assert_int_equal(out[5], 0);                    /* a ClientHello fits one fragment */
	assert_int_equal(out[6], 0x16);                 /* TLS handshake record */
	assert_int_equal(success(&eap), IKE_EAP_FAILED);
	assert_non_null(strstr(eap.fail_msg, "before the TLS handshake"));
	assert_int_equal(eap.msk.len, 0);
	ike_eap_free(&eap);

	/* EAP-Failure names our certificate. */
	start_peer(&eap, &ours, "vpn.example.test");
	n = mkreq(p, IKE_EAP_FAILURE, 1, -1, -1, -1, NULL, 0);
	assert_int_equal(ike_eap_step(&eap, p, n, rnd, out, sizeof(out), &ol, &e), IKE_EAP_FAILED);
	assert_int_equal(eap.fail_why, IKE_ERR_CLIENT_CERT_REJECTED);
	ike_eap_free(&eap);
}

static void nak(void **state)
{
	(void)state;
	struct ike_eap eap;
	uint8_t p[16], out[64];
	size_t n, ol;
	struct pvpn_err e;
	struct secret pw = { 0 };

	/* EAP-TLS peer, offered MSCHAPv2 or MD5: Nak asking for TLS. */
	start_peer(&eap, &ours, "vpn.example.test");
	n = mkreq(p, IKE_EAP_REQUEST, 7, IKE_EAP_MSCHAPV2, 1, -1, NULL, 0);
	assert_int_equal(ike_eap_step(&eap, p, n, rnd, out, sizeof(out), &ol, &e), IKE_EAP_CONTINUE);
	assert_int_equal(ol, 6);
	assert_int_equal(out[4], IKE_EAP_NAK);
	assert_int_equal(out[5], IKE_EAP_TLS);
	n = mkreq(p, IKE_EAP_REQUEST, 8, IKE_EAP_MD5, -1, -1, NULL, 0);
	assert_int_equal(ike_eap_step(&eap, p, n, rnd, out, sizeof(out), &ol, &e), IKE_EAP_CONTINUE);
	assert_int_equal(out[5], IKE_EAP_TLS);
	ike_eap_free(&eap);

	/* MSCHAPv2 peer, offered TLS: Nak asking for MSCHAPv2. */
	assert_int_equal(secret_set(&pw, "pw", 2), 0);
	assert_int_equal(ike_eap_init(&eap, "user", &pw), 0);
	n = mkreq(p, IKE_EAP_REQUEST, 9, IKE_EAP_TLS, F_S, -1, NULL, 0);
	assert_int_equal(ike_eap_step(&eap, p, n, rnd, out, sizeof(out), &ol, &e), IKE_EAP_CONTINUE);
	assert_int_equal(out[4], IKE_EAP_NAK);
	assert_int_equal(out[5], IKE_EAP_MSCHAPV2);
	ike_eap_free(&eap);
	secret_free(&pw);

	/* No certificate: EAP-TLS cannot start. */
	struct ike_certs none;
	memset(&none, 0, sizeof(none));
	assert_true(ike_eap_init_tls(&eap, "c@example.test", &none, &e) < 0);
	ike_eap_free(&eap);
}

/* ------------------------------------------- the engine, EAP-only */

/* The IKE side: the fake responder answers IKE_SA_INIT; IKE_AUTH is
 * answered here by an EAP-TLS server that, in EAP-only mode (RFC 5998),
 * sends IDr and EAP but no AUTH or CERT in its first response. */
enum eo_mode {
	EO_EAP_ONLY = 0,        /* IDr + EAP-TLS Start, no AUTH */
	EO_EAP_ONLY_BAD_MSK,    /* as above, the server's final AUTH is wrong */
	EO_NO_AUTH_MSCHAP,      /* IDr + EAP, no AUTH, to an MSCHAPv2 client */
	EO_UNTRUSTED,           /* EAP-only, TLS certificate from an unknown CA */
};

struct eo {
	struct ike_config cfg;
	struct ike_sa *sa;
	struct fake_responder fr;
	struct fr_config frc;
	struct srv tls;
	enum eo_mode mode;
	uint64_t now;
	unsigned n_auth_req;
	bool saw_eap_only_notify, saw_auth_first, msk_auth_ok;
	uint8_t idi[64];
	size_t idi_len;
	bool connected, disconnected, installed;
	enum ike_error error;
	char detail[IKE_DETAIL_MAX];
};

static const char eo_id[] = "vpn.example.test";

static void eo_init(struct eo *t, enum eo_mode mode)
{
	memset(t, 0, sizeof(*t));
	eh_rng = 0x1122334455667788ULL;
	ike_config_init(&t->cfg);
	eh_addr4(&t->cfg.local, "192.0.2.1", 500);
	eh_addr4(&t->cfg.remote, "192.0.2.2", 500);
	t->cfg.local_id.type = IKE_ID_RFC822_ADDR;
	t->cfg.local_id.len = 14;
	memcpy(t->cfg.local_id.data, "c@example.test", 14);
	t->cfg.server_cert_id.type = IKE_ID_FQDN;
	t->cfg.server_cert_id.len = (uint16_t)strlen(eo_id);
	memcpy(t->cfg.server_cert_id.data, eo_id, strlen(eo_id));
	struct ike_cfg_proposal *p = &t->cfg.ike_proposals[0], *c = &t->cfg.child_proposals[0];
	t->cfg.n_ike_proposals = t->cfg.n_child_proposals = 1;
	p->n_encr = 1; p->encr[0].id = 20; p->encr[0].key_bits = 256;
	p->n_prf = 1; p->prf[0] = 5;
	p->n_dh = 1; p->dh[0] = 31;
	c->n_encr = 1; c->encr[0].id = 20; c->encr[0].key_bits = 256;
	t->cfg.rand = eh_rand;
	pem_certs(&root, 1, &t->cfg.ca);
	if (mode == EO_NO_AUTH_MSCHAP) {
		t->cfg.auth = IKE_CRED_EAP;
		snprintf(t->cfg.eap_user, sizeof(t->cfg.eap_user), "User");
		assert_int_equal(secret_set(&t->cfg.eap_password, "clientPass", 10), 0);
	} else {
		X509 *chain[2] = { cli, inter };
		t->cfg.auth = IKE_CRED_EAP_TLS;
		pem_certs(chain, 2, &t->cfg.cert);
		pem_key(k_cli, &t->cfg.key);
	}
	t->frc.self = t->cfg.remote;
	t->frc.peer = t->cfg.local;
	t->frc.psk = "unused";
	t->frc.id = eo_id;
	t->frc.rnd = eh_rand;
	t->mode = mode;
	t->now = 1000000;
	fr_init(&t->fr, &t->frc);
	if (mode == EO_UNTRUSTED)
		srv_init(&t->tls, srv_other, NULL, root, 700);
	else
		srv_init(&t->tls, srv, inter, root, 700);
	struct pvpn_err err;
	t->sa = ike_sa_new(&t->cfg, &err);
	assert_non_null(t->sa);
}

static void eo_free(struct eo *t)
{
	ike_sa_free(t->sa);
	fr_free(&t->fr);
	ike_config_clear(&t->cfg);
	srv_free(&t->tls);
}

/* The next fragment of the server's flight as an EAP-TLS Request. */
static size_t srv_fragment(struct srv *s, uint8_t *req)
{
	size_t left = s->out_len - s->out_off, chunk = left > s->frag ? s->frag : left;
	bool first = s->out_off == 0, more = chunk < left;
	size_t n = mkreq(req, IKE_EAP_REQUEST, s->id++, IKE_EAP_TLS,
			 (first && more ? F_L : 0) | (more ? F_M : 0),
			 first && more ? (long)s->out_len : -1, s->out + s->out_off, chunk);
	s->out_off += chunk;
	return n;
}

/* The EAP server's answer to one EAP-TLS Response of ours. */
static size_t srv_answer(struct srv *s, const uint8_t *resp, size_t n, uint8_t *req)
{
	assert_true(n >= 6);
	assert_int_equal(resp[0], IKE_EAP_RESPONSE);
	assert_int_equal(resp[4], IKE_EAP_TLS);
	uint8_t flags = resp[5];
	size_t off = 6 + ((flags & F_L) ? 4 : 0);
	assert_true(n >= off);
	if (s->out_off < s->out_len) {
		/* Our flight goes on: this must be an acknowledgement. */
		assert_int_equal(n, 6);
		return srv_fragment(s, req);
	}
	memcpy(s->in + s->in_len, resp + off, n - off);
	s->in_len += n - off;
	if (flags & F_M)
		return mkreq(req, IKE_EAP_REQUEST, s->id++, IKE_EAP_TLS, 0, -1, NULL, 0);
	if (!s->in_len) {
		/* The peer's last word after our Finished: Success. */
		assert_true(SSL_is_init_finished(s->ssl));
		s->success_sent = true;
		return mkreq(req, IKE_EAP_SUCCESS, s->id++, -1, -1, -1, NULL, 0);
	}
	assert_int_equal(BIO_write(s->rb, s->in, (int)s->in_len), (int)s->in_len);
	s->in_len = 0;
	SSL_do_handshake(s->ssl);
	s->out_len = BIO_ctrl_pending(s->wb);
	s->out_off = 0;
	assert_true(s->out_len > 0);
	assert_int_equal(BIO_read(s->wb, s->out, (int)s->out_len), (int)s->out_len);
	return srv_fragment(s, req);
}

static void eo_child(struct ike_builder *b)
{
	struct ike_proposal prop;
	struct ike_transform xf[2];
	struct ike_ts ts;
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
	memset(&ts, 0, sizeof(ts));
	ts.type = IKE_TS_IPV4_ADDR_RANGE;
	ts.end_port = 65535;
	memset(ts.end, 0xff, 4);
	ike_build_ts(b, IKE_PT_TSI, &ts, 1);
	ike_build_ts(b, IKE_PT_TSR, &ts, 1);
}

static int eo_handle_auth(struct eo *t, uint8_t *msg, size_t len, uint8_t **out, size_t *out_len)
{
	struct fake_responder *fr = &t->fr;
	struct ike_header h;
	struct ike_builder b;
	static uint8_t plain[8192];
	uint8_t first, req[IKE_EAP_TLS_FRAG + 64];
	size_t plain_len, rn;
	const struct ike_payload *p;
	size_t from = 0;

	assert_int_equal(ike_message_parse(fr->m, msg, len, NULL), 0);
	assert_int_equal(eng_open(&fr->suite, &fr->keys.sk_ei, &fr->keys.sk_ai, msg, len, fr->m,
				  fr->inner, NULL), 0);
	t->n_auth_req++;
	struct ike_message *in = fr->inner;
	ike_build_chain_begin(&b, plain, sizeof(plain));
	if (t->n_auth_req == 1) {
		while ((p = ike_message_find(in, IKE_PT_NOTIFY, &from)))
			if (p->u.notify.type == IKE_N_EAP_ONLY_AUTHENTICATION)
				t->saw_eap_only_notify = true;
		t->saw_auth_first = ike_message_find(in, IKE_PT_AUTH, NULL) != NULL;
		p = ike_message_find(in, IKE_PT_IDI, NULL);
		assert_non_null(p);
		assert_true(p->body_len <= sizeof(t->idi));
		memcpy(t->idi, p->body, p->body_len);
		t->idi_len = p->body_len;
		/* RFC 5998 §2: IDr and EAP, no AUTH, no CERT. */
		ike_build_id(&b, IKE_PT_IDR, IKE_ID_FQDN, (const uint8_t *)eo_id, strlen(eo_id));
		if (t->mode == EO_NO_AUTH_MSCHAP) {
			static const uint8_t ch[29] = { IKE_EAP_REQUEST, 1, 0, 29, IKE_EAP_MSCHAPV2, 1,
							5, 0, 24, 16 };
			ike_build_raw(&b, IKE_PT_EAP, 0, ch, sizeof(ch));
		} else {
			rn = mkreq(req, IKE_EAP_REQUEST, t->tls.id++, IKE_EAP_TLS, F_S, -1, NULL, 0);
			ike_build_raw(&b, IKE_PT_EAP, 0, req, rn);
		}
	} else if (!t->tls.success_sent) {
		p = ike_message_find(in, IKE_PT_EAP, NULL);
		assert_non_null(p);
		rn = srv_answer(&t->tls, p->body, p->body_len, req);
		ike_build_raw(&b, IKE_PT_EAP, 0, req, rn);
	} else {
		/* Our MSK AUTH; the server's in return, then the Child SA. */
		uint8_t km[128], auth[64];
		static const char label[] = "client EAP encryption";
		assert_int_equal(SSL_export_keying_material(t->tls.ssl, km, sizeof(km), label,
							    sizeof(label) - 1, NULL, 0, 0), 1);
		struct secret sm = { km, 64 };
		p = ike_message_find(in, IKE_PT_AUTH, NULL);
		assert_non_null(p);
		struct ike_auth_input ai = { .prf = fr->suite.prf, .real_msg = fr->init_req,
			.real_msg_len = fr->init_req_len, .peer_nonce = fr->nr,
			.peer_nonce_len = sizeof(fr->nr), .sk_p = &fr->keys.sk_pi,
			.id_body = t->idi, .id_body_len = t->idi_len };
		struct ike_auth_cred cred = { .psk = &sm };
		t->msk_auth_ok = p->u.auth.method == IKE_AUTH_PSK &&
				 ike_auth_verify(IKE_AUTH_PSK, &ai, &cred, p->u.auth.data,
						 p->u.auth.len, NULL) == 0;
		uint8_t idr[4 + sizeof(eo_id)] = { IKE_ID_FQDN, 0, 0, 0 };
		memcpy(idr + 4, eo_id, strlen(eo_id));
		struct ike_auth_input ar = { .prf = fr->suite.prf, .real_msg = fr->init_resp,
			.real_msg_len = fr->init_resp_len, .peer_nonce = fr->ni,
			.peer_nonce_len = fr->ni_len, .sk_p = &fr->keys.sk_pr,
			.id_body = idr, .id_body_len = 4 + strlen(eo_id) };
		int n = ike_auth_psk(&ar, &sm, auth, sizeof(auth), NULL);
		assert_true(n > 0);
		if (t->mode == EO_EAP_ONLY_BAD_MSK)
			auth[3] ^= 0x40;
		ike_build_auth(&b, IKE_AUTH_PSK, auth, (size_t)n);
		eo_child(&b);
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

static void eo_run(struct eo *t)
{
	struct ike_action a;
	ike_connect(t->sa, t->now);
	for (int guard = 0; guard < 400; guard++) {
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
				rc = eo_handle_auth(t, copy, a.u.send.len, &resp, &rlen);
			else
				rc = -1;   /* DELETE: nobody answers */
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

static void engine_eap_only(void **state)
{
	(void)state;
	struct eo t;

	eo_init(&t, EO_EAP_ONLY);
	eo_run(&t);
	/* We offered EAP-only and sent no AUTH of our own. */
	assert_true(t.saw_eap_only_notify);
	assert_false(t.saw_auth_first);
	/* EAP-TLS with fragments both ways, then the MSK AUTHs. */
	assert_true(t.n_auth_req > 5);
	assert_true(t.msk_auth_ok);
	assert_true(t.connected);
	assert_true(t.installed);
	assert_false(t.disconnected);
	eo_free(&t);
}

static void engine_eap_only_bad_msk_auth(void **state)
{
	(void)state;
	struct eo t;

	/* With EAP-only the server's MSK AUTH is its IKE proof: a wrong one
	 * ends the SA, nothing installed. */
	eo_init(&t, EO_EAP_ONLY_BAD_MSK);
	eo_run(&t);
	assert_true(t.msk_auth_ok);
	assert_false(t.connected);
	assert_false(t.installed);
	assert_true(t.disconnected);
	assert_int_equal(t.error, IKE_ERR_AUTHENTICATION_FAILED);
	eo_free(&t);
}

static void engine_eap_only_untrusted(void **state)
{
	(void)state;
	struct eo t;

	/* The TLS server certificate is the server's only proof: from an
	 * unknown CA it is refused with the certificate error, before any
	 * MSK exists. */
	eo_init(&t, EO_UNTRUSTED);
	eo_run(&t);
	assert_true(t.disconnected);
	assert_false(t.installed);
	assert_false(t.connected);
	assert_int_equal(t.error, IKE_ERR_SERVER_CERT_INVALID);
	assert_non_null(strstr(t.detail, "TLS server certificate"));
	assert_false(t.tls.success_sent);
	eo_free(&t);
}

static void engine_no_eap_only_with_mschapv2(void **state)
{
	(void)state;
	struct eo t;

	/* RFC 5998 §4: MSCHAPv2 is not mutual enough: never offered, and a
	 * first response without AUTH is refused before any EAP answer. */
	eo_init(&t, EO_NO_AUTH_MSCHAP);
	eo_run(&t);
	assert_false(t.saw_eap_only_notify);
	assert_false(t.saw_auth_first);
	assert_int_equal(t.n_auth_req, 1);
	assert_true(t.disconnected);
	assert_false(t.installed);
	assert_int_equal(t.error, IKE_ERR_PROTOCOL_ERROR);
	eo_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(handshake),
		cmocka_unit_test(small_fragments_hostile),
		cmocka_unit_test(untrusted_server),
		cmocka_unit_test(identity_mismatch),
		cmocka_unit_test(server_refuses_our_cert),
		cmocka_unit_test(early_success),
		cmocka_unit_test(nak),
		cmocka_unit_test(engine_eap_only),
		cmocka_unit_test(engine_eap_only_bad_msk_auth),
		cmocka_unit_test(engine_eap_only_untrusted),
		cmocka_unit_test(engine_no_eap_only_with_mschapv2),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
