/* prf.c — the IKE PRFs (HMAC-SHA2, RFC 4868) and prf+ (RFC 7296 §2.13).
 *
 * HMAC-SHA-256/512 come from libsodium; HMAC-SHA-384 (which libsodium
 * lacks) from OpenSSL, fetched only when a suite uses it. */
#include "ike-lite/crypto.h"
#include "ike-lite/constants.h"

#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sodium.h>
#include <string.h>


#define PRF_MAX_LEN 64

size_t ike_prf_len(uint16_t prf)
{
	switch (prf) {
	case IKE_PRF_HMAC_SHA2_256: return 32;
	case IKE_PRF_HMAC_SHA2_384: return 48;
	case IKE_PRF_HMAC_SHA2_512: return 64;
	default: return 0;
	}
}

static int hmac_sha384(const uint8_t *key, size_t key_len,
		       const struct ike_span *parts, size_t nparts, uint8_t *out)
{
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	size_t outl = 0;
	int rc = -EIO;
	/* OpenSSL refuses a NULL key even when its length is 0. */
	static const uint8_t empty[1];

	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!mac)
		goto out;
	ctx = EVP_MAC_CTX_new(mac);
	if (!ctx)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA384", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(ctx, key_len ? key : empty, key_len, params))
		goto out;
	for (size_t i = 0; i < nparts; i++)
		if (parts[i].len && !EVP_MAC_update(ctx, parts[i].p, parts[i].len))
			goto out;
	if (!EVP_MAC_final(ctx, out, &outl, 48) || outl != 48)
		goto out;
	rc = 0;
out:
	EVP_MAC_CTX_free(ctx);   /* clears its key state */
	EVP_MAC_free(mac);
	return rc;
}

int ike_prf(uint16_t prf, const uint8_t *key, size_t key_len,
	    const struct ike_span *parts, size_t nparts, uint8_t *out)
{
	switch (prf) {
	case IKE_PRF_HMAC_SHA2_256: {
		crypto_auth_hmacsha256_state st;
		crypto_auth_hmacsha256_init(&st, key, key_len);
		for (size_t i = 0; i < nparts; i++)
			if (parts[i].len)
				crypto_auth_hmacsha256_update(&st, parts[i].p, parts[i].len);
		crypto_auth_hmacsha256_final(&st, out);
		sodium_memzero(&st, sizeof(st));
		return 0;
	}
	case IKE_PRF_HMAC_SHA2_512: {
		crypto_auth_hmacsha512_state st;
		crypto_auth_hmacsha512_init(&st, key, key_len);
		for (size_t i = 0; i < nparts; i++)
			if (parts[i].len)
				crypto_auth_hmacsha512_update(&st, parts[i].p, parts[i].len);
		crypto_auth_hmacsha512_final(&st, out);
		sodium_memzero(&st, sizeof(st));
		return 0;
	}
	case IKE_PRF_HMAC_SHA2_384:
		return hmac_sha384(key, key_len, parts, nparts, out);
	default:
		return -ENOTSUP;
	}
}

/* RFC 7296 §2.13: prf+ (K,S) = T1 | T2 | T3 | ...
 *   T1 = prf (K, S | 0x01), Tn = prf (K, Tn-1 | S | n); n stops at 255. */
int ike_prf_plus(uint16_t prf, const uint8_t *key, size_t key_len,
		 const struct ike_span *seed, size_t nseed,
		 uint8_t *out, size_t out_len)
{
	size_t hlen = ike_prf_len(prf);
	uint8_t t[PRF_MAX_LEN];
	struct ike_span parts[16];
	size_t done = 0;
	int rc = 0;

	if (!hlen)
		return -ENOTSUP;
	if (nseed > 14)
		return -EINVAL;
	if (out_len > 255 * hlen)
		return -EINVAL;
	for (unsigned n = 1; done < out_len; n++) {
		uint8_t counter = (uint8_t)n;
		size_t np = 0, take;
		if (n > 1)
			parts[np++] = (struct ike_span){ t, hlen };
		for (size_t i = 0; i < nseed; i++)
			parts[np++] = seed[i];
		parts[np++] = (struct ike_span){ &counter, 1 };
		rc = ike_prf(prf, key, key_len, parts, np, t);
		if (rc < 0)
			break;
		take = out_len - done < hlen ? out_len - done : hlen;
		memcpy(out + done, t, take);
		done += take;
	}
	sodium_memzero(t, sizeof(t));
	if (rc < 0)
		sodium_memzero(out, out_len);
	return rc;
}
