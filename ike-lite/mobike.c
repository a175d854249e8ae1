/* mobike.c — moving the IKE SA to a new path: MOBIKE for the initiator
 * (RFC 4555) and NAT mapping changes (RFC 7296 §2.23). */
#include <errno.h>

#include "ike-lite/engine_internal.h"

int ike_nat_mapping(struct ike_sa *sa, const struct sockaddr_storage *new_remote,
		    uint64_t now_ms)
{
	eng_enter(sa);
	(void)new_remote;
	(void)now_ms;
	if (sa->state != ST_ESTABLISHED)
		return -ENOTCONN;
	return -EPERM;   /* stub until the real one lands */
}
