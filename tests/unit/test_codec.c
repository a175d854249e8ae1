/* Unit tests for the IKEv2 message codec (ike-lite/message.h) on the
 * strongSwan 5.9.8 fixtures and on messages built from scratch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ike-lite/message.h"
#include "tests/lib/pcap.h"

#define FIX "tests/fixtures/strongswan-5.9.8/"
#define FIX_GCM FIX "psk-aes256gcm16-prfsha256-x25519/ike.pcap"
#define FIX_CBC FIX "psk-aes128-sha256-modp2048/ike.pcap"

static struct ike_message msg, msg2;
static uint8_t out[65536];

struct capture {
	struct tpcap pcap;
	struct tpcap_udp m[32];
	int n;
};

static void load(struct capture *c, const char *path)
{
	int rc = tpcap_open(&c->pcap, path);
	if (rc != 0)
		fail_msg("cannot read %s (run from the top of the tree): %s", path, strerror(-rc));
	c->n = tpcap_ike_messages(&c->pcap, c->m, 32);
	assert_true(c->n > 0);
}

static void parse_ok(struct ike_message *m, const uint8_t *buf, size_t len)
{
	struct pvpn_err err = { 0, "" };
	int rc = ike_message_parse(m, buf, len, &err);
	if (rc != 0)
		fail_msg("parse failed (%d): %s", rc, err.msg);
}

static void round_trip(const struct ike_message *m, const uint8_t *buf, size_t len)
{
	struct pvpn_err err = { 0, "" };
	size_t olen = 0;
	int rc = ike_message_build(m, out, sizeof(out), &olen, &err);
	if (rc != 0)
		fail_msg("build failed (%d): %s", rc, err.msg);
	assert_int_equal(olen, len);
	assert_memory_equal(out, buf, len);
}

/* Every IKE message of a capture parses and re-serialises to its bytes;
 * the exchanges are the ones the fixture README describes. */
static void check_capture(const char *path, int expect_n, int expect_init, int expect_auth, int expect_info)
{
	struct capture c;
	int init = 0, auth = 0, info = 0;
	load(&c, path);
	assert_int_equal(c.n, expect_n);
	for (int i = 0; i < c.n; i++) {
		parse_ok(&msg, c.m[i].data, c.m[i].len);
		assert_true(msg.has_header);
		assert_int_equal(msg.hdr.version, IKE_VERSION_2_0);
		assert_int_equal(msg.hdr.length, c.m[i].len);
		assert_true(msg.npayloads > 0);
		round_trip(&msg, c.m[i].data, c.m[i].len);
		/* Requests come from 192.0.2.1 with the I flag, responses carry R. */
		bool from_i = c.m[i].src[3] == 1;
		assert_int_equal(!!(msg.hdr.flags & IKE_FLAG_I), from_i);
		assert_int_equal(!!(msg.hdr.flags & IKE_FLAG_R), !from_i);
		switch (msg.hdr.exchange) {
		case IKE_SA_INIT:
			init++;
			assert_int_equal(msg.hdr.message_id, 0);
			break;
		case IKE_AUTH:
			auth++;
			assert_int_equal(msg.hdr.message_id, 1);
			/* §3.14: only an SK payload, last */
			assert_int_equal(msg.npayloads, 1);
			assert_int_equal(msg.payloads[0].type, IKE_PT_SK);
			assert_int_equal(msg.payloads[0].u.sk.first, from_i ? IKE_PT_IDI : IKE_PT_IDR);
			assert_int_equal(msg.payloads[0].offset, IKE_HEADER_LEN);
			assert_int_equal(msg.payloads[0].u.sk.len, c.m[i].len - IKE_HEADER_LEN - 4);
			break;
		case IKE_INFORMATIONAL:
			info++;
			assert_int_equal(msg.hdr.message_id, 2);
			assert_int_equal(msg.payloads[msg.npayloads - 1].type, IKE_PT_SK);
			/* the request deletes the IKE SA, the response is empty */
			assert_int_equal(msg.payloads[0].u.sk.first, from_i ? IKE_PT_DELETE : IKE_PT_NONE);
			break;
		default:
			fail_msg("unexpected exchange %u", msg.hdr.exchange);
		}
	}
	assert_int_equal(init, expect_init);
	assert_int_equal(auth, expect_auth);
	assert_int_equal(info, expect_info);
	tpcap_close(&c.pcap);
}

static void fixture_gcm_every_message_round_trips(void **state)
{
	/* the IKE_AUTH request was sent twice (a retransmission) */
	check_capture(FIX_GCM, 7, 2, 3, 2);
}

static void fixture_cbc_every_message_round_trips(void **state)
{
	check_capture(FIX_CBC, 6, 2, 2, 2);
}

static const struct ike_transform *find_xform(const struct ike_proposal *p, uint8_t type)
{
	const struct ike_transform *found = NULL;
	for (unsigned i = 0; i < p->nxforms; i++) {
		if (p->xforms[i].type == type) {
			assert_null(found);  /* one of each type in these proposals */
			found = &p->xforms[i];
		}
	}
	assert_non_null(found);
	return found;
}

static void check_sa_init(const char *path, int which, uint16_t encr, uint16_t keylen,
			  int integ, uint16_t prf, uint16_t dh, size_t ke_len)
{
	struct capture c;
	load(&c, path);
	parse_ok(&msg, c.m[which].data, c.m[which].len);
	assert_int_equal(msg.hdr.exchange, IKE_SA_INIT);
	if (which == 0) {
		static const uint8_t zero[8];
		assert_memory_equal(msg.hdr.spi_r, zero, 8);  /* §3.1: unknown in the request */
	}

	const struct ike_payload *sa = ike_message_find(&msg, IKE_PT_SA, NULL);
	assert_non_null(sa);
	assert_int_equal(sa->u.sa.nprops, 1);
	const struct ike_proposal *p = &sa->u.sa.props[0];
	assert_int_equal(p->num, 1);
	assert_int_equal(p->protocol, IKE_PROTO_IKE);
	assert_int_equal(p->spi_size, 0);
	assert_int_equal(p->nxforms, integ >= 0 ? 4 : 3);
	const struct ike_transform *t = find_xform(p, IKE_TRANS_ENCR);
	assert_int_equal(t->id, encr);
	assert_int_equal(t->key_length, keylen);
	assert_int_equal(t->nattrs, 1);
	assert_int_equal(t->attrs[0].type, IKE_ATTR_AF | IKE_ATTR_KEY_LENGTH);
	assert_int_equal(find_xform(p, IKE_TRANS_PRF)->id, prf);
	assert_int_equal(find_xform(p, IKE_TRANS_DH)->id, dh);
	if (integ >= 0)
		assert_int_equal(find_xform(p, IKE_TRANS_INTEG)->id, integ);
	assert_string_equal(ike_transform_name(IKE_TRANS_ENCR, t->id),
			    encr == IKE_ENCR_AES_GCM_16 ? "ENCR_AES_GCM_16" : "ENCR_AES_CBC");

	const struct ike_payload *ke = ike_message_find(&msg, IKE_PT_KE, NULL);
	assert_non_null(ke);
	assert_int_equal(ke->u.ke.group, dh);
	assert_int_equal(ke->u.ke.len, ke_len);
	assert_ptr_equal(ke->u.ke.data, ke->body + 4);

	const struct ike_payload *no = ike_message_find(&msg, IKE_PT_NONCE, NULL);
	assert_non_null(no);
	assert_int_equal(no->u.nonce.len, 32);

	const struct ike_payload *ns = ike_message_find_notify(&msg, IKE_N_NAT_DETECTION_SOURCE_IP);
	const struct ike_payload *nd = ike_message_find_notify(&msg, IKE_N_NAT_DETECTION_DESTINATION_IP);
	assert_non_null(ns);
	assert_non_null(nd);
	assert_int_equal(ns->u.notify.len, 20);  /* SHA-1, §2.23 */
	assert_int_equal(nd->u.notify.len, 20);
	assert_int_equal(ns->u.notify.spi_size, 0);
	assert_non_null(ike_message_find_notify(&msg, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED));
	assert_non_null(ike_message_find_notify(&msg, IKE_N_SIGNATURE_HASH_ALGORITHMS));
	assert_null(ike_message_find_notify(&msg, IKE_N_COOKIE));

	/* repeated payloads are walked with a cursor */
	size_t from = 0, nn = 0;
	while (ike_message_find(&msg, IKE_PT_NOTIFY, &from))
		nn++;
	assert_int_equal(nn, which == 0 ? 5 : 6);
	tpcap_close(&c.pcap);
}

static void fixture_gcm_sa_init_decodes(void **state)
{
	/* aes256gcm16-prfsha256-x25519 */
	check_sa_init(FIX_GCM, 0, IKE_ENCR_AES_GCM_16, 256, -1, IKE_PRF_HMAC_SHA2_256,
		      IKE_DH_CURVE25519, 32);
	check_sa_init(FIX_GCM, 1, IKE_ENCR_AES_GCM_16, 256, -1, IKE_PRF_HMAC_SHA2_256,
		      IKE_DH_CURVE25519, 32);
}

static void fixture_cbc_sa_init_decodes(void **state)
{
	/* aes128-sha256-modp2048 */
	check_sa_init(FIX_CBC, 0, IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_256_128,
		      IKE_PRF_HMAC_SHA2_256, IKE_DH_MODP2048, 256);
	check_sa_init(FIX_CBC, 1, IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_256_128,
		      IKE_PRF_HMAC_SHA2_256, IKE_DH_MODP2048, 256);
}

/* ---- building from scratch ------------------------------------------ */

static const uint8_t spi_i[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

static size_t build_sa_init(uint8_t *buf, size_t cap, struct pvpn_err *err)
{
	struct ike_header h = { .exchange = IKE_SA_INIT, .flags = IKE_FLAG_I };
	struct ike_builder b;
	uint8_t ke[32], nonce[32], natd[20];
	struct ike_transform xf[] = {
		{ .type = IKE_TRANS_ENCR, .id = IKE_ENCR_AES_GCM_16, .key_length = 256 },
		{ .type = IKE_TRANS_ENCR, .id = IKE_ENCR_AES_GCM_16, .key_length = 128 },
		{ .type = IKE_TRANS_PRF, .id = IKE_PRF_HMAC_SHA2_256 },
		{ .type = IKE_TRANS_DH, .id = IKE_DH_CURVE25519 },
		{ .type = IKE_TRANS_ENCR, .id = IKE_ENCR_AES_CBC, .key_length = 128 },
		{ .type = IKE_TRANS_INTEG, .id = IKE_INTEG_HMAC_SHA2_256_128 },
		{ .type = IKE_TRANS_PRF, .id = IKE_PRF_HMAC_SHA2_256 },
		{ .type = IKE_TRANS_DH, .id = IKE_DH_MODP2048 },
	};
	struct ike_proposal props[] = {
		{ .num = 1, .protocol = IKE_PROTO_IKE, .nxforms = 4, .xforms = &xf[0] },
		{ .num = 2, .protocol = IKE_PROTO_IKE, .nxforms = 4, .xforms = &xf[4] },
	};
	size_t len = 0;
	memcpy(h.spi_i, spi_i, 8);
	for (int i = 0; i < 32; i++) {
		ke[i] = (uint8_t)(0x40 + i);
		nonce[i] = (uint8_t)(0x80 + i);
	}
	memset(natd, 0xaa, sizeof(natd));
	ike_build_begin(&b, buf, cap, &h);
	ike_build_sa(&b, props, 2);
	ike_build_ke(&b, IKE_DH_CURVE25519, ke, sizeof(ke));
	ike_build_nonce(&b, nonce, sizeof(nonce));
	ike_build_notify(&b, 0, NULL, 0, IKE_N_NAT_DETECTION_SOURCE_IP, natd, sizeof(natd));
	ike_build_notify(&b, 0, NULL, 0, IKE_N_NAT_DETECTION_DESTINATION_IP, natd, sizeof(natd));
	ike_build_notify(&b, 0, NULL, 0, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED, NULL, 0);
	if (ike_build_finish(&b, &len, NULL, err) != 0)
		return 0;
	return len;
}

static void built_sa_init_parses_back(void **state)
{
	static uint8_t buf[2048];
	struct pvpn_err err = { 0, "" };
	size_t len = build_sa_init(buf, sizeof(buf), &err);
	if (len == 0)
		fail_msg("build failed: %s", err.msg);
	/* header 28 + SA (4 + (8 + 12+12+8+8) + (8 + 12+8+8+8)) + KE 40 + No 36 + 2*N 28 + N 8 */
	assert_int_equal(len, 28 + 4 + 48 + 44 + 40 + 36 + 2 * 28 + 8);
	parse_ok(&msg, buf, len);
	assert_int_equal(msg.hdr.length, len);
	assert_int_equal(msg.hdr.next_payload, IKE_PT_SA);
	assert_int_equal(msg.hdr.version, IKE_VERSION_2_0);
	assert_memory_equal(msg.hdr.spi_i, spi_i, 8);
	assert_int_equal(msg.npayloads, 6);
	const uint8_t order[] = { IKE_PT_SA, IKE_PT_KE, IKE_PT_NONCE, IKE_PT_NOTIFY, IKE_PT_NOTIFY, IKE_PT_NOTIFY };
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(msg.payloads[i].type, order[i]);
	const struct ike_sa_body *sa = &msg.payloads[0].u.sa;
	assert_int_equal(sa->nprops, 2);
	assert_int_equal(sa->props[1].num, 2);
	assert_int_equal(sa->props[0].nxforms, 4);
	assert_int_equal(sa->props[0].xforms[0].key_length, 256);
	assert_int_equal(sa->props[0].xforms[1].key_length, 128);
	assert_int_equal(sa->props[0].xforms[2].key_length, 0);
	assert_int_equal(sa->props[1].xforms[3].id, IKE_DH_MODP2048);
	assert_int_equal(msg.payloads[1].u.ke.len, 32);
	assert_int_equal(msg.payloads[1].u.ke.data[31], 0x40 + 31);
	assert_int_equal(msg.payloads[5].u.notify.type, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED);
	assert_int_equal(msg.payloads[5].u.notify.len, 0);
	round_trip(&msg, buf, len);
}

static void builder_refuses_a_small_buffer(void **state)
{
	static uint8_t buf[2048];
	struct pvpn_err err = { 0, "" };
	size_t full = build_sa_init(buf, sizeof(buf), &err);
	assert_true(full > 0);
	/* every shorter capacity fails cleanly, never writing past it */
	for (size_t cap = 0; cap < full; cap += 7) {
		memset(buf, 0x5a, sizeof(buf));
		err.code = 0;
		assert_int_equal(build_sa_init(buf, cap, &err), 0);
		assert_int_equal(err.code, -ENOSPC);
		for (size_t i = cap; i < sizeof(buf); i++)
			assert_int_equal(buf[i], 0x5a);
	}
}

/* An IKE_AUTH-shaped message: SK around IDi, AUTH, CP, SA, TSi, TSr, with
 * the layout crypto needs; the inner chain parses back by itself. */
static void built_sk_layout_and_inner_chain(void **state)
{
	static uint8_t buf[2048];
	struct ike_header h = { .exchange = IKE_AUTH, .flags = IKE_FLAG_I, .message_id = 1 };
	struct ike_builder b;
	struct ike_sk_layout lay;
	struct pvpn_err err = { 0, "" };
	const uint8_t id[] = "client.example";
	uint8_t auth[32], espspi[4] = { 0xc0, 0x01, 0xd0, 0x0d };
	struct ike_cp_attr cpa[] = {
		{ .type = IKE_CP_INTERNAL_IP4_ADDRESS },
		{ .type = IKE_CP_INTERNAL_IP4_DNS },
		{ .type = IKE_CP_INTERNAL_DNS_DOMAIN, .data = (const uint8_t *)"example", .len = 7 },
	};
	struct ike_transform xf[] = {
		{ .type = IKE_TRANS_ENCR, .id = IKE_ENCR_AES_GCM_16, .key_length = 256 },
		{ .type = IKE_TRANS_ESN, .id = IKE_ESN_NO },
	};
	struct ike_proposal prop = { .num = 1, .protocol = IKE_PROTO_ESP, .spi_size = 4,
				     .nxforms = 2, .xforms = xf };
	struct ike_ts tsi = { .type = IKE_TS_IPV4_ADDR_RANGE, .end_port = 65535,
			      .end = { 255, 255, 255, 255 } };
	struct ike_ts tsr[2] = {
		{ .type = IKE_TS_IPV4_ADDR_RANGE, .end_port = 65535,
		  .start = { 10, 99, 0, 0 }, .end = { 10, 99, 0, 255 } },
		{ .type = IKE_TS_IPV6_ADDR_RANGE, .ip_proto = 17, .start_port = 53, .end_port = 53,
		  .start = { 0x20, 0x01, 0x0d, 0xb8 }, .end = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0xff } },
	};
	size_t len = 0;

	memcpy(prop.spi, espspi, 4);
	memset(auth, 0x33, sizeof(auth));
	memcpy(h.spi_i, spi_i, 8);
	ike_build_begin(&b, buf, sizeof(buf), &h);
	ike_build_sk_begin(&b, 8);
	ike_build_id(&b, IKE_PT_IDI, IKE_ID_FQDN, id, sizeof(id) - 1);
	ike_build_auth(&b, IKE_AUTH_PSK, auth, sizeof(auth));
	ike_build_cp(&b, IKE_CFG_REQUEST, cpa, 3);
	ike_build_sa(&b, &prop, 1);
	ike_build_ts(&b, IKE_PT_TSI, &tsi, 1);
	ike_build_ts(&b, IKE_PT_TSR, tsr, 2);
	ike_build_sk_end(&b, 16, 16, &lay);
	/* nothing may follow SK (§3.14) */
	assert_int_equal(ike_build_nonce(&b, auth, sizeof(auth)), -EINVAL);
	assert_int_equal(ike_build_finish(&b, &len, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "must be last"));

	ike_build_begin(&b, buf, sizeof(buf), &h);
	ike_build_sk_begin(&b, 8);
	ike_build_id(&b, IKE_PT_IDI, IKE_ID_FQDN, id, sizeof(id) - 1);
	ike_build_auth(&b, IKE_AUTH_PSK, auth, sizeof(auth));
	ike_build_cp(&b, IKE_CFG_REQUEST, cpa, 3);
	ike_build_sa(&b, &prop, 1);
	ike_build_ts(&b, IKE_PT_TSI, &tsi, 1);
	ike_build_ts(&b, IKE_PT_TSR, tsr, 2);
	assert_int_equal(ike_build_sk_end(&b, 16, 16, &lay), 0);
	if (ike_build_finish(&b, &len, NULL, &err) != 0)
		fail_msg("build: %s", err.msg);

	assert_int_equal(lay.sk_off, IKE_HEADER_LEN);
	assert_int_equal(lay.iv_off, IKE_HEADER_LEN + 4);
	assert_int_equal(lay.iv_len, 8);
	assert_int_equal(lay.pt_off, lay.iv_off + 8);
	assert_int_equal(lay.pt_len % 16, 0);
	assert_int_equal(buf[lay.pt_off + lay.pt_len - 1], lay.pad_len);
	assert_true(lay.pad_len < 16);
	assert_int_equal(lay.icv_off, lay.pt_off + lay.pt_len);
	assert_int_equal(lay.icv_off + 16, len);

	parse_ok(&msg, buf, len);
	assert_int_equal(msg.npayloads, 1);
	const struct ike_payload *sk = &msg.payloads[0];
	assert_int_equal(sk->type, IKE_PT_SK);
	assert_int_equal(sk->u.sk.first, IKE_PT_IDI);
	assert_int_equal(sk->offset, lay.sk_off);
	assert_int_equal(sk->u.sk.len, 8 + lay.pt_len + 16);
	round_trip(&msg, buf, len);

	/* the plaintext without padding is the inner chain */
	size_t inner_len = lay.pt_len - lay.pad_len - 1;
	if (ike_payloads_parse(&msg2, sk->u.sk.first, buf + lay.pt_off, inner_len, &err) != 0)
		fail_msg("inner: %s", err.msg);
	assert_false(msg2.has_header);
	assert_int_equal(msg2.npayloads, 6);
	const struct ike_payload *p = ike_message_find(&msg2, IKE_PT_IDI, NULL);
	assert_non_null(p);
	assert_int_equal(p->u.id.type, IKE_ID_FQDN);
	assert_int_equal(p->u.id.len, 14);
	assert_memory_equal(p->u.id.data, "client.example", 14);
	p = ike_message_find(&msg2, IKE_PT_CP, NULL);
	assert_int_equal(p->u.cp.cfg_type, IKE_CFG_REQUEST);
	assert_int_equal(p->u.cp.nattrs, 3);
	assert_int_equal(p->u.cp.attrs[0].len, 0);
	assert_int_equal(p->u.cp.attrs[2].type, IKE_CP_INTERNAL_DNS_DOMAIN);
	assert_memory_equal(p->u.cp.attrs[2].data, "example", 7);
	p = ike_message_find(&msg2, IKE_PT_SA, NULL);
	assert_int_equal(p->u.sa.props[0].protocol, IKE_PROTO_ESP);
	assert_memory_equal(p->u.sa.props[0].spi, espspi, 4);
	assert_int_equal(p->u.sa.props[0].xforms[1].type, IKE_TRANS_ESN);
	p = ike_message_find(&msg2, IKE_PT_TSR, NULL);
	assert_int_equal(p->u.ts.nts, 2);
	assert_int_equal(p->u.ts.ts[0].start[1], 99);
	assert_int_equal(p->u.ts.ts[1].type, IKE_TS_IPV6_ADDR_RANGE);
	assert_int_equal(p->u.ts.ts[1].ip_proto, 17);
	assert_int_equal(p->u.ts.ts[1].start_port, 53);
	assert_int_equal(p->u.ts.ts[1].end[15], 0xff);

	/* the bare chain re-serialises too */
	size_t olen = 0;
	assert_int_equal(ike_message_build(&msg2, out, sizeof(out), &olen, &err), 0);
	assert_int_equal(olen, inner_len);
	assert_memory_equal(out, buf + lay.pt_off, inner_len);
}

static void built_skf_fragments(void **state)
{
	static uint8_t buf[512];
	struct ike_header h = { .exchange = IKE_AUTH, .flags = IKE_FLAG_I, .message_id = 1 };
	struct ike_builder b;
	struct ike_sk_layout lay;
	struct pvpn_err err = { 0, "" };
	const uint8_t slice[40] = { 1, 2, 3 };
	size_t len;
	for (uint16_t n = 1; n <= 2; n++) {
		ike_build_begin(&b, buf, sizeof(buf), &h);
		ike_build_skf_begin(&b, IKE_PT_IDI, n, 2, 16);
		ike_build_bytes(&b, slice, sizeof(slice));
		ike_build_sk_end(&b, 16, 12, &lay);
		if (ike_build_finish(&b, &len, NULL, &err) != 0)
			fail_msg("build: %s", err.msg);
		assert_int_equal(lay.iv_off, IKE_HEADER_LEN + 8);
		assert_int_equal(lay.pt_len, 48);
		parse_ok(&msg, buf, len);
		assert_int_equal(msg.payloads[0].type, IKE_PT_SKF);
		assert_int_equal(msg.payloads[0].u.skf.number, n);
		assert_int_equal(msg.payloads[0].u.skf.total, 2);
		/* RFC 7383 §2.5: only fragment 1 names the inner first payload */
		assert_int_equal(msg.payloads[0].u.skf.first, n == 1 ? IKE_PT_IDI : 0);
		round_trip(&msg, buf, len);
	}
	assert_int_equal(ike_build_skf_begin(&b, 0, 3, 2, 16), -EINVAL);
}

/* Unknown payloads without the critical bit are skipped (§2.5) but kept,
 * so the message still re-serialises. */
static void unknown_noncritical_payload_is_kept(void **state)
{
	static uint8_t buf[256];
	struct ike_header h = { .exchange = IKE_INFORMATIONAL };
	struct ike_builder b;
	struct pvpn_err err = { 0, "" };
	const uint8_t body[5] = { 9, 8, 7, 6, 5 };
	size_t len;
	ike_build_begin(&b, buf, sizeof(buf), &h);
	ike_build_raw(&b, 200, 0x01, body, sizeof(body));   /* a reserved flag bit too */
	ike_build_vendor(&b, body, 3);
	ike_build_raw(&b, IKE_PT_PS, 0, body, 1);           /* known number, not decoded */
	assert_int_equal(ike_build_finish(&b, &len, NULL, &err), 0);
	parse_ok(&msg, buf, len);
	assert_int_equal(msg.npayloads, 3);
	assert_int_equal(msg.payloads[0].type, 200);
	assert_int_equal(msg.payloads[0].flags, 0x01);
	assert_int_equal(msg.payloads[0].body_len, 5);
	assert_int_equal(msg.payloads[1].u.vendor.len, 3);
	assert_int_equal(msg.payloads[2].type, IKE_PT_PS);
	round_trip(&msg, buf, len);
}

static void one_line_summary(void **state)
{
	struct capture c;
	char line[256], small[10];
	load(&c, FIX_GCM);
	parse_ok(&msg, c.m[0].data, c.m[0].len);
	const char *want = "IKE_SA_INIT #0 I req [SA KE No N(NATD_S_IP) N(NATD_D_IP) N(FRAG_SUP) N(HASH_ALG) N(REDIR_SUP)]";
	assert_int_equal(ike_message_format(&msg, line, sizeof(line)), strlen(want));
	assert_string_equal(line, want);
	/* snprintf semantics: truncated, terminated, full length returned */
	assert_int_equal(ike_message_format(&msg, small, sizeof(small)), strlen(want));
	assert_string_equal(small, "IKE_SA_IN");
	parse_ok(&msg, c.m[4].data, c.m[4].len);
	ike_message_format(&msg, line, sizeof(line));
	assert_string_equal(line, "IKE_AUTH #1 R rsp [SK]");
	tpcap_close(&c.pcap);

	/* a bare chain, with unknown numbers shown as numbers */
	static uint8_t buf[256];
	struct ike_builder b;
	struct pvpn_err err = { 0, "" };
	const uint8_t spi[4] = { 1, 2, 3, 4 };
	uint8_t first = 0;
	size_t len;
	ike_build_chain_begin(&b, buf, sizeof(buf));
	ike_build_notify(&b, 0, NULL, 0, 40000, NULL, 0);
	ike_build_delete(&b, IKE_PROTO_ESP, 4, spi, 1);
	ike_build_cp(&b, IKE_CFG_REPLY, NULL, 0);
	ike_build_raw(&b, 222, 0, spi, 1);
	assert_int_equal(ike_build_finish(&b, &len, &first, &err), 0);
	assert_int_equal(first, IKE_PT_NOTIFY);
	if (ike_payloads_parse(&msg, first, buf, len, &err) != 0)
		fail_msg("%s", err.msg);
	ike_message_format(&msg, line, sizeof(line));
	assert_string_equal(line, "[N(40000) D(ESP) CP(REPLY) PT(222)]");
}

static void names(void **state)
{
	assert_string_equal(ike_notify_name(16388), "NAT_DETECTION_SOURCE_IP");
	assert_string_equal(ike_notify_short_name(16389), "NATD_D_IP");
	assert_string_equal(ike_notify_short_name(IKE_N_COOKIE), "COOKIE");
	assert_null(ike_notify_name(12345));
	assert_string_equal(ike_exchange_name(34), "IKE_SA_INIT");
	assert_string_equal(ike_exchange_name(37), "INFORMATIONAL");
	assert_string_equal(ike_payload_name(40), "No");
	assert_string_equal(ike_transform_name(IKE_TRANS_DH, 31), "CURVE_25519");
	assert_string_equal(ike_transform_name(IKE_TRANS_INTEG, 12), "AUTH_HMAC_SHA2_256_128");
	assert_string_equal(ike_transform_name(IKE_TRANS_PRF, 5), "PRF_HMAC_SHA2_256");
	assert_string_equal(ike_transform_name(IKE_TRANS_ESN, 0), "NO_ESN");
	assert_string_equal(ike_cp_attr_name(0x8000 | 25), "INTERNAL_DNS_DOMAIN");
	assert_string_equal(ike_id_type_name(2), "ID_FQDN");
	assert_string_equal(ike_auth_method_name(2), "SHARED_KEY_MIC");
	assert_string_equal(ike_ts_type_name(8), "TS_IPV6_ADDR_RANGE");
	assert_string_equal(ike_cfg_type_name(2), "CFG_REPLY");
	assert_null(ike_payload_name(0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fixture_gcm_every_message_round_trips),
		cmocka_unit_test(fixture_cbc_every_message_round_trips),
		cmocka_unit_test(fixture_gcm_sa_init_decodes),
		cmocka_unit_test(fixture_cbc_sa_init_decodes),
		cmocka_unit_test(built_sa_init_parses_back),
		cmocka_unit_test(builder_refuses_a_small_buffer),
		cmocka_unit_test(built_sk_layout_and_inner_chain),
		cmocka_unit_test(built_skf_fragments),
		cmocka_unit_test(unknown_noncritical_payload_is_kept),
		cmocka_unit_test(one_line_summary),
		cmocka_unit_test(names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
