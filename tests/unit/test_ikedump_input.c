/* Unit tests for pvpn-ikedump's inputs: the pcap reader (every framing it
 * claims to understand, built here byte by byte) and the key-file parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/writer.h"
#include "tools/ikedump/ikedump.h"

/* ---- a pcap builder ------------------------------------------------------ */

struct pb {
	uint8_t buf[8192];
	size_t len;
	bool be;        /* write the file big-endian */
};

static void put32(struct pb *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b->buf[b->len + (size_t)i] = b->be ? (uint8_t)(v >> (24 - 8 * i)) : (uint8_t)(v >> (8 * i));
	b->len += 4;
}

static void put16(struct pb *b, uint16_t v)
{
	if (b->be) {
		b->buf[b->len] = (uint8_t)(v >> 8);
		b->buf[b->len + 1] = (uint8_t)v;
	} else {
		b->buf[b->len] = (uint8_t)v;
		b->buf[b->len + 1] = (uint8_t)(v >> 8);
	}
	b->len += 2;
}

static void pb_header(struct pb *b, bool be, bool nanos, uint32_t linktype)
{
	memset(b, 0, sizeof(*b));
	b->be = be;
	put32(b, nanos ? 0xa1b23c4du : 0xa1b2c3d4u);
	put16(b, 2);
	put16(b, 4);
	put32(b, 0);
	put32(b, 0);
	put32(b, 65535);
	put32(b, linktype);
}

static void pb_record(struct pb *b, uint32_t sec, uint32_t frac, const uint8_t *data, size_t n)
{
	put32(b, sec);
	put32(b, frac);
	put32(b, (uint32_t)n);
	put32(b, (uint32_t)n);
	memcpy(b->buf + b->len, data, n);
	b->len += n;
}

/* A fake IKE message body: 28 bytes whose first byte is recognisable. */
static const uint8_t fake_ike[28] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
				      0, 0, 0, 0, 0, 0, 0, 0, 33, 0x20, 34, 0x08, 0, 0, 0, 0,
				      0, 0, 0, 28 };

/* Link header + IPv4/IPv6 + UDP + payload into out; returns its length. */
static size_t frame(uint8_t *out, uint32_t linktype, int family, uint16_t sport, uint16_t dport,
		    const uint8_t *payload, size_t plen)
{
	struct writer w;
	wr_init(&w, out, 2048);
	uint16_t ethertype = family == AF_INET6 ? 0x86dd : 0x0800;
	switch (linktype) {
	case IKD_LINK_ETHERNET:
		wr_zero(&w, 12);
		wr_u16(&w, 0x8100);    /* a VLAN tag on the way */
		wr_u16(&w, 42);
		wr_u16(&w, ethertype);
		break;
	case IKD_LINK_SLL:
		wr_zero(&w, 14);
		wr_u16(&w, ethertype);
		break;
	case IKD_LINK_SLL2:
		wr_u16(&w, ethertype);
		wr_zero(&w, 18);
		break;
	default:
		break;
	}
	size_t udplen = 8 + plen;
	if (family == AF_INET6) {
		wr_u32(&w, 0x60000000u);
		wr_u16(&w, (uint16_t)udplen);
		wr_u8(&w, 17);
		wr_u8(&w, 64);
		uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8 };
		a[15] = 1;
		wr_bytes(&w, a, 16);
		a[15] = 2;
		wr_bytes(&w, a, 16);
	} else {
		wr_u8(&w, 0x45);
		wr_u8(&w, 0);
		wr_u16(&w, (uint16_t)(20 + udplen));
		wr_u32(&w, 0);
		wr_u8(&w, 64);
		wr_u8(&w, 17);
		wr_u16(&w, 0);
		wr_u32(&w, 0xc0000201u);
		wr_u32(&w, 0xc0000202u);
	}
	wr_u16(&w, sport);
	wr_u16(&w, dport);
	wr_u16(&w, (uint16_t)udplen);
	wr_u16(&w, 0);
	wr_bytes(&w, payload, plen);
	assert_true(wr_ok(&w));
	return wr_len(&w);
}

static void check_framing(uint32_t linktype, bool be, bool nanos, int family)
{
	struct pb b;
	uint8_t f[2048], natt[64], esp[64], ka[1] = { 0xff };
	struct ikd_pcap p;
	struct ikd_packet pkt;
	struct pvpn_err e = { 0 };
	size_t n;

	pb_header(&b, be, nanos, linktype);
	n = frame(f, linktype, family, 500, 500, fake_ike, sizeof(fake_ike));
	pb_record(&b, 1000, 5, f, n);
	/* ESP on 4500: skipped. */
	memset(esp, 0xab, sizeof(esp));
	n = frame(f, linktype, family, 4500, 4500, esp, sizeof(esp));
	pb_record(&b, 1001, 0, f, n);
	/* A NAT keepalive: skipped. */
	n = frame(f, linktype, family, 4500, 4500, ka, 1);
	pb_record(&b, 1001, 1, f, n);
	/* Other UDP: skipped. */
	n = frame(f, linktype, family, 53, 53, fake_ike, sizeof(fake_ike));
	pb_record(&b, 1001, 2, f, n);
	/* IKE after the non-ESP marker, from a NAT-mapped port. */
	memset(natt, 0, 4);
	memcpy(natt + 4, fake_ike, sizeof(fake_ike));
	n = frame(f, linktype, family, 31337, 4500, natt, 4 + sizeof(fake_ike));
	pb_record(&b, 1002, 7, f, n);

	assert_int_equal(ikd_pcap_open(&p, b.buf, b.len, &e), 0);
	assert_int_equal(ikd_pcap_next(&p, &pkt, &e), 1);
	assert_int_equal(pkt.record, 1);
	assert_int_equal(pkt.family, family);
	assert_int_equal(pkt.sport, 500);
	assert_false(pkt.natt);
	assert_int_equal(pkt.ike_len, sizeof(fake_ike));
	assert_memory_equal(pkt.ike, fake_ike, sizeof(fake_ike));
	assert_true(pkt.ts_ns == 1000ull * 1000000000ull + (nanos ? 5u : 5000u));
	if (family == AF_INET)
		assert_int_equal(pkt.src[3], 1);
	else
		assert_int_equal(pkt.src[15], 1);

	assert_int_equal(ikd_pcap_next(&p, &pkt, &e), 1);
	assert_int_equal(pkt.record, 5);
	assert_true(pkt.natt);
	assert_int_equal(pkt.sport, 31337);
	assert_int_equal(pkt.ike_len, sizeof(fake_ike));
	assert_memory_equal(pkt.ike, fake_ike, sizeof(fake_ike));
	assert_int_equal(ikd_pcap_next(&p, &pkt, &e), 0);
	assert_int_equal(p.skipped_esp, 1);
	assert_int_equal(p.skipped_keepalive, 1);
	assert_int_equal(p.skipped_other, 1);
}

static void pcap_ethernet_le_us_v4(void **state) { check_framing(IKD_LINK_ETHERNET, false, false, AF_INET); }
static void pcap_ethernet_be_ns_v6(void **state) { check_framing(IKD_LINK_ETHERNET, true, true, AF_INET6); }
static void pcap_sll_v4(void **state) { check_framing(IKD_LINK_SLL, false, true, AF_INET); }
static void pcap_sll_v6_be(void **state) { check_framing(IKD_LINK_SLL, true, false, AF_INET6); }
static void pcap_sll2_v4(void **state) { check_framing(IKD_LINK_SLL2, true, false, AF_INET); }
static void pcap_sll2_v6(void **state) { check_framing(IKD_LINK_SLL2, false, false, AF_INET6); }
static void pcap_raw_v6(void **state) { check_framing(IKD_LINK_RAW, false, false, AF_INET6); }

static void pcap_rejects_bad_headers(void **state)
{
	struct pb b;
	struct ikd_pcap p;
	struct pvpn_err e = { 0 };

	assert_int_equal(ikd_pcap_open(&p, (const uint8_t *)"short", 5, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "not a pcap"));

	pb_header(&b, false, false, 1);
	b.buf[0] = 0x42;
	assert_int_equal(ikd_pcap_open(&p, b.buf, b.len, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "magic"));

	static const uint8_t ng[24] = { 0x0a, 0x0d, 0x0d, 0x0a };
	assert_int_equal(ikd_pcap_open(&p, ng, sizeof(ng), &e), -EINVAL);
	assert_non_null(strstr(e.msg, "pcapng"));

	pb_header(&b, false, false, 105 /* 802.11 */);
	assert_int_equal(ikd_pcap_open(&p, b.buf, b.len, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "link type 105"));
}

static void pcap_truncated_record_is_an_error(void **state)
{
	struct pb b;
	uint8_t f[2048];
	struct ikd_pcap p;
	struct ikd_packet pkt;
	struct pvpn_err e = { 0 };
	size_t n, full;

	pb_header(&b, false, false, IKD_LINK_ETHERNET);
	n = frame(f, IKD_LINK_ETHERNET, AF_INET, 500, 500, fake_ike, sizeof(fake_ike));
	pb_record(&b, 1, 0, f, n);
	pb_record(&b, 2, 0, f, n);
	full = b.len;
	/* Cut inside the second record's data, then inside its header. */
	size_t cuts[] = { full - 1, full - n - 3 };
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(ikd_pcap_open(&p, b.buf, cuts[i], &e), 0);
		assert_int_equal(ikd_pcap_next(&p, &pkt, &e), 1);
		assert_int_equal(ikd_pcap_next(&p, &pkt, &e), -EINVAL);
		assert_non_null(strstr(e.msg, "truncated pcap"));
		assert_non_null(strstr(e.msg, "record 2"));
		/* And it stays failed. */
		assert_true(ikd_pcap_next(&p, &pkt, &e) < 0);
	}
	/* A record header claiming an absurd length is a damaged file. */
	b.len = full - n - 16;
	put32(&b, 3);
	put32(&b, 0);
	put32(&b, 0x7fffffffu);
	put32(&b, 0x7fffffffu);
	assert_int_equal(ikd_pcap_open(&p, b.buf, b.len, &e), 0);
	assert_int_equal(ikd_pcap_next(&p, &pkt, &e), 1);
	assert_int_equal(ikd_pcap_next(&p, &pkt, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "damaged pcap: record 2"));
}

static void pcap_skips_fragments_and_snapped_packets(void **state)
{
	struct pb b;
	uint8_t f[2048];
	struct ikd_pcap p;
	struct ikd_packet pkt;
	struct pvpn_err e = { 0 };
	size_t n;

	pb_header(&b, false, false, IKD_LINK_ETHERNET);
	n = frame(f, IKD_LINK_ETHERNET, AF_INET, 500, 500, fake_ike, sizeof(fake_ike));
	f[18 + 6] = 0x20;       /* more fragments */
	pb_record(&b, 1, 0, f, n);
	f[18 + 6] = 0;
	/* Captured length shorter than the original: cut at snaplen. */
	put32(&b, 2);
	put32(&b, 0);
	put32(&b, (uint32_t)n);
	put32(&b, (uint32_t)n + 100);
	memcpy(b.buf + b.len, f, n);
	b.len += n;
	/* A UDP length that runs past the IP packet. */
	n = frame(f, IKD_LINK_ETHERNET, AF_INET, 500, 500, fake_ike, sizeof(fake_ike));
	f[18 + 20 + 4] = 0x0f;
	pb_record(&b, 3, 0, f, n);

	assert_int_equal(ikd_pcap_open(&p, b.buf, b.len, &e), 0);
	assert_int_equal(ikd_pcap_next(&p, &pkt, &e), 0);
	assert_int_equal(p.skipped_fragment, 1);
	assert_int_equal(p.skipped_truncated, 2);
}

static void pcap_reads_the_fixture(void **state)
{
	uint8_t *buf;
	size_t len;
	struct ikd_pcap p;
	struct ikd_packet pkt;
	struct pvpn_err e = { 0 };
	int n = 0, natt = 0, rc;

	assert_int_equal(ikd_read_file("tests/fixtures/strongswan-5.9.8/psk-aes128-sha256-modp2048/ike.pcap",
				       1 << 20, &buf, &len, &e), 0);
	assert_int_equal(ikd_pcap_open(&p, buf, len, &e), 0);
	while ((rc = ikd_pcap_next(&p, &pkt, &e)) == 1) {
		n++;
		natt += pkt.natt;
		/* Every IKE message starts with its 8-byte SPIi and says IKEv2. */
		assert_true(pkt.ike_len >= 28);
		assert_int_equal(pkt.ike[17], 0x20);
	}
	assert_int_equal(rc, 0);
	/* IKE_SA_INIT x2 on 500, IKE_AUTH x2 and INFORMATIONAL x2 on 4500. */
	assert_int_equal(n, 6);
	assert_int_equal(natt, 4);
	/* The ping went as plain ESP (IP protocol 50), not UDP-encapsulated. */
	assert_int_equal(p.skipped_other, 4);
	assert_int_equal(p.records, 10);
	free(buf);
}

static void read_file_errors(void **state)
{
	uint8_t *buf;
	size_t len;
	struct pvpn_err e = { 0 };

	assert_int_equal(ikd_read_file("/nonexistent/x.pcap", 100, &buf, &len, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "/nonexistent/x.pcap"));
	assert_int_equal(ikd_read_file("tests", 100, &buf, &len, &e), -EISDIR);
	assert_int_equal(ikd_read_file("tests/fixtures/strongswan-5.9.8/psk-aes128-sha256-modp2048/ike.pcap",
				       100, &buf, &len, &e), -EFBIG);
}

/* ---- key files ----------------------------------------------------------- */

static void keys_plain_file(void **state)
{
	static const char text[] =
		"# comment\n"
		"dh_shared=0102\n"
		"\n"
		"  sk_d = AABBcc  \r\n"
		"esp_enc_i=00";   /* no final newline */
	struct ikd_keyfile kf;
	struct pvpn_err e = { 0 };
	uint8_t spi[8] = { 0 };

	assert_int_equal(ikd_keys_parse(&kf, text, strlen(text), &e), 0);
	assert_int_equal(kf.n_sets, 1);
	assert_false(kf.sets[0].has_spi);
	assert_int_equal(kf.sets[0].n_keys, 3);
	const struct ikd_keyset *ks = ikd_keys_find(&kf, spi, spi);
	assert_ptr_equal(ks, &kf.sets[0]);
	const struct secret *s = ikd_keyset_get(ks, "sk_d");
	assert_non_null(s);
	assert_int_equal(s->len, 3);
	assert_memory_equal(s->data, "\xaa\xbb\xcc", 3);
	assert_int_equal(ks->keys[1].line, 4);
	assert_null(ikd_keyset_get(ks, "sk_ai"));
	ikd_keys_free(&kf);
}

static void keys_blocks(void **state)
{
	static const char text[] =
		"# ike-sa home\n"
		"spi_i=0102030405060708\n"
		"spi_r=1112131415161718\n"
		"sk_d=01\n"
		"\n"
		"# ike-sa home\n"
		"spi_i=0x2122232425262728\n"
		"spi_r=3132333435363738\n"
		"sk_d=02\n";
	struct ikd_keyfile kf;
	struct pvpn_err e = { 0 };
	const uint8_t a_i[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, a_r[8] = { 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18 };
	const uint8_t b_i[8] = { 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28 };
	const uint8_t b_r[8] = { 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38 };

	assert_int_equal(ikd_keys_parse(&kf, text, strlen(text), &e), 0);
	assert_int_equal(kf.n_sets, 2);
	const struct ikd_keyset *ka = ikd_keys_find(&kf, a_i, a_r);
	const struct ikd_keyset *kb = ikd_keys_find(&kf, b_i, b_r);
	assert_non_null(ka);
	assert_non_null(kb);
	assert_int_equal(ikd_keyset_get(ka, "sk_d")->data[0], 1);
	assert_int_equal(ikd_keyset_get(kb, "sk_d")->data[0], 2);
	/* Mixed-up SPIs find nothing. */
	assert_null(ikd_keys_find(&kf, a_i, b_r));
	ikd_keys_free(&kf);
}

static void keys_rejects(void **state)
{
	static const struct { const char *text; const char *why; } bad[] = {
		{ "sk_d=0g\n", "line 1: sk_d is not valid hex" },
		{ "sk_d=abc\n", "even number" },
		{ "sk_d=\n", "even number" },
		{ "\nsk_d\n", "line 2: expected name=hex" },
		{ "=00\n", "key name" },
		{ "sk d=00\n", "bad character" },
		{ "sk_d=00\nsk_d=01\n", "given twice" },
		{ "spi_i=0102\nspi_r=0102030405060708\nsk_d=00\n", "16 hex digits" },
		{ "spi_i=0102030405060708\nsk_d=00\n", "spi_r must follow spi_i" },
		{ "spi_r=0102030405060708\n", "spi_r must follow spi_i" },
		{ "sk_d=00\nspi_i=0102030405060708\nspi_r=0102030405060708\nsk_d=00\n", "keys without SPIs" },
		{ "spi_i=0102030405060708\nspi_r=0102030405060708\n", "without any keys" },
		{ "# nothing\n\n", "no keys" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ikd_keyfile kf;
		struct pvpn_err e = { 0 };
		assert_int_equal(ikd_keys_parse(&kf, bad[i].text, strlen(bad[i].text), &e), -EINVAL);
		if (!strstr(e.msg, bad[i].why))
			fail_msg("case %zu: got \"%s\", wanted \"%s\"", i, e.msg, bad[i].why);
		assert_int_equal(kf.n_sets, 0);
	}
	/* A NUL byte says this is not a text file. */
	struct ikd_keyfile kf;
	struct pvpn_err e = { 0 };
	assert_int_equal(ikd_keys_parse(&kf, "sk_d=00\0\n", 9, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "NUL"));
}

static void keys_load_fixture(void **state)
{
	struct ikd_keyfile kf;
	struct pvpn_err e = { 0 };

	assert_int_equal(ikd_keys_load(&kf, "tests/fixtures/strongswan-5.9.8/psk-aes128-sha256-modp2048/keys.txt",
				       &e), 0);
	assert_int_equal(kf.n_sets, 1);
	assert_int_equal(kf.sets[0].n_keys, 13);
	for (size_t i = 0; i < kf.sets[0].n_keys; i++)
		assert_true(ikd_key_name_known(kf.sets[0].keys[i].name));
	assert_int_equal(ikd_keyset_get(&kf.sets[0], "dh_shared")->len, 256);
	ikd_keys_free(&kf);
	assert_int_equal(ikd_keys_load(&kf, "/nonexistent/keys.txt", &e), -ENOENT);
	assert_non_null(strstr(e.msg, "/nonexistent/keys.txt"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pcap_ethernet_le_us_v4),
		cmocka_unit_test(pcap_ethernet_be_ns_v6),
		cmocka_unit_test(pcap_sll_v4),
		cmocka_unit_test(pcap_sll_v6_be),
		cmocka_unit_test(pcap_sll2_v4),
		cmocka_unit_test(pcap_sll2_v6),
		cmocka_unit_test(pcap_raw_v6),
		cmocka_unit_test(pcap_rejects_bad_headers),
		cmocka_unit_test(pcap_truncated_record_is_an_error),
		cmocka_unit_test(pcap_skips_fragments_and_snapped_packets),
		cmocka_unit_test(pcap_reads_the_fixture),
		cmocka_unit_test(read_file_errors),
		cmocka_unit_test(keys_plain_file),
		cmocka_unit_test(keys_blocks),
		cmocka_unit_test(keys_rejects),
		cmocka_unit_test(keys_load_fixture),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
