/* Unit tests for ike-lite's crypto primitives against published vectors:
 * RFC 4231 (HMAC-SHA-256/384/512), RFC 8439 §2.8.2 (ChaCha20-Poly1305),
 * the GCM specification (McGrew & Viega, test cases 3/4/15/16), RFC 3602
 * (AES-CBC), RFC 7748 §6.1/§6.2 (X25519, X448), RFC 5903 §8 (ECP),
 * RFC 3526 (MODP), and the peer-value checks of RFC 6989 / RFC 8031. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include <openssl/bn.h>

#include "ike-lite/constants.h"
#include "ike-lite/crypto.h"
#include "lib/err.h"
#include "lib/hex.h"
#include "lib/secret.h"

static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
	int n = hex_decode(out, cap, hex, strlen(hex));
	assert_true(n >= 0);
	return (size_t)n;
}

static void assert_hex_equal(const uint8_t *got, size_t len, const char *want_hex)
{
	uint8_t want[1024];
	size_t n = unhex(want, sizeof(want), want_hex);
	assert_int_equal(len, n);
	assert_memory_equal(got, want, n);
}

/* Scripted randomness: hands out the bytes of `script`, then fails the
 * test if more is asked for than was planned. */
static uint8_t script[1024];
static size_t script_len, script_pos;

static void script_set(const char *hex)
{
	script_len = unhex(script, sizeof(script), hex);
	script_pos = 0;
}

static void script_rand(void *buf, size_t len)
{
	assert_true(script_pos + len <= script_len);
	memcpy(buf, script + script_pos, len);
	script_pos += len;
}

/* ---------------------------------------------------------- RFC 4231 */

struct hmac_case {
	const char *key_hex;     /* NULL: key_fill x key_len */
	uint8_t key_fill;
	size_t key_len;
	const char *data;
	const char *h256, *h384, *h512;
};

static const struct hmac_case rfc4231[] = {
	{ NULL, 0x0b, 20, "Hi There",   /* test case 1 */
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
	  "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
	  "faea9ea9076ede7f4af152e8b2fa9cb6",
	  "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
	  "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
	{ "4a656665", 0, 0, "what do ya want for nothing?",   /* test case 2 */
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
	  "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
	  "8e2240ca5e69e2c78b3239ecfab21649",
	  "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
	  "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
	{ NULL, 0xaa, 131, "Test Using Larger Than Block-Size Key - Hash Key First",   /* 6 */
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
	  "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
	  "0c2ef6ab4030fe8296248df163f44952",
	  "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
	  "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598" },
	{ NULL, 0xaa, 131,   /* test case 7 */
	  "This is a test using a larger than block-size key and a larger than "
	  "block-size data. The key needs to be hashed before being used by the "
	  "HMAC algorithm.",
	  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
	  "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5"
	  "a678cc31e799176d3860e6110c46523e",
	  "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
	  "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58" },
};

static void hmac_rfc4231(void **state)
{
	for (size_t i = 0; i < sizeof(rfc4231) / sizeof(rfc4231[0]); i++) {
		const struct hmac_case *c = &rfc4231[i];
		uint8_t key[200], out[64];
		size_t klen;
		const char *want[3] = { c->h256, c->h384, c->h512 };
		const uint16_t prf[3] = { IKE_PRF_HMAC_SHA2_256, IKE_PRF_HMAC_SHA2_384,
					  IKE_PRF_HMAC_SHA2_512 };
		if (c->key_hex) {
			klen = unhex(key, sizeof(key), c->key_hex);
		} else {
			klen = c->key_len;
			memset(key, c->key_fill, klen);
		}
		for (int j = 0; j < 3; j++) {
			/* Split the data in two parts to exercise the
			 * concatenation as well. */
			size_t dl = strlen(c->data), half = dl / 3;
			struct ike_span parts[2] = {
				{ (const uint8_t *)c->data, half },
				{ (const uint8_t *)c->data + half, dl - half },
			};
			memset(out, 0, sizeof(out));
			assert_int_equal(ike_prf(prf[j], key, klen, parts, 2, out), 0);
			assert_hex_equal(out, ike_prf_len(prf[j]), want[j]);
		}
	}
}

static void prf_lengths_and_unknown(void **state)
{
	uint8_t out[64];
	struct ike_span p = { (const uint8_t *)"x", 1 };
	assert_int_equal(ike_prf_len(IKE_PRF_HMAC_SHA2_256), 32);
	assert_int_equal(ike_prf_len(IKE_PRF_HMAC_SHA2_384), 48);
	assert_int_equal(ike_prf_len(IKE_PRF_HMAC_SHA2_512), 64);
	assert_int_equal(ike_prf_len(IKE_PRF_HMAC_SHA1), 0);
	assert_int_equal(ike_prf(IKE_PRF_HMAC_SHA1, out, 4, &p, 1, out), -ENOTSUP);
}

/* RFC 7296 §2.13, computed step by step with ike_prf. */
static void prf_plus_is_the_rfc_construction(void **state)
{
	const uint16_t prfs[3] = { IKE_PRF_HMAC_SHA2_256, IKE_PRF_HMAC_SHA2_384,
				   IKE_PRF_HMAC_SHA2_512 };
	for (int j = 0; j < 3; j++) {
		uint16_t prf = prfs[j];
		size_t h = ike_prf_len(prf);
		const uint8_t key[] = "prf+ key";
		const uint8_t s1[] = "seed part one", s2[] = "seed two";
		struct ike_span seed[2] = { { s1, sizeof(s1) - 1 }, { s2, sizeof(s2) - 1 } };
		uint8_t got[3 * 64 + 7], want[4 * 64], t[64];
		size_t out_len = 3 * h + 7;
		for (unsigned n = 1; n <= 4; n++) {
			uint8_t c = (uint8_t)n;
			struct ike_span parts[4];
			size_t np = 0;
			if (n > 1)
				parts[np++] = (struct ike_span){ t, h };
			parts[np++] = seed[0];
			parts[np++] = seed[1];
			parts[np++] = (struct ike_span){ &c, 1 };
			assert_int_equal(ike_prf(prf, key, sizeof(key) - 1, parts, np, t), 0);
			memcpy(want + (n - 1) * h, t, h);
		}
		assert_int_equal(ike_prf_plus(prf, key, sizeof(key) - 1, seed, 2, got, out_len), 0);
		assert_memory_equal(got, want, out_len);
		/* More than 255 blocks is not defined. */
		assert_int_equal(ike_prf_plus(prf, key, 8, seed, 2, got, 0), 0);
	}
	{
		static uint8_t big[256 * 32];
		struct ike_span s = { (const uint8_t *)"s", 1 };
		assert_int_equal(ike_prf_plus(IKE_PRF_HMAC_SHA2_256, big, 4, &s, 1, big, 255 * 32), 0);
		assert_int_equal(ike_prf_plus(IKE_PRF_HMAC_SHA2_256, big, 4, &s, 1, big, 255 * 32 + 1),
				 -EINVAL);
	}
}

/* -------------------------------------------------------------- AEAD */

static void suite_or_fail(struct ike_suite *s, uint16_t encr, uint16_t bits, uint16_t integ)
{
	struct pvpn_err e = { 0 };
	assert_int_equal(ike_suite_init(s, encr, bits, integ, IKE_PRF_HMAC_SHA2_256,
					IKE_DH_CURVE25519, &e), 0);
}

static void aead_vector(const struct ike_suite *s, const char *key_hex, const char *salt_hex,
			const char *iv_hex, const char *aad_hex, const char *pt_hex,
			const char *ct_hex, const char *tag_hex)
{
	uint8_t kb[64], iv[8], aad[64], pt[256], ct[256], out[256], tag[16];
	struct secret key = { 0 };
	size_t kl = unhex(kb, sizeof(kb), key_hex);
	kl += unhex(kb + kl, sizeof(kb) - kl, salt_hex);
	assert_int_equal(unhex(iv, sizeof(iv), iv_hex), 8);
	size_t al = unhex(aad, sizeof(aad), aad_hex);
	size_t pl = unhex(pt, sizeof(pt), pt_hex);
	assert_int_equal(unhex(ct, sizeof(ct), ct_hex), pl);
	assert_int_equal(secret_set(&key, kb, kl), 0);

	assert_int_equal(ike_aead_seal(s, &key, iv, aad, al, pt, pl, out, tag), 0);
	assert_memory_equal(out, ct, pl);
	assert_hex_equal(tag, 16, tag_hex);

	memset(out, 0, sizeof(out));
	assert_int_equal(ike_aead_open(s, &key, iv, aad, al, ct, pl, tag, out), 0);
	assert_memory_equal(out, pt, pl);
	/* One flipped bit anywhere fails the tag. */
	tag[15] ^= 1;
	assert_int_equal(ike_aead_open(s, &key, iv, aad, al, ct, pl, tag, out), -EBADMSG);
	tag[15] ^= 1;
	ct[0] ^= 0x80;
	assert_int_equal(ike_aead_open(s, &key, iv, aad, al, ct, pl, tag, out), -EBADMSG);
	ct[0] ^= 0x80;
	if (al) {
		aad[al - 1] ^= 1;
		assert_int_equal(ike_aead_open(s, &key, iv, aad, al, ct, pl, tag, out), -EBADMSG);
	}
	secret_free(&key);
}

static void chacha20_poly1305_rfc8439(void **state)
{
	struct ike_suite s;
	suite_or_fail(&s, IKE_ENCR_CHACHA20_POLY1305, 0, IKE_INTEG_NONE);
	assert_int_equal(s.encr_key_len, 36);
	assert_int_equal(s.iv_len, 8);
	assert_int_equal(s.icv_len, 16);
	/* RFC 8439 §2.8.2: nonce = 07000000 | 4041424344454647, which is
	 * RFC 7634's salt | IV. */
	aead_vector(&s,
		    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
		    "07000000", "4041424344454647", "50515253c0c1c2c3c4c5c6c7",
		    "4c616469657320616e642047656e746c656d656e206f662074686520636c6173"
		    "73206f66202739393a204966204920636f756c64206f6666657220796f75206f"
		    "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"
		    "637265656e20776f756c642062652069742e",
		    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
		    "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
		    "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
		    "3ff4def08e4b7a9de576d26586cec64b6116",
		    "1ae10b594f09e26a7e902ecbd0600691");
}

/* RFC 7634 Appendix B: an INFORMATIONAL request with one Notify
 * (SET_WINDOW_SIZE 10), protected as an SK payload. */
static void chacha20_poly1305_rfc7634_ikev2(void **state)
{
	struct ike_suite s;
	struct secret key = { 0 };
	uint8_t kb[36], m[128], orig[128], iv[8];
	const uint8_t *plain;
	size_t len, plen;
	struct pvpn_err e = { 0 };
	static const char want[] =
		"c0c1c2c3c4c5c6c7d0d1d2d3d4d5d6d72e20250000000009000000452900002910111213"
		"14151617610394701f8d017f7c129248896b71bfe25236efd7cdc67066906315b2";

	suite_or_fail(&s, IKE_ENCR_CHACHA20_POLY1305, 0, IKE_INTEG_NONE);
	unhex(kb, sizeof(kb), "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
			      "a0a1a2a3");
	assert_int_equal(secret_set(&key, kb, sizeof(kb)), 0);
	unhex(iv, sizeof(iv), "1011121314151617");
	memset(m, 0, sizeof(m));
	/* IKE header (lengths are filled in by the seal) and SK header. */
	unhex(m, 28, "c0c1c2c3c4c5c6c7d0d1d2d3d4d5d6d72e20250000000009ffffffff");
	m[28] = IKE_PT_NOTIFY;
	/* Notify: no SPI, type 16385 (SET_WINDOW_SIZE), window 10. */
	unhex(m + 28 + 4 + 8, 12, "0000000c000040010000000a");
	assert_int_equal(ike_sk_seal_raw(&s, &key, NULL, iv, m, sizeof(m), 28, 12, 0, &len, &e), 0);
	assert_hex_equal(m, len, want);
	memcpy(orig, m, len);
	assert_int_equal(ike_sk_open(&s, &key, NULL, m, len, 28, &plain, &plen, &e), 0);
	assert_int_equal(plen, 12);
	assert_hex_equal(plain, plen, "0000000c000040010000000a");
	orig[len - 1] ^= 1;
	assert_int_equal(ike_sk_open(&s, &key, NULL, orig, len, 28, &plain, &plen, &e), -EBADMSG);
	secret_free(&key);
}

#define GCM_P60 "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" \
		"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define GCM_P64 GCM_P60 "1aafd255"
#define GCM_A   "feedfacedeadbeeffeedfacedeadbeefabaddad2"

static void aes_gcm_spec_vectors(void **state)
{
	struct ike_suite s128, s256;
	suite_or_fail(&s128, IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE);
	suite_or_fail(&s256, IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE);
	assert_int_equal(s128.encr_key_len, 20);
	assert_int_equal(s256.encr_key_len, 36);
	/* The 96-bit IV cafebabe facedbaddecaf888 = salt | explicit IV. */
	/* Test case 3 */
	aead_vector(&s128, "feffe9928665731c6d6a8f9467308308", "cafebabe", "facedbaddecaf888", "",
		    GCM_P64,
		    "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
		    "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
		    "4d5c2af327cd64a62cf35abd2ba6fab4");
	/* Test case 4 */
	aead_vector(&s128, "feffe9928665731c6d6a8f9467308308", "cafebabe", "facedbaddecaf888", GCM_A,
		    GCM_P60,
		    "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
		    "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
		    "5bc94fbc3221a5db94fae95ae7121a47");
	/* AES-256: libsodium (AES-NI) and OpenSSL must both give the
	 * vectors; the loop runs the OpenSSL path second. */
	for (int lib = 0; lib < 2; lib++) {
		ike_aead_use_sodium_aes(lib == 0);
		/* Test case 15 */
		aead_vector(&s256, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
			    "cafebabe", "facedbaddecaf888", "", GCM_P64,
			    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
			    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
			    "b094dac5d93471bdec1a502270e3cc6c");
		/* Test case 16 */
		aead_vector(&s256, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
			    "cafebabe", "facedbaddecaf888", GCM_A, GCM_P60,
			    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
			    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
			    "76fc6ece0f4e1768cddf8853bb2d551b");
	}
	ike_aead_use_sodium_aes(true);
}

static void aes_cbc_rfc3602(void **state)
{
	struct ike_suite s;
	struct secret key = { 0 };
	uint8_t k[16], iv[16], pt[16], out[16], back[16];
	suite_or_fail(&s, IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_256_128);
	/* RFC 3602 §4 case #1 */
	unhex(k, 16, "06a9214036b8a15b512e03d534120006");
	unhex(iv, 16, "3dafba429d9eb430b422da802c9fac41");
	memcpy(pt, "Single block msg", 16);
	assert_int_equal(secret_set(&key, k, 16), 0);
	assert_int_equal(ike_cbc_crypt(&s, &key, iv, pt, 16, out, true), 0);
	assert_hex_equal(out, 16, "e353779c1079aeb82708942dbe77181a");
	assert_int_equal(ike_cbc_crypt(&s, &key, iv, out, 16, back, false), 0);
	assert_memory_equal(back, pt, 16);
	assert_int_equal(ike_cbc_crypt(&s, &key, iv, pt, 15, out, true), -EINVAL);
	secret_free(&key);
}

static void suite_sizes(void **state)
{
	struct ike_suite s;
	struct pvpn_err e = { 0 };
	suite_or_fail(&s, IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_512_256);
	assert_false(s.aead);
	assert_int_equal(s.encr_key_len, 32);
	assert_int_equal(s.integ_key_len, 64);
	assert_int_equal(s.icv_len, 32);
	assert_int_equal(s.iv_len, 16);
	assert_int_equal(s.block_len, 16);
	suite_or_fail(&s, IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_384_192);
	assert_int_equal(s.integ_key_len, 48);
	assert_int_equal(s.icv_len, 24);
	assert_int_equal(ike_suite_init(&s, IKE_ENCR_AES_CBC, 192, IKE_INTEG_HMAC_SHA2_256_128,
					IKE_PRF_HMAC_SHA2_256, 14, &e), -ENOTSUP);
	assert_int_equal(ike_suite_init(&s, IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_HMAC_SHA2_256_128,
					IKE_PRF_HMAC_SHA2_256, 14, &e), -EINVAL);
	assert_int_equal(ike_suite_init(&s, IKE_ENCR_AES_CBC, 128, IKE_INTEG_NONE,
					IKE_PRF_HMAC_SHA2_256, 14, &e), -EINVAL);
	assert_int_equal(ike_suite_init(&s, IKE_ENCR_3DES, 0, IKE_INTEG_HMAC_SHA2_256_128,
					IKE_PRF_HMAC_SHA2_256, 14, &e), -ENOTSUP);
	assert_int_equal(ike_suite_init(&s, IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_256_128,
					IKE_PRF_HMAC_SHA1, 14, &e), -ENOTSUP);
	assert_int_equal(ike_suite_init(&s, IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_256_128,
					IKE_PRF_HMAC_SHA2_256, 2, &e), -ENOTSUP);
	assert_true(strlen(e.msg) > 0);
	/* ESP suite: no PRF, DH optional. */
	assert_int_equal(ike_suite_init_esp(&s, IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE, 0, &e), 0);
	assert_int_equal(s.encr_key_len, 20);
	assert_int_equal(s.integ_key_len, 0);
}

/* ---------------------------------------------------------------- DH */

struct dh_pair_vec {
	uint16_t group;
	const char *i, *gi, *r, *gr, *shared;
};

static void dh_pair(const struct dh_pair_vec *v)
{
	struct pvpn_err e = { 0 };
	uint8_t pub[600];
	struct secret si = { 0 }, sr = { 0 };
	struct ike_dh_ctx *a, *b;
	int n;

	script_set(v->i);
	a = ike_dh_new(v->group, script_rand, &e);
	assert_non_null(a);
	assert_int_equal(script_pos, script_len);
	n = ike_dh_public(a, pub, sizeof(pub));
	assert_int_equal(n, (int)ike_dh_public_len(v->group));
	assert_hex_equal(pub, (size_t)n, v->gi);
	assert_int_equal(ike_dh_public(a, pub, (size_t)n - 1), -ENOBUFS);

	script_set(v->r);
	b = ike_dh_new(v->group, script_rand, &e);
	assert_non_null(b);
	n = ike_dh_public(b, pub, sizeof(pub));
	assert_hex_equal(pub, (size_t)n, v->gr);

	assert_int_equal(ike_dh_shared(a, pub, (size_t)n, &si, &e), 0);
	assert_hex_equal(si.data, si.len, v->shared);
	assert_int_equal(si.len, ike_dh_shared_len(v->group));
	n = ike_dh_public(a, pub, sizeof(pub));
	assert_int_equal(ike_dh_shared(b, pub, (size_t)n, &sr, &e), 0);
	assert_int_equal(sr.len, si.len);
	assert_memory_equal(sr.data, si.data, si.len);
	secret_free(&si);
	secret_free(&sr);
	ike_dh_free(a);
	ike_dh_free(b);
}

static void x25519_rfc7748(void **state)
{
	/* RFC 7748 §6.1 */
	static const struct dh_pair_vec v = { IKE_DH_CURVE25519,
		"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
		"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
		"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
		"de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
		"4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742" };
	dh_pair(&v);
}

static void x448_rfc7748(void **state)
{
	/* RFC 7748 §6.2 */
	static const struct dh_pair_vec v = { IKE_DH_CURVE448,
		"9a8f4925d1519f5775cf46b04b5800d4ee9ee8bae8bc5565d498c28d"
		"d9c9baf574a9419744897391006382a6f127ab1d9ac2d8c0a598726b",
		"9b08f7cc31b7e3e67d22d5aea121074a273bd2b83de09c63faa73d2c"
		"22c5d9bbc836647241d953d40c5b12da88120d53177f80e532c41fa0",
		"1c306a7ac2a0e2e0990b294470cba339e6453772b075811d8fad0d1d"
		"6927c120bb5ee8972b0d3e21374c9c921b09d1b0366f10b65173992d",
		"3eb7a829b0cd20f5bcfc0b599b6feccf6da4627107bdb0d4f345b430"
		"27d8b972fc3e34fb4232a13ca706dcb57aec3dae07bdc1c67bf33609",
		"07fff4181ac6cc95ec1c16a94a0f74d12da232ce40a77552281d282b"
		"b60c0b56fd2464c335543936521c24403085d59a449a5037514a879d" };
	dh_pair(&v);
}

static void ecp_rfc5903(void **state)
{
	/* RFC 5903 §8.1, §8.2, §8.3: KE data is x | y, g^ir the x. */
	static const struct dh_pair_vec v[] = {
		{ IKE_DH_ECP256,
		  "c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433",
		  "dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180"
		  "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3",
		  "c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53",
		  "d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63"
		  "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab",
		  "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de" },
		{ IKE_DH_ECP384,
		  "099f3c7034d4a2c699884d73a375a67f7624ef7c6b3c0f160647b67414dce655"
		  "e35b538041e649ee3faef896783ab194",
		  "667842d7d180ac2cde6f74f37551f55755c7645c20ef73e31634fe72b4c55ee6"
		  "de3ac808acb4bdb4c88732aee95f41aa"
		  "9482ed1fc0eeb9cafc4984625ccfc23f65032149e0e144ada024181535a0f38e"
		  "eb9fcff3c2c947dae69b4c634573a81c",
		  "41cb0779b4bdb85d47846725fbec3c9430fab46cc8dc5060855cc9bda0aa2942"
		  "e0308312916b8ed2960e4bd55a7448fc",
		  "e558dbef53eecde3d3fccfc1aea08a89a987475d12fd950d83cfa41732bc509d"
		  "0d1ac43a0336def96fda41d0774a3571"
		  "dcfbec7aacf3196472169e838430367f66eebe3c6e70c416dd5f0c68759dd1ff"
		  "f83fa40142209dff5eaad96db9e6386c",
		  "11187331c279962d93d604243fd592cb9d0a926f422e47187521287e7156c5c4"
		  "d603135569b9e9d09cf5d4a270f59746" },
		{ IKE_DH_ECP521,
		  "0037ade9319a89f4dabdb3ef411aaccca5123c61acab57b5393dce47608172a0"
		  "95aa85a30fe1c2952c6771d937ba9777f5957b2639bab072462f68c27a57382d"
		  "4a52",
		  "0015417e84dbf28c0ad3c278713349dc7df153c897a1891bd98bab4357c9ecbe"
		  "e1e3bf42e00b8e380aeae57c2d107564941885942af5a7f4601723c4195d176c"
		  "ed3e"
		  "017cae20b6641d2eeb695786d8c946146239d099e18e1d5a514c739d7cb4a10a"
		  "d8a788015ac405d7799dc75e7b7d5b6cf2261a6a7f1507438bf01beb6ca3926f"
		  "9582",
		  "0145ba99a847af43793fdd0e872e7cdfa16be30fdc780f97bccc3f078380201e"
		  "9c677d600b343757a3bdbf2a3163e4c2f869cca7458aa4a4effc311f5cb15168"
		  "5eb9",
		  "00d0b3975ac4b799f5bea16d5e13e9af971d5e9b984c9f39728b5e5739735a21"
		  "9b97c356436adc6e95bb0352f6be64a6c2912d4ef2d0433ced2b6171640012d9"
		  "460f"
		  "015c68226383956e3bd066e797b623c27ce0eac2f551a10c2c724d9852077b87"
		  "220b6536c5c408a1d2aebb8e86d678ae49cb57091f4732296579ab44fcd17f0f"
		  "c56a",
		  "01144c7d79ae6956bc8edb8e7c787c4521cb086fa64407f97894e5e6b2d79b04"
		  "d1427e73ca4baa240a34786859810c06b3c715a3a8cc3151f2bee417996d19f3"
		  "ddea" },
	};
	for (size_t i = 0; i < 3; i++)
		dh_pair(&v[i]);
}

/* A fresh context with the library's own randomness. */
static struct ike_dh_ctx *fresh(uint16_t group)
{
	struct pvpn_err e = { 0 };
	struct ike_dh_ctx *d = ike_dh_new(group, NULL, &e);
	assert_non_null(d);
	return d;
}

static void expect_reject(struct ike_dh_ctx *d, const uint8_t *peer, size_t len)
{
	struct pvpn_err e = { 0 };
	struct secret out = { 0 };
	assert_int_equal(ike_dh_shared(d, peer, len, &out, &e), -EINVAL);
	assert_int_equal(e.code, -EINVAL);
	assert_true(strlen(e.msg) > 0);
	assert_null(out.data);
}

static void fresh_private_value_each_time(void **state)
{
	const uint16_t groups[] = { 14, 19, 31, 32 };
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		uint8_t p1[600], p2[600];
		struct ike_dh_ctx *a = fresh(groups[i]), *b = fresh(groups[i]);
		int n1 = ike_dh_public(a, p1, sizeof(p1)), n2 = ike_dh_public(b, p2, sizeof(p2));
		assert_int_equal(n1, n2);
		assert_memory_not_equal(p1, p2, (size_t)n1);
		ike_dh_free(a);
		ike_dh_free(b);
	}
	assert_false(ike_dh_supported(2));
	assert_null(ike_dh_new(2, NULL, NULL));
}

static void curve_low_order_points_refused(void **state)
{
	uint8_t u[56];
	struct ike_dh_ctx *d = fresh(IKE_DH_CURVE25519);
	/* u = 0 and u = 1, and a point of order 8 (RFC 7748 §7). */
	memset(u, 0, 32);
	expect_reject(d, u, 32);
	u[0] = 1;
	expect_reject(d, u, 32);
	unhex(u, 32, "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800");
	expect_reject(d, u, 32);
	/* Wrong lengths. */
	expect_reject(d, u, 31);
	expect_reject(d, u, 33);
	ike_dh_free(d);

	d = fresh(IKE_DH_CURVE448);
	memset(u, 0, 56);
	expect_reject(d, u, 56);
	u[0] = 1;
	expect_reject(d, u, 56);
	expect_reject(d, u, 32);
	ike_dh_free(d);
}

static void ecp_bad_points_refused(void **state)
{
	uint8_t pt[132];
	struct ike_dh_ctx *d = fresh(IKE_DH_ECP256);
	/* The RFC 5903 responder point with y changed: off the curve. */
	unhex(pt, sizeof(pt),
	      "d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63"
	      "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab");
	{
		struct secret ok = { 0 };
		assert_int_equal(ike_dh_shared(d, pt, 64, &ok, NULL), 0);
		secret_free(&ok);
	}
	pt[63] ^= 1;
	expect_reject(d, pt, 64);
	pt[63] ^= 1;
	/* Wrong length, the 0x04 form, (0,0) (how infinity would look). */
	expect_reject(d, pt, 63);
	expect_reject(d, pt, 65);
	memset(pt, 0, 64);
	expect_reject(d, pt, 64);
	/* x = p: outside the field. */
	unhex(pt, 32, "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
	expect_reject(d, pt, 64);
	ike_dh_free(d);

	d = fresh(IKE_DH_ECP521);
	memset(pt, 0xff, 132);
	expect_reject(d, pt, 132);
	ike_dh_free(d);
}

static const char oakley_prefix[] = "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd1";

static BIGNUM *bn_from(const uint8_t *p, size_t n)
{
	BIGNUM *b = BN_bin2bn(p, (int)n, NULL);
	assert_non_null(b);
	return b;
}

static void modp_rfc3526(void **state)
{
	const struct { uint16_t group; int bits; BIGNUM *(*prime)(BIGNUM *); } g[] = {
		{ IKE_DH_MODP2048, 2048, BN_get_rfc3526_prime_2048 },
		{ IKE_DH_MODP3072, 3072, BN_get_rfc3526_prime_3072 },
		{ IKE_DH_MODP4096, 4096, BN_get_rfc3526_prime_4096 },
	};
	BN_CTX *ctx = BN_CTX_new();
	assert_non_null(ctx);
	for (size_t i = 0; i < 3; i++) {
		size_t plen = (size_t)g[i].bits / 8;
		uint8_t pb[512], pub_a[512], pub_b[512], want[512], pre[24];
		BIGNUM *p = g[i].prime(NULL), *q = BN_new(), *two = BN_new(), *x = NULL,
		       *y = BN_new(), *yb = NULL;
		struct secret s = { 0 };
		struct ike_dh_ctx *a, *b;
		char xhex[129];

		assert_non_null(p);
		/* RFC 3526: the prime has the stated length, its top and
		 * bottom 64 bits are all ones, it starts with the bits of pi
		 * shared by every Oakley group, and (p-1)/2 is prime too. */
		assert_int_equal(BN_num_bits(p), g[i].bits);
		assert_int_equal(BN_bn2binpad(p, pb, (int)plen), (int)plen);
		unhex(pre, sizeof(pre), oakley_prefix);
		assert_memory_equal(pb, pre, sizeof(pre));
		for (int k = 0; k < 8; k++)
			assert_int_equal(pb[plen - 1 - k], 0xff);
		assert_non_null(BN_copy(q, p));
		assert_true(BN_rshift1(q, q));
		if (g[i].bits == 2048) {
			/* Primality of p and q (slow; once is enough). */
			assert_int_equal(BN_check_prime(p, ctx, NULL), 1);
			assert_int_equal(BN_check_prime(q, ctx, NULL), 1);
		}
		assert_int_equal(ike_dh_public_len(g[i].group), plen);
		assert_int_equal(ike_dh_shared_len(g[i].group), plen);

		/* Generator 2 and the exponent from the random source: g^x
		 * recomputed here, the top bit forced as dh.c documents. */
		memset(xhex, 0, sizeof(xhex));
		for (int k = 0; k < 64; k++)
			snprintf(xhex + 2 * k, 3, "%02x", (unsigned)((k * 37 + (int)i) & 0xff));
		script_set(xhex);
		a = ike_dh_new(g[i].group, script_rand, NULL);
		assert_non_null(a);
		script[0] |= 0x80;
		x = bn_from(script, 64);
		assert_true(BN_set_word(two, 2));
		assert_true(BN_mod_exp(y, two, x, p, ctx));
		assert_int_equal(ike_dh_public(a, pub_a, sizeof(pub_a)), (int)plen);
		assert_int_equal(BN_bn2binpad(y, want, (int)plen), (int)plen);
		assert_memory_equal(pub_a, want, plen);

		/* Shared value = (g^y_b)^x, zero-padded to the prime. */
		b = fresh(g[i].group);
		assert_int_equal(ike_dh_public(b, pub_b, sizeof(pub_b)), (int)plen);
		assert_int_equal(ike_dh_shared(a, pub_b, plen, &s, NULL), 0);
		yb = bn_from(pub_b, plen);
		assert_true(BN_mod_exp(y, yb, x, p, ctx));
		assert_int_equal(BN_bn2binpad(y, want, (int)plen), (int)plen);
		assert_int_equal(s.len, plen);
		assert_memory_equal(s.data, want, plen);
		secret_free(&s);

		/* RFC 6989 §2.1: 0, 1, p-1, p refused; 2 and p-2 accepted. */
		memset(want, 0, plen);
		expect_reject(a, want, plen);
		want[plen - 1] = 1;
		expect_reject(a, want, plen);
		want[plen - 1] = 2;
		assert_int_equal(ike_dh_shared(a, want, plen, &s, NULL), 0);
		secret_free(&s);
		memcpy(want, pb, plen);
		expect_reject(a, want, plen);          /* p */
		want[plen - 1] -= 1;
		expect_reject(a, want, plen);          /* p-1 */
		want[plen - 1] -= 1;
		assert_int_equal(ike_dh_shared(a, want, plen, &s, NULL), 0); /* p-2 */
		secret_free(&s);
		memset(want, 0xff, plen);
		expect_reject(a, want, plen);          /* > p */
		expect_reject(a, pub_b, plen - 1);
		expect_reject(a, pub_b + 1, plen - 1);

		ike_dh_free(a);
		ike_dh_free(b);
		BN_free(p); BN_free(q); BN_free(two); BN_free(x); BN_free(y); BN_free(yb);
	}
	BN_CTX_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hmac_rfc4231),
		cmocka_unit_test(prf_lengths_and_unknown),
		cmocka_unit_test(prf_plus_is_the_rfc_construction),
		cmocka_unit_test(chacha20_poly1305_rfc8439),
		cmocka_unit_test(chacha20_poly1305_rfc7634_ikev2),
		cmocka_unit_test(aes_gcm_spec_vectors),
		cmocka_unit_test(aes_cbc_rfc3602),
		cmocka_unit_test(suite_sizes),
		cmocka_unit_test(x25519_rfc7748),
		cmocka_unit_test(x448_rfc7748),
		cmocka_unit_test(ecp_rfc5903),
		cmocka_unit_test(fresh_private_value_each_time),
		cmocka_unit_test(curve_low_order_points_refused),
		cmocka_unit_test(ecp_bad_points_refused),
		cmocka_unit_test(modp_rfc3526),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
