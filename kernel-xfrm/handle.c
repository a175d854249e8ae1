/* handle.c — the kernel-xfrm handle: a NETLINK_XFRM socket, plus a
 * NETLINK_ROUTE one opened the first time an address or route is touched. */
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
	if (rc < 0) {
		free(h);
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
