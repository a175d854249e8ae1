/* pvpn-ikedump as a program: options and exit codes, error messages for
 * bad inputs, key files with SPI blocks (pvpnd --keylog) over a capture
 * that holds more than one IKE SA.  Runs in-process through
 * ikedump_run(); paths are relative to the repository root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ike-lite/constants.h"
#include "ike-lite/message.h"
#include "lib/hex.h"
#include "tools/ikedump/ikedump.h"

#define FIX "tests/fixtures/strongswan-5.9.8/"
#define MODP FIX "psk-aes128-sha256-modp2048/"
#define GCM FIX "psk-aes256gcm16-prfsha256-x25519/"

struct run {
	int rc;
	char *out, *err;
	size_t out_len, err_len;
};

static struct run run_argv(int argc, const char **argv)
{
	struct run r = { 0 };
	FILE *o = open_memstream(&r.out, &r.out_len);
	FILE *e = open_memstream(&r.err, &r.err_len);
	assert_non_null(o);
	assert_non_null(e);
	r.rc = ikedump_run(argc, (char **)argv, o, e);
	fclose(o);
	fclose(e);
	return r;
}

#define RUN(...) ({ const char *av_[] = { "pvpn-ikedump", __VA_ARGS__, NULL }; \
		    run_argv((int)(sizeof(av_) / sizeof(av_[0])) - 1, av_); })

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

static void write_file(char *tmpl, const void *data, size_t len)
{
	int fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static char *read_text(const char *path)
{
	uint8_t *buf;
	size_t len;
	struct pvpn_err e = { 0 };
	assert_int_equal(ikd_read_file(path, 1 << 20, &buf, &len, &e), 0);
	char *s = realloc(buf, len + 1);
	assert_non_null(s);
	s[len] = '\0';
	return s;
}

/* ---- options ------------------------------------------------------------- */

static void help_and_usage(void **state)
{
	struct run r = RUN("--help");
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "usage: pvpn-ikedump"));
	assert_non_null(strstr(r.out, "--verify"));
	run_free(&r);

	r = RUN("-h");
	assert_int_equal(r.rc, 0);
	run_free(&r);

	const char *none[] = { "pvpn-ikedump", NULL };
	r = run_argv(1, none);
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "no capture file given"));
	run_free(&r);

	r = RUN("--bogus", MODP "ike.pcap");
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "unknown option --bogus"));
	run_free(&r);

	r = RUN(MODP "ike.pcap", GCM "ike.pcap");
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "more than one capture"));
	run_free(&r);

	r = RUN("--verify", MODP "ike.pcap");
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "--verify needs --keys"));
	run_free(&r);

	r = RUN(MODP "ike.pcap", "--keys");
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "needs an argument"));
	run_free(&r);
}

/* Options after the file work too, and getopt state does not leak
 * between runs in one process. */
static void options_in_any_order_and_repeatable(void **state)
{
	for (int i = 0; i < 3; i++) {
		struct run r = RUN(MODP "ike.pcap", "--keys", MODP "keys.txt", "--verify");
		assert_int_equal(r.rc, 0);
		assert_non_null(strstr(r.out, "verify: 12 keys match, 0 do not"));
		run_free(&r);
	}
}

static void verbose_decodes_ike_sa_init(void **state)
{
	struct run r = RUN("-v", GCM "ike.pcap");
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "proposal #1 IKE"));
	assert_non_null(strstr(r.out, "ENCR_AES_GCM_16/256"));
	char ke[64];
	snprintf(ke, sizeof(ke), "KE: group %s, 32 bytes",
		 ike_transform_name(IKE_TRANS_DH, IKE_DH_CURVE25519));
	assert_non_null(strstr(r.out, ke));
	assert_non_null(strstr(r.out, "hashes 2 3 4 5"));
	/* Without -v nothing is decoded under the message lines. */
	run_free(&r);
	r = RUN(GCM "ike.pcap");
	assert_null(strstr(r.out, "proposal #1"));
	run_free(&r);
}

/* ---- bad inputs ---------------------------------------------------------- */

static void unreadable_and_bad_files(void **state)
{
	struct run r = RUN("/nonexistent/cap.pcap");
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.err, "cannot open /nonexistent/cap.pcap"));
	run_free(&r);

	r = RUN(MODP "keys.txt");
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.err, "not a pcap file"));
	run_free(&r);

	r = RUN("tests");
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.err, "is a directory"));
	run_free(&r);

	r = RUN("--keys", "/nonexistent/keys.txt", MODP "ike.pcap");
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.err, "cannot open /nonexistent/keys.txt"));
	run_free(&r);

	/* A pcap is not a key file. */
	r = RUN("--keys", MODP "ike.pcap", MODP "ike.pcap");
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.err, MODP "ike.pcap: key file line"));
	run_free(&r);
}

static void missing_keys(void **state)
{
	/* Only sk_ei: the responder's messages cannot be decrypted. */
	char *keys = read_text(GCM "keys.txt");
	char *sk_ei = strstr(keys, "sk_ei=");
	assert_non_null(sk_ei);
	*strchr(sk_ei, '\n') = '\0';
	char tmp[] = "/tmp/pvpn-test-keys-XXXXXX";
	write_file(tmp, sk_ei, strlen(sk_ei));
	struct run r = RUN("--keys", tmp, GCM "ike.pcap");
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.out, "! not decrypted: the key file has no sk_er"));
	assert_non_null(strstr(r.out, "IDi: ID_FQDN client.example"));
	run_free(&r);

	/* --verify with no dh_shared: every key unverified, with the reason. */
	r = RUN("--verify", "--keys", tmp, GCM "ike.pcap");
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.out, "sk_ei UNVERIFIED: the key file has no dh_shared"));
	run_free(&r);
	unlink(tmp);

	/* Only dh_shared: nothing to verify is a failure, not a pass. */
	char *dh = strstr(keys, "dh_shared=");
	*strchr(dh, '\n') = '\0';
	char tmp2[] = "/tmp/pvpn-test-keys-XXXXXX";
	write_file(tmp2, dh, strlen(dh));
	r = RUN("--verify", "--keys", tmp2, GCM "ike.pcap");
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.err, "no key to verify"));
	run_free(&r);
	unlink(tmp2);
	free(keys);
}

static void unknown_and_impossible_keys(void **state)
{
	char *keys = read_text(GCM "keys.txt");
	size_t n = strlen(keys);
	char *more = malloc(n + 64);
	assert_non_null(more);
	/* An AEAD suite has no SK_a; a name ikedump does not know. */
	snprintf(more, n + 64, "%ssk_ai=00112233\nsk_x=00\n", keys);
	char tmp[] = "/tmp/pvpn-test-keys-XXXXXX";
	write_file(tmp, more, strlen(more));
	struct run r = RUN("--verify", "--keys", tmp, GCM "ike.pcap");
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.out, "\nsk_d match\n"));
	assert_non_null(strstr(r.out, "sk_ai MISMATCH (the negotiated algorithms have no such key)"));
	assert_non_null(strstr(r.out, "sk_x UNVERIFIED"));
	run_free(&r);
	unlink(tmp);
	free(more);
	free(keys);
}

/* pvpnd's key log may name the Child SA's SPIs; they are checked against
 * the IKE_AUTH proposals (the values of initiator-xfrm-state.txt). */
static void child_spis_checked(void **state)
{
	char *keys = read_text(GCM "keys.txt");
	char *xfrm = read_text(GCM "initiator-xfrm-state.txt");
	size_t n = strlen(keys);
	char *more = malloc(n + 128);
	char spi_out[9], spi_in[9];
	assert_non_null(more);
	/* "src 192.0.2.1 dst 192.0.2.2 ... spi 0x...": outbound first. */
	char *o = strstr(xfrm, "src 192.0.2.1 dst 192.0.2.2");
	char *in = strstr(xfrm, "src 192.0.2.2 dst 192.0.2.1");
	assert_non_null(o);
	assert_non_null(in);
	assert_int_equal(sscanf(strstr(o, "spi 0x") + 6, "%8s", spi_out), 1);
	assert_int_equal(sscanf(strstr(in, "spi 0x") + 6, "%8s", spi_in), 1);
	snprintf(more, n + 128, "%sesp_spi_i=%s\nesp_spi_r=%s\n", keys, spi_out, spi_in);
	char tmp[] = "/tmp/pvpn-test-keys-XXXXXX";
	write_file(tmp, more, strlen(more));
	struct run r = RUN("--verify", "--keys", tmp, GCM "ike.pcap");
	if (r.rc != 0)
		fail_msg("exit %d\n%s%s", r.rc, r.out, r.err);
	assert_non_null(strstr(r.out, "\nesp_spi_i match\n"));
	assert_non_null(strstr(r.out, "\nesp_spi_r match\n"));
	run_free(&r);
	unlink(tmp);

	/* Swapped, they mismatch. */
	snprintf(more, n + 128, "%sesp_spi_i=%s\nesp_spi_r=%s\n", keys, spi_in, spi_out);
	char tmp2[] = "/tmp/pvpn-test-keys-XXXXXX";
	write_file(tmp2, more, strlen(more));
	r = RUN("--verify", "--keys", tmp2, GCM "ike.pcap");
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.out, "\nesp_spi_i MISMATCH\n"));
	assert_non_null(strstr(r.out, "\nesp_spi_r MISMATCH\n"));
	run_free(&r);
	unlink(tmp2);
	free(more);
	free(keys);
	free(xfrm);
}

/* ---- several IKE SAs, SPI blocks ----------------------------------------- */

/* Both fixtures' captures in one pcap (same header; records appended). */
static void two_sa_capture(char *tmp)
{
	uint8_t *a, *b;
	size_t al, bl;
	struct pvpn_err e = { 0 };
	assert_int_equal(ikd_read_file(MODP "ike.pcap", 1 << 20, &a, &al, &e), 0);
	assert_int_equal(ikd_read_file(GCM "ike.pcap", 1 << 20, &b, &bl, &e), 0);
	assert_memory_equal(a, b, 24);
	uint8_t *c = malloc(al + bl - 24);
	assert_non_null(c);
	memcpy(c, a, al);
	memcpy(c + al, b + 24, bl - 24);
	write_file(tmp, c, al + bl - 24);
	free(a);
	free(b);
	free(c);
}

/* "spi_i=..\nspi_r=..\n" + keys.txt, with the SPIs read from the pcap. */
static void spi_block(char *out, size_t cap, const char *dir, bool wrong_spi)
{
	char path[256];
	uint8_t *pc;
	size_t len;
	struct pvpn_err e = { 0 };
	struct ikd_pcap p;
	struct ikd_packet pkt;
	char hi[17], hr[17];

	snprintf(path, sizeof(path), "%sike.pcap", dir);
	assert_int_equal(ikd_read_file(path, 1 << 20, &pc, &len, &e), 0);
	assert_int_equal(ikd_pcap_open(&p, pc, len, &e), 0);
	assert_int_equal(ikd_pcap_next(&p, &pkt, &e), 1);      /* IKE_SA_INIT request */
	assert_int_equal(ikd_pcap_next(&p, &pkt, &e), 1);      /* ... response: both SPIs */
	hex_encode(hi, sizeof(hi), pkt.ike, 8);
	hex_encode(hr, sizeof(hr), pkt.ike + 8, 8);
	if (wrong_spi)
		hr[15] = hr[15] == '0' ? '1' : '0';
	snprintf(path, sizeof(path), "%skeys.txt", dir);
	char *keys = read_text(path);
	snprintf(out, cap, "# ike-sa test\nspi_i=%s\nspi_r=%s\n%s\n", hi, hr, keys);
	free(keys);
	free(pc);
}

static void key_blocks_for_two_ike_sas(void **state)
{
	char cap[] = "/tmp/pvpn-test-pcap-XXXXXX";
	char kt[] = "/tmp/pvpn-test-keys-XXXXXX";
	static char a[4096], b[4096], both[8192];

	two_sa_capture(cap);
	spi_block(a, sizeof(a), MODP, false);
	spi_block(b, sizeof(b), GCM, false);
	snprintf(both, sizeof(both), "%s%s", b, a);
	write_file(kt, both, strlen(both));

	struct run r = RUN("--verify", "--keys", kt, cap);
	if (r.rc != 0)
		fail_msg("exit %d\n%s%s", r.rc, r.out, r.err);
	assert_non_null(strstr(r.out, "verify: 20 keys match, 0 do not"));
	run_free(&r);

	/* Decryption picks each message's keys by its SPIs. */
	r = RUN("--keys", kt, cap);
	assert_int_equal(r.rc, 0);
	assert_null(strstr(r.out, "not decrypted"));
	assert_non_null(strstr(r.out, "ENCR_AES_CBC/128"));
	assert_non_null(strstr(r.out, "ENCR_AES_GCM_16/256"));
	run_free(&r);
	unlink(kt);

	/* The fixtures' plain keys.txt (no SPIs) cannot say which of the two. */
	r = RUN("--verify", "--keys", MODP "keys.txt", cap);
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.out, "no spi_i/spi_r lines but the capture holds 2 IKE SAs"));
	run_free(&r);

	/* A block whose SPIs are not in the capture verifies nothing. */
	spi_block(a, sizeof(a), MODP, true);
	char kt2[] = "/tmp/pvpn-test-keys-XXXXXX";
	write_file(kt2, a, strlen(a));
	r = RUN("--verify", "--keys", kt2, cap);
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.out, "sk_d UNVERIFIED: the capture has no IKE_SA_INIT exchange for these SPIs"));
	run_free(&r);
	r = RUN("--keys", kt2, cap);
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.out, "not decrypted: no keys for this IKE SA"));
	run_free(&r);
	unlink(kt2);
	unlink(cap);
}

/* A malformed IKE message in the capture is reported on its line and
 * makes the exit status 1; the others are still shown. */
static void malformed_message_is_reported(void **state)
{
	uint8_t *pc;
	size_t len;
	struct pvpn_err e = { 0 };
	char cap[] = "/tmp/pvpn-test-pcap-XXXXXX";

	assert_int_equal(ikd_read_file(MODP "ike.pcap", 1 << 20, &pc, &len, &e), 0);
	/* The first record's IKE header Length field (Ethernet 14 + IP 20 +
	 * UDP 8 + offset 24): claim a byte more than the datagram holds. */
	size_t off = 24 + 16 + 14 + 20 + 8 + 24;
	uint32_t l = (uint32_t)pc[off] << 24 | (uint32_t)pc[off + 1] << 16 | (uint32_t)pc[off + 2] << 8 | pc[off + 3];
	l++;
	pc[off] = (uint8_t)(l >> 24);
	pc[off + 1] = (uint8_t)(l >> 16);
	pc[off + 2] = (uint8_t)(l >> 8);
	pc[off + 3] = (uint8_t)l;
	write_file(cap, pc, len);
	struct run r = RUN(cap);
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.out, "malformed IKE message"));
	assert_non_null(strstr(r.out, "IKE_SA_INIT #0 R resp"));
	assert_non_null(strstr(r.out, "INFORMATIONAL #2 R resp"));
	run_free(&r);
	unlink(cap);
	free(pc);
}

/* A capture that starts after IKE_SA_INIT: the messages are shown, and
 * decryption says why it cannot be done. */
static void capture_without_ike_sa_init(void **state)
{
	uint8_t *pc;
	size_t len, off = 24;
	struct pvpn_err e = { 0 };
	char cap[] = "/tmp/pvpn-test-pcap-XXXXXX";

	assert_int_equal(ikd_read_file(GCM "ike.pcap", 1 << 20, &pc, &len, &e), 0);
	/* Drop the first two records (little-endian caplen at +8). */
	for (int i = 0; i < 2; i++)
		off += 16 + (size_t)(pc[off + 8] | pc[off + 9] << 8 | pc[off + 10] << 16 | pc[off + 11] << 24);
	memmove(pc + 24, pc + off, len - off);
	write_file(cap, pc, len - off + 24);
	struct run r = RUN("--keys", GCM "keys.txt", cap);
	assert_int_equal(r.rc, 1);
	assert_null(strstr(r.out, "IKE_SA_INIT #0"));
	assert_non_null(strstr(r.out, "IKE_AUTH #1 R resp [SK]"));
	assert_non_null(strstr(r.out, "not decrypted: the capture has no usable IKE_SA_INIT response"));
	run_free(&r);
	r = RUN("--verify", "--keys", GCM "keys.txt", cap);
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.out, "sk_d UNVERIFIED: the capture has no IKE_SA_INIT response"));
	run_free(&r);
	unlink(cap);
	free(pc);
}

/* The x25519 capture rewritten with other framings (tests/fuzz/corpus/
 * fuzz_pcap/: a mode byte, then the pcap; tcpdump reads them alike):
 * big-endian nanosecond SLL2 over IPv6, SLL over IPv4, raw IPv6.  The dump
 * shows the same messages and --verify still reproduces every key. */
static void other_framings_same_result(void **state)
{
	static const char *const names[] = { "gcm-sll2-v6-be-ns", "gcm-sll-v4", "gcm-raw-v6" };
	struct run base = RUN(GCM "ike.pcap");
	assert_int_equal(base.rc, 0);
	for (size_t i = 0; i < 3; i++) {
		char path[256], cap[] = "/tmp/pvpn-test-pcap-XXXXXX";
		uint8_t *buf;
		size_t len;
		struct pvpn_err e = { 0 };
		snprintf(path, sizeof(path), "tests/fuzz/corpus/fuzz_pcap/%s", names[i]);
		assert_int_equal(ikd_read_file(path, 1 << 20, &buf, &len, &e), 0);
		write_file(cap, buf + 1, len - 1);
		struct run r = RUN("--verify", "--keys", GCM "keys.txt", cap);
		if (r.rc != 0)
			fail_msg("%s: exit %d\n%s%s", names[i], r.rc, r.out, r.err);
		assert_non_null(strstr(r.out, "verify: 8 keys match, 0 do not"));
		run_free(&r);
		r = RUN(cap);
		assert_int_equal(r.rc, 0);
		/* Line by line, everything after the addresses is the same. */
		char *a = base.out, *b = r.out;
		int lines = 0;
		while (*a && *b) {
			char *ae = strchr(a, '\n'), *be = strchr(b, '\n');
			assert_non_null(ae);
			assert_non_null(be);
			char *ax = strstr(a, " IKE_"), *bx = strstr(b, " IKE_");
			if (!ax || ax > ae)
				ax = strstr(a, " INFORMATIONAL");
			if (!bx || bx > be)
				bx = strstr(b, " INFORMATIONAL");
			assert_non_null(ax);
			assert_non_null(bx);
			assert_int_equal(ae - ax, be - bx);
			assert_memory_equal(ax, bx, (size_t)(ae - ax));
			a = ae + 1;
			b = be + 1;
			lines++;
		}
		assert_string_equal(a, b);
		assert_int_equal(lines, 7);
		if (strstr(names[i], "v6"))
			assert_non_null(strstr(r.out, "[2001:db8::1]:4500 -> [2001:db8::2]:4500 IKE_AUTH"));
		run_free(&r);
		unlink(cap);
		free(buf);
	}
	run_free(&base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(help_and_usage),
		cmocka_unit_test(options_in_any_order_and_repeatable),
		cmocka_unit_test(verbose_decodes_ike_sa_init),
		cmocka_unit_test(unreadable_and_bad_files),
		cmocka_unit_test(missing_keys),
		cmocka_unit_test(unknown_and_impossible_keys),
		cmocka_unit_test(child_spis_checked),
		cmocka_unit_test(key_blocks_for_two_ike_sas),
		cmocka_unit_test(malformed_message_is_reported),
		cmocka_unit_test(capture_without_ike_sa_init),
		cmocka_unit_test(other_framings_same_result),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
