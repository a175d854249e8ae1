/* netns.c — see netns.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/netns.h"

static int lo_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = 0;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr) < 0))
		rc = -errno;
	close(fd);
	return rc;
}

int netns_isolate(void)
{
	if (unshare(CLONE_NEWNET) < 0) {
		int rc = -errno;
		fprintf(stderr, "netns: unshare(CLONE_NEWNET) failed: %s (kernel tests need root)\n",
			strerror(errno));
		return rc;
	}
	int rc = lo_up();
	if (rc < 0)
		fprintf(stderr, "netns: cannot bring lo up: %s\n", strerror(-rc));
	return rc;
}

int netns_sh(char *out, size_t outlen, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	FILE *f;
	size_t n = 0;
	int st;
	struct timespec t0, t1;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (strlen(cmd) + 6 < sizeof(cmd))
		strcat(cmd, " 2>&1");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	if (out && outlen) {
		n = fread(out, 1, outlen - 1, f);
		out[n] = '\0';
	}
	{
		char sink[256];
		while (fread(sink, 1, sizeof(sink), f) > 0)
			;
	}
	st = pclose(f);
	if (getenv("PVPN_TRACE_SH")) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		fprintf(stderr, "netns_sh %.3fs: %s\n", (double)(t1.tv_sec - t0.tv_sec) +
			(double)(t1.tv_nsec - t0.tv_nsec) / 1e9, cmd);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int netns_add(const char *name)
{
	char out[512];
	int rc = netns_sh(out, sizeof(out), "ip netns add %s", name);
	if (rc != 0)
		fprintf(stderr, "netns: ip netns add %s: %s\n", name, out);
	return rc == 0 ? 0 : -EIO;
}

int netns_enter(const char *name, int *saved)
{
	char path[256];
	int fd;

	*saved = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*saved < 0)
		return -errno;
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		int rc = -errno;
		fprintf(stderr, "netns: cannot enter %s: %s\n", name, strerror(errno));
		if (fd >= 0)
			close(fd);
		close(*saved);
		*saved = -1;
		return rc;
	}
	close(fd);
	return 0;
}

int netns_return(int saved)
{
	int rc = 0;
	if (saved < 0)
		return -EBADF;
	if (setns(saved, CLONE_NEWNET) < 0)
		rc = -errno;
	close(saved);
	return rc;
}

void netns_del(const char *name)
{
	netns_sh(NULL, 0, "ip netns del %s", name);
}

bool netns_has_esp(void)
{
	char out[512];
	int rc = netns_sh(out, sizeof(out),
			  "ip xfrm state add src 192.0.2.250 dst 192.0.2.251 proto esp spi 0x7ffffff0 "
			  "mode tunnel enc 'cbc(aes)' 0x00112233445566778899aabbccddeeff "
			  "auth-trunc 'hmac(sha256)' 0x00112233445566778899aabbccddeeff 128");
	if (rc == 0)
		netns_sh(NULL, 0, "ip xfrm state del src 192.0.2.250 dst 192.0.2.251 proto esp spi 0x7ffffff0");
	return rc == 0;
}
