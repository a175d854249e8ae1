/* Unit tests for lib/: the reader, the writer, hex and secrets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "lib/err.h"
#include "lib/hex.h"
#include "lib/reader.h"
#include "lib/secret.h"
#include "lib/writer.h"

static void reader_reads_big_endian(void **state)
{
	const uint8_t buf[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	struct reader r;
	uint8_t a; uint16_t b; uint32_t c; uint64_t d;
	rd_init(&r, buf, sizeof(buf));
	assert_true(rd_u8(&r, &a) && rd_u16(&r, &b) && rd_u32(&r, &c) && rd_u64(&r, &d));
	assert_int_equal(a, 1);
	assert_int_equal(b, 0x0203);
	assert_int_equal(c, 0x04050607);
	assert_true(d == 0x08090a0b0c0d0e0fULL);
	assert_true(rd_done(&r));
}

static void reader_failure_is_sticky(void **state)
{
	const uint8_t buf[] = { 0xff, 0xee, 0xdd };
	struct reader r;
	uint32_t v = 123;
	uint8_t b = 7;
	rd_init(&r, buf, sizeof(buf));
	assert_false(rd_u32(&r, &v));
	assert_int_equal(v, 0);
	assert_false(rd_ok(&r));
	/* A read that would fit on its own still fails after a failure. */
	assert_false(rd_u8(&r, &b));
	assert_int_equal(rd_left(&r), 0);
}

static void reader_sub_cannot_escape(void **state)
{
	const uint8_t buf[] = { 0, 5, 'a', 'b', 'c' };
	struct reader r, sub;
	uint16_t n;
	rd_init(&r, buf, sizeof(buf));
	assert_true(rd_u16(&r, &n));
	assert_false(rd_sub(&r, n, &sub)); /* claims 5, only 3 left */
	assert_false(rd_ok(&sub));
	assert_int_equal(rd_left(&sub), 0);
	rd_init(&r, buf, sizeof(buf));
	rd_skip(&r, 2);
	assert_true(rd_sub(&r, 3, &sub));
	assert_int_equal(rd_left(&sub), 3);
	assert_false(rd_skip(&sub, 4));
	assert_true(rd_done(&r));
}

static void writer_overflow_is_sticky(void **state)
{
	uint8_t buf[6];
	struct writer w;
	wr_init(&w, buf, sizeof(buf));
	assert_true(wr_u16(&w, 0xabcd));
	assert_true(wr_u32(&w, 0x01020304));
	assert_false(wr_u8(&w, 9));
	assert_false(wr_ok(&w));
	assert_int_equal(wr_len(&w), 6);
	assert_memory_equal(buf, "\xab\xcd\x01\x02\x03\x04", 6);
}

static void writer_patches_lengths(void **state)
{
	uint8_t buf[16];
	struct writer w;
	wr_init(&w, buf, sizeof(buf));
	size_t at = wr_len(&w);
	assert_non_null(wr_reserve(&w, 2));
	wr_bytes(&w, "xyz", 3);
	assert_true(wr_put_u16(&w, at, (uint16_t)wr_len(&w)));
	assert_memory_equal(buf, "\x00\x05xyz", 5);
	assert_false(wr_put_u32(&w, 3, 1)); /* would run past what was written */
}

static void hex_round_trip(void **state)
{
	const uint8_t in[] = { 0x00, 0x7f, 0x80, 0xff };
	char s[9];
	uint8_t out[4];
	assert_int_equal(hex_encode(s, sizeof(s), in, 4), 8);
	assert_string_equal(s, "007f80ff");
	assert_int_equal(hex_decode(out, sizeof(out), "007F80fF", 8), 4);
	assert_memory_equal(in, out, 4);
	assert_int_equal(hex_decode(out, sizeof(out), "abc", 3), -1);
	assert_int_equal(hex_decode(out, sizeof(out), "zz", 2), -1);
	assert_int_equal(hex_decode(out, 1, "0000", 4), -1);
	assert_int_equal(hex_encode(s, 8, in, 4), -1);
}

static void secret_lifecycle(void **state)
{
	struct secret s = { 0 };
	assert_int_equal(secret_set(&s, "key", 3), 0);
	assert_int_equal(s.len, 3);
	assert_memory_equal(s.data, "key", 3);
	secret_free(&s);
	assert_null(s.data);
	assert_int_equal(s.len, 0);
	secret_free(&s); /* twice is fine */
}

static void err_messages(void **state)
{
	struct pvpn_err e = { 0 };
	assert_int_equal(err_set(&e, -EINVAL, "bad %s", "thing"), -EINVAL);
	err_prefix(&e, "home.conf:%d: ", 7);
	assert_string_equal(e.msg, "home.conf:7: bad thing");
	assert_int_equal(e.code, -EINVAL);
	assert_int_equal(err_set(NULL, -EIO, "x"), -EIO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reader_reads_big_endian),
		cmocka_unit_test(reader_failure_is_sticky),
		cmocka_unit_test(reader_sub_cannot_escape),
		cmocka_unit_test(writer_overflow_is_sticky),
		cmocka_unit_test(writer_patches_lengths),
		cmocka_unit_test(hex_round_trip),
		cmocka_unit_test(secret_lifecycle),
		cmocka_unit_test(err_messages),
	};
	return cmocka_run_group_tests_name("lib", tests, NULL, NULL);
}
