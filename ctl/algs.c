/* algs.c — IANA IKEv2 transform ids (RFC 7296 §3.3.2, IANA "IKEv2
 * Transform Type 1/3" registries) to the names the kernel's crypto API
 * gives the ESP algorithms (what `ip xfrm state` shows). */
#include "ctl/ctl.h"

#include <errno.h>
#include <stddef.h>

/* IANA Transform Type 1 (Encryption) ids. */
enum {
	IANA_ENCR_3DES = 3,
	IANA_ENCR_NULL = 11,
	IANA_ENCR_AES_CBC = 12,
	IANA_ENCR_AES_CTR = 13,
	IANA_ENCR_AES_CCM_8 = 14,
	IANA_ENCR_AES_CCM_12 = 15,
	IANA_ENCR_AES_CCM_16 = 16,
	IANA_ENCR_AES_GCM_8 = 18,
	IANA_ENCR_AES_GCM_12 = 19,
	IANA_ENCR_AES_GCM_16 = 20,
	IANA_ENCR_CHACHA20_POLY1305 = 28,
};

/* IANA Transform Type 3 (Integrity) ids. */
enum {
	IANA_AUTH_NONE = 0,
	IANA_AUTH_HMAC_SHA1_96 = 2,
	IANA_AUTH_AES_XCBC_96 = 5,
	IANA_AUTH_HMAC_SHA2_256_128 = 12,
	IANA_AUTH_HMAC_SHA2_384_192 = 13,
	IANA_AUTH_HMAC_SHA2_512_256 = 14,
};

static const struct ctl_esp_encr encr_table[] = {
	/* RFC 4106: key material = key || 4-byte salt. */
	{ IANA_ENCR_AES_GCM_16, "rfc4106(gcm(aes))", true, 128, 4 },
	{ IANA_ENCR_AES_GCM_12, "rfc4106(gcm(aes))", true, 96, 4 },
	{ IANA_ENCR_AES_GCM_8, "rfc4106(gcm(aes))", true, 64, 4 },
	/* RFC 4309: key || 3-byte salt. */
	{ IANA_ENCR_AES_CCM_16, "rfc4309(ccm(aes))", true, 128, 3 },
	{ IANA_ENCR_AES_CCM_12, "rfc4309(ccm(aes))", true, 96, 3 },
	{ IANA_ENCR_AES_CCM_8, "rfc4309(ccm(aes))", true, 64, 3 },
	/* RFC 7634: 256-bit key || 4-byte salt, 16-byte tag. */
	{ IANA_ENCR_CHACHA20_POLY1305, "rfc7539esp(chacha20,poly1305)", true, 128, 4 },
	{ IANA_ENCR_AES_CBC, "cbc(aes)", false, 0, 0 },
	/* RFC 3686: key || 4-byte nonce. */
	{ IANA_ENCR_AES_CTR, "rfc3686(ctr(aes))", false, 0, 4 },
	{ IANA_ENCR_3DES, "cbc(des3_ede)", false, 0, 0 },
	{ IANA_ENCR_NULL, "ecb(cipher_null)", false, 0, 0 },
};

static const struct ctl_esp_integ integ_table[] = {
	{ IANA_AUTH_HMAC_SHA2_256_128, "hmac(sha256)", 128 },
	{ IANA_AUTH_HMAC_SHA2_384_192, "hmac(sha384)", 192 },
	{ IANA_AUTH_HMAC_SHA2_512_256, "hmac(sha512)", 256 },
	{ IANA_AUTH_HMAC_SHA1_96, "hmac(sha1)", 96 },
	{ IANA_AUTH_AES_XCBC_96, "xcbc(aes)", 96 },
};

const struct ctl_esp_encr *ctl_esp_encr_lookup(uint16_t iana_id)
{
	for (size_t i = 0; i < sizeof(encr_table) / sizeof(encr_table[0]); i++)
		if (encr_table[i].iana_id == iana_id)
			return &encr_table[i];
	return NULL;
}

const struct ctl_esp_integ *ctl_esp_integ_lookup(uint16_t iana_id)
{
	for (size_t i = 0; i < sizeof(integ_table) / sizeof(integ_table[0]); i++)
		if (integ_table[i].iana_id == iana_id)
			return &integ_table[i];
	return NULL;
}
