/* hex.h — lower-case hex, both ways. */
#ifndef PVPN_LIB_HEX_H
#define PVPN_LIB_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Write 2*n hex digits and a NUL into out (size outsz >= 2*n+1).
 * Returns the number of digits written, or -1 if out is too small. */
int hex_encode(char *out, size_t outsz, const void *in, size_t n);
/* Parse an even number of hex digits (upper or lower case) from in
 * (len characters) into out (cap bytes).  Returns bytes written, or -1 on
 * an odd length, a non-hex character or too small a buffer. */
int hex_decode(uint8_t *out, size_t cap, const char *in, size_t len);

#endif
