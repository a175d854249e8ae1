/* bench_tool.c — precise timing helpers for tests/bench/run.
 *
 * The bench script is bash; bash cannot time a fork/exec to the microsecond
 * or poll a log file without adding its own milliseconds.  This helper does
 * the timed parts, always the same way for pvpn and for strongSwan, so the
 * two sides pay identical overheads:
 *
 *   bench_tool spawn [OPTS] -- CMD ARGS...
 *       t0 = now; enter the network namespace (--netns NAME), optionally a
 *       private mount namespace with a fresh tmpfs on /run (--private-run,
 *       what charon needs for its pid file); exec CMD.  Then one of
 *         --until-exit           wait for CMD to exit
 *         --until-log PATTERN    until a line of --log FILE contains PATTERN
 *         --until-sock PATH      until a unix stream socket at PATH accepts
 *       In the last two the CMD keeps running as this very process (so the
 *       caller's `$!` is the daemon's pid) and a forked watcher writes the
 *       result to --result FILE.  Result line:
 *         "ok PID USEC TICKS CPU_NS"  (USEC from t0; TICKS utime+stime and
 *                                     CPU_NS summed schedstat of CMD then)
 *         "exit PID USEC STATUS"      (--until-exit)
 *         "fail PID REASON"
 *   bench_tool xfrm-install N
 *       install N SA pairs (in + out, AES-GCM-256) and their policies (out,
 *       in, fwd) through kernel-xfrm in the current network namespace, the
 *       shapes pvpnd installs; prints "USEC" spent in-process.
 *   bench_tool ip-batch N
 *       print the same SAs and policies as an `ip -batch` file.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kernel-xfrm/xfrm.h"

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "bench_tool: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(2);
}

/* utime + stime (ticks) of the whole process, and the CPU time in ns of all
 * its threads (schedstat is per thread and exact, ticks are 10 ms). */
static void cpu_of(pid_t pid, unsigned long long *ticks, unsigned long long *ns)
{
	char path[64], buf[1024];
	*ticks = 0;
	*ns = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (f) {
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = 0;
		fclose(f);
		char *p = strrchr(buf, ')');
		unsigned long long ut = 0, st = 0;
		/* fields after ")": state(3) ... utime(14) stime(15) */
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
				&ut, &st) == 2)
			*ticks = ut + st;
	}
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char tp[400];
		snprintf(tp, sizeof(tp), "%s/%s/schedstat", path, de->d_name);
		FILE *tf = fopen(tp, "r");
		unsigned long long run;
		if (tf && fscanf(tf, "%llu", &run) == 1)
			*ns += run;
		if (tf)
			fclose(tf);
	}
	if (d)
		closedir(d);
}

static int sock_accepts(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* Does FILE contain PATTERN on some line?  Reads from *off onwards; keeps a
 * partial last line for the next call. */
static int log_has(const char *file, const char *pattern, off_t *off, char *carry, size_t carry_sz)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	char buf[8192];
	int found = 0;
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, *off);
		if (n <= 0)
			break;
		*off += n;
		buf[n] = 0;
		char *s = buf;
		for (;;) {
			char *nl = strchr(s, '\n');
			size_t cl = strlen(carry);
			size_t take = nl ? (size_t)(nl - s) : strlen(s);
			if (cl + take >= carry_sz)
				take = carry_sz - cl - 1;
			memcpy(carry + cl, s, take);
			carry[cl + take] = 0;
			if (strstr(carry, pattern))
				found = 1;
			if (!nl)
				break;
			carry[0] = 0;
			s = nl + 1;
		}
		if (found)
			break;
	}
	close(fd);
	return found;
}

static int proc_alive(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static void enter_ns(const char *netns, int private_run)
{
	if (netns) {
		char path[256];
		snprintf(path, sizeof(path), "/run/netns/%s", netns);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			die("cannot enter network namespace %s", netns);
		close(fd);
	}
	if (private_run) {
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0 ||
		    mount("bench-run", "/run", "tmpfs", 0, "mode=0755") < 0)
			die("cannot make a private /run (%s)", strerror(errno));
	}
}

static int cmd_spawn(int argc, char **argv)
{
	const char *netns = NULL, *log = NULL, *result = NULL, *pattern = NULL, *sock = NULL;
	int private_run = 0, until_exit = 0, timeout_ms = 60000, i;
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (i + 1 >= argc && strcmp(a, "--private-run") && strcmp(a, "--until-exit"))
			die("option %s needs a value", a);
		if (!strcmp(a, "--netns")) netns = argv[++i];
		else if (!strcmp(a, "--log")) log = argv[++i];
		else if (!strcmp(a, "--result")) result = argv[++i];
		else if (!strcmp(a, "--until-log")) pattern = argv[++i];
		else if (!strcmp(a, "--until-sock")) sock = argv[++i];
		else if (!strcmp(a, "--timeout")) timeout_ms = atoi(argv[++i]);
		else if (!strcmp(a, "--private-run")) private_run = 1;
		else if (!strcmp(a, "--until-exit")) until_exit = 1;
		else die("unknown option %s", a);
	}
	if (i >= argc)
		die("%s", "spawn needs -- CMD");
	if (until_exit + !!pattern + !!sock != 1)
		die("%s", "spawn needs exactly one of --until-exit, --until-log, --until-sock");
	if (pattern && !log)
		die("%s", "--until-log needs --log FILE");
	if (!until_exit && !result)
		die("%s", "--until-log/--until-sock need --result FILE");
	char **cmd = argv + i;
	if (sock)
		unlink(sock);

	uint64_t t0 = now_us();
	if (until_exit) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork: %s", strerror(errno));
		if (pid == 0) {
			enter_ns(netns, private_run);
			if (log) {
				int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
				if (fd >= 0) {
					dup2(fd, 1);
					dup2(fd, 2);
				}
			}
			execvp(cmd[0], cmd);
			_exit(127);
		}
		int st;
		waitpid(pid, &st, 0);
		uint64_t us = now_us() - t0;
		printf("exit %d %" PRIu64 " %d\n", (int)pid, us,
		       WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		return 0;
	}

	/* The watcher is the child; this process becomes CMD. */
	pid_t self = getpid();
	if (log) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0)
			die("cannot open %s", log);
		close(fd);
	}
	pid_t w = fork();
	if (w < 0)
		die("fork: %s", strerror(errno));
	if (w == 0) {
		FILE *out = fopen(result, "w");
		if (!out)
			_exit(1);
		off_t off = 0;
		char carry[4096] = "";
		uint64_t deadline = t0 + (uint64_t)timeout_ms * 1000u;
		for (;;) {
			int hit = pattern ? log_has(log, pattern, &off, carry, sizeof(carry))
					  : sock_accepts(sock);
			if (hit) {
				uint64_t us = now_us() - t0;
				unsigned long long ticks, ns;
				cpu_of(self, &ticks, &ns);
				fprintf(out, "ok %d %" PRIu64 " %llu %llu\n", (int)self, us, ticks, ns);
				break;
			}
			if (!proc_alive(self)) {
				fprintf(out, "fail %d exited\n", (int)self);
				break;
			}
			if (now_us() > deadline) {
				fprintf(out, "fail %d timeout\n", (int)self);
				break;
			}
			usleep(200);
		}
		fclose(out);
		_exit(0);
	}
	enter_ns(netns, private_run);
	if (log) {
		int fd = open(log, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
	}
	execvp(cmd[0], cmd);
	die("cannot run %s", cmd[0]);
	return 2;
}

/* --- the 1,000-SA-pair install ------------------------------------------ */

static const char *LOCAL = "192.0.2.1", *REMOTE = "192.0.2.2";

static void key_for(unsigned int i, int dir, uint8_t key[36])
{
	for (int k = 0; k < 36; k++)
		key[k] = (uint8_t)(i * 7 + (unsigned)dir * 13 + (unsigned)k);
}

static void inner_of(unsigned int i, char *buf, size_t len)
{
	snprintf(buf, len, "10.128.%u.%u", (i >> 8) & 255, i & 255);
}

static int cmd_xfrm_install(unsigned int n)
{
	struct pvpn_err e = { 0 };
	struct xfrm_handle *h = NULL;
	struct xfrm_addr l, r, net, inner;
	xfrm_addr_parse(LOCAL, &l);
	xfrm_addr_parse(REMOTE, &r);
	xfrm_addr_parse("10.99.0.0", &net);
	uint64_t t0 = now_us();
	if (xfrm_open(&h, &e) < 0) {
		fprintf(stderr, "bench_tool: %s\n", e.msg);
		return 1;
	}
	for (unsigned int i = 0; i < n; i++) {
		uint8_t key[36];
		char ib[32];
		inner_of(i, ib, sizeof(ib));
		xfrm_addr_parse(ib, &inner);
		uint32_t reqid = XFRM_REQID_MIN + i;
		for (int dir = 0; dir < 2; dir++) {
			struct xfrm_sa sa = { 0 };
			sa.src = dir ? r : l;
			sa.dst = dir ? l : r;
			sa.spi = 0x10000u + i * 2 + (unsigned)dir;
			sa.mode = XFRM_SA_TUNNEL;
			sa.reqid = reqid;
			snprintf(sa.aead.name, sizeof(sa.aead.name), "rfc4106(gcm(aes))");
			sa.aead.bits = 128;
			key_for(i, dir, key);
			sa.aead.key = key;
			sa.aead.key_len = sizeof(key);
			sa.replay_window = dir ? 32 : 0;
			if (xfrm_sa_add(h, &sa, &e) < 0) {
				fprintf(stderr, "bench_tool: SA %u: %s\n", i, e.msg);
				return 1;
			}
		}
		for (int d = 0; d < 3; d++) {
			struct xfrm_policy p = { 0 };
			int out = d == 0;
			p.sel.family = AF_INET;
			p.sel.src = out ? inner : net;
			p.sel.src_len = out ? 32 : 24;
			p.sel.dst = out ? net : inner;
			p.sel.dst_len = out ? 24 : 32;
			p.dir = d == 0 ? XFRM_DIR_OUT : d == 1 ? XFRM_DIR_IN : XFRM_DIR_FWD;
			p.action = XFRM_ACT_ALLOW;
			p.priority = 1000;
			p.has_tmpl = true;
			p.tmpl.mode = XFRM_SA_TUNNEL;
			p.tmpl.reqid = reqid;
			p.tmpl.src = out ? l : r;
			p.tmpl.dst = out ? r : l;
			if (xfrm_policy_add(h, &p, &e) < 0) {
				fprintf(stderr, "bench_tool: policy %u: %s\n", i, e.msg);
				return 1;
			}
		}
	}
	xfrm_close(h);
	printf("%" PRIu64 "\n", now_us() - t0);
	return 0;
}

static int cmd_ip_batch(unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		char ib[32];
		inner_of(i, ib, sizeof(ib));
		uint32_t reqid = XFRM_REQID_MIN + i;
		for (int dir = 0; dir < 2; dir++) {
			uint8_t key[36];
			key_for(i, dir, key);
			printf("xfrm state add src %s dst %s proto esp spi 0x%08x reqid %u mode tunnel "
			       "aead rfc4106(gcm(aes)) 0x",
			       dir ? REMOTE : LOCAL, dir ? LOCAL : REMOTE, 0x10000u + i * 2 + (unsigned)dir,
			       reqid);
			for (int k = 0; k < 36; k++)
				printf("%02x", key[k]);
			printf(" 128%s\n", dir ? " replay-window 32" : "");
		}
		printf("xfrm policy add src %s/32 dst 10.99.0.0/24 dir out priority 1000 "
		       "tmpl src %s dst %s proto esp reqid %u mode tunnel\n", ib, LOCAL, REMOTE, reqid);
		printf("xfrm policy add src 10.99.0.0/24 dst %s/32 dir in priority 1000 "
		       "tmpl src %s dst %s proto esp reqid %u mode tunnel\n", ib, REMOTE, LOCAL, reqid);
		printf("xfrm policy add src 10.99.0.0/24 dst %s/32 dir fwd priority 1000 "
		       "tmpl src %s dst %s proto esp reqid %u mode tunnel\n", ib, REMOTE, LOCAL, reqid);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "spawn"))
		return cmd_spawn(argc - 2, argv + 2);
	if (argc == 3 && !strcmp(argv[1], "xfrm-install"))
		return cmd_xfrm_install((unsigned)atoi(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "ip-batch"))
		return cmd_ip_batch((unsigned)atoi(argv[2]));
	fprintf(stderr, "usage: bench_tool spawn|xfrm-install N|ip-batch N (see the source)\n");
	return 2;
}
