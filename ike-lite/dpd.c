/* dpd.c — liveness (RFC 7296 §2.4): the daemon tells the engine when ESP
 * from the peer arrived (it reads the inbound SA's counters), so a liveness
 * check goes out only after DeadPeerDetectionRate without any traffic from
 * the peer, IKE or ESP. */
#include <errno.h>
#include <string.h>

#include "ike-lite/engine_internal.h"
#include "lib/log.h"

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

/* ------------------------------------------- a restarted server's hint */

/* RFC 7296 §2.21.4: a server that lost our IKE SA (restarted) may answer
 * with an unprotected INVALID_IKE_SPI.  Anybody on the path can forge that,
 * so it never ends the SA at once (§2.4); it only shortens the wait for a
 * real answer to the outstanding request: at most HINT_SENDS more sends,
 * HINT_GAP_MS apart, and HINT_WINDOW_MS in all. */
#define HINT_SENDS     2
#define HINT_GAP_MS    2000
#define HINT_WINDOW_MS 5000

int eng_invalid_spi_hint(struct ike_sa *sa, const struct ike_header *h, const uint8_t *buf,
			 size_t len, uint64_t now_ms)
{
	struct pvpn_err err;

	if (len < 28 || buf[16] != IKE_PT_NOTIFY || sa->req.kind == REQ_NONE ||
	    sa->req.kind == REQ_INIT || h->message_id != sa->req.mid ||
	    memcmp(h->spi_r, sa->spi_r, 8) != 0)
		return 0;
	if (ike_message_parse(sa->m_outer, buf, len, &err) < 0 ||
	    ike_message_find(sa->m_outer, IKE_PT_SK, NULL) ||
	    !ike_message_find_notify(sa->m_outer, IKE_N_INVALID_IKE_SPI))
		return 0;
	sa->stats.ignored_notifies++;
	if (sa->req.hint)
		return 1;
	sa->req.hint = true;
	sa->req.hint_sends = 0;
	sa->req.hint_until_ms = now_ms + HINT_WINDOW_MS;
	if (sa->req.next_ms > now_ms + HINT_GAP_MS)
		sa->req.next_ms = now_ms + HINT_GAP_MS;
	log_msg(LOG_INFO, sa->cfg.log_name, "IKE: the server answered INVALID_IKE_SPI "
		"(unprotected; it may have restarted): %u more tries within %u s",
		HINT_SENDS, HINT_WINDOW_MS / 1000);
	return 1;
}

bool eng_hint_give_up(struct ike_sa *sa, uint64_t now_ms)
{
	if (!sa->req.hint || (sa->req.hint_sends < HINT_SENDS && now_ms < sa->req.hint_until_ms))
		return false;
	enum eng_req_kind kind = sa->req.kind;
	unsigned tries = sa->req.tries;
	eng_request_clear(sa);
	if (kind == REQ_DELETE || sa->state == ST_DELETING)
		eng_close(sa, IKE_ERR_NONE, "disconnected (the server no longer knows the IKE SA)");
	else
		eng_close(sa, IKE_ERR_SERVER_DEAD, "the server answered INVALID_IKE_SPI (it lost "
			  "the IKE SA, e.g. restarted) and nothing valid after %u tries", tries);
	return true;
}

void eng_hint_sent(struct ike_sa *sa, uint64_t now_ms)
{
	if (!sa->req.hint)
		return;
	sa->req.hint_sends++;
	if (sa->req.next_ms > now_ms + HINT_GAP_MS)
		sa->req.next_ms = now_ms + HINT_GAP_MS;
	if (sa->req.next_ms > sa->req.hint_until_ms)
		sa->req.next_ms = sa->req.hint_until_ms;
}
