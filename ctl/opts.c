/* opts.c — pvpnd's command line. */
#include "ctl/ctl.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

const char *ctl_usage(void)
{
	return "usage: pvpnd --foreground --profile FILE [--keylog FILE] [-v]...\n"
	       "       pvpnd [--socket PATH] [--prefs DIR] [--foreground] [--keylog FILE] [-v]...\n"
	       "\n"
	       "  -p, --profile FILE  connect this profile at once and stay in the foreground\n"
	       "                      (one-shot mode); SIGTERM/SIGINT disconnect and exit\n"
	       "  -f, --foreground    log to stderr instead of syslog\n"
	       "  -k, --keylog FILE   append every SA's SPIs and keys to FILE (debugging only)\n"
	       "  -s, --socket PATH   control socket (default " CTL_SOCKET_DEFAULT ")\n"
	       "  -P, --prefs DIR     profile directory (default " CTL_PREFS_DEFAULT ")\n"
	       "  -v, --verbose       more log detail (repeat for debug)\n"
	       "  -h, --help          this text\n"
	       "  -V, --version       the version\n";
}

int ctl_opts_parse(struct ctl_opts *o, int argc, char **argv, struct pvpn_err *e)
{
	static const struct option longopts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "keylog", required_argument, NULL, 'k' },
		{ "socket", required_argument, NULL, 's' },
		{ "prefs", required_argument, NULL, 'P' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	memset(o, 0, sizeof(*o));
	bool socket_set = false, prefs_set = false;
	o->socket = CTL_SOCKET_DEFAULT;
	o->prefs = CTL_PREFS_DEFAULT;
	optind = 1;
	opterr = 0;
	for (;;) {
		int c = getopt_long(argc, argv, ":p:fk:s:P:vhV", longopts, NULL);
		if (c == -1)
			break;
		switch (c) {
		case 'p': o->profile = optarg; break;
		case 'f': o->foreground = true; break;
		case 'k': o->keylog = optarg; break;
		case 's': o->socket = optarg; socket_set = true; break;
		case 'P': o->prefs = optarg; prefs_set = true; break;
		case 'v': o->verbose++; break;
		case 'h': o->help = true; break;
		case 'V': o->version = true; break;
		case ':':
			return err_set(e, -EINVAL, "option %s needs an argument",
				       argv[optind - 1]);
		default:
			return err_set(e, -EINVAL, "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return err_set(e, -EINVAL, "unexpected argument '%s'", argv[optind]);
	if (o->help || o->version)
		return 0;
	if (o->profile) {
		if (socket_set || prefs_set)
			return err_set(e, -EINVAL,
				       "--profile (one-shot mode) does not take --socket or --prefs");
		if (!*o->profile)
			return err_set(e, -EINVAL, "--profile needs a file name");
		/* One-shot mode is a foreground process by definition. */
		o->foreground = true;
		o->mode = CTL_MODE_ONESHOT;
	} else {
		o->mode = CTL_MODE_DAEMON;
	}
	return 0;
}
