#include "lib/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int err_set(struct pvpn_err *e, int code, const char *fmt, ...)
{
	if (!e)
		return code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	e->code = code;
	return code;
}

int err_prefix(struct pvpn_err *e, const char *fmt, ...)
{
	if (!e)
		return 0;
	char old[PVPN_ERR_MSG_MAX];
	memcpy(old, e->msg, sizeof(old));
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	size_t used = (size_t)n < sizeof(e->msg) ? (size_t)n : sizeof(e->msg) - 1;
	size_t room = sizeof(e->msg) - 1 - used;
	size_t oldlen = strnlen(old, sizeof(old) - 1);
	if (oldlen > room)
		oldlen = room;
	memcpy(e->msg + used, old, oldlen);
	e->msg[used + oldlen] = '\0';
	return e->code;
}

void err_clear(struct pvpn_err *e)
{
	if (e) {
		e->code = 0;
		e->msg[0] = '\0';
	}
}
