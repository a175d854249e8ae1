/* dpd.c — liveness (RFC 7296 §2.4): the daemon tells the engine when ESP
 * from the peer arrived (it reads the inbound SA's counters), so a liveness
 * check goes out only after DeadPeerDetectionRate without any traffic from
 * the peer, IKE or ESP. */
#include <errno.h>

#include "ike-lite/engine_internal.h"

int ike_child_spis(const struct ike_sa *sa, uint32_t *spi_in, uint32_t *spi_out)
{
	if (!sa->child_up || sa->state == ST_CLOSED)
		return -ENOTCONN;
	*spi_in = sa->spi_in;
	*spi_out = sa->spi_out;
	return 0;
}

void ike_peer_traffic(struct ike_sa *sa, uint64_t now_ms)
{
	eng_enter(sa);
	/* §2.4: "only if no cryptographically protected messages (IKE or
	 * ESP) have been received" since the last check is one needed. */
	if (sa->state == ST_ESTABLISHED && now_ms > sa->last_rx_ms)
		sa->last_rx_ms = now_ms;
}

int ike_check_liveness(struct ike_sa *sa, uint64_t now_ms)
{
	eng_enter(sa);
	if (sa->state != ST_ESTABLISHED)
		return -ENOTCONN;
	if (sa->req.kind == REQ_DPD)
		return 0;
	if (sa->req.kind != REQ_NONE || sa->delete_pending)
		return -EBUSY;   /* another exchange shows soon enough */
	int rc = eng_send_info_request(sa, REQ_DPD, now_ms);
	return rc < 0 ? rc : 1;
}

int ike_path_changed(struct ike_sa *sa, const struct sockaddr_storage *new_local,
		     uint64_t now_ms)
{
	eng_enter(sa);
	(void)now_ms;
	if (sa->state == ST_IDLE || sa->state == ST_CLOSED)
		return -ENOTCONN;
	if (new_local && eng_same_addr(new_local, &sa->cfg.local))
		return 0;
	/* Without MOBIKE (RFC 4555, not implemented yet) an IKE SA cannot
	 * move: say goodbye on the old path if it still works, and end; the
	 * daemon connects again from the new address. */
	if (sa->state == ST_ESTABLISHED)
		eng_send_delete_oneshot(sa);
	eng_close(sa, IKE_ERR_NONE, "the path to the server changed");
	return 1;
}
