/* keylog.c — the debugging key log (like TLS's SSLKEYLOGFILE).
 *
 * One block per SA, appended with a single write(2) so two daemons sharing
 * a file never interleave lines.  A block is a "# " comment naming the SA,
 * then `name=hex` lines in the fixtures' format, then an empty line.  The
 * keys pass through a stack buffer that is wiped afterwards. */
#include "ctl/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/hex.h"
#include "lib/log.h"
#include "lib/secret.h"

int ctl_keylog_open(struct ctl_keylog *k, const char *path, struct pvpn_err *e)
{
	k->fd = -1;
	mode_t old = umask(0077);
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
		      0600);
	umask(old);
	if (fd < 0)
		return err_set(e, -errno, "cannot open key log %s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(e, -EINVAL, "key log %s is not a regular file", path);
	}
	/* A file that already existed keeps its owner but loses group/other
	 * access: it is about to hold keys. */
	if ((st.st_mode & 0077) && fchmod(fd, st.st_mode & 0700) < 0) {
		int rc = -errno;
		close(fd);
		return err_set(e, rc, "cannot restrict key log %s to 0600: %s", path,
			       strerror(-rc));
	}
	k->fd = fd;
	log_warn("key log %s is on: it records the secret keys of every SA; use it for "
		 "debugging only", path);
	return 0;
}

void ctl_keylog_close(struct ctl_keylog *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
}

int ctl_keylog_block(struct ctl_keylog *k, const char *title,
		     const struct ctl_keylog_item *items, size_t n)
{
	if (!k || k->fd < 0)
		return 0;
	char buf[8192];
	size_t len = 0;
	int rc = 0;
	int m = snprintf(buf, sizeof(buf), "# %s\n", title);
	if (m < 0 || (size_t)m >= sizeof(buf)) {
		rc = -ENOSPC;
		goto out;
	}
	len = (size_t)m;
	for (size_t i = 0; i < n; i++) {
		size_t nl = strlen(items[i].name);
		/* name '=' hex '\n' */
		if (len + nl + 1 + 2 * items[i].len + 2 > sizeof(buf)) {
			rc = -ENOSPC;
			goto out;
		}
		memcpy(buf + len, items[i].name, nl);
		len += nl;
		buf[len++] = '=';
		int h = hex_encode(buf + len, sizeof(buf) - len, items[i].data, items[i].len);
		if (h < 0) {
			rc = -ENOSPC;
			goto out;
		}
		len += (size_t)h;
		buf[len++] = '\n';
	}
	buf[len++] = '\n';
	ssize_t w = write(k->fd, buf, len);
	if (w < 0)
		rc = -errno;
	else if ((size_t)w != len)
		rc = -EIO;
out:
	secret_wipe(buf, sizeof(buf));
	if (rc < 0)
		log_warn("key log: could not write the block for %s: %s", title, strerror(-rc));
	return rc;
}

int ctl_keylog_write_text(struct ctl_keylog *k, const char *text, size_t len)
{
	if (!k || k->fd < 0 || !text || !len)
		return 0;
	ssize_t w = write(k->fd, text, len);
	if (w < 0 || (size_t)w != len) {
		int rc = w < 0 ? -errno : -EIO;
		log_warn("key log: write failed: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

/* The engine names the IKE SPIs ike_spi_i / ike_spi_r; pvpn-ikedump --keys
 * starts an IKE SA's block at spi_i / spi_r (tools/ikedump/keys.c).  Rename
 * those two at the start of a line so the file works with the tool; every
 * other line is kept as the engine wrote it. */
int ctl_keylog_write_engine(struct ctl_keylog *k, const char *text, size_t len)
{
	if (!k || k->fd < 0 || !text || !len)
		return 0;
	char buf[8192];
	size_t o = 0, i = 0;
	int rc = 0;
	while (i < len) {
		bool bol = i == 0 || text[i - 1] == '\n';
		if (bol && len - i >= 10 &&
		    (!memcmp(text + i, "ike_spi_i=", 10) || !memcmp(text + i, "ike_spi_r=", 10)))
			i += 4;         /* drop "ike_" */
		if (o >= sizeof(buf)) {
			rc = -ENOSPC;
			goto out;
		}
		buf[o++] = text[i++];
	}
	rc = ctl_keylog_write_text(k, buf, o);
out:
	secret_wipe(buf, sizeof(buf));
	if (rc == -ENOSPC)
		log_warn("key log: a block of %zu bytes is too long; not written", len);
	return rc;
}
