/* natd.c — NAT detection hashes (RFC 7296 §2.23). */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <openssl/evp.h>

#include "ike-lite/engine_internal.h"

/* SHA-1(SPIi | SPIr | IP address | port).  libsodium has no SHA-1, so
 * this one digest comes from OpenSSL. */
int eng_natd_hash(const uint8_t spi_i[8], const uint8_t spi_r[8],
		  const struct sockaddr_storage *addr, uint16_t port, uint8_t out[20])
{
	uint8_t in[8 + 8 + 16 + 2];
	size_t n = 16;
	unsigned int olen = 0;

	memcpy(in, spi_i, 8);
	memcpy(in + 8, spi_r, 8);
	if (addr->ss_family == AF_INET) {
		memcpy(in + n, &((const struct sockaddr_in *)addr)->sin_addr, 4);
		n += 4;
	} else if (addr->ss_family == AF_INET6) {
		memcpy(in + n, &((const struct sockaddr_in6 *)addr)->sin6_addr, 16);
		n += 16;
	} else {
		return -EAFNOSUPPORT;
	}
	in[n++] = (uint8_t)(port >> 8);
	in[n++] = (uint8_t)port;
	if (EVP_Digest(in, n, out, &olen, EVP_sha1(), NULL) != 1 || olen != 20)
		return -EIO;
	return 0;
}
