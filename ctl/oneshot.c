/* oneshot.c — `pvpnd --foreground --profile FILE`: connect one profile at
 * once, like `wg-quick up`, and tear it down on SIGTERM/SIGINT.
 * Exit status: 2 usage or profile error (before any packet), 1 the first
 * connection attempt failed (or the tunnel was lost), 0 clean shutdown. */
#include "ctl/ctl.h"

#include <libgen.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"

int ctl_oneshot(const struct ctl_opts *o)
{
	static struct prof_profile prof;
	static struct ctl_daemon d;
	struct pvpn_err e = { 0 };
	int code = 1;

	if (prof_parse_file(o->profile, 0, &prof, &e) < 0) {
		log_err("%s", e.msg);
		return 2;
	}
	/* The connection's name: the profile file's name without ".conf". */
	char namebuf[PROF_PATH_MAX], name[PROF_NAME_MAX];
	snprintf(namebuf, sizeof(namebuf), "%s", o->profile);
	snprintf(name, sizeof(name), "%s", basename(namebuf));
	char *dot = strrchr(name, '.');
	if (dot && !strcmp(dot, ".conf") && dot != name)
		*dot = '\0';

	if (ctl_daemon_init(&d, o->keylog, &e) < 0) {
		log_err("%s", e.msg);
		goto out;
	}
	d.oneshot = true;
	d.exit_code = 1;
	if (ctl_conn_start(&d, name, &prof, NULL, &e) < 0) {
		log_msg(LOG_ERR, name, "%s", e.msg);
		goto out;
	}
	code = ctl_daemon_run(&d);
out:
	ctl_daemon_free(&d);
	prof_free(&prof);
	return code;
}
