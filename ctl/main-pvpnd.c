/* main-pvpnd.c — pvpnd: the IKEv2 client daemon (see docs/pvpnd.8). */
#include <stdio.h>

#include "ctl/ctl.h"
#include "lib/log.h"

#ifndef PVPN_VERSION
#define PVPN_VERSION "0.1"
#endif

int main(int argc, char **argv)
{
	struct ctl_opts o;
	struct pvpn_err e = { 0 };
	if (ctl_opts_parse(&o, argc, argv, &e) < 0) {
		fprintf(stderr, "pvpnd: %s\n%s", e.msg, ctl_usage());
		return 2;
	}
	if (o.help) {
		fputs(ctl_usage(), stdout);
		return 0;
	}
	if (o.version) {
		printf("pvpnd %s\n", PVPN_VERSION);
		return 0;
	}
	int level = LOG_INFO + o.verbose;
	if (level > LOG_DEBUG)
		level = LOG_DEBUG;
	log_init("pvpnd", o.foreground ? LOG_TO_STDERR : LOG_TO_SYSLOG, level);
	if (o.mode == CTL_MODE_ONESHOT)
		return ctl_oneshot(&o);
	/* Said on stderr too: without --foreground the log goes to syslog. */
	fprintf(stderr, "pvpnd: daemon mode (control socket %s, profiles in %s) is not "
		"implemented yet; use --foreground --profile FILE\n", o.socket, o.prefs);
	log_err("daemon mode is not implemented yet");
	return 2;
}
