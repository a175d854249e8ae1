/* libFuzzer target: the SK decrypt-then-parse path, as pvpn-ikedump and
 * the engine run it on a message from the network:
 *   ike_message_parse -> ike_sk_open (ICV first) -> ike_payloads_parse
 *   -> ikedump's payload printer.
 * Keys and algorithms are the golden fixtures' (the keys.txt files under
 * tests/fixtures/strongswan-5.9.8/, copied here so the target stands
 * alone).
 *
 * Input: byte 0 picks the mode.
 *   bit 0: suite — 0 the AES-GCM-16/256 fixture, 1 the AES-CBC-128 +
 *          HMAC-SHA2-256-128 fixture
 *   bit 1: keys of the initiator (0) or the responder (1)
 *   bit 2: 0 = the rest is a whole IKE message, used as is (mutated
 *          fixture messages: the ICV check must hold, the parsers must
 *          not crash before it);
 *          1 = the rest is byte 1: the first inner payload type, byte 2:
 *          extra padding blocks, then an inner payload chain that is
 *          sealed with the fixture keys first, so the fuzzer reaches the
 *          inner parser and the printer with any plaintext.
 * Must never crash, leak or read out of bounds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike-lite/constants.h"
#include "ike-lite/crypto.h"
#include "ike-lite/message.h"
#include "lib/hex.h"
#include "lib/secret.h"
#include "tools/ikedump/ikedump.h"
#include "tools/ikedump/ikedump_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fx_keys {
	const char *ei, *er, *ai, *ar;
	uint16_t encr, bits, integ;
	const char *spi_i, *spi_r;
};

static const struct fx_keys fx[2] = {
	{ /* psk-aes256gcm16-prfsha256-x25519/keys.txt */
	  "dfa138048405f9e712fe973b424a53a55bd40e7c8fac44c65a19e960afe4977f49e125f7",
	  "34aed3769e0b69ed91ac8e9611ac3c4d36c6de7cda9b865d1abaaffec2ae86e4f69acbc4",
	  NULL, NULL, IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE,
	  "ec5ed836f1daec08", "80b7bd3dea3a88cc" },
	{ /* psk-aes128-sha256-modp2048/keys.txt */
	  "db0243e80909d4308fbe49c6c72b5771", "1b7d377d7061f73041db9be990adbaf4",
	  "1fc42fc9789a753aca2af8fdd6771a292ad5cdaf74a16b1d1ecf1db73d43df85",
	  "d3826ca601f45e4ae5827a0221b7cede165f9f7eea41ab84137770f3c29b7b4a",
	  IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_256_128,
	  "2afbe5d4adec781b", "1b90cdb741c97736" },
};

struct loaded {
	struct ike_suite suite;
	struct secret e[2], a[2];       /* [0] initiator's, [1] responder's */
	uint8_t spi_i[8], spi_r[8];
};

static struct loaded L[2];
static FILE *devnull;

static void load_hex(struct secret *s, const char *hex)
{
	uint8_t buf[64];
	int n = hex ? hex_decode(buf, sizeof(buf), hex, strlen(hex)) : 0;
	if (n < 0)
		abort();
	if (n > 0 && secret_set(s, buf, (size_t)n) < 0)
		abort();
}

static void init_once(void)
{
	if (devnull)
		return;
	devnull = fopen("/dev/null", "w");
	if (!devnull)
		abort();
	for (int i = 0; i < 2; i++) {
		struct pvpn_err e = { 0 };
		if (ike_suite_init(&L[i].suite, fx[i].encr, fx[i].bits, fx[i].integ,
				   IKE_PRF_HMAC_SHA2_256, i ? IKE_DH_MODP2048 : IKE_DH_CURVE25519, &e) < 0)
			abort();
		load_hex(&L[i].e[0], fx[i].ei);
		load_hex(&L[i].e[1], fx[i].er);
		load_hex(&L[i].a[0], fx[i].ai);
		load_hex(&L[i].a[1], fx[i].ar);
		hex_decode(L[i].spi_i, 8, fx[i].spi_i, 16);
		hex_decode(L[i].spi_r, 8, fx[i].spi_r, 16);
	}
}

/* parse -> open -> inner parse -> print; msg is writable (open works in
 * place). */
static void open_and_parse(const struct loaded *l, int dir, uint8_t *msg, size_t len)
{
	struct ike_message *m = calloc(1, sizeof(*m));
	struct ike_message *in = calloc(1, sizeof(*in));
	struct pvpn_err e = { 0 };
	const uint8_t *plain;
	size_t plain_len;

	if (!m || !in)
		abort();
	if (ike_message_parse(m, msg, len, &e) != 0)
		goto out;
	ikd_print_payload_list(devnull, m);
	const struct ike_payload *sk = ike_message_find(m, IKE_PT_SK, NULL);
	if (!sk)
		goto out;
	uint8_t first = sk->u.sk.first;
	size_t off = sk->offset;
	if (ike_sk_open(&l->suite, &l->e[dir], &l->a[dir], msg, len, off, &plain, &plain_len, &e) != 0)
		goto out;
	/* The plaintext must lie inside the message, after the SK header. */
	if (plain < msg + off + 4 || plain + plain_len > msg + len)
		abort();
	if (ike_payloads_parse(in, first, plain, plain_len, &e) != 0)
		goto out;
#ifdef FUZZ_TRACE
	/* Build with -DFUZZ_TRACE to see that the seeds reach the inner parser. */
	fprintf(stderr, "inner payloads: %zu\n", in->npayloads);
#endif
	for (size_t i = 0; i < in->npayloads; i++)
		ikd_print_payload(devnull, &in->payloads[i], "  ");
out:
	free(m);
	free(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init_once();
	if (size < 1)
		return 0;
	const struct loaded *l = &L[data[0] & 1];
	int dir = (data[0] >> 1) & 1;
	bool seal = data[0] & 4;
	data++;
	size--;

	if (!seal) {
		uint8_t *msg = malloc(size ? size : 1);
		if (!msg)
			abort();
		memcpy(msg, data, size);
		open_and_parse(l, dir, msg, size);
		free(msg);
		return 0;
	}

	if (size < 2 || size > 8192)
		return 0;
	uint8_t first = data[0];
	size_t extra = data[1] % 4;
	const uint8_t *plain = data + 2;
	size_t plain_len = size - 2;
	const struct ike_suite *s = &l->suite;
	size_t pad = (s->block_len - (plain_len + 1) % s->block_len) % s->block_len +
		     extra * s->block_len;
	size_t sk_off = 28;
	size_t cap = sk_off + 4 + s->iv_len + plain_len + pad + 1 + s->icv_len;
	uint8_t *msg = calloc(1, cap);
	uint8_t iv[16] = { 0 };
	size_t len;
	struct pvpn_err e = { 0 };

	if (!msg)
		abort();
	/* IKE header of an IKE_AUTH message in the fixture's IKE SA. */
	memcpy(msg, l->spi_i, 8);
	memcpy(msg + 8, l->spi_r, 8);
	msg[16] = IKE_PT_SK;
	msg[17] = IKE_VERSION_2_0;
	msg[18] = IKE_AUTH;
	msg[19] = dir ? IKE_FLAG_R : IKE_FLAG_I;
	msg[23] = 1;
	msg[sk_off] = first;
	memcpy(msg + sk_off + 4 + s->iv_len, plain, plain_len);
	if (ike_sk_seal_raw(s, &l->e[dir], &l->a[dir], iv, msg, cap, sk_off, plain_len, pad,
			    &len, &e) == 0)
		open_and_parse(l, dir, msg, len);
	free(msg);
	return 0;
}
