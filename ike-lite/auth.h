/* auth.h — signature authentication, certificates and EAP, internal to
 * ike-lite (the engine and the tests use it; the daemon does not).
 *
 * auth_sig.c: AUTH payload data by signature — the classic methods of
 *   RFC 7296 §3.8 (1 RSA PKCS#1 v1.5 SHA-1) and RFC 4754 (9/10/11 ECDSA
 *   with r|s) and RFC 7427 digital signatures (14) with RSA PKCS#1 v1.5,
 *   RSA-PSS, ECDSA (DER) and Ed25519 (RFC 8420).
 * cert.c: our key and certificate, the server's chain, CERTREQ.
 * eap.c, eap_mschapv2.c: EAP (RFC 3748) with MSCHAPv2 (RFC 2759) as the
 *   peer inside IKE_AUTH (RFC 7296 §2.16).
 * eap_tls.c: EAP-TLS (RFC 5216, TLS 1.2) as the peer, with OpenSSL's libssl
 *   over memory BIOs; the TLS server's certificate is checked by cert.c. */
#ifndef PVPN_IKE_AUTH_H
#define PVPN_IKE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ike-lite/crypto.h"
#include "ike-lite/ike.h"
#include "lib/err.h"
#include "lib/secret.h"

/* ------------------------------------------------------------ auth_sig.c */

/* Bits of a SIGNATURE_HASH_ALGORITHMS set: 1u << enum ike_hash_alg. */
#define IKE_HASHES_OURS ((1u << IKE_HASH_SHA2_256) | (1u << IKE_HASH_SHA2_384) | \
			 (1u << IKE_HASH_SHA2_512) | (1u << IKE_HASH_IDENTITY))

/* The set of hashes in a SIGNATURE_HASH_ALGORITHMS notify's data (RFC 7427
 * §4): a list of 16-bit numbers; unknown ones are ignored, an odd length is
 * bad (returns 0). */
uint32_t ike_sig_hashes_parse(const uint8_t *data, size_t len);

/* Which method and hash we sign with, given our key and what the peer
 * announced (peer_hashes 0 = it did not speak RFC 7427): method 14 with
 * the hash that fits the key when the peer allows it, else the classic
 * method for the key (1 for RSA, 9/10/11 for ECDSA by curve).  -ENOTSUP
 * when there is none (Ed25519 to a peer without RFC 7427 and identity). */
int ike_sig_choose(EVP_PKEY *key, uint32_t peer_hashes, uint8_t *method, uint8_t *hash,
		   struct pvpn_err *e);

/* Sign the octets: the AUTH payload's data (for method 14 the ASN.1
 * length, AlgorithmIdentifier and signature, RFC 7427 §3).  Returns the
 * length written or negative. */
int ike_sig_sign(EVP_PKEY *key, uint8_t method, uint8_t hash, const uint8_t *msg,
		 size_t msg_len, uint8_t *out, size_t cap, struct pvpn_err *e);

/* Verify the AUTH payload data auth with the peer's public key: the method
 * must fit the key; for 14 the AlgorithmIdentifier must name a hash in
 * allowed_hashes (what we announced) and an algorithm that fits the key;
 * signatures must be strictly encoded (exact lengths, DER re-encodes to the
 * same bytes).  0, or -EBADMSG (bad signature / encoding) / -ENOTSUP. */
int ike_sig_verify(EVP_PKEY *pub, uint8_t method, uint32_t allowed_hashes,
		   const uint8_t *msg, size_t msg_len, const uint8_t *auth, size_t auth_len,
		   struct pvpn_err *e);

/* RFC 7296 §2.15 signed octets: RealMessage | Nonce | prf(SK_p, IDbody),
 * malloc'd into *out. */
int ike_signed_octets(const struct ike_auth_input *in, uint8_t **out, size_t *out_len);

/* ---------------------------------------------------------------- cert.c */

#define IKE_CERT_MAX_CHAIN 8
#define IKE_CERT_MAX_ANCHORS 32

struct ike_certs {
	/* Ours (IKE_CRED_CERT). */
	EVP_PKEY *key;
	uint8_t *own_der[IKE_CERT_MAX_CHAIN];   /* ours first, then intermediates */
	size_t own_der_len[IKE_CERT_MAX_CHAIN];
	size_t n_own;

	/* Trust for the server's certificate. */
	X509_STORE *store;                      /* NULL: the server uses a PSK */
	uint8_t certreq[20 * IKE_CERT_MAX_ANCHORS]; /* SHA-1 of each anchor's SPKI (§3.7) */
	size_t certreq_len;
	STACK_OF(X509_CRL) *crls;
	char cn[256], issuer_cn[256];           /* "" = not checked */
	bool rev_check, rev_strict;
	/* OCSP (ocsp.c): the config's fetch callback (NULL = none), the
	 * nonce source and the log prefix. */
	int (*ocsp_fetch)(void *ctx, const char *url, const uint8_t *req, size_t req_len,
			  uint8_t **resp, size_t *resp_len, struct pvpn_err *err);
	void *ocsp_ctx;
	ike_rand_fn rnd;
	char log_name[64];
};

/* Load what the config holds (PEM or DER key; PEM certificate chain or
 * PKCS#12 without password; PEM trust anchors and CRLs).  0 or negative
 * with a sentence in e. */
int ike_certs_load(struct ike_certs *c, const struct ike_config *cfg, struct pvpn_err *e);
void ike_certs_free(struct ike_certs *c);

/* A CERT payload as received. */
struct ike_cert_blob {
	uint8_t encoding;
	const uint8_t *data;
	size_t len;
};

/* Verify the server's certificates (the first is the end entity, RFC 7296
 * §3.6) up to our anchors at time now, its key usage, that it holds the
 * identity idr (the IDr payload body's type and data) and, when set,
 * want_id (the profile's remote identity), the CN checks and revocation.
 * On success *pub is the end entity's public key (caller frees).  On
 * failure *why is the engine error that names it (IKE_ERR_SERVER_CERT_*). */
int ike_certs_verify_peer(const struct ike_certs *c, const struct ike_cert_blob *certs,
			  size_t n, uint8_t idr_type, const uint8_t *idr, size_t idr_len,
			  const struct ike_id *want_id, time_t now, EVP_PKEY **pub,
			  enum ike_error *why, struct pvpn_err *e);

/* True when the certificate (DER) holds the identity (RFC 4945 §3.1:
 * FQDN/RFC822/IP in subjectAltName, DN equal to the subject). */
bool ike_cert_has_id(X509 *x, uint8_t id_type, const uint8_t *id, size_t len);

/* ---------------------------------------------------------------- ocsp.c */

#define IKE_OCSP_NONCE_LEN 32           /* RFC 8954 §2.1: at most 32 */
#define IKE_OCSP_RESP_MAX (64 * 1024)

enum { IKE_OCSP_GOOD = 0, IKE_OCSP_REVOKED = 1, IKE_OCSP_UNKNOWN = 2 };

/* A DER OCSPRequest for cert (issued by issuer) with the nonce (none when
 * nonce_len is 0); *der is OPENSSL_malloc'd. */
int ike_ocsp_request(X509 *cert, X509 *issuer, const uint8_t *nonce, size_t nonce_len,
		     uint8_t **der, size_t *der_len, struct pvpn_err *e);
/* Check a DER OCSPResponse about cert (issued by issuer, both already
 * verified) at time now: signed by issuer or a responder it delegated to
 * (id-kp-OCSPSigning), for our CertID, fresh, with our nonce if echoed.
 * IKE_OCSP_GOOD, IKE_OCSP_REVOKED (reason in e), IKE_OCSP_UNKNOWN (the
 * responder does not know it), or negative: the response does not count
 * (why in e). */
int ike_ocsp_check_response(const uint8_t *resp, size_t len, X509 *cert, X509 *issuer,
			    const uint8_t *nonce, size_t nonce_len, time_t now,
			    struct pvpn_err *e);
/* For each certificate of the verified chain (leaf at 0; the anchor, last,
 * is not checked) whose bit is set in need: ask its AIA's http://
 * responders through c->ocsp_fetch.  Revoked: -EACCES ("server
 * certificate revoked (OCSP)...").  No conclusive answer: -EACCES when
 * c->rev_strict, else a warning in the log and on.  0 otherwise. */
int ike_ocsp_check_chain(const struct ike_certs *c, STACK_OF(X509) *chain, uint32_t need,
			 time_t now, struct pvpn_err *e);

/* ----------------------------------------------------------------- EAP */

/* eap_mschapv2.c — RFC 2759 / RFC 3079 building blocks (exposed for the
 * tests against the RFCs' examples).  password is UTF-8 and converted to
 * UTF-16LE (ASCII range; other characters are refused with -EINVAL). */
int ike_md4(const uint8_t *in, size_t len, uint8_t out[16]);
int ike_mschap_nt_hash(const uint8_t *password, size_t len, uint8_t out[16]);
int ike_mschap_challenge_hash(const uint8_t peer_challenge[16],
			      const uint8_t auth_challenge[16], const char *user,
			      size_t user_len, uint8_t out[8]);
int ike_mschap_nt_response(const uint8_t auth_challenge[16], const uint8_t peer_challenge[16],
			   const char *user, size_t user_len, const uint8_t *password,
			   size_t pw_len, uint8_t out[24]);
/* "S=" + 40 hex digits (upper case), NUL-terminated: 43 bytes. */
int ike_mschap_authenticator_response(const uint8_t *password, size_t pw_len,
				      const uint8_t nt_response[24],
				      const uint8_t peer_challenge[16],
				      const uint8_t auth_challenge[16], const char *user,
				      size_t user_len, char out[43]);
/* RFC 3079 §3.4 / draft-kamath §2.4: MSK = MasterReceiveKey |
 * MasterSendKey (16 each, as the authenticator names them) | 32 zero
 * bytes = 64 bytes. */
int ike_mschap_msk(const uint8_t *password, size_t pw_len, const uint8_t nt_response[24],
		   uint8_t msk[64]);
int ike_mschap_master_key(const uint8_t password_hash_hash[16], const uint8_t nt_response[24],
			  uint8_t master[16]);
int ike_mschap_asym_key(const uint8_t master[16], size_t key_len, bool send, bool server,
			uint8_t *out);

/* eap.c — the peer side of one EAP conversation. */
enum ike_eap_result {
	IKE_EAP_CONTINUE = 0,   /* *out holds the EAP Response to send */
	IKE_EAP_DONE,           /* EAP-Success accepted; the MSK is ready */
	IKE_EAP_FAILED,         /* EAP-Failure or MSCHAPv2 failure: wrong credentials */
};

struct ike_eap_tls;

struct ike_eap {
	char user[256];
	size_t user_len;
	struct secret password;
	uint8_t state;          /* internal */
	uint8_t last_id;
	bool have_last_id;
	uint8_t auth_challenge[16], peer_challenge[16], nt_response[24];
	uint8_t ms_id;          /* MS-CHAPv2-ID of the challenge */
	bool authenticated;     /* the authenticator response verified */
	struct secret msk;
	char fail_msg[256];     /* why, for the user (no secrets) */
	/* The method we run: IKE_EAP_MSCHAPV2 (ike_eap_init) or IKE_EAP_TLS
	 * (ike_eap_init_tls). */
	uint8_t method;
	struct ike_eap_tls *tls;        /* eap_tls.c's state, EAP-TLS only */
	/* For IKE_EAP_FAILED: the engine error that names it (IKE_ERR_NONE =
	 * the generic authentication failure). */
	enum ike_error fail_why;
};

int ike_eap_init(struct ike_eap *eap, const char *user, const struct secret *password);
void ike_eap_free(struct ike_eap *eap);
/* One EAP packet from the server (whole, code..end); rnd for the peer
 * challenge.  Writes a response into out (*out_len) for CONTINUE.
 * Negative: the packet is malformed or unexpected here (drop it; state
 * unchanged), with the reason in e. */
int ike_eap_step(struct ike_eap *eap, const uint8_t *pkt, size_t len, ike_rand_fn rnd,
		 uint8_t *out, size_t cap, size_t *out_len, struct pvpn_err *e);

/* ---------------------------------------------------------- eap_tls.c */

/* Bytes of TLS data we put in one EAP-TLS fragment: the EAP packet stays
 * near 1 KB so the IKE_AUTH request fits a 1280-byte path unfragmented. */
#define IKE_EAP_TLS_FRAG 1000
/* The largest TLS message (flight) we reassemble: a certificate chain of
 * IKE_CERT_MAX_CHAIN certificates fits comfortably. */
#define IKE_EAP_TLS_MAX (64 * 1024)

/* EAP-TLS with our certificate and key from certs (which must outlive
 * eap) as the client certificate, and certs' trust anchors, CN and
 * revocation settings for the server's.  identity is what EAP-Identity
 * answers.  TLS 1.2 only (RFC 5216); the MSK is the first 64 bytes of
 * TLS-PRF(master secret, "client EAP encryption", client.random |
 * server.random) (RFC 5216 §2.3). */
int ike_eap_init_tls(struct ike_eap *eap, const char *identity, const struct ike_certs *certs,
		     struct pvpn_err *e);

/* What the TLS server certificate must hold: the IDr body's type and
 * data the server sent in IKE, and (optionally) the profile's identity;
 * now for the validity dates.  Call before the TLS handshake begins. */
void ike_eap_tls_set_peer(struct ike_eap *eap, uint8_t idr_type, const uint8_t *idr,
			  size_t idr_len, const struct ike_id *want_id, time_t now);

/* One EAP-Request of type 13 (data after the Type octet: Flags, [TLS
 * Message Length], TLS data), with the EAP Identifier id.  Same contract
 * as ike_eap_step (which calls it). */
int ike_eap_tls_request(struct ike_eap *eap, uint8_t id, const uint8_t *data, size_t len,
			uint8_t *out, size_t cap, size_t *out_len, struct pvpn_err *e);

/* True when the handshake completed, the server's certificate verified
 * and the MSK is in eap->msk, with nothing of ours left to send: only
 * then may EAP-Success be taken. */
bool ike_eap_tls_done(const struct ike_eap *eap);

void ike_eap_tls_free(struct ike_eap *eap);

/* RFC 7296 §2.16: AUTH = prf(prf(MSK, "Key Pad for IKEv2"), signed octets). */
int ike_auth_msk(const struct ike_auth_input *in, const struct secret *msk, uint8_t *out,
		 size_t cap, struct pvpn_err *e);

#endif
