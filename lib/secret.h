/* secret.h — buffers for keys, passwords and shared secrets.
 *
 * The bytes are wiped (sodium_memzero) when the buffer is freed or
 * replaced, and never logged.  A struct secret that was zero-initialised is
 * empty and safe to free. */
#ifndef PVPN_LIB_SECRET_H
#define PVPN_LIB_SECRET_H

#include <stddef.h>
#include <stdint.h>

struct secret {
	uint8_t *data;
	size_t len;
};

/* Allocate len zeroed bytes (freeing what s held).  0 or -ENOMEM. */
int secret_alloc(struct secret *s, size_t len);
/* Copy len bytes in (freeing what s held).  0 or -ENOMEM. */
int secret_set(struct secret *s, const void *p, size_t len);
/* Copy another secret. */
int secret_dup(struct secret *dst, const struct secret *src);
/* Wipe and release; s becomes empty. */
void secret_free(struct secret *s);
/* Wipe any buffer (a stack array that held a key). */
void secret_wipe(void *p, size_t len);

#endif
