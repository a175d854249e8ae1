/* rand.c — the default randomness source (libsodium). */
#include "ike-lite/crypto.h"

#include <sodium.h>
#include <stdlib.h>

void ike_rand_default(void *buf, size_t len)
{
	/* The engine has no way to go on without randomness, and a key made
	 * from a failed source would be worse than stopping. */
	if (sodium_init() < 0)
		abort();
	randombytes_buf(buf, len);
}
