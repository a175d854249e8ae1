/* main-pvpn.c — pvpn: the command line for pvpnd (see docs/pvpn.8). */
#include "ctl/proto.h"

int main(int argc, char **argv)
{
	return ctl_cli_main(argc, argv);
}
