/* store.c — the preferences store (NEVPNManager's load / save / remove):
 * one file per profile, DIR/NAME.conf, written atomically with mode 0600.
 *
 * Atomic save: the text goes to a temporary file in the same directory
 * (same filesystem, so rename(2) is atomic), which is fsync'd before the
 * rename and the directory fsync'd after, so a crash at any moment leaves
 * the old file or the new one, never a torn one. */
#include "policy/profile.h"
#include "policy/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int prof_name_check(const char *name, struct pvpn_err *err)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0)
		return err_set(err, -EINVAL, "empty profile name");
	if (n >= PROF_NAME_MAX)
		return err_set(err, -EINVAL, "profile name '%.40s...' is longer than %d characters", name, PROF_NAME_MAX - 1);
	/* A leading '.' would hide the file (and allows "." and ".."); a
	 * leading '-' reads as an option in shell commands. */
	if (name[0] == '.' || name[0] == '-')
		return err_set(err, -EINVAL, "profile name '%.40s' must not start with '%c'", name, name[0]);
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return err_set(err, -EINVAL, "profile name '%.40s' has '%c' (allowed: letters, digits, '.', '_', '-')",
				       name, c >= 0x20 && c < 0x7f ? c : '?');
	}
	return 0;
}

static const char *store_dir(const char *dir)
{
	return dir && *dir ? dir : PROF_STORE_DEFAULT_DIR;
}

static int profile_path(const char *dir, const char *name, char *out, size_t cap, struct pvpn_err *err)
{
	int rc = prof_name_check(name, err);
	if (rc)
		return rc;
	int n = snprintf(out, cap, "%s/%s.conf", store_dir(dir), name);
	if (n < 0 || (size_t)n >= cap)
		return err_set(err, -ENAMETOOLONG, "profile path for '%s' is too long", name);
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

/* Temporaries of saves that were killed are removed once they are old
 * enough that no save can still be writing them (a live save holds its
 * temporary for milliseconds; ten minutes is far beyond that). */
#define STALE_TEMP_S (10 * 60)

static void remove_stale_temps(const char *dir, const char *name)
{
	char pfx[PROF_NAME_MAX + 16];
	snprintf(pfx, sizeof(pfx), ".%s.conf.", name);
	size_t pl = strlen(pfx);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	time_t now = time(NULL);
	struct dirent *de;
	while ((de = readdir(d))) {
		struct stat st;
		/* mkstemp's suffix is six characters. */
		if (strncmp(de->d_name, pfx, pl) || strlen(de->d_name) != pl + 6)
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (now - st.st_mtime > STALE_TEMP_S)
			unlinkat(dfd, de->d_name, 0);
	}
	closedir(d);
}

static int write_atomic(const char *dir, const char *name, const char *text, size_t len,
			struct pvpn_err *err)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int rc = profile_path(dir, name, path, sizeof(path), err);
	if (rc)
		return rc;
	int n = snprintf(tmp, sizeof(tmp), "%s/.%s.conf.XXXXXX", store_dir(dir), name);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return err_set(err, -ENAMETOOLONG, "profile path for '%s' is too long", name);
	/* mkstemp creates 0600 already; fchmod makes it independent of
	 * the umask and of libc. */
	int fd = mkstemp(tmp);
	if (fd < 0 && errno == ENOENT) {
		/* First save on a fresh system: create the store folder itself
		 * (not its parents), private to root like the profiles. */
		if (mkdir(store_dir(dir), 0700) == 0 || errno == EEXIST) {
			snprintf(tmp, sizeof(tmp), "%s/.%s.conf.XXXXXX", store_dir(dir), name);
			fd = mkstemp(tmp);
		} else {
			errno = ENOENT;
		}
	}
	if (fd < 0) {
		rc = -errno;
		return err_set(err, rc, "cannot create a file in %s: %s", store_dir(dir), strerror(errno));
	}
	if (fchmod(fd, 0600) < 0) {
		rc = err_set(err, -errno, "cannot chmod %s: %s", tmp, strerror(errno));
		goto fail;
	}
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = err_set(err, -errno, "cannot write %s: %s", tmp, strerror(errno));
			goto fail;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0) {
		rc = err_set(err, -errno, "cannot fsync %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = err_set(err, -errno, "cannot close %s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		rc = err_set(err, -errno, "cannot rename into %s: %s", path, strerror(errno));
		goto fail;
	}
	remove_stale_temps(store_dir(dir), name);
	rc = fsync_dir(store_dir(dir));
	if (rc)
		return err_set(err, rc, "saved %s but could not fsync %s: %s", path, store_dir(dir), strerror(-rc));
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return rc;
}

int prof_store_save_text(const char *dir, const char *name, const char *text, size_t len,
			 struct pvpn_err *err)
{
	char fname[PROF_NAME_MAX + 8];
	int rc = prof_name_check(name, err);
	if (rc)
		return rc;
	snprintf(fname, sizeof(fname), "%s.conf", name);
	/* Validate first, exactly as a later load will read it: relative
	 * paths resolve against the store folder. */
	struct prof_profile *chk = malloc(sizeof(*chk));
	if (!chk)
		return err_set(err, -ENOMEM, "out of memory");
	rc = prof_parse_string(fname, text, len, store_dir(dir), 0, chk, err);
	prof_free(chk);
	free(chk);
	if (rc)
		return rc;
	return write_atomic(dir, name, text, len, err);
}

int prof_store_save(const char *dir, const char *name, const struct prof_profile *p,
		    struct pvpn_err *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc = prof_name_check(name, err);
	if (rc)
		return rc;
	rc = prof_serialise(p, false, &text, &len);
	if (rc)
		return err_set(err, rc, "cannot serialise profile '%s'", name);
	rc = prof_store_save_text(dir, name, text, len, err);
	prof_text_free(text, len);
	return rc;
}

int prof_store_load(const char *dir, const char *name, unsigned flags, struct prof_profile *out,
		    struct pvpn_err *err)
{
	char path[PATH_MAX];
	prof_init(out);
	int rc = profile_path(dir, name, path, sizeof(path), err);
	if (rc)
		return rc;
	struct stat st;
	if (stat(path, &st) < 0 && errno == ENOENT)
		return err_set(err, -ENOENT, "no profile '%s' in %s", name, store_dir(dir));
	rc = prof_parse_file(path, flags, out, err);
	if (rc)
		return rc;
	snprintf(out->name, sizeof(out->name), "%s", name);
	return 0;
}

int prof_store_remove(const char *dir, const char *name, struct pvpn_err *err)
{
	char path[PATH_MAX];
	int rc = profile_path(dir, name, path, sizeof(path), err);
	if (rc)
		return rc;
	if (unlink(path) < 0) {
		rc = -errno;
		if (rc == -ENOENT)
			return err_set(err, rc, "no profile '%s' in %s", name, store_dir(dir));
		return err_set(err, rc, "cannot remove %s: %s", path, strerror(errno));
	}
	rc = fsync_dir(store_dir(dir));
	if (rc)
		return err_set(err, rc, "removed %s but could not fsync %s: %s", path, store_dir(dir), strerror(-rc));
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct prof_list_entry *)a)->name, ((const struct prof_list_entry *)b)->name);
}

int prof_store_list(const char *dir, unsigned flags, struct prof_list_entry **out, size_t *n_out,
		    struct pvpn_err *err)
{
	*out = NULL;
	*n_out = 0;
	DIR *d = opendir(store_dir(dir));
	if (!d) {
		int rc = -errno;
		return err_set(err, rc, "cannot read %s: %s", store_dir(dir), strerror(errno));
	}
	struct prof_list_entry *v = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct prof_profile *p = malloc(sizeof(*p));
	if (!p) {
		rc = err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		/* Temporaries of a save in progress (".NAME.conf.XXXXXX") and
		 * anything not NAME.conf are not profiles. */
		if (len <= 5 || strcmp(de->d_name + len - 5, ".conf"))
			continue;
		char name[PROF_NAME_MAX + 8];
		if (len - 5 >= sizeof(name))
			continue;
		memcpy(name, de->d_name, len - 5);
		name[len - 5] = '\0';
		if (prof_name_check(name, NULL))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			struct prof_list_entry *nv = realloc(v, nc * sizeof(*nv));
			if (!nv) {
				rc = err_set(err, -ENOMEM, "out of memory");
				goto out;
			}
			v = nv;
			cap = nc;
		}
		struct prof_list_entry *e = &v[n++];
		memset(e, 0, sizeof(*e));
		memcpy(e->name, name, strlen(name) + 1); /* name_check bounded it */
		e->ok = prof_store_load(dir, name, flags, p, &e->err) == 0;
		prof_free(p);
	}
	qsort(v, n, sizeof(*v), cmp_entry);
out:
	free(p);
	closedir(d);
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	*n_out = n;
	return 0;
}
