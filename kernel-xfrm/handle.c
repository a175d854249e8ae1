/* handle.c — the kernel-xfrm handle: a NETLINK_XFRM and a NETLINK_ROUTE
 * socket, both opened at once so both belong to the caller's network
 * namespace of that moment (a socket's namespace is fixed at creation). */
#include <errno.h>
#include <stdlib.h>

#include "kernel-xfrm/nl.h"

int xfrm_open(struct xfrm_handle **out, struct pvpn_err *e)
{
	struct xfrm_handle *h;
	int rc;

	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return err_set(e, -ENOMEM, "out of memory");
	rc = nl_open(NETLINK_XFRM, &h->xfrm, e);
	if (rc == 0)
		rc = nl_open(NETLINK_ROUTE, &h->rt, e);
	if (rc < 0) {
		xfrm_close(h);
		return rc;
	}
	*out = h;
	return 0;
}

void xfrm_close(struct xfrm_handle *h)
{
	if (!h)
		return;
	if (h->xfrm)
		mnl_socket_close(h->xfrm);
	if (h->rt)
		mnl_socket_close(h->rt);
	free(h);
}
