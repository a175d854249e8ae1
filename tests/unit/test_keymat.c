/* Key derivation constructions without a capture to compare against
 * (RFC 7296 §2.17 with PFS, §2.18 rekeyed IKE SA), SK payload protection
 * for every suite, and the codec builder's SK layout sealed by crypto. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "ike-lite/constants.h"
#include "ike-lite/crypto.h"
#include "ike-lite/message.h"
#include "lib/err.h"
#include "lib/secret.h"

/* Deterministic bytes: a counter stream, so every call differs. */
static uint8_t ctr;
static void counter_rand(void *buf, size_t len)
{
	uint8_t *p = buf;
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(ctr++ * 29 + 7);
}

static void fill(struct secret *s, size_t len, uint8_t seed)
{
	assert_int_equal(secret_alloc(s, len), 0);
	for (size_t i = 0; i < len; i++)
		s->data[i] = (uint8_t)(seed + i * 3);
}

static const uint8_t ni[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
				17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
static const uint8_t nr[20] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9,
				0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3 };

static void rekey_skeyseed(void **state)
{
	const uint16_t prfs[3] = { IKE_PRF_HMAC_SHA2_256, IKE_PRF_HMAC_SHA2_384,
				   IKE_PRF_HMAC_SHA2_512 };
	for (int j = 0; j < 3; j++) {
		struct secret sk_d = { 0 }, g = { 0 }, out = { 0 }, initial = { 0 };
		uint8_t want[64];
		size_t h = ike_prf_len(prfs[j]);
		fill(&sk_d, h, 0x11);
		fill(&g, 256, 0x42);
		/* RFC 7296 §2.18: prf(SK_d (old), g^ir (new) | Ni | Nr). */
		struct ike_span parts[3] = { { g.data, g.len }, { ni, sizeof(ni) }, { nr, sizeof(nr) } };
		assert_int_equal(ike_prf(prfs[j], sk_d.data, sk_d.len, parts, 3, want), 0);
		assert_int_equal(ike_skeyseed_rekey(prfs[j], &sk_d, &g, ni, sizeof(ni), nr,
						    sizeof(nr), &out), 0);
		assert_int_equal(out.len, h);
		assert_memory_equal(out.data, want, h);
		/* Not the initial SA's construction. */
		assert_int_equal(ike_skeyseed(prfs[j], ni, sizeof(ni), nr, sizeof(nr), &g, &initial), 0);
		assert_memory_not_equal(initial.data, out.data, h);
		/* §2.14 for comparison: prf(Ni | Nr, g^ir). */
		{
			uint8_t k[52];
			struct ike_span d = { g.data, g.len };
			memcpy(k, ni, 32);
			memcpy(k + 32, nr, 20);
			assert_int_equal(ike_prf(prfs[j], k, sizeof(k), &d, 1, want), 0);
			assert_memory_equal(initial.data, want, h);
		}
		secret_free(&sk_d); secret_free(&g); secret_free(&out); secret_free(&initial);
	}
}

static void child_keys_pfs_layout(void **state)
{
	struct ike_suite esp;
	struct secret sk_d = { 0 }, g = { 0 };
	struct ike_child_keys k = { 0 }, nopfs = { 0 };
	uint8_t stream[2 * (32 + 64)];
	struct pvpn_err e = { 0 };

	assert_int_equal(ike_suite_init_esp(&esp, IKE_ENCR_AES_CBC, 256,
					    IKE_INTEG_HMAC_SHA2_512_256, IKE_DH_ECP256, &e), 0);
	fill(&sk_d, 48, 0x33);
	fill(&g, 32, 0x99);
	/* RFC 7296 §2.17: KEYMAT = prf+(SK_d, g^ir (new) | Ni | Nr);
	 * encr_i | integ_i | encr_r | integ_r. */
	struct ike_span seed[3] = { { g.data, g.len }, { ni, sizeof(ni) }, { nr, sizeof(nr) } };
	assert_int_equal(ike_prf_plus(IKE_PRF_HMAC_SHA2_384, sk_d.data, sk_d.len, seed, 3,
				      stream, sizeof(stream)), 0);
	assert_int_equal(ike_child_keys_derive(IKE_PRF_HMAC_SHA2_384, &sk_d, &esp, &g, ni,
					       sizeof(ni), nr, sizeof(nr), &k), 0);
	assert_int_equal(k.encr_i.len, 32);
	assert_int_equal(k.integ_i.len, 64);
	assert_memory_equal(k.encr_i.data, stream, 32);
	assert_memory_equal(k.integ_i.data, stream + 32, 64);
	assert_memory_equal(k.encr_r.data, stream + 96, 32);
	assert_memory_equal(k.integ_r.data, stream + 128, 64);

	/* Without PFS the seed is Ni | Nr only. */
	assert_int_equal(ike_prf_plus(IKE_PRF_HMAC_SHA2_384, sk_d.data, sk_d.len, seed + 1, 2,
				      stream, sizeof(stream)), 0);
	assert_int_equal(ike_child_keys_derive(IKE_PRF_HMAC_SHA2_384, &sk_d, &esp, NULL, ni,
					       sizeof(ni), nr, sizeof(nr), &nopfs), 0);
	assert_memory_equal(nopfs.encr_i.data, stream, 32);
	assert_memory_equal(nopfs.integ_r.data, stream + 128, 64);
	assert_memory_not_equal(nopfs.encr_i.data, k.encr_i.data, 32);

	/* Deriving again replaces (and wipes) the old keys. */
	assert_int_equal(ike_child_keys_derive(IKE_PRF_HMAC_SHA2_384, &sk_d, &esp, &g, ni,
					       sizeof(ni), nr, sizeof(nr), &nopfs), 0);
	assert_memory_equal(nopfs.encr_i.data, k.encr_i.data, 32);
	ike_child_keys_free(&k);
	ike_child_keys_free(&nopfs);
	assert_null(k.encr_i.data);
	secret_free(&sk_d); secret_free(&g);
}

static void sa_keys_layout(void **state)
{
	struct ike_suite s;
	struct secret seed = { 0 };
	struct ike_sa_keys k = { 0 };
	uint8_t spi_i[8] = { 1, 1, 1, 1, 1, 1, 1, 1 }, spi_r[8] = { 2, 2, 2, 2, 2, 2, 2, 2 };
	uint8_t stream[3 * 64 + 2 * 64 + 2 * 32];
	struct pvpn_err e = { 0 };

	assert_int_equal(ike_suite_init(&s, IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_512_256,
					IKE_PRF_HMAC_SHA2_512, IKE_DH_ECP521, &e), 0);
	fill(&seed, 64, 0x5a);
	struct ike_span parts[4] = { { ni, 32 }, { nr, 20 }, { spi_i, 8 }, { spi_r, 8 } };
	assert_int_equal(ike_prf_plus(IKE_PRF_HMAC_SHA2_512, seed.data, 64, parts, 4, stream,
				      sizeof(stream)), 0);
	assert_int_equal(ike_sa_keys_derive(&s, &seed, ni, 32, nr, 20, spi_i, spi_r, &k), 0);
	/* §2.14: SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr */
	const struct { const struct secret *s; size_t off, len; } want[] = {
		{ &k.sk_d, 0, 64 }, { &k.sk_ai, 64, 64 }, { &k.sk_ar, 128, 64 },
		{ &k.sk_ei, 192, 32 }, { &k.sk_er, 224, 32 }, { &k.sk_pi, 256, 64 },
		{ &k.sk_pr, 320, 64 },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(want[i].s->len, want[i].len);
		assert_memory_equal(want[i].s->data, stream + want[i].off, want[i].len);
	}
	ike_sa_keys_free(&k);
	secret_free(&seed);
}

/* ------------------------------------------------------ SK every suite */

struct suite_case {
	uint16_t encr, bits, integ;
};

static const struct suite_case suites[] = {
	{ IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_256_128 },
	{ IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_384_192 },
	{ IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_512_256 },
	{ IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_256_128 },
	{ IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE },
	{ IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE },
	{ IKE_ENCR_CHACHA20_POLY1305, 0, IKE_INTEG_NONE },
};

/* A message with a header, one unencrypted payload before SK (covered by
 * the ICV / AAD all the same) and an SK payload of plain_len bytes. */
static size_t lay_out(uint8_t *m, size_t plain_len, size_t iv_len, size_t *sk_off)
{
	memset(m, 0, 28);
	for (int i = 0; i < 16; i++)
		m[i] = (uint8_t)(0x10 + i);
	m[16] = IKE_PT_VENDOR;
	m[17] = IKE_VERSION_2_0;
	m[18] = IKE_INFORMATIONAL;
	m[19] = IKE_FLAG_I;
	m[23] = 7;
	/* Vendor ID payload, 8 bytes of data. */
	m[28] = IKE_PT_SK; m[29] = 0; m[30] = 0; m[31] = 12;
	memcpy(m + 32, "vendorid", 8);
	*sk_off = 40;
	m[40] = IKE_PT_NOTIFY;
	for (size_t i = 0; i < plain_len; i++)
		m[*sk_off + 4 + iv_len + i] = (uint8_t)(i * 7);
	return *sk_off + 4 + iv_len + plain_len;
}

static void sk_every_suite(void **state)
{
	for (size_t c = 0; c < sizeof(suites) / sizeof(suites[0]); c++) {
		struct ike_suite s;
		struct secret ek = { 0 }, ik = { 0 };
		struct pvpn_err e = { 0 };
		assert_int_equal(ike_suite_init(&s, suites[c].encr, suites[c].bits, suites[c].integ,
						IKE_PRF_HMAC_SHA2_256, IKE_DH_MODP2048, &e), 0);
		fill(&ek, s.encr_key_len, (uint8_t)(c + 1));
		if (!s.aead)
			fill(&ik, s.integ_key_len, (uint8_t)(c + 100));
		for (size_t plain_len = 0; plain_len <= 40; plain_len += 13) {
			uint8_t m[256], orig[256], aead_out[256], tag[16];
			size_t sk_off, len, iv_len, pad_len, icv_len, plen;
			const uint8_t *plain;
			assert_int_equal(ike_sk_overhead(&s, plain_len, &iv_len, &pad_len, &icv_len), 0);
			lay_out(m, plain_len, iv_len, &sk_off);
			memcpy(orig, m, sizeof(m));
			ctr = 0;
			assert_int_equal(ike_sk_seal(&s, &ek, &ik, counter_rand, m, sizeof(m), sk_off,
						     plain_len, &len, &e), 0);
			assert_int_equal(len, sk_off + 4 + iv_len + plain_len + pad_len + 1 + icv_len);
			assert_int_equal(m[sk_off + 2] << 8 | m[sk_off + 3], len - sk_off);
			assert_int_equal(m[27], len);
			if (s.aead) {
				/* RFC 5282 §5.1 / RFC 7634 §4: the AAD is the
				 * header through the SK generic header, the
				 * nonce salt | IV: the bare AEAD agrees. */
				size_t ct = plain_len + pad_len + 1;
				uint8_t pt[64];
				memcpy(pt, orig + sk_off + 4 + iv_len, plain_len);
				memset(pt + plain_len, 0, pad_len);
				pt[plain_len + pad_len] = (uint8_t)pad_len;
				assert_int_equal(ike_aead_seal(&s, &ek, m + sk_off + 4, m, sk_off + 4, pt,
							       ct, aead_out, tag), 0);
				assert_memory_equal(aead_out, m + sk_off + 4 + iv_len, ct);
				assert_memory_equal(tag, m + len - 16, 16);
			} else {
				/* RFC 7296 §3.14: the ICV is the truncated
				 * HMAC from the header to the end of the
				 * ciphertext. */
				uint8_t mac[64];
				struct ike_span all = { m, len - icv_len };
				uint16_t prf = suites[c].integ == IKE_INTEG_HMAC_SHA2_256_128 ? IKE_PRF_HMAC_SHA2_256
					     : suites[c].integ == IKE_INTEG_HMAC_SHA2_384_192 ? IKE_PRF_HMAC_SHA2_384
					     : IKE_PRF_HMAC_SHA2_512;
				assert_int_equal(ike_prf(prf, ik.data, ik.len, &all, 1, mac), 0);
				assert_int_equal(icv_len * 2, ike_prf_len(prf));
				assert_memory_equal(mac, m + len - icv_len, icv_len);
			}
			assert_int_equal(ike_sk_open(&s, &ek, &ik, m, len, sk_off, &plain, &plen, &e), 0);
			assert_int_equal(plen, plain_len);
			assert_memory_equal(plain, orig + sk_off + 4 + iv_len, plain_len);

			/* The unencrypted payload before SK is covered. */
			ctr = 0;
			memcpy(m, orig, sizeof(m));
			assert_int_equal(ike_sk_seal(&s, &ek, &ik, counter_rand, m, sizeof(m), sk_off,
						     plain_len, &len, &e), 0);
			m[35] ^= 0x20;
			assert_int_equal(ike_sk_open(&s, &ek, &ik, m, len, sk_off, &plain, &plen, &e),
					 -EBADMSG);
		}
		/* A suite never filled in is refused, not divided by. */
		{
			struct ike_suite zero = { 0 };
			uint8_t m[128] = { 0 };
			const uint8_t *plain;
			size_t plen, len, sk_off;
			lay_out(m, 8, 8, &sk_off);
			assert_int_equal(ike_sk_open(&zero, &ek, &ik, m, 60, sk_off, &plain, &plen, &e),
					 -EINVAL);
			assert_int_equal(ike_sk_seal(&zero, &ek, &ik, counter_rand, m, sizeof(m), sk_off,
						     8, &len, &e), -ENOTSUP);
		}
		/* Wrong key sizes are refused before anything happens. */
		{
			uint8_t m[128];
			size_t sk_off, len;
			const uint8_t *plain;
			size_t plen;
			struct secret shortk = { 0 };
			fill(&shortk, s.encr_key_len - 1, 1);
			lay_out(m, 8, s.iv_len, &sk_off);
			assert_int_equal(ike_sk_seal(&s, &shortk, &ik, counter_rand, m, sizeof(m), sk_off,
						     8, &len, &e), -EINVAL);
			assert_int_equal(ike_sk_open(&s, &shortk, &ik, m, 60, sk_off, &plain, &plen, &e),
					 -EINVAL);
			secret_free(&shortk);
		}
		secret_free(&ek);
		secret_free(&ik);
	}
}

/* A pad length byte claiming more padding than there is, under a valid
 * ICV, is refused and leaves the message as it was. */
static void sk_bad_pad_length(void **state)
{
	struct ike_suite s;
	struct secret ek = { 0 };
	uint8_t m[128], orig[128], tag[16];
	const uint8_t pt[4] = { 1, 2, 3, 200 };   /* pad length 200 > 3 */
	size_t sk_off, len, plen;
	const uint8_t *plain;
	uint8_t iv[8] = { 0 };
	struct pvpn_err e = { 0 };
	assert_int_equal(ike_suite_init(&s, IKE_ENCR_CHACHA20_POLY1305, 0, IKE_INTEG_NONE,
					IKE_PRF_HMAC_SHA2_256, IKE_DH_CURVE25519, &e), 0);
	fill(&ek, 36, 9);
	/* A valid 3-byte message sets the lengths (4 encrypted bytes)... */
	lay_out(m, 3, 8, &sk_off);
	assert_int_equal(ike_sk_seal_raw(&s, &ek, NULL, iv, m, sizeof(m), sk_off, 3, 0, &len, &e), 0);
	/* ...then the 4 bytes are replaced by an authentic encryption of
	 * a plaintext whose pad length byte overruns it. */
	assert_int_equal(ike_aead_seal(&s, &ek, iv, m, sk_off + 4, pt, 4, m + sk_off + 12, tag), 0);
	memcpy(m + sk_off + 16, tag, 16);
	assert_int_equal(len, sk_off + 32);
	memcpy(orig, m, len);
	assert_int_equal(ike_sk_open(&s, &ek, NULL, m, len, sk_off, &plain, &plen, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "pad length"));
	assert_memory_equal(m, orig, len);
	secret_free(&ek);
}

/* The codec's builder lays out the SK payload; crypto seals it; the codec
 * parses what crypto opens. */
static void builder_then_seal(void **state)
{
	const struct suite_case *cases[2] = { &suites[0], &suites[5] };
	for (int c = 0; c < 2; c++) {
		struct ike_suite s;
		struct secret ek = { 0 }, ik = { 0 };
		struct pvpn_err e = { 0 };
		struct ike_builder b;
		struct ike_header h = { .version = IKE_VERSION_2_0, .exchange = IKE_INFORMATIONAL,
					.flags = IKE_FLAG_I, .message_id = 3 };
		struct ike_sk_layout lay;
		uint8_t buf[512], nonce[24];
		size_t len, plen;
		const uint8_t *plain;
		static struct ike_message m, inner;

		assert_int_equal(ike_suite_init(&s, cases[c]->encr, cases[c]->bits, cases[c]->integ,
						IKE_PRF_HMAC_SHA2_256, IKE_DH_MODP2048, &e), 0);
		fill(&ek, s.encr_key_len, 3);
		if (!s.aead)
			fill(&ik, s.integ_key_len, 4);
		memset(h.spi_i, 0xaa, 8);
		memset(h.spi_r, 0xbb, 8);
		memset(nonce, 0x4e, sizeof(nonce));
		assert_int_equal(ike_build_begin(&b, buf, sizeof(buf), &h), 0);
		assert_int_equal(ike_build_sk_begin(&b, s.iv_len), 0);
		assert_int_equal(ike_build_nonce(&b, nonce, sizeof(nonce)), 0);
		assert_int_equal(ike_build_notify(&b, 0, NULL, 0, IKE_N_INITIAL_CONTACT, NULL, 0), 0);
		assert_int_equal(ike_build_sk_end(&b, s.block_len, s.icv_len, &lay), 0);
		assert_int_equal(ike_build_finish(&b, &len, NULL, &e), 0);
		assert_int_equal(lay.icv_off + lay.icv_len, len);

		ctr = 0;
		assert_int_equal(ike_sk_seal_built(&s, &ek, &ik, counter_rand, buf, len, lay.sk_off, &e), 0);
		assert_int_equal(ike_message_parse(&m, buf, len, &e), 0);
		assert_int_equal(m.npayloads, 1);
		assert_int_equal(m.payloads[0].type, IKE_PT_SK);
		assert_int_equal(ike_sk_open(&s, &ek, &ik, buf, len, lay.sk_off, &plain, &plen, &e), 0);
		assert_int_equal(plen, lay.pt_len - lay.pad_len - 1);
		assert_int_equal(ike_payloads_parse(&inner, buf[lay.sk_off], plain, plen, &e), 0);
		assert_int_equal(inner.npayloads, 2);
		assert_int_equal(inner.payloads[0].type, IKE_PT_NONCE);
		assert_int_equal(inner.payloads[1].type, IKE_PT_NOTIFY);
		secret_free(&ek);
		secret_free(&ik);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rekey_skeyseed),
		cmocka_unit_test(child_keys_pfs_layout),
		cmocka_unit_test(sa_keys_layout),
		cmocka_unit_test(sk_every_suite),
		cmocka_unit_test(sk_bad_pad_length),
		cmocka_unit_test(builder_then_seal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
