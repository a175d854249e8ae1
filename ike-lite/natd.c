/* natd.c — NAT detection hashes (RFC 7296 §2.23). */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>

#include "ike-lite/engine_internal.h"

/* SHA-1(SPIi | SPIr | IP address | port), with the project's own SHA-1
 * (ike-lite/sha1.c: libsodium has none, and OpenSSL's costs its start-up). */
int eng_natd_hash(const uint8_t spi_i[8], const uint8_t spi_r[8],
		  const struct sockaddr_storage *addr, uint16_t port, uint8_t out[20])
{
	uint8_t in[8 + 8 + 16 + 2];
	size_t n = 16;

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
	ike_sha1(in, n, out);
	return 0;
}
