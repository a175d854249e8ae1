/* pvpn-ikedump: show, decrypt and check IKEv2 messages in a pcap capture.
 * The logic is in ikedump.c (libpvpn.a) so tests can run it in-process. */
#include "tools/ikedump/ikedump.h"

int main(int argc, char **argv)
{
	return ikedump_run(argc, argv, stdout, stderr);
}
