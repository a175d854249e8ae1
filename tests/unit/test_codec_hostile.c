/* Hostile input for the IKEv2 codec: one test per rejection reason of
 * issue 3 (RFC 7296 §3, §2.5), each checking the error code and that the
 * sentence names the payload, the offset and the problem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ike-lite/message.h"

static struct ike_message msg;
static uint8_t buf[16384];
static size_t len;
static struct ike_builder b;

static void begin(void)
{
	struct ike_header h = { .spi_i = { 1, 2, 3, 4, 5, 6, 7, 8 }, .exchange = IKE_SA_INIT,
				.flags = IKE_FLAG_I };
	ike_build_begin(&b, buf, sizeof(buf), &h);
}

static void end(void)
{
	struct pvpn_err err = { 0, "" };
	if (ike_build_finish(&b, &len, NULL, &err) != 0)
		fail_msg("building the test message: %s", err.msg);
}

static void set_u16(size_t off, uint16_t v)
{
	buf[off] = (uint8_t)(v >> 8);
	buf[off + 1] = (uint8_t)v;
}

static void set_len32(size_t v)
{
	buf[24] = (uint8_t)(v >> 24); buf[25] = (uint8_t)(v >> 16);
	buf[26] = (uint8_t)(v >> 8); buf[27] = (uint8_t)v;
}

static void check_err(int rc, const struct pvpn_err *err, int code, const char *a, const char *c)
{
	if (rc != code)
		fail_msg("expected %d, got %d (%s)", code, rc, err->msg);
	assert_int_equal(err->code, code);
	if (a && !strstr(err->msg, a))
		fail_msg("error \"%s\" does not mention \"%s\"", err->msg, a);
	if (c && !strstr(err->msg, c))
		fail_msg("error \"%s\" does not mention \"%s\"", err->msg, c);
}

/* Parse buf[0..len): must fail with code, the message containing a and c. */
static void expect(int code, const char *a, const char *c)
{
	struct pvpn_err err = { 0, "" };
	check_err(ike_message_parse(&msg, buf, len, &err), &err, code, a, c);
}

static void expect_ok(void)
{
	struct pvpn_err err = { 0, "" };
	int rc = ike_message_parse(&msg, buf, len, &err);
	if (rc != 0)
		fail_msg("expected success: %s", err.msg);
}

static void expect_inner(uint8_t first, const uint8_t *p, size_t n, int code, const char *a, const char *c)
{
	struct pvpn_err err = { 0, "" };
	check_err(ike_payloads_parse(&msg, first, p, n, &err), &err, code, a, c);
}

/* A message with one payload of type t and a raw body. */
static void one_raw(uint8_t t, const uint8_t *body, size_t n)
{
	begin();
	ike_build_raw(&b, t, 0, body, n);
	end();
}

static const uint8_t nonce[32] = { 0x11 };

/* ---- header -------------------------------------------------------------- */

static void shorter_than_header(void **state)
{
	begin();
	end();
	len = 27;
	expect(-EBADMSG, "27 bytes", "28-byte header");
	len = 0;
	expect(-EBADMSG, "0 bytes", "header");
}

static void version_not_2(void **state)
{
	begin();
	ike_build_nonce(&b, nonce, sizeof(nonce));
	end();
	buf[17] = 0x30;
	expect(-EPROTONOSUPPORT, "version 3.0", "not 2");
	/* the header is there for an INVALID_MAJOR_VERSION answer */
	assert_int_equal(msg.hdr.exchange, IKE_SA_INIT);
	buf[17] = 0x10;
	expect(-EPROTONOSUPPORT, "version 1.0", NULL);
	/* §2.5: the minor version is ignored (and kept) */
	buf[17] = 0x21;
	expect_ok();
	assert_int_equal(msg.hdr.version, 0x21);
}

static void header_length_not_datagram_length(void **state)
{
	begin();
	ike_build_nonce(&b, nonce, sizeof(nonce));
	end();
	set_len32(len + 1);
	expect(-EBADMSG, "Length 65", "holds 64 bytes");
	set_len32(len - 1);
	expect(-EBADMSG, "Length 63", "holds 64 bytes");
	set_len32(len);
	expect_ok();
}

/* ---- the payload chain --------------------------------------------------- */

static void payload_shorter_than_its_header(void **state)
{
	begin();
	ike_build_nonce(&b, nonce, sizeof(nonce));
	end();
	set_u16(28 + 2, 3);
	expect(-EBADMSG, "Nonce payload at offset 28", "length 3 is shorter than its 4-byte header");
	set_u16(28 + 2, 0);
	expect(-EBADMSG, "Nonce payload at offset 28", "length 0");
}

static void payload_longer_than_what_is_left(void **state)
{
	begin();
	ike_build_nonce(&b, nonce, sizeof(nonce));
	ike_build_vendor(&b, nonce, 4);
	end();
	set_u16(64 + 2, 9);   /* the Vendor ID after the 36-byte Nonce */
	expect(-EBADMSG, "Vendor ID payload at offset 64", "length 9 is longer than the 8 bytes left");
	set_u16(28 + 2, 0xffff);
	expect(-EBADMSG, "Nonce payload at offset 28", "longer than the 44 bytes left");
}

static void chain_runs_past_the_message(void **state)
{
	begin();
	ike_build_nonce(&b, nonce, sizeof(nonce));
	end();
	buf[28] = IKE_PT_NOTIFY;   /* the Nonce says a Notify follows: none does */
	expect(-EBADMSG, "Notify payload at offset 64", "runs past the end");
	/* a header promising a first payload in an empty message */
	begin();
	end();
	buf[16] = IKE_PT_SA;
	expect(-EBADMSG, "SA payload at offset 28", "runs past the end (0 bytes left");
}

static void bytes_after_the_last_payload(void **state)
{
	begin();
	ike_build_nonce(&b, nonce, sizeof(nonce));
	end();
	memset(buf + len, 0, 4);
	len += 4;
	set_len32(len);
	expect(-EBADMSG, "4 bytes at offset 64", "after the last payload");
}

static void unknown_critical_payload(void **state)
{
	const uint8_t body[3] = { 1, 2, 3 };
	begin();
	ike_build_nonce(&b, nonce, sizeof(nonce));
	ike_build_raw(&b, 200, IKE_PAYLOAD_CRITICAL, body, sizeof(body));
	end();
	expect(-EOPNOTSUPP, "payload type 200 payload at offset 64", "critical");
	assert_int_equal(msg.unsupported_critical, 200);
	/* a registered type this codec does not decode counts as unknown */
	begin();
	ike_build_raw(&b, IKE_PT_PS, IKE_PAYLOAD_CRITICAL, body, sizeof(body));
	end();
	expect(-EOPNOTSUPP, "PS payload at offset 28", "critical");
	assert_int_equal(msg.unsupported_critical, IKE_PT_PS);
	/* the critical bit on a known payload is ignored (§3.2) */
	begin();
	ike_build_raw(&b, IKE_PT_NONCE, IKE_PAYLOAD_CRITICAL, nonce, sizeof(nonce));
	end();
	expect_ok();
	/* without the bit an unknown payload is skipped (§2.5) */
	begin();
	ike_build_raw(&b, 200, 0, body, sizeof(body));
	end();
	expect_ok();
	assert_int_equal(msg.npayloads, 1);
}

static void singleton_twice(void **state)
{
	const uint8_t ke[8] = { 0, 31, 0, 0, 1, 2, 3, 4 };
	begin();
	ike_build_nonce(&b, nonce, sizeof(nonce));
	ike_build_nonce(&b, nonce, sizeof(nonce));
	end();
	expect(-EBADMSG, "Nonce payload at offset 64", "a second Nonce payload");
	begin();
	ike_build_raw(&b, IKE_PT_KE, 0, ke, sizeof(ke));
	ike_build_nonce(&b, nonce, sizeof(nonce));
	ike_build_raw(&b, IKE_PT_KE, 0, ke, sizeof(ke));
	end();
	expect(-EBADMSG, "KE payload at offset 76", "a second KE");
	/* Notify, Vendor ID, Delete, CERT may repeat */
	begin();
	ike_build_notify(&b, 0, NULL, 0, IKE_N_INITIAL_CONTACT, NULL, 0);
	ike_build_notify(&b, 0, NULL, 0, IKE_N_INITIAL_CONTACT, NULL, 0);
	ike_build_vendor(&b, nonce, 4);
	ike_build_vendor(&b, nonce, 4);
	end();
	expect_ok();
	/* and inside SK the same rule holds */
	uint8_t inner[2 * 24];
	for (int i = 0; i < 2; i++) {
		uint8_t *p = inner + 24 * i;
		memset(p, 0, 24);
		p[0] = i == 0 ? IKE_PT_TSI : 0;
		p[3] = 24;
		p[4] = 1;                     /* one selector */
		p[8] = IKE_TS_IPV4_ADDR_RANGE;
		p[11] = 16;
	}
	expect_inner(IKE_PT_TSI, inner, sizeof(inner), -EBADMSG, "TSi payload at offset 24", "a second TSi");
	inner[0] = IKE_PT_TSR;
	struct pvpn_err err = { 0, "" };
	assert_int_equal(ike_payloads_parse(&msg, IKE_PT_TSI, inner, sizeof(inner), &err), 0);
}

static void sk_must_be_last(void **state)
{
	uint8_t skbody[24] = { 0 };
	begin();
	ike_build_raw(&b, IKE_PT_SK, 0, skbody, sizeof(skbody));
	ike_build_notify(&b, 0, NULL, 0, IKE_N_INITIAL_CONTACT, NULL, 0);
	end();
	/* SK's Next Payload is the inner first type, so the Notify after it
	 * is bytes that follow the last payload */
	expect(-EBADMSG, "SK payload at offset 28", "not the last payload (8 bytes follow");
	begin();
	ike_build_notify(&b, 0, NULL, 0, IKE_N_INITIAL_CONTACT, NULL, 0);
	ike_build_raw(&b, IKE_PT_SK, 0, skbody, sizeof(skbody));
	end();
	expect_ok();
	assert_int_equal(msg.payloads[1].u.sk.len, 24);
}

static void encrypted_inside_encrypted(void **state)
{
	const uint8_t inner[8] = { 0, 0, 0, 8, 1, 2, 3, 4 };
	expect_inner(IKE_PT_SK, inner, sizeof(inner), -EBADMSG, "SK payload at offset 0", "inside an encrypted payload");
	expect_inner(IKE_PT_SKF, inner, sizeof(inner), -EBADMSG, "SKF payload at offset 0", "inside an encrypted payload");
}

static void too_many_payloads(void **state)
{
	begin();
	for (int i = 0; i < IKE_MAX_PAYLOADS; i++)
		ike_build_notify(&b, 0, NULL, 0, IKE_N_INITIAL_CONTACT, NULL, 0);
	end();
	expect_ok();
	begin();
	for (int i = 0; i < IKE_MAX_PAYLOADS + 1; i++)
		ike_build_notify(&b, 0, NULL, 0, IKE_N_INITIAL_CONTACT, NULL, 0);
	end();
	expect(-E2BIG, "Notify payload at offset", "more than 64 payloads");
}

/* ---- SA, proposals, transforms, attributes ------------------------------ */

/* One IKE proposal: ENCR_AES_CBC/128, PRF_HMAC_SHA2_256, MODP 2048.
 * Proposal at body offset 0, transforms at 8, 20, 28; the SA payload's
 * body starts at message offset 32. */
static const uint8_t sa_ok[36] = {
	0, 0, 0, 36, 1, IKE_PROTO_IKE, 0, 3,
	3, 0, 0, 12, IKE_TRANS_ENCR, 0, 0, IKE_ENCR_AES_CBC, 0x80, 14, 0, 128,
	3, 0, 0, 8, IKE_TRANS_PRF, 0, 0, IKE_PRF_HMAC_SHA2_256,
	0, 0, 0, 8, IKE_TRANS_DH, 0, 0, IKE_DH_MODP2048,
};
static uint8_t sa[sizeof(sa_ok) + 64];

static void sa_msg(size_t n)
{
	one_raw(IKE_PT_SA, sa, n);
}

static void sa_template_is_valid(void **state)
{
	memcpy(sa, sa_ok, sizeof(sa_ok));
	sa_msg(sizeof(sa_ok));
	expect_ok();
	assert_int_equal(msg.payloads[0].u.sa.props[0].xforms[0].key_length, 128);
}

static void sa_without_proposals(void **state)
{
	sa_msg(0);
	expect(-EBADMSG, "SA payload at offset 28", "no proposals");
}

static void proposal_of_impossible_size(void **state)
{
	memcpy(sa, sa_ok, sizeof(sa_ok));
	sa[3] = 7;
	sa_msg(sizeof(sa_ok));
	expect(-EBADMSG, "SA payload at offset 28", "proposal at offset 32: length 7 shorter than its 8-byte header");
	sa[3] = 37;
	sa_msg(sizeof(sa_ok));
	expect(-EBADMSG, "proposal at offset 32", "length 37 runs past the SA payload");
	sa_msg(5);
	expect(-EBADMSG, "proposal at offset 32", "shorter than its 8-byte header");
}

static void transform_of_impossible_size(void **state)
{
	memcpy(sa, sa_ok, sizeof(sa_ok));
	sa[8 + 3] = 4;
	sa_msg(sizeof(sa_ok));
	expect(-EBADMSG, "SA payload at offset 28", "transform at offset 40: length 4 shorter than its 8-byte header");
	memcpy(sa, sa_ok, sizeof(sa_ok));
	sa[28 + 3] = 9;
	sa_msg(sizeof(sa_ok));
	expect(-EBADMSG, "transform at offset 60", "length 9 runs past the proposal");
}

static void transform_count_does_not_match(void **state)
{
	memcpy(sa, sa_ok, sizeof(sa_ok));
	sa[7] = 4;
	sa[28] = 3;
	sa_msg(sizeof(sa_ok));
	expect(-EBADMSG, "transform 4 at offset 68", "proposal says 4 transforms");
	memcpy(sa, sa_ok, sizeof(sa_ok));
	sa[7] = 2;
	sa[20] = 0;
	sa_msg(sizeof(sa_ok));
	expect(-EBADMSG, "proposal at offset 32", "8 bytes after its 2 transforms");
}

static void proposal_without_transforms(void **state)
{
	const uint8_t p[8] = { 0, 0, 0, 8, 1, IKE_PROTO_IKE, 0, 0 };
	one_raw(IKE_PT_SA, p, sizeof(p));
	expect(-EBADMSG, "proposal at offset 32", "has no transforms");
}

static void last_substruc_wrong(void **state)
{
	memcpy(sa, sa_ok, sizeof(sa_ok));
	sa[0] = 2;        /* says more proposals follow */
	sa_msg(sizeof(sa_ok));
	expect(-EBADMSG, "proposal at offset 32", "Last Substruc 2 but 0 bytes follow");
	memcpy(sa, sa_ok, sizeof(sa_ok));
	sa[20] = 0;       /* transform 2 of 3 claims to be the last */
	sa_msg(sizeof(sa_ok));
	expect(-EBADMSG, "transform at offset 52", "Last Substruc 0 for transform 2 of 3");
}

static void proposal_numbers_out_of_sequence(void **state)
{
	memcpy(sa, sa_ok, sizeof(sa_ok));
	sa[4] = 2;
	sa_msg(sizeof(sa_ok));
	expect(-EBADMSG, "proposal at offset 32", "Proposal Num 2 out of sequence");
	/* 1, 1 (alternatives of one proposal) and 1, 2 are fine; 1, 3 is not */
	memcpy(sa, sa_ok, sizeof(sa_ok));
	memcpy(sa + 36, sa_ok, sizeof(sa_ok));
	sa[0] = 2;
	sa_msg(72);
	expect_ok();
	sa[36 + 4] = 2;
	sa_msg(72);
	expect_ok();
	sa[36 + 4] = 3;
	sa_msg(72);
	expect(-EBADMSG, "proposal at offset 68", "Proposal Num 3 out of sequence");
}

static void proposal_spi_size(void **state)
{
	memcpy(sa, sa_ok, sizeof(sa_ok));
	sa[6] = 3;
	sa_msg(sizeof(sa_ok));
	expect(-EBADMSG, "proposal at offset 32", "SPI size 3 (must be 0, 4 or 8)");
	/* SPI size 8 taking bytes the transforms need */
	sa[6] = 8;
	sa_msg(sizeof(sa_ok));
	expect(-EBADMSG, "SA payload at offset 28", NULL);
}

static void attribute_of_impossible_size(void **state)
{
	memcpy(sa, sa_ok, sizeof(sa_ok));
	sa[16] = 0x00;    /* TLV attribute type 14, length 128: past the transform */
	sa_msg(sizeof(sa_ok));
	expect(-EBADMSG, "transform attribute at offset 48", "length 128 runs past the transform");
	memcpy(sa, sa_ok, sizeof(sa_ok));
	sa[11] = 10;      /* transform 1 keeps only 2 bytes of its attribute */
	sa[7] = 4; sa[28] = 3;
	sa_msg(sizeof(sa_ok));
	expect(-EBADMSG, "transform attribute at offset 48", "2 bytes, shorter than its 4-byte header");
}

static void key_length_attribute(void **state)
{
	memcpy(sa, sa_ok, sizeof(sa_ok));
	sa[18] = 0; sa[19] = 0;
	sa_msg(sizeof(sa_ok));
	expect(-EBADMSG, "Key Length attribute at offset 48", "zero");
	memcpy(sa, sa_ok, sizeof(sa_ok));
	sa[16] = 0; sa[17] = 14; sa[18] = 0; sa[19] = 0;   /* TLV form, empty */
	sa_msg(sizeof(sa_ok));
	expect(-EBADMSG, "Key Length attribute at offset 48", "TLV format");
}

static void too_many_attributes(void **state)
{
	/* one transform with 5 TV attributes */
	uint8_t p[8 + 8 + 5 * 4] = { 0, 0, 0, sizeof(p), 1, IKE_PROTO_IKE, 0, 1,
				     0, 0, 0, 8 + 5 * 4, IKE_TRANS_ENCR, 0, 0, IKE_ENCR_AES_CBC };
	for (int i = 0; i < 5; i++) {
		p[16 + 4 * i] = 0x80;
		p[17 + 4 * i] = (uint8_t)(100 + i);
	}
	one_raw(IKE_PT_SA, p, sizeof(p));
	expect(-E2BIG, "SA payload at offset 28", "more than 4 attributes");
}

static void too_many_proposals(void **state)
{
	size_t n = IKE_MAX_PROPOSALS + 1;
	static uint8_t big[(IKE_MAX_PROPOSALS + 1) * 16];
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = big + 16 * i;
		const uint8_t one[16] = { i + 1 < n ? 2 : 0, 0, 0, 16, (uint8_t)(i + 1), IKE_PROTO_IKE, 0, 1,
					  0, 0, 0, 8, IKE_TRANS_DH, 0, 0, 31 };
		memcpy(p, one, 16);
	}
	one_raw(IKE_PT_SA, big, 16 * (n - 1));
	big[16 * (n - 2)] = 0;
	one_raw(IKE_PT_SA, big, 16 * (n - 1));
	expect_ok();
	big[16 * (n - 2)] = 2;
	one_raw(IKE_PT_SA, big, 16 * n);
	expect(-E2BIG, "SA payload at offset 28", "more than 16 proposals");
}

static void too_many_transforms(void **state)
{
	size_t n = IKE_MAX_TRANSFORMS + 1;
	static uint8_t p[8 + (IKE_MAX_TRANSFORMS + 1) * 8];
	const uint8_t head[8] = { 0, 0, (uint8_t)(sizeof(p) >> 8), (uint8_t)sizeof(p), 1, IKE_PROTO_IKE, 0, (uint8_t)n };
	memcpy(p, head, 8);
	for (size_t i = 0; i < n; i++) {
		const uint8_t t[8] = { i + 1 < n ? 3 : 0, 0, 0, 8, IKE_TRANS_DH, 0, 0, 31 };
		memcpy(p + 8 + 8 * i, t, 8);
	}
	one_raw(IKE_PT_SA, p, sizeof(p));
	expect(-E2BIG, "SA payload at offset 28", "more than 96 transforms");
}

/* ---- values that must not be empty or of the wrong size ------------------ */

static void nonce_size(void **state)
{
	static const uint8_t big[257];
	one_raw(IKE_PT_NONCE, big, 15);
	expect(-EBADMSG, "Nonce payload at offset 28", "nonce of 15 bytes (RFC 7296 §3.9: 16 to 256)");
	one_raw(IKE_PT_NONCE, big, 257);
	expect(-EBADMSG, "Nonce payload at offset 28", "nonce of 257 bytes");
	one_raw(IKE_PT_NONCE, big, 0);
	expect(-EBADMSG, "Nonce payload", "nonce of 0 bytes");
	one_raw(IKE_PT_NONCE, big, 16);
	expect_ok();
	one_raw(IKE_PT_NONCE, big, 256);
	expect_ok();
}

static void ke_data_empty(void **state)
{
	const uint8_t ke[4] = { 0, 31, 0, 0 };
	one_raw(IKE_PT_KE, ke, sizeof(ke));
	expect(-EBADMSG, "KE payload at offset 28", "empty Key Exchange Data");
	one_raw(IKE_PT_KE, ke, 3);
	expect(-EBADMSG, "KE payload at offset 28", "body of 3 bytes, shorter than 4");
}

static void id_data_empty_or_wrong_size(void **state)
{
	const uint8_t id[9] = { IKE_ID_IPV4_ADDR, 0, 0, 0, 192, 0, 2, 1, 7 };
	one_raw(IKE_PT_IDI, id, 4);
	expect(-EBADMSG, "IDi payload at offset 28", "empty Identification Data");
	one_raw(IKE_PT_IDR, id, 9);
	expect(-EBADMSG, "IDr payload at offset 28", "ID_IPV4_ADDR of 5 bytes");
	one_raw(IKE_PT_IDR, id, 8);
	expect_ok();
}

static void auth_and_cert_data_empty(void **state)
{
	const uint8_t a[4] = { IKE_AUTH_PSK, 0, 0, 0 };
	one_raw(IKE_PT_AUTH, a, 4);
	expect(-EBADMSG, "AUTH payload at offset 28", "empty Authentication Data");
	one_raw(IKE_PT_CERT, a, 1);
	expect(-EBADMSG, "CERT payload at offset 28", "empty Certificate Data");
	one_raw(IKE_PT_CERT, a, 0);
	expect(-EBADMSG, "CERT payload at offset 28", "no Cert Encoding");
	/* an empty CERTREQ authority list is allowed */
	one_raw(IKE_PT_CERTREQ, a, 1);
	expect_ok();
}

static void notify_spi_size(void **state)
{
	const uint8_t n[9] = { IKE_PROTO_ESP, 5, 0x40, 0x00, 1, 2, 3, 4, 5 };
	one_raw(IKE_PT_NOTIFY, n, sizeof(n));
	expect(-EBADMSG, "Notify payload at offset 28", "SPI size 5 (must be 0, 4 or 8)");
	const uint8_t m8[7] = { IKE_PROTO_IKE, 8, 0x40, 0x00, 1, 2, 3 };
	one_raw(IKE_PT_NOTIFY, m8, sizeof(m8));
	expect(-EBADMSG, "Notify payload at offset 28", "SPI of 8 bytes runs past the payload");
}

static void delete_spis(void **state)
{
	const uint8_t d[11] = { IKE_PROTO_ESP, 4, 0, 2, 1, 2, 3, 4, 5, 6, 7 };
	one_raw(IKE_PT_DELETE, d, sizeof(d));
	expect(-EBADMSG, "Delete payload at offset 28", "2 SPIs of 4 bytes but 7 bytes of SPIs");
	const uint8_t ike[4] = { IKE_PROTO_IKE, 8, 0, 0 };
	one_raw(IKE_PT_DELETE, ike, sizeof(ike));
	expect(-EBADMSG, "Delete payload at offset 28", "protocol 1 with SPI size 8");
	one_raw(IKE_PT_DELETE, d, 4 + 0);
	expect(-EBADMSG, "Delete payload", "2 SPIs of 4 bytes but 0 bytes");
}

static void ts_counts_and_sizes(void **state)
{
	uint8_t ts[4 + 16 + 40] = { 2, 0, 0, 0,
		IKE_TS_IPV4_ADDR_RANGE, 0, 0, 16, 0, 0, 0xff, 0xff, 10, 0, 0, 0, 10, 0, 0, 255,
		IKE_TS_IPV6_ADDR_RANGE, 6, 0, 40, 0, 80, 0, 80 };
	one_raw(IKE_PT_TSI, ts, sizeof(ts));
	expect_ok();
	assert_int_equal(msg.payloads[0].u.ts.ts[1].start_port, 80);
	ts[0] = 0;
	one_raw(IKE_PT_TSI, ts, sizeof(ts));
	expect(-EBADMSG, "TSi payload at offset 28", "Number of TSs is zero");
	ts[0] = 3;
	one_raw(IKE_PT_TSI, ts, sizeof(ts));
	expect(-EBADMSG, "selector 3 at offset 92", "payload says 3 selectors");
	ts[0] = 1;
	one_raw(IKE_PT_TSR, ts, sizeof(ts));
	expect(-EBADMSG, "TSr payload at offset 28", "40 bytes after its 1 selectors");
	ts[0] = 2;
	ts[7] = 20;
	one_raw(IKE_PT_TSI, ts, sizeof(ts));
	expect(-EBADMSG, "TS_IPV4_ADDR_RANGE selector at offset 36", "length 20 (must be 16)");
	ts[7] = 3;
	one_raw(IKE_PT_TSI, ts, sizeof(ts));
	expect(-EBADMSG, "selector at offset 36", "length 3 shorter than its 4-byte header");
}

static void too_many_selectors(void **state)
{
	static uint8_t ts[4 + (IKE_MAX_SELECTORS + 1) * 16];
	ts[0] = IKE_MAX_SELECTORS + 1;
	for (int i = 0; i <= IKE_MAX_SELECTORS; i++) {
		ts[4 + 16 * i] = IKE_TS_IPV4_ADDR_RANGE;
		ts[4 + 16 * i + 3] = 16;
	}
	one_raw(IKE_PT_TSI, ts, sizeof(ts));
	expect(-E2BIG, "TSi payload at offset 28", "more than 32 traffic selectors");
}

static void cp_attribute_runs_past(void **state)
{
	const uint8_t cp[12] = { IKE_CFG_REPLY, 0, 0, 0, 0, IKE_CP_INTERNAL_IP4_ADDRESS, 0, 5, 10, 10, 10, 1 };
	one_raw(IKE_PT_CP, cp, sizeof(cp));
	expect(-EBADMSG, "CP payload at offset 28", "attribute at offset 36: length 5 runs past the payload");
	one_raw(IKE_PT_CP, cp, 6);
	expect(-EBADMSG, "CP payload at offset 28", "attribute at offset 36: 2 bytes, shorter than its 4-byte header");
	one_raw(IKE_PT_CP, cp, 3);
	expect(-EBADMSG, "CP payload at offset 28", "shorter than 4");
}

static void eap_length(void **state)
{
	const uint8_t eap[6] = { IKE_EAP_REQUEST, 7, 0, 6, IKE_EAP_IDENTITY, 'x' };
	one_raw(IKE_PT_EAP, eap, sizeof(eap));
	expect_ok();
	assert_int_equal(msg.payloads[0].u.eap.type, IKE_EAP_IDENTITY);
	one_raw(IKE_PT_EAP, eap, 5);
	expect(-EBADMSG, "EAP payload at offset 28", "EAP length 6 but the payload holds 5 bytes");
	const uint8_t noty[4] = { IKE_EAP_RESPONSE, 7, 0, 4 };
	one_raw(IKE_PT_EAP, noty, sizeof(noty));
	expect(-EBADMSG, "EAP payload at offset 28", "without a Type");
	one_raw(IKE_PT_EAP, noty, 3);
	expect(-EBADMSG, "EAP payload at offset 28", "shorter than the 4-byte EAP header");
}

static void skf_numbers(void **state)
{
	uint8_t f[20] = { 0, 3, 0, 2 };
	one_raw(IKE_PT_SKF, f, sizeof(f));
	expect(-EBADMSG, "SKF payload at offset 28", "fragment 3 of 2");
	f[1] = 0;
	one_raw(IKE_PT_SKF, f, sizeof(f));
	expect(-EBADMSG, "SKF payload at offset 28", "fragment 0 of 2");
	f[1] = 2;
	one_raw(IKE_PT_SKF, f, sizeof(f));
	expect_ok();
	buf[28] = IKE_PT_IDI;   /* fragment 2 naming an inner payload */
	expect(-EBADMSG, "SKF payload at offset 28", "fragment 2 names an inner payload type 35");
}

/* Random damage never crashes and never passes silently as something
 * else: each one-byte change of a valid message either parses (and then
 * round-trips) or is refused with a reason. */
static void every_single_byte_change(void **state)
{
	static uint8_t orig[512], out[1024];
	struct ike_transform xf[] = {
		{ .type = IKE_TRANS_ENCR, .id = IKE_ENCR_AES_GCM_16, .key_length = 256 },
		{ .type = IKE_TRANS_PRF, .id = IKE_PRF_HMAC_SHA2_256 },
		{ .type = IKE_TRANS_DH, .id = IKE_DH_CURVE25519 },
	};
	struct ike_proposal pr = { .num = 1, .protocol = IKE_PROTO_IKE, .nxforms = 3, .xforms = xf };
	const uint8_t id[] = { 192, 0, 2, 1 };
	struct ike_ts ts = { .type = IKE_TS_IPV4_ADDR_RANGE, .end_port = 0xffff, .end = { 255, 255, 255, 255 } };
	struct ike_cp_attr cpa = { .type = IKE_CP_INTERNAL_IP4_ADDRESS };
	begin();
	ike_build_sa(&b, &pr, 1);
	ike_build_ke(&b, IKE_DH_CURVE25519, nonce, 32);
	ike_build_nonce(&b, nonce, 32);
	ike_build_id(&b, IKE_PT_IDI, IKE_ID_IPV4_ADDR, id, 4);
	ike_build_ts(&b, IKE_PT_TSI, &ts, 1);
	ike_build_cp(&b, IKE_CFG_REQUEST, &cpa, 1);
	ike_build_delete(&b, IKE_PROTO_ESP, 4, id, 1);
	end();
	memcpy(orig, buf, len);
	size_t n = len, ok = 0, refused = 0;
	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit++) {
			struct pvpn_err err = { 0, "" };
			memcpy(buf, orig, n);
			buf[i] ^= (uint8_t)(1u << bit);
			if (ike_message_parse(&msg, buf, n, &err) == 0) {
				size_t olen;
				assert_int_equal(ike_message_build(&msg, out, sizeof(out), &olen, &err), 0);
				assert_int_equal(olen, n);
				assert_memory_equal(out, buf, n);
				ok++;
			} else {
				assert_true(err.code < 0);
				assert_true(err.msg[0] != '\0');
				refused++;
			}
		}
	}
	/* both outcomes happen: SPIs and nonces may change, lengths may not */
	assert_true(ok > 0);
	assert_true(refused > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shorter_than_header),
		cmocka_unit_test(version_not_2),
		cmocka_unit_test(header_length_not_datagram_length),
		cmocka_unit_test(payload_shorter_than_its_header),
		cmocka_unit_test(payload_longer_than_what_is_left),
		cmocka_unit_test(chain_runs_past_the_message),
		cmocka_unit_test(bytes_after_the_last_payload),
		cmocka_unit_test(unknown_critical_payload),
		cmocka_unit_test(singleton_twice),
		cmocka_unit_test(sk_must_be_last),
		cmocka_unit_test(encrypted_inside_encrypted),
		cmocka_unit_test(too_many_payloads),
		cmocka_unit_test(sa_template_is_valid),
		cmocka_unit_test(sa_without_proposals),
		cmocka_unit_test(proposal_of_impossible_size),
		cmocka_unit_test(transform_of_impossible_size),
		cmocka_unit_test(transform_count_does_not_match),
		cmocka_unit_test(proposal_without_transforms),
		cmocka_unit_test(last_substruc_wrong),
		cmocka_unit_test(proposal_numbers_out_of_sequence),
		cmocka_unit_test(proposal_spi_size),
		cmocka_unit_test(attribute_of_impossible_size),
		cmocka_unit_test(key_length_attribute),
		cmocka_unit_test(too_many_attributes),
		cmocka_unit_test(too_many_proposals),
		cmocka_unit_test(too_many_transforms),
		cmocka_unit_test(nonce_size),
		cmocka_unit_test(ke_data_empty),
		cmocka_unit_test(id_data_empty_or_wrong_size),
		cmocka_unit_test(auth_and_cert_data_empty),
		cmocka_unit_test(notify_spi_size),
		cmocka_unit_test(delete_spis),
		cmocka_unit_test(ts_counts_and_sizes),
		cmocka_unit_test(too_many_selectors),
		cmocka_unit_test(cp_attribute_runs_past),
		cmocka_unit_test(eap_length),
		cmocka_unit_test(skf_numbers),
		cmocka_unit_test(every_single_byte_change),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
