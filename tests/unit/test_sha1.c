/* SHA-1 for the NAT detection hashes: RFC 3174's test vectors, and every
 * length around the padding boundaries against OpenSSL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "ike-lite/crypto.h"
#include "lib/hex.h"

static void check(const void *in, size_t len, const char *want_hex)
{
	uint8_t got[20], want[20];
	assert_int_equal(hex_decode(want, sizeof(want), want_hex, 40), 20);
	ike_sha1(in, len, got);
	assert_memory_equal(got, want, 20);
}

/* RFC 3174 §7.3 TEST1, TEST2 and TEST3. */
static void rfc3174_vectors(void **state)
{
	check("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
	const char *t2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	check(t2, strlen(t2), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	char *a = malloc(1000000);
	assert_non_null(a);
	memset(a, 'a', 1000000);
	check(a, 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	free(a);
	check("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

/* Every length from 0 to 300 covers the 55/56/63/64-byte padding edges. */
static void matches_openssl(void **state)
{
	uint8_t buf[300], got[20], want[20];
	unsigned int wlen;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	for (size_t n = 0; n <= sizeof(buf); n++) {
		ike_sha1(buf, n, got);
		assert_int_equal(EVP_Digest(buf, n, want, &wlen, EVP_sha1(), NULL), 1);
		assert_memory_equal(got, want, 20);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc3174_vectors),
		cmocka_unit_test(matches_openssl),
	};
	return cmocka_run_group_tests_name("sha1", tests, NULL, NULL);
}
