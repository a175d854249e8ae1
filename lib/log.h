/* log.h — the one logger.
 *
 * Levels follow syslog.  In the foreground lines go to stderr with the
 * "<N>" priority prefix journald understands; otherwise to syslog.  An
 * optional context (the profile name) is put before every line.  Never pass
 * a secret to these functions. */
#ifndef PVPN_LIB_LOG_H
#define PVPN_LIB_LOG_H

#include <syslog.h>

enum log_target { LOG_TO_STDERR, LOG_TO_SYSLOG };

void log_init(const char *ident, enum log_target target, int max_level);
void log_set_level(int max_level);
int log_level(void);
void log_msg(int level, const char *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(...)   log_msg(LOG_ERR, NULL, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARNING, NULL, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, NULL, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, NULL, __VA_ARGS__)

#endif
