/* main-pvpnd.c — pvpnd: the IKEv2 client daemon (see docs/pvpnd.8). */
#include <stdio.h>

#include "ctl/ctl.h"
#include "ctl/proto.h"
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
	/* Daemon mode: the control socket over the same connection manager
	 * (ctl/server_daemon.c). */
	return ctl_daemon_mode(&o);
}
