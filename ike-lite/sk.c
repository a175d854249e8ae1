/* sk.c — the Encrypted and Authenticated payload (RFC 7296 §3.14).
 *
 * Works on whole message bytes, independent of the codec's structs:
 *
 *   msg[0]            IKE header (28 bytes; Length at offset 24)
 *   msg[sk_off]       SK generic payload header (4 bytes)
 *   + 4               IV (iv_len)
 *   + 4 + iv_len      encrypted: inner payloads | padding | pad length
 *   msg_len - icv_len ICV
 *
 * AES-CBC + HMAC-SHA2 (RFC 3602, RFC 4868): the ICV is the truncated HMAC
 * over the message from the IKE header to the end of the encrypted data.
 * AES-GCM-16 (RFC 5282) and ChaCha20-Poly1305 (RFC 7634): nonce = 4-byte
 * salt (the last bytes of SK_e) | 8-byte IV; AAD = the IKE header through
 * the SK generic payload header; the ICV is the 16-byte tag.
 *
 * Opening decrypts into a scratch buffer and writes back only after the
 * ICV and the padding checked out, so a message that fails stays as it
 * was. */
#include "ike-lite/crypto.h"
#include "ike-lite/constants.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>


#define IKE_HDR_LEN IKE_HEADER_LEN
#define GEN_HDR_LEN IKE_PAYLOAD_HDR_LEN
#define ICV_MAX 32

static void put_u16(uint8_t *p, size_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put_u32(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static size_t get_u16(const uint8_t *p) { return (size_t)p[0] << 8 | p[1]; }
static size_t get_u32(const uint8_t *p)
{
	return (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
}

int ike_sk_overhead(const struct ike_suite *s, size_t plain_len,
		    size_t *iv_len, size_t *pad_len, size_t *icv_len)
{
	if (!s->iv_len || !s->block_len || !s->icv_len)
		return -ENOTSUP;
	*iv_len = s->iv_len;
	/* RFC 7296 §3.14: padding makes plaintext + padding + pad length a
	 * multiple of the block size; with AEAD (block size 1) none is
	 * needed (RFC 5282 §3, RFC 7634 §3). */
	*pad_len = (s->block_len - (plain_len + 1) % s->block_len) % s->block_len;
	*icv_len = s->icv_len;
	return 0;
}

static int check_keys(const struct ike_suite *s, const struct secret *ek,
		      const struct secret *ik, struct pvpn_err *e)
{
	/* A suite that was never filled in (all zero) must not get as far
	 * as dividing by its block size. */
	if (!s->block_len || !s->icv_len || !s->iv_len)
		return err_set(e, -EINVAL, "SK: no negotiated cipher suite");
	if (!ek || ek->len != s->encr_key_len || s->encr_key_len == 0)
		return err_set(e, -EINVAL, "SK: the encryption key is %zu bytes, the suite needs %zu",
			       ek ? ek->len : 0, s->encr_key_len);
	if (!s->aead && (!ik || ik->len != s->integ_key_len))
		return err_set(e, -EINVAL, "SK: the integrity key is %zu bytes, the suite needs %zu",
			       ik ? ik->len : 0, s->integ_key_len);
	return 0;
}

/* --- integrity (CBC only) ------------------------------------------- */

static uint16_t integ_prf(uint16_t integ)
{
	/* RFC 4868: HMAC-SHA2-N truncated to half its output; the HMAC is
	 * the same one the PRF transforms 5/6/7 use. */
	switch (integ) {
	case IKE_INTEG_HMAC_SHA2_256_128: return IKE_PRF_HMAC_SHA2_256;
	case IKE_INTEG_HMAC_SHA2_384_192: return IKE_PRF_HMAC_SHA2_384;
	case IKE_INTEG_HMAC_SHA2_512_256: return IKE_PRF_HMAC_SHA2_512;
	default: return 0;
	}
}

static int compute_icv(const struct ike_suite *s, const struct secret *ik,
		       const uint8_t *msg, size_t covered, uint8_t icv[ICV_MAX])
{
	uint8_t full[64];
	struct ike_span part = { msg, covered };
	uint16_t prf = integ_prf(s->integ);
	int rc;

	if (!prf)
		return -ENOTSUP;
	rc = ike_prf(prf, ik->data, ik->len, &part, 1, full);
	if (rc == 0)
		memcpy(icv, full, s->icv_len);
	sodium_memzero(full, sizeof(full));
	return rc;
}

/* --- ciphers ---------------------------------------------------------- */

static const EVP_CIPHER *aes_cipher(const struct ike_suite *s)
{
	if (s->encr == IKE_ENCR_AES_CBC)
		return s->encr_key_bits == 256 ? EVP_aes_256_cbc() : EVP_aes_128_cbc();
	return s->encr_key_bits == 256 ? EVP_aes_256_gcm() : EVP_aes_128_gcm();
}

/* AES-CBC without padding of its own (IKE pads itself). */
static int cbc(const struct ike_suite *s, const struct secret *ek, const uint8_t *iv,
	       const uint8_t *in, size_t len, uint8_t *out, int enc)
{
	EVP_CIPHER_CTX *ctx;
	int l1 = 0, l2 = 0, rc = -EIO;

	if (s->encr != IKE_ENCR_AES_CBC || ek->len != s->encr_key_len || len % 16)
		return -EINVAL;
	if (!(ctx = EVP_CIPHER_CTX_new()))
		return -ENOMEM;
	if (EVP_CipherInit_ex(ctx, aes_cipher(s), NULL, ek->data, iv, enc) == 1 &&
	    EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
	    EVP_CipherUpdate(ctx, out, &l1, in, (int)len) == 1 &&
	    EVP_CipherFinal_ex(ctx, out + l1, &l2) == 1 && (size_t)(l1 + l2) == len)
		rc = 0;
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

static bool sodium_aes = true;

void ike_aead_use_sodium_aes(bool on) { sodium_aes = on; }

/* AES-GCM / ChaCha20-Poly1305.  enc: out = E(in), tag written;
 * !enc: out = D(in) only if tag verifies, else -EBADMSG. */
static int aead(const struct ike_suite *s, const struct secret *ek, const uint8_t *iv,
		const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
		uint8_t *out, uint8_t *tag, int enc)
{
	if (!s->aead || ek->len != s->encr_key_len)
		return -EINVAL;
	size_t klen = ek->len - s->salt_len;
	uint8_t nonce[12];
	int rc = -EIO;

	/* RFC 5282 §4 / RFC 7634 §2: nonce = salt | IV. */
	memcpy(nonce, ek->data + klen, 4);
	memcpy(nonce + 4, iv, 8);

	if (s->encr == IKE_ENCR_CHACHA20_POLY1305) {
		if (sodium_init() < 0)
			rc = -EIO;
		else if (enc)
			rc = crypto_aead_chacha20poly1305_ietf_encrypt_detached(
				out, tag, NULL, in, len, aad, aad_len, NULL, nonce, ek->data) == 0
				? 0 : -EIO;
		else
			/* libsodium verifies the tag before it decrypts. */
			rc = crypto_aead_chacha20poly1305_ietf_decrypt_detached(
				out, NULL, in, len, tag, aad, aad_len, nonce, ek->data) == 0
				? 0 : -EBADMSG;
		sodium_memzero(nonce, sizeof(nonce));
		return rc;
	}

	/* DESIGN.md: libsodium where it has the algorithm, so a profile
	 * with AES-256-GCM on a CPU with AES-NI never loads OpenSSL's
	 * ciphers. */
	if (s->encr_key_bits == 256 && sodium_aes && sodium_init() >= 0 &&
	    crypto_aead_aes256gcm_is_available()) {
		if (enc)
			rc = crypto_aead_aes256gcm_encrypt_detached(
				out, tag, NULL, in, len, aad, aad_len, NULL, nonce, ek->data) == 0
				? 0 : -EIO;
		else
			rc = crypto_aead_aes256gcm_decrypt_detached(
				out, NULL, in, len, tag, aad, aad_len, nonce, ek->data) == 0
				? 0 : -EBADMSG;
		sodium_memzero(nonce, sizeof(nonce));
		return rc;
	}

	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int l = 0;
	if (!ctx)
		return -ENOMEM;
	if (EVP_CipherInit_ex(ctx, aes_cipher(s), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, ek->data, nonce, enc) != 1 ||
	    (aad_len && EVP_CipherUpdate(ctx, NULL, &l, aad, (int)aad_len) != 1) ||
	    (len && EVP_CipherUpdate(ctx, out, &l, in, (int)len) != 1))
		goto out;
	if (enc) {
		if (EVP_CipherFinal_ex(ctx, out + len, &l) == 1 &&
		    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1)
			rc = 0;
	} else {
		if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag) != 1)
			goto out;
		/* Final compares the tag (in constant time) and fails on a
		 * mismatch; out then holds unauthenticated bytes the caller
		 * wipes and never reads. */
		rc = EVP_CipherFinal_ex(ctx, out + len, &l) == 1 ? 0 : -EBADMSG;
	}
out:
	EVP_CIPHER_CTX_free(ctx);
	sodium_memzero(nonce, sizeof(nonce)); /* holds the salt */
	return rc;
}

int ike_aead_seal(const struct ike_suite *s, const struct secret *key, const uint8_t *iv,
		  const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
		  uint8_t *out, uint8_t *tag)
{
	return aead(s, key, iv, aad, aad_len, in, len, out, tag, 1);
}

int ike_aead_open(const struct ike_suite *s, const struct secret *key, const uint8_t *iv,
		  const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
		  const uint8_t *tag, uint8_t *out)
{
	uint8_t t[16];
	memcpy(t, tag, sizeof(t));
	return aead(s, key, iv, aad, aad_len, in, len, out, t, 0);
}

int ike_cbc_crypt(const struct ike_suite *s, const struct secret *key, const uint8_t *iv,
		  const uint8_t *in, size_t len, uint8_t *out, bool encrypt)
{
	return cbc(s, key, iv, in, len, out, encrypt ? 1 : 0);
}

/* --- open ------------------------------------------------------------- */

int ike_sk_open(const struct ike_suite *s, const struct secret *enc_key,
		const struct secret *integ_key, uint8_t *msg, size_t msg_len,
		size_t sk_off, const uint8_t **plain, size_t *plain_len,
		struct pvpn_err *e)
{
	size_t payload_len, ct_off, ct_len, pad_len;
	uint8_t *tmp = NULL;
	int rc;

	if ((rc = check_keys(s, enc_key, integ_key, e)) < 0)
		return rc;
	if (msg_len < IKE_HDR_LEN || sk_off < IKE_HDR_LEN || sk_off > msg_len ||
	    msg_len - sk_off < GEN_HDR_LEN)
		return err_set(e, -EBADMSG, "SK: the payload header lies outside the message");
	if (get_u32(msg + 24) != msg_len)
		return err_set(e, -EBADMSG, "SK: the IKE header's length %zu is not the message's %zu",
			       get_u32(msg + 24), msg_len);
	payload_len = get_u16(msg + sk_off + 2);
	/* RFC 7296 §3.14: the SK payload is the last one. */
	if (payload_len != msg_len - sk_off)
		return err_set(e, -EBADMSG, "SK: the payload is %zu bytes but %zu remain in the message",
			       payload_len, msg_len - sk_off);
	if (payload_len < GEN_HDR_LEN + s->iv_len + 1 + s->icv_len)
		return err_set(e, -EBADMSG, "SK: the payload (%zu bytes) is too short for IV, pad length and ICV",
			       payload_len);
	ct_off = sk_off + GEN_HDR_LEN + s->iv_len;
	ct_len = payload_len - GEN_HDR_LEN - s->iv_len - s->icv_len;
	if (ct_len % s->block_len)
		return err_set(e, -EBADMSG, "SK: the encrypted data (%zu bytes) is not a multiple of the block size",
			       ct_len);

	tmp = malloc(ct_len + 16);
	if (!tmp)
		return err_set(e, -ENOMEM, "SK: out of memory");

	if (s->aead) {
		rc = aead(s, enc_key, msg + sk_off + GEN_HDR_LEN, msg, sk_off + GEN_HDR_LEN,
			  msg + ct_off, ct_len, tmp, msg + ct_off + ct_len, 0);
	} else {
		uint8_t icv[ICV_MAX];
		/* Integrity first: nothing is decrypted unless it verifies. */
		rc = compute_icv(s, integ_key, msg, ct_off + ct_len, icv);
		if (rc == 0 && CRYPTO_memcmp(icv, msg + ct_off + ct_len, s->icv_len) != 0)
			rc = -EBADMSG;
		sodium_memzero(icv, sizeof(icv));
		if (rc == 0)
			rc = cbc(s, enc_key, msg + sk_off + GEN_HDR_LEN, msg + ct_off, ct_len, tmp, 0);
	}
	if (rc == -EBADMSG) {
		err_set(e, rc, "SK: the integrity check failed (wrong keys or a forged message)");
		goto out;
	}
	if (rc < 0) {
		err_set(e, rc, "SK: the cipher failed");
		goto out;
	}
	pad_len = tmp[ct_len - 1];
	if (pad_len + 1 > ct_len) {
		rc = err_set(e, -EBADMSG, "SK: the pad length %zu exceeds the decrypted data", pad_len);
		goto out;
	}
	memcpy(msg + ct_off, tmp, ct_len);
	*plain = msg + ct_off;
	*plain_len = ct_len - 1 - pad_len;
	rc = 0;
out:
	sodium_memzero(tmp, ct_len + 16);
	free(tmp);
	return rc;
}

/* --- seal ------------------------------------------------------------- */

int ike_sk_seal_raw(const struct ike_suite *s, const struct secret *enc_key,
		    const struct secret *integ_key, const uint8_t *iv,
		    uint8_t *msg, size_t msg_cap, size_t sk_off, size_t plain_len,
		    size_t pad_len, size_t *msg_len, struct pvpn_err *e)
{
	size_t ct_off = sk_off + GEN_HDR_LEN + s->iv_len;
	size_t ct_len = plain_len + pad_len + 1;
	size_t total = ct_off + ct_len + s->icv_len;
	int rc;

	if ((rc = check_keys(s, enc_key, integ_key, e)) < 0)
		return rc;
	if (sk_off < IKE_HDR_LEN || pad_len > 255)
		return err_set(e, -EINVAL, "SK: bad layout (payload at %zu, %zu padding bytes)",
			       sk_off, pad_len);
	if (ct_len % s->block_len)
		return err_set(e, -EINVAL, "SK: %zu bytes to encrypt are not a multiple of the block size",
			       ct_len);
	if (total > msg_cap || total - sk_off > 0xffff || total > 0xffffffffu)
		return err_set(e, -ENOBUFS, "SK: the message needs %zu bytes, the buffer has %zu",
			       total, msg_cap);

	msg[ct_off + ct_len - 1] = (uint8_t)pad_len;
	memmove(msg + sk_off + GEN_HDR_LEN, iv, s->iv_len);
	/* Lengths first: they are covered by the ICV / AAD. */
	put_u16(msg + sk_off + 2, total - sk_off);
	put_u32(msg + 24, total);

	if (s->aead) {
		rc = aead(s, enc_key, iv, msg, sk_off + GEN_HDR_LEN, msg + ct_off, ct_len,
			  msg + ct_off, msg + ct_off + ct_len, 1);
	} else {
		rc = cbc(s, enc_key, iv, msg + ct_off, ct_len, msg + ct_off, 1);
		if (rc == 0)
			rc = compute_icv(s, integ_key, msg, ct_off + ct_len, msg + ct_off + ct_len);
	}
	if (rc < 0)
		return err_set(e, rc, "SK: encrypting the message failed");
	*msg_len = total;
	return 0;
}

int ike_sk_seal(const struct ike_suite *s, const struct secret *enc_key,
		const struct secret *integ_key, ike_rand_fn rnd,
		uint8_t *msg, size_t msg_cap, size_t sk_off, size_t plain_len,
		size_t *msg_len, struct pvpn_err *e)
{
	size_t iv_len, pad_len, icv_len, pt_end;
	uint8_t iv[16];
	int rc;

	if (!rnd)
		rnd = ike_rand_default;
	if ((rc = ike_sk_overhead(s, plain_len, &iv_len, &pad_len, &icv_len)) < 0)
		return err_set(e, rc, "SK: the suite has no cipher");
	pt_end = sk_off + GEN_HDR_LEN + iv_len + plain_len;
	if (pt_end + pad_len + 1 + icv_len > msg_cap)
		return err_set(e, -ENOBUFS, "SK: the message needs %zu bytes, the buffer has %zu",
			       pt_end + pad_len + 1 + icv_len, msg_cap);
	/* RFC 7296 §3.14: the IV is random (unpredictable for CBC); the
	 * padding may hold any value. */
	rnd(iv, iv_len);
	if (pad_len)
		rnd(msg + pt_end, pad_len);
	return ike_sk_seal_raw(s, enc_key, integ_key, iv, msg, msg_cap, sk_off, plain_len,
			       pad_len, msg_len, e);
}

int ike_sk_seal_built(const struct ike_suite *s, const struct secret *enc_key,
		      const struct secret *integ_key, ike_rand_fn rnd,
		      uint8_t *msg, size_t msg_len, size_t sk_off, struct pvpn_err *e)
{
	size_t payload_len, ct_len, pad_len;
	uint8_t iv[16];

	if (!rnd)
		rnd = ike_rand_default;
	if (sk_off < IKE_HDR_LEN || sk_off > msg_len || msg_len - sk_off < GEN_HDR_LEN)
		return err_set(e, -EINVAL, "SK: the payload header lies outside the message");
	payload_len = get_u16(msg + sk_off + 2);
	if (payload_len != msg_len - sk_off ||
	    payload_len < GEN_HDR_LEN + s->iv_len + 1 + s->icv_len)
		return err_set(e, -EINVAL, "SK: the built payload (%zu bytes) does not fit the suite",
			       payload_len);
	ct_len = payload_len - GEN_HDR_LEN - s->iv_len - s->icv_len;
	pad_len = msg[sk_off + GEN_HDR_LEN + s->iv_len + ct_len - 1];
	if (pad_len + 1 > ct_len)
		return err_set(e, -EINVAL, "SK: the built pad length %zu exceeds the payload", pad_len);
	rnd(iv, s->iv_len);
	return ike_sk_seal_raw(s, enc_key, integ_key, iv, msg, msg_len, sk_off,
			       ct_len - 1 - pad_len, pad_len, &payload_len, e);
}
