/* netns.h — test helpers for network namespaces and shell commands.
 * Kernel tests isolate themselves so they never touch the host's XFRM
 * state, addresses or routes. */
#ifndef PVPN_TESTS_NETNS_H
#define PVPN_TESTS_NETNS_H

#include <stdbool.h>
#include <stddef.h>

/* Move this process into a fresh network namespace with lo up.
 * 0 or -errno (printed to stderr with the reason). */
int netns_isolate(void);

/* Run a shell command (stdout and stderr captured into out, NUL-ended,
 * truncated to outlen).  Returns the exit status, or -1 if it could not
 * run. */
int netns_sh(char *out, size_t outlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Named namespaces (ip netns): create, enter (saving the current one in
 * *saved), go back, delete.  Names are made unique by the caller. */
int netns_add(const char *name);
int netns_enter(const char *name, int *saved);
int netns_return(int saved);
void netns_del(const char *name);

/* Whether the current namespace's kernel can install an ESP SA (tried
 * with `ip xfrm state` and removed again). */
bool netns_has_esp(void);

#endif
