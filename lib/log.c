#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>

static enum log_target target = LOG_TO_STDERR;
static int max_level = LOG_INFO;

void log_init(const char *ident, enum log_target t, int level)
{
	target = t;
	max_level = level;
	if (t == LOG_TO_SYSLOG)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

void log_set_level(int level)
{
	max_level = level;
}

int log_level(void)
{
	return max_level;
}

void log_msg(int level, const char *ctx, const char *fmt, ...)
{
	if (level > max_level)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (target == LOG_TO_SYSLOG) {
		if (ctx)
			syslog(level, "%s: %s", ctx, line);
		else
			syslog(level, "%s", line);
		return;
	}
	if (ctx)
		fprintf(stderr, "<%d>%s: %s\n", level, ctx, line);
	else
		fprintf(stderr, "<%d>%s\n", level, line);
}
