/* keymat.c — SKEYSEED, the IKE SA keys and Child SA KEYMAT
 * (RFC 7296 §2.14, §2.17, §2.18). */
#include "ike-lite/crypto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void ike_sa_keys_free(struct ike_sa_keys *k)
{
	if (!k)
		return;
	secret_free(&k->sk_d);
	secret_free(&k->sk_ai);
	secret_free(&k->sk_ar);
	secret_free(&k->sk_ei);
	secret_free(&k->sk_er);
	secret_free(&k->sk_pi);
	secret_free(&k->sk_pr);
}

void ike_child_keys_free(struct ike_child_keys *k)
{
	if (!k)
		return;
	secret_free(&k->encr_i);
	secret_free(&k->integ_i);
	secret_free(&k->encr_r);
	secret_free(&k->integ_r);
}

/* prf(key, parts) into a fresh secret of the PRF's length. */
static int prf_to_secret(uint16_t prf, const uint8_t *key, size_t key_len,
			 const struct ike_span *parts, size_t n, struct secret *out)
{
	struct secret tmp = { 0 };
	size_t len = ike_prf_len(prf);
	int rc;

	if (!len)
		return -ENOTSUP;
	if ((rc = secret_alloc(&tmp, len)) < 0)
		return rc;
	if ((rc = ike_prf(prf, key, key_len, parts, n, tmp.data)) < 0) {
		secret_free(&tmp);
		return rc;
	}
	secret_free(out);
	*out = tmp;
	return 0;
}

int ike_skeyseed(uint16_t prf, const uint8_t *ni, size_t ni_len,
		 const uint8_t *nr, size_t nr_len, const struct secret *g_ir,
		 struct secret *out)
{
	struct secret key = { 0 };
	struct ike_span data = { g_ir->data, g_ir->len };
	int rc;

	/* RFC 7296 §2.14: SKEYSEED = prf(Ni | Nr, g^ir).  The PRFs here are
	 * all HMAC, which take the concatenated nonces whole as the key. */
	if ((rc = secret_alloc(&key, ni_len + nr_len)) < 0)
		return rc;
	memcpy(key.data, ni, ni_len);
	memcpy(key.data + ni_len, nr, nr_len);
	rc = prf_to_secret(prf, key.data, key.len, &data, 1, out);
	secret_free(&key);
	return rc;
}

int ike_skeyseed_rekey(uint16_t old_prf, const struct secret *old_sk_d,
		       const struct secret *g_ir, const uint8_t *ni, size_t ni_len,
		       const uint8_t *nr, size_t nr_len, struct secret *out)
{
	/* RFC 7296 §2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr),
	 * with the old IKE SA's PRF since the exchange belongs to it. */
	struct ike_span parts[3] = {
		{ g_ir->data, g_ir->len }, { ni, ni_len }, { nr, nr_len },
	};
	return prf_to_secret(old_prf, old_sk_d->data, old_sk_d->len, parts, 3, out);
}

/* Cut consecutive pieces of a prf+ stream into secrets; a failure sticks
 * in *rc so a run of cuts is checked once. */
static void take(int *rc, const uint8_t *stream, size_t *pos, size_t len,
		 struct secret *out)
{
	if (*rc == 0)
		*rc = secret_set(out, stream + *pos, len);
	*pos += len;
}

int ike_sa_keys_derive(const struct ike_suite *s, const struct secret *skeyseed,
		       const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
		       const uint8_t spi_i[8], const uint8_t spi_r[8],
		       struct ike_sa_keys *out)
{
	struct ike_span seed[4] = {
		{ ni, ni_len }, { nr, nr_len }, { spi_i, 8 }, { spi_r, 8 },
	};
	struct secret stream = { 0 };
	struct ike_sa_keys k = { 0 };
	size_t pos = 0;
	size_t total;
	int rc;

	if (!s->prf_len)
		return -EINVAL;
	/* RFC 7296 §2.14: {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi |
	 * SK_pr} = prf+ (SKEYSEED, Ni | Nr | SPIi | SPIr). */
	total = 3 * s->prf_len + 2 * s->integ_key_len + 2 * s->encr_key_len;
	if ((rc = secret_alloc(&stream, total)) < 0)
		return rc;
	rc = ike_prf_plus(s->prf, skeyseed->data, skeyseed->len, seed, 4,
			  stream.data, total);
	take(&rc, stream.data, &pos, s->prf_len, &k.sk_d);
	take(&rc, stream.data, &pos, s->integ_key_len, &k.sk_ai);
	take(&rc, stream.data, &pos, s->integ_key_len, &k.sk_ar);
	take(&rc, stream.data, &pos, s->encr_key_len, &k.sk_ei);
	take(&rc, stream.data, &pos, s->encr_key_len, &k.sk_er);
	take(&rc, stream.data, &pos, s->prf_len, &k.sk_pi);
	take(&rc, stream.data, &pos, s->prf_len, &k.sk_pr);
	secret_free(&stream);
	if (rc < 0) {
		ike_sa_keys_free(&k);
		return rc;
	}
	ike_sa_keys_free(out);
	*out = k;
	return 0;
}

int ike_child_keys_derive(uint16_t prf, const struct secret *sk_d,
			  const struct ike_suite *esp, const struct secret *g_ir,
			  const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
			  struct ike_child_keys *out)
{
	struct ike_span seed[3];
	size_t nseed = 0;
	struct secret stream = { 0 };
	struct ike_child_keys k = { 0 };
	size_t pos = 0;
	size_t total = 2 * (esp->encr_key_len + esp->integ_key_len);
	int rc;

	/* RFC 7296 §2.17: KEYMAT = prf+(SK_d, Ni | Nr), or with PFS
	 * prf+(SK_d, g^ir (new) | Ni | Nr).  Initiator-to-responder keys
	 * come first; encryption before integrity in each direction. */
	if (g_ir && g_ir->len)
		seed[nseed++] = (struct ike_span){ g_ir->data, g_ir->len };
	seed[nseed++] = (struct ike_span){ ni, ni_len };
	seed[nseed++] = (struct ike_span){ nr, nr_len };
	if ((rc = secret_alloc(&stream, total)) < 0)
		return rc;
	rc = ike_prf_plus(prf, sk_d->data, sk_d->len, seed, nseed, stream.data, total);
	take(&rc, stream.data, &pos, esp->encr_key_len, &k.encr_i);
	take(&rc, stream.data, &pos, esp->integ_key_len, &k.integ_i);
	take(&rc, stream.data, &pos, esp->encr_key_len, &k.encr_r);
	take(&rc, stream.data, &pos, esp->integ_key_len, &k.integ_r);
	secret_free(&stream);
	if (rc < 0) {
		ike_child_keys_free(&k);
		return rc;
	}
	ike_child_keys_free(out);
	*out = k;
	return 0;
}
