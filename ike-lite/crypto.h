/* crypto.h — ike-lite's crypto: key exchange, PRF and key derivation, SK
 * payload protection and PSK authentication.  Internal to the ike-lite room
 * (the codec, the engine and pvpn-ikedump use it); the daemon does not.
 *
 * Algorithms are named by their IANA numbers (RFC 7296 §3.3.2 transform IDs,
 * §3.8 auth methods) as plain integers, so this header does not depend on
 * the codec's constants.h.  Every derived key lives in a struct secret.
 *
 * Libraries: libsodium for X25519, ChaCha20-Poly1305, HMAC-SHA-256/512 and
 * randomness; OpenSSL (libcrypto) only for MODP, ECP, X448, AES-CBC, AES-GCM
 * and HMAC-SHA-384 — it is touched only when a suite needs it. */
#ifndef PVPN_IKE_CRYPTO_H
#define PVPN_IKE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike-lite/constants.h"
#include "lib/err.h"
#include "lib/secret.h"

/* ---------------------------------------------------------------- random */

/* The one source of randomness: fills buf with len random bytes and cannot
 * fail.  Tests inject a deterministic one.  (ike.h repeats this identical
 * typedef, which C11 allows.) */
typedef void (*ike_rand_fn)(void *buf, size_t len);

/* libsodium's randombytes_buf. */
void ike_rand_default(void *buf, size_t len);

/* ----------------------------------------------------------------- suite */

/* The negotiated transforms of an IKE SA (or, for ike_suite_init_esp, a
 * Child SA) and the sizes they imply.  Fill with ike_suite_init. */
struct ike_suite {
	/* Negotiated (IANA transform IDs). */
	uint16_t encr;          /* Type 1: 12 AES-CBC, 20 AES-GCM-16, 28 ChaCha20-Poly1305 */
	uint16_t encr_key_bits; /* Key Length attribute; 0 when the transform has none */
	uint16_t integ;         /* Type 3: 0 NONE (AEAD), 12/13/14 HMAC-SHA2-256-128/384-192/512-256 */
	uint16_t prf;           /* Type 2: 5/6/7 PRF_HMAC_SHA2_256/384/512 (0 for ESP) */
	uint16_t dh;            /* Type 4: 14 15 16 19 20 21 31 32 (0: none) */

	/* Derived. */
	bool aead;              /* encr carries its own ICV; integ must be NONE */
	size_t encr_key_len;    /* bytes of SK_e / ESP encr key, salt included */
	size_t salt_len;        /* trailing salt bytes in the encr key (AEAD: 4) */
	size_t integ_key_len;   /* bytes of SK_a / ESP integ key (0 for AEAD) */
	size_t prf_len;         /* PRF output and SK_d/SK_p length (0 for ESP) */
	size_t iv_len;          /* IV bytes on the wire */
	size_t block_len;       /* the cipher's padding block (1 for AEAD) */
	size_t icv_len;         /* checksum bytes at the end */
};

/* IKE SA suite: encr, prf, dh required; integ NONE iff encr is AEAD.
 * 0, or -ENOTSUP / -EINVAL with a sentence in e. */
int ike_suite_init(struct ike_suite *s, uint16_t encr, uint16_t encr_key_bits,
		   uint16_t integ, uint16_t prf, uint16_t dh, struct pvpn_err *e);
/* ESP Child SA suite: key sizes only (prf is 0; dh is the PFS group or 0). */
int ike_suite_init_esp(struct ike_suite *s, uint16_t encr, uint16_t encr_key_bits,
		       uint16_t integ, uint16_t dh, struct pvpn_err *e);

/* A plain byte span, for concatenated PRF inputs. */
struct ike_span {
	const uint8_t *p;
	size_t len;
};

/* ------------------------------------------------------------- DH groups */

/* Supported: 14 15 16 (MODP 2048/3072/4096, RFC 3526), 19 20 21 (ECP
 * P-256/384/521, RFC 5903), 31 (Curve25519, RFC 8031), 32 (Curve448). */
bool ike_dh_supported(uint16_t group);
/* Length of the KE payload's key exchange data, and of g^ir (the same for
 * MODP and the curves; for ECP g^ir is the x coordinate, half the KE
 * data).  0 if unsupported. */
size_t ike_dh_public_len(uint16_t group);
size_t ike_dh_shared_len(uint16_t group);

struct ike_dh_ctx; /* opaque: one private value, wiped on free */

/* A fresh private value from rnd (NULL: ike_rand_default).  NULL on an
 * unsupported group or allocation failure, with the reason in e. */
struct ike_dh_ctx *ike_dh_new(uint16_t group, ike_rand_fn rnd, struct pvpn_err *e);
uint16_t ike_dh_group(const struct ike_dh_ctx *dh);
/* Write the KE data (RFC 7296 §3.4: MODP g^x zero-padded to the prime's
 * length; RFC 5903 §7: x || y without 0x04; RFC 8031: the u/X448 value).
 * Returns its length, or -ENOBUFS if cap is too small. */
int ike_dh_public(const struct ike_dh_ctx *dh, uint8_t *out, size_t cap);
/* g^ir from the peer's KE data, after RFC 6989 / RFC 8031 checks: exact
 * length; MODP 1 < y < p-1; ECP point on the curve; X25519/X448 result not
 * all zero.  0 or -EINVAL (bad peer value) / -ENOMEM; out untouched on
 * failure. */
int ike_dh_shared(struct ike_dh_ctx *dh, const uint8_t *peer, size_t len,
		  struct secret *out, struct pvpn_err *e);
/* Wipe the private value and free; NULL is fine. */
void ike_dh_free(struct ike_dh_ctx *dh);

/* ------------------------------------------------------------------- PRF */

/* Output (and preferred key) length of a PRF transform; 0 if unsupported. */
size_t ike_prf_len(uint16_t prf);
/* out (ike_prf_len bytes) = prf(key, part[0] | part[1] | ...). 0 or
 * -ENOTSUP / -EIO. */
int ike_prf(uint16_t prf, const uint8_t *key, size_t key_len,
	    const struct ike_span *parts, size_t nparts, uint8_t *out);
/* RFC 7296 §2.13: out_len bytes of prf+(key, seed parts).  At most 255
 * iterations; -EINVAL beyond. */
int ike_prf_plus(uint16_t prf, const uint8_t *key, size_t key_len,
		 const struct ike_span *seed, size_t nseed,
		 uint8_t *out, size_t out_len);

/* ---------------------------------------------------------------- keymat */

struct ike_sa_keys {
	struct secret sk_d, sk_ai, sk_ar, sk_ei, sk_er, sk_pi, sk_pr;
};
void ike_sa_keys_free(struct ike_sa_keys *k);

/* RFC 7296 §2.14: SKEYSEED = prf(Ni | Nr, g^ir). */
int ike_skeyseed(uint16_t prf, const uint8_t *ni, size_t ni_len,
		 const uint8_t *nr, size_t nr_len, const struct secret *g_ir,
		 struct secret *out);
/* RFC 7296 §2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr), with
 * the old IKE SA's PRF. */
int ike_skeyseed_rekey(uint16_t old_prf, const struct secret *old_sk_d,
		       const struct secret *g_ir, const uint8_t *ni, size_t ni_len,
		       const uint8_t *nr, size_t nr_len, struct secret *out);
/* RFC 7296 §2.14: {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} =
 * prf+(SKEYSEED, Ni | Nr | SPIi | SPIr), sized by the suite (sk_ai/sk_ar
 * empty for AEAD; sk_e* include the salt).  On failure out is left empty. */
int ike_sa_keys_derive(const struct ike_suite *s, const struct secret *skeyseed,
		       const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
		       const uint8_t spi_i[8], const uint8_t spi_r[8],
		       struct ike_sa_keys *out);

/* Keys of one Child SA; "i" = the direction initiator -> responder of the
 * exchange that created it. */
struct ike_child_keys {
	struct secret encr_i, integ_i, encr_r, integ_r;
};
void ike_child_keys_free(struct ike_child_keys *k);

/* RFC 7296 §2.17: KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr); encr then
 * integ for initiator->responder, then the same for responder->initiator.
 * g_ir NULL (or empty) without PFS.  esp sized by ike_suite_init_esp; prf
 * is the IKE SA's.  On failure out is left empty. */
int ike_child_keys_derive(uint16_t prf, const struct secret *sk_d,
			  const struct ike_suite *esp, const struct secret *g_ir,
			  const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
			  struct ike_child_keys *out);

/* ------------------------------------------------ SK payload (§3.14) */

/* Sizes a builder must leave room for around plain_len bytes of inner
 * payloads: iv_len before them; pad_len padding bytes + 1 pad-length byte
 * + icv_len after them.  0 or -ENOTSUP. */
int ike_sk_overhead(const struct ike_suite *s, size_t plain_len,
		    size_t *iv_len, size_t *pad_len, size_t *icv_len);

/* Check and decrypt the SK payload that starts at msg + sk_off (its generic
 * header) and runs to the end of the message (it must be last).  msg is
 * the whole IKE message, header included, and msg_len its length.  The ICV
 * is checked (constant time) before any decrypted byte is looked at;
 * AES-GCM / ChaCha20-Poly1305 per RFC 5282 / RFC 7634 (AAD = IKE header ..
 * end of SK generic header), AES-CBC + HMAC per RFC 7296 §3.14 / RFC 4868.
 * On success the ciphertext in msg is replaced by plaintext and *plain /
 * *plain_len give the inner payload chain without padding; on failure msg
 * is unchanged.  enc_key includes the salt for AEAD; integ_key is ignored
 * for AEAD.  0 or -EBADMSG (ICV / padding / length) / -ENOTSUP / -ENOMEM. */
int ike_sk_open(const struct ike_suite *s, const struct secret *enc_key,
		const struct secret *integ_key, uint8_t *msg, size_t msg_len,
		size_t sk_off, const uint8_t **plain, size_t *plain_len,
		struct pvpn_err *e);

/* Protect a message in place.  The builder has written the IKE header at
 * msg[0], the SK generic header (next payload set) at msg[sk_off], and
 * plain_len bytes of inner payloads at msg[sk_off + 4 + iv_len]; msg_cap
 * leaves room for the padding, the pad-length byte and the ICV
 * (ike_sk_overhead).  This picks a random IV and padding (rnd, NULL:
 * ike_rand_default), sets the SK payload length and the IKE header's
 * Length, encrypts and writes the ICV; *msg_len is the final length. */
int ike_sk_seal(const struct ike_suite *s, const struct secret *enc_key,
		const struct secret *integ_key, ike_rand_fn rnd,
		uint8_t *msg, size_t msg_cap, size_t sk_off, size_t plain_len,
		size_t *msg_len, struct pvpn_err *e);
/* The same with a given IV and pad_len padding bytes already in place after
 * the plaintext (tests; re-encryption of a captured message). */
int ike_sk_seal_raw(const struct ike_suite *s, const struct secret *enc_key,
		    const struct secret *integ_key, const uint8_t *iv,
		    uint8_t *msg, size_t msg_cap, size_t sk_off, size_t plain_len,
		    size_t pad_len, size_t *msg_len, struct pvpn_err *e);

/* Protect a message laid out by the codec's builder (message.h:
 * ike_build_sk_begin(b, suite->iv_len) ... ike_build_sk_end(b,
 * suite->block_len, suite->icv_len, &lay); ike_build_finish): the SK
 * payload at sk_off holds room for the IV, the plaintext, padding, the Pad
 * Length byte and room for the ICV, and the lengths are final.  Picks a
 * random IV (rnd, NULL: ike_rand_default), encrypts, writes the ICV. */
int ike_sk_seal_built(const struct ike_suite *s, const struct secret *enc_key,
		      const struct secret *integ_key, ike_rand_fn rnd,
		      uint8_t *msg, size_t msg_len, size_t sk_off, struct pvpn_err *e);

/* The ciphers alone, as the SK payload uses them (tests, diagnostics).
 * AEAD: key includes the 4-byte salt, iv is the 8-byte explicit IV, the
 * tag is 16 bytes; open returns -EBADMSG (out undefined, to be discarded)
 * when the tag does not verify.  CBC: len a multiple of 16, no padding. */
int ike_aead_seal(const struct ike_suite *s, const struct secret *key, const uint8_t *iv,
		  const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
		  uint8_t *out, uint8_t *tag);
int ike_aead_open(const struct ike_suite *s, const struct secret *key, const uint8_t *iv,
		  const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
		  const uint8_t *tag, uint8_t *out);
int ike_cbc_crypt(const struct ike_suite *s, const struct secret *key, const uint8_t *iv,
		  const uint8_t *in, size_t len, uint8_t *out, bool encrypt);
/* AES-256-GCM runs on libsodium when the CPU has AES-NI (the default) and
 * on OpenSSL otherwise; false forces OpenSSL (tests cover both). */
void ike_aead_use_sodium_aes(bool on);

/* --------------------------------------------------------- AUTH (§2.15) */

/* What is signed or MACed by one side (RFC 7296 §2.15). */
struct ike_auth_input {
	uint16_t prf;                /* the IKE SA's PRF */
	const uint8_t *real_msg;     /* the sender's first message, as sent */
	size_t real_msg_len;         /* (IKE_SA_INIT request / response) */
	const uint8_t *peer_nonce;   /* the other side's Nonce data */
	size_t peer_nonce_len;
	const struct secret *sk_p;   /* the sender's SK_pi / SK_pr */
	const uint8_t *id_body;      /* sender's ID payload body: ID Type, */
	size_t id_body_len;          /* RESERVED (3 bytes), identification data */
};

/* Credentials.  For the signature methods (auth_sig.c): key is an
 * OpenSSL EVP_PKEY — our private key to compute, the peer's public key to
 * verify; sig_hash the RFC 7427 hash to sign with (method 14);
 * allowed_hashes the set (1u << hash) a peer's method-14 signature may
 * use. */
struct evp_pkey_st;
struct ike_auth_cred {
	const struct secret *psk;
	struct evp_pkey_st *key;
	uint8_t sig_hash;
	uint32_t allowed_hashes;
};

/* AUTH = prf(prf(PSK, "Key Pad for IKEv2"), <SignedOctets>).  Writes
 * ike_prf_len(in->prf) bytes to out; returns that length or negative. */
int ike_auth_psk(const struct ike_auth_input *in, const struct secret *psk,
		 uint8_t *out, size_t cap, struct pvpn_err *e);

/* The seam for authentication methods (IANA auth method numbers, §3.8):
 * 2 (Shared Key Message Integrity Code) and the signature methods 1, 9,
 * 10, 11 and 14 (auth_sig.c); DSS (3) returns -ENOTSUP.  For signatures
 * ike_auth_compute returns the AUTH data length (up to 1 + 80 + 512 bytes
 * for RSA-4096 with RFC 7427). */
int ike_auth_compute(uint8_t method, const struct ike_auth_input *in,
		     const struct ike_auth_cred *cred, uint8_t *out, size_t cap,
		     struct pvpn_err *e);
/* 0 when the peer's AUTH data is right (constant-time compare, or the
 * signature verifies), -EBADMSG when not, -ENOTSUP for unknown methods. */
int ike_auth_verify(uint8_t method, const struct ike_auth_input *in,
		    const struct ike_auth_cred *cred, const uint8_t *auth,
		    size_t auth_len, struct pvpn_err *e);

/* SHA-1 (RFC 3174), one shot: only for the NAT detection hashes (RFC 7296
 * §2.23), so the default suite never starts OpenSSL. */
void ike_sha1(const void *in, size_t len, uint8_t out[20]);

#endif
