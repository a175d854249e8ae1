/* test_harden_ikedump.c — pvpn-ikedump on a crafted capture with a new
 * IKE SPI in every packet: every message is still shown, SA tracking stops
 * at its bound with one note, and the run stays fast (it was quadratic in
 * the number of SAs). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tools/ikedump/ikedump.h"

/* Classic pcap, little-endian, microseconds, LINKTYPE_RAW (IPv4). */
static void put_le32(FILE *f, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	fwrite(b, 1, 4, f);
}

static void put_le16(FILE *f, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	fwrite(b, 1, 2, f);
}

/* n IKE_SA_INIT requests (header only), SPIi = i + 1, SPIr = 0, UDP 500. */
static void write_capture(const char *path, uint32_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	put_le32(f, 0xa1b2c3d4);
	put_le16(f, 2);
	put_le16(f, 4);
	put_le32(f, 0);
	put_le32(f, 0);
	put_le32(f, 65535);
	put_le32(f, IKD_LINK_RAW);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t pkt[20 + 8 + 28];
		memset(pkt, 0, sizeof(pkt));
		pkt[0] = 0x45;                          /* IPv4, IHL 5 */
		pkt[2] = sizeof(pkt) >> 8;
		pkt[3] = sizeof(pkt) & 0xff;
		pkt[8] = 64;                            /* TTL */
		pkt[9] = 17;                            /* UDP */
		memcpy(pkt + 12, (uint8_t[]){ 192, 0, 2, 1 }, 4);
		memcpy(pkt + 16, (uint8_t[]){ 192, 0, 2, 2 }, 4);
		uint8_t *u = pkt + 20;
		u[0] = 500 >> 8; u[1] = 500 & 0xff;
		u[2] = 500 >> 8; u[3] = 500 & 0xff;
		u[4] = (8 + 28) >> 8; u[5] = (8 + 28) & 0xff;
		uint8_t *ike = u + 8;
		uint32_t spi = i + 1;
		ike[4] = (uint8_t)(spi >> 24);          /* SPIi (bytes 0..7) */
		ike[5] = (uint8_t)(spi >> 16);
		ike[6] = (uint8_t)(spi >> 8);
		ike[7] = (uint8_t)spi;
		ike[16] = 0;                            /* no payloads */
		ike[17] = 0x20;                         /* IKEv2 */
		ike[18] = 34;                           /* IKE_SA_INIT */
		ike[19] = 0x08;                         /* Initiator */
		ike[27] = 28;                           /* length */
		put_le32(f, i / 1000);
		put_le32(f, i % 1000);
		put_le32(f, sizeof(pkt));
		put_le32(f, sizeof(pkt));
		fwrite(pkt, 1, sizeof(pkt), f);
	}
	assert_int_equal(fclose(f), 0);
}

struct run {
	char *out, *err;
	size_t out_len, err_len;
	int status;
	double cpu_s;
};

static void run_ikedump(const char *path, struct run *r)
{
	FILE *out, *err;
	char *argv[] = { (char *)"pvpn-ikedump", (char *)path, NULL };
	clock_t t0;

	memset(r, 0, sizeof(*r));
	out = open_memstream(&r->out, &r->out_len);
	err = open_memstream(&r->err, &r->err_len);
	assert_non_null(out);
	assert_non_null(err);
	t0 = clock();
	r->status = ikedump_run(2, argv, out, err);
	r->cpu_s = (double)(clock() - t0) / CLOCKS_PER_SEC;
	fclose(out);
	fclose(err);
}

static size_t count_lines(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += s[i] == '\n';
	return n;
}

static size_t count_str(const char *s, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void many_spis_are_fast_and_all_shown(void **state)
{
	char path[] = "/tmp/pvpn-harden-ikedump-XXXXXX";
	int fd = mkstemp(path);
	const uint32_t n = 100000;
	struct run r;
	(void)state;

	assert_true(fd >= 0);
	close(fd);
	write_capture(path, n);
	run_ikedump(path, &r);
	unlink(path);
	print_message("%u SPIs: %.2f s CPU\n", n, r.cpu_s);

	/* Every message is listed, one line each ... */
	assert_int_equal(count_lines(r.out, r.out_len), n);
	assert_int_equal(count_str(r.out, "IKE_SA_INIT #0 I req"), n);
	/* ... the bound is said once ... */
	assert_int_equal(count_str(r.err, "more than 1024 IKE SAs"), 1);
	/* ... and the work is bounded: with a full linear search per message
	 * these 100000 SAs took 5.5 s of CPU here (-O2), now 0.13 s. */
	assert_true(r.cpu_s < 2.5);
	free(r.out);
	free(r.err);
}

static void few_spis_no_note(void **state)
{
	char path[] = "/tmp/pvpn-harden-ikedump-XXXXXX";
	int fd = mkstemp(path);
	struct run r;
	(void)state;

	assert_true(fd >= 0);
	close(fd);
	write_capture(path, 1024);
	run_ikedump(path, &r);
	unlink(path);
	assert_int_equal(count_lines(r.out, r.out_len), 1024);
	assert_null(strstr(r.err ? r.err : "", "IKE SAs"));
	free(r.out);
	free(r.err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(many_spis_are_fast_and_all_shown),
		cmocka_unit_test(few_spis_no_note),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
