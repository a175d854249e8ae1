#include "lib/secret.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

void secret_wipe(void *p, size_t len)
{
	if (p && len)
		sodium_memzero(p, len);
}

void secret_free(struct secret *s)
{
	if (!s)
		return;
	secret_wipe(s->data, s->len);
	free(s->data);
	s->data = NULL;
	s->len = 0;
}

int secret_alloc(struct secret *s, size_t len)
{
	secret_free(s);
	/* calloc(0) may return NULL; keep one byte so data is never NULL. */
	s->data = calloc(1, len ? len : 1);
	if (!s->data)
		return -ENOMEM;
	s->len = len;
	return 0;
}

int secret_set(struct secret *s, const void *p, size_t len)
{
	int rc = secret_alloc(s, len);
	if (rc == 0 && len)
		memcpy(s->data, p, len);
	return rc;
}

int secret_dup(struct secret *dst, const struct secret *src)
{
	return secret_set(dst, src->data, src->len);
}
