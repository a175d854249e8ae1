/* state.c — what a connection put into the kernel outside XFRM (the
 * virtual IP, routes) is also written to a small file, so the next pvpnd
 * can take it out after a crash.  XFRM SAs and policies need no file: they
 * carry kernel-xfrm's owner tag and xfrm_flush_owned() finds them.
 *
 * The file is per network namespace (its inode in the name) and per
 * connection: /run/pvpn/net-INODE-NAME.state, mode 0600, text lines
 *   addr IFINDEX ADDRESS PREFIXLEN
 *   route DST DSTLEN IFINDEX SRC|- GW|-
 * It is only ever read by pvpnd and every line is checked; a bad line is
 * skipped.
 *
 * IncludeAllNetworks block policies (block.c) go to a second file,
 * net-INODE-NAME.blocks, one line each:
 *   block in|out|fwd allow|drop PRIORITY SRC/LEN DST/LEN PROTO DPORT
 * They carry the owner tag too (a start-up flush removes them); the file
 * is for a start of the same connection that did not flush (and for a
 * person reading /run/pvpn).  It is separate because the blocks outlive
 * the SAs and routes while the connection reasserts, and the per-start
 * cleanup of the .state file must not remove them then. */
#include "ctl/ctl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"

static const char *state_dir = CTL_STATE_DIR_DEFAULT;

void ctl_state_set_dir(const char *dir)
{
	state_dir = dir ? dir : CTL_STATE_DIR_DEFAULT;
}

/* State files are per network namespace (pvpnd may run in several): its
 * inode number names them; 0 when it cannot be read. */
static unsigned long netns_ino(void)
{
	struct stat st;
	return stat("/proc/self/ns/net", &st) == 0 ? (unsigned long)st.st_ino : 0;
}

static int state_path_ext(const char *name, const char *ext, char *buf, size_t len)
{
	unsigned long ino = netns_ino();
	int n = snprintf(buf, len, "%s/net-%lu-%s.%s", state_dir, ino, name, ext);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int state_path(const char *name, char *buf, size_t len)
{
	return state_path_ext(name, "state", buf, len);
}

static const char *astr(const struct xfrm_addr *a, char *b, size_t n)
{
	return a->family ? xfrm_addr_str(a, b, n) : "-";
}

/* A state file is replaced whole (written to "<path>.tmp", synced, renamed
 * over path), so a crash leaves the old or the new one, never half.
 * open_tmp: the temporary file (its name in tmp), or NULL with *rc set. */
static FILE *open_tmp(const char *path, char *tmp, size_t tmplen, int *rc)
{
	snprintf(tmp, tmplen, "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		*rc = -errno;
		return NULL;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		*rc = -ENOMEM;
	}
	return f;
}

/* Closes f and puts it in place of path; 0 or negative errno (then the
 * temporary file is gone and path untouched). */
static int commit_tmp(FILE *f, const char *tmp, const char *path)
{
	int rc = fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -EIO;
	fclose(f);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}

int ctl_state_save(const char *name, const struct ctl_installed *in)
{
	char path[512], tmp[600];
	if (state_path(name, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	if (mkdir(state_dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (!in->n_addrs && !in->n_routes) {
		unlink(path);
		return 0;
	}
	int rc = 0;
	FILE *f = open_tmp(path, tmp, sizeof(tmp), &rc);
	if (!f)
		return rc;
	char a[64], b[64], c[64];
	for (size_t i = 0; i < in->n_addrs; i++)
		fprintf(f, "addr %d %s %u\n", in->addrs[i].ifindex,
			astr(&in->addrs[i].addr, a, sizeof(a)), in->addrs[i].prefix_len);
	for (size_t i = 0; i < in->n_routes; i++) {
		const struct xfrm_route *r = &in->routes[i];
		fprintf(f, "route %s %u %d %s %s\n", astr(&r->dst, a, sizeof(a)), r->dst_len,
			r->ifindex, astr(&r->src, b, sizeof(b)), astr(&r->gw, c, sizeof(c)));
	}
	return commit_tmp(f, tmp, path);
}

void ctl_state_forget(const char *name)
{
	char path[512];
	if (state_path(name, path, sizeof(path)) == 0)
		unlink(path);
}

static int opt_addr(const char *s, struct xfrm_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (!strcmp(s, "-"))
		return 0;
	return xfrm_addr_parse(s, a);
}

int ctl_state_cleanup(struct xfrm_handle *h, const char *name)
{
	char path[512], line[512];
	if (state_path(name, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	FILE *f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	unsigned n = 0;
	while (fgets(line, sizeof(line), f)) {
		char s1[64], s2[64], s3[64];
		int ifindex;
		unsigned len;
		struct pvpn_err e = { 0 };
		if (sscanf(line, "addr %d %63s %u", &ifindex, s1, &len) == 3) {
			struct xfrm_ifaddr a = { .ifindex = ifindex, .prefix_len = (uint8_t)len };
			if (xfrm_addr_parse(s1, &a.addr) < 0 || len > 128)
				continue;
			if (xfrm_addr_del(h, &a, &e) == 0)
				n++;
		} else if (sscanf(line, "route %63s %u %d %63s %63s", s1, &len, &ifindex, s2, s3) == 5) {
			struct xfrm_route r = { .dst_len = (uint8_t)len, .ifindex = ifindex };
			if (xfrm_addr_parse(s1, &r.dst) < 0 || len > 128 || opt_addr(s2, &r.src) < 0 ||
			    opt_addr(s3, &r.gw) < 0)
				continue;
			if (xfrm_route_del(h, &r, &e) == 0)
				n++;
		}
	}
	fclose(f);
	unlink(path);
	if (n)
		log_msg(LOG_NOTICE, name, "removed %u addresses/routes a previous pvpnd left behind", n);
	return (int)n;
}

/* --- block policies ------------------------------------------------------ */

static const char *dir_str(enum xfrm_dir d)
{
	return d == XFRM_DIR_IN ? "in" : d == XFRM_DIR_OUT ? "out" : "fwd";
}

int ctl_state_save_blocks(const char *name, const struct xfrm_policy *pols, size_t n)
{
	char path[512], tmp[600];
	if (state_path_ext(name, "blocks", path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	if (!n) {
		unlink(path);
		return 0;
	}
	if (mkdir(state_dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	int rc = 0;
	FILE *f = open_tmp(path, tmp, sizeof(tmp), &rc);
	if (!f)
		return rc;
	char a[64], b[64];
	for (size_t i = 0; i < n; i++) {
		const struct xfrm_policy *p = &pols[i];
		fprintf(f, "block %s %s %u %s/%u %s/%u %u %u\n", dir_str(p->dir),
			p->action == XFRM_ACT_BLOCK ? "drop" : "allow", p->priority,
			xfrm_addr_str(&p->sel.src, a, sizeof(a)), p->sel.src_len,
			xfrm_addr_str(&p->sel.dst, b, sizeof(b)), p->sel.dst_len, p->sel.proto,
			p->sel.dport);
	}
	return commit_tmp(f, tmp, path);
}

void ctl_state_forget_blocks(const char *name)
{
	char path[512];
	if (state_path_ext(name, "blocks", path, sizeof(path)) == 0)
		unlink(path);
}

/* "ADDR/LEN" of family fam into a, *len. */
static int parse_pfx(const char *s, int fam, struct xfrm_addr *a, uint8_t *len)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	if (!slash || (size_t)(slash - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	char *end = NULL;
	unsigned long l = strtoul(slash + 1, &end, 10);
	if (xfrm_addr_parse(buf, a) < 0 || a->family != fam || !end || *end ||
	    l > (fam == AF_INET ? 32u : 128u))
		return -EINVAL;
	*len = (uint8_t)l;
	return 0;
}

int ctl_state_parse_block(const char *line, struct xfrm_policy *p)
{
	char dir[8], act[8], src[64], dst[64];
	unsigned prio, proto, dport;
	memset(p, 0, sizeof(*p));
	if (sscanf(line, "block %7s %7s %u %63s %63s %u %u", dir, act, &prio, src, dst, &proto,
		   &dport) != 7 || proto > 255 || dport > 65535)
		return -EINVAL;
	if (!strcmp(dir, "in"))
		p->dir = XFRM_DIR_IN;
	else if (!strcmp(dir, "out"))
		p->dir = XFRM_DIR_OUT;
	else if (!strcmp(dir, "fwd"))
		p->dir = XFRM_DIR_FWD;
	else
		return -EINVAL;
	if (!strcmp(act, "allow"))
		p->action = XFRM_ACT_ALLOW;
	else if (!strcmp(act, "drop"))
		p->action = XFRM_ACT_BLOCK;
	else
		return -EINVAL;
	p->priority = prio;
	p->sel.family = strchr(src, ':') ? AF_INET6 : AF_INET;
	if (parse_pfx(src, p->sel.family, &p->sel.src, &p->sel.src_len) < 0 ||
	    parse_pfx(dst, p->sel.family, &p->sel.dst, &p->sel.dst_len) < 0)
		return -EINVAL;
	p->sel.proto = (uint8_t)proto;
	p->sel.dport = (uint16_t)dport;
	return 0;
}

int ctl_state_cleanup_blocks(struct xfrm_handle *h, const char *name)
{
	char path[512], line[512];
	if (state_path_ext(name, "blocks", path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	FILE *f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	unsigned n = 0;
	while (fgets(line, sizeof(line), f)) {
		struct xfrm_policy p;
		struct pvpn_err e = { 0 };
		if (ctl_state_parse_block(line, &p) < 0)
			continue;
		if (xfrm_policy_delete(h, &p, &e) == 0)
			n++;
	}
	fclose(f);
	unlink(path);
	if (n)
		log_msg(LOG_NOTICE, name, "removed %u block policies a previous pvpnd left behind", n);
	return (int)n;
}

void ctl_state_forget_all_blocks(void)
{
	char prefix[64];
	unsigned long ino = netns_ino();
	snprintf(prefix, sizeof(prefix), "net-%lu-", ino);
	DIR *dir = opendir(state_dir);
	if (!dir)
		return;
	struct dirent *de;
	while ((de = readdir(dir))) {
		size_t n = strlen(de->d_name);
		if (strncmp(de->d_name, prefix, strlen(prefix)) || n < 7 ||
		    strcmp(de->d_name + n - 7, ".blocks"))
			continue;
		unlinkat(dirfd(dir), de->d_name, 0);
	}
	closedir(dir);
}

int ctl_state_cleanup_all(struct xfrm_handle *h)
{
	char prefix[64];
	unsigned long ino = netns_ino();
	int total = 0;
	snprintf(prefix, sizeof(prefix), "net-%lu-", ino);
	DIR *dir = opendir(state_dir);
	if (dir) {
		/* Names first: cleaning up unlinks files while we read. */
		char names[CTL_MAX_CONNS * 2][PROF_NAME_MAX];
		size_t n = 0, pl = strlen(prefix);
		struct dirent *de;
		while ((de = readdir(dir)) && n < sizeof(names) / sizeof(names[0])) {
			size_t len = strlen(de->d_name);
			if (strncmp(de->d_name, prefix, pl) || len < pl + 7 ||
			    strcmp(de->d_name + len - 6, ".state") || len - pl - 6 >= PROF_NAME_MAX)
				continue;
			memcpy(names[n], de->d_name + pl, len - pl - 6);
			names[n][len - pl - 6] = '\0';
			n++;
		}
		closedir(dir);
		for (size_t i = 0; i < n; i++) {
			int r = ctl_state_cleanup(h, names[i]);
			if (r > 0)
				total += r;
		}
	}
	ctl_state_forget_all_blocks();
	return total;
}
