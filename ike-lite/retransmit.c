/* retransmit.c — the one outstanding request (RFC 7296 §2.1, §2.3):
 * exponential backoff, bitwise-identical resends, a bounded budget; and the
 * cached response for a retransmitted peer request. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ike-lite/engine_internal.h"
#include "lib/log.h"

int eng_send_raw(struct ike_sa *sa, const uint8_t *msg, size_t len, bool retransmit)
{
	struct ike_action a;
	struct eng_qitem *it;
	int rc;

	memset(&a, 0, sizeof(a));
	a.type = IKE_ACT_SEND;
	a.u.send.path = sa->path;
	a.u.send.retransmit = retransmit;
	if (sa->natt) {
		/* RFC 3948 §2.2: four zero bytes before IKE on port 4500. */
		uint8_t *b = malloc(len + ENG_NON_ESP_MARKER);
		if (!b)
			return -ENOMEM;
		memset(b, 0, ENG_NON_ESP_MARKER);
		memcpy(b + ENG_NON_ESP_MARKER, msg, len);
		rc = eng_queue(sa, &a, b, len + ENG_NON_ESP_MARKER, &it);
		free(b);
	} else {
		rc = eng_queue(sa, &a, msg, len, &it);
	}
	if (rc == 0) {
		sa->stats.tx++;
		if (retransmit)
			sa->stats.retransmits++;
	}
	return rc;
}

void eng_request_clear(struct ike_sa *sa)
{
	free(sa->req.buf);
	memset(&sa->req, 0, sizeof(sa->req));
}

static uint64_t timeout_after(const struct ike_sa *sa, unsigned tries)
{
	/* 1, 2, 4, ... times the first timeout (§2.1 exponential backoff). */
	uint64_t t = sa->cfg.retx_first_ms;
	for (unsigned i = 1; i < tries && t < sa->cfg.retx_budget_ms; i++)
		t *= 2;
	return t;
}

static void schedule(struct ike_sa *sa, uint64_t now_ms)
{
	uint64_t next = now_ms + timeout_after(sa, sa->req.tries);
	uint64_t limit = sa->req.first_ms + sa->cfg.retx_budget_ms;
	sa->req.next_ms = next < limit ? next : limit;
}

int eng_request_start(struct ike_sa *sa, enum eng_req_kind kind, uint8_t exch,
		      uint32_t mid, uint8_t *buf, size_t len, uint64_t now_ms)
{
	int rc;

	eng_request_clear(sa);
	sa->req.kind = kind;
	sa->req.exch = exch;
	sa->req.mid = mid;
	sa->req.buf = buf;
	sa->req.len = len;
	sa->req.first_ms = now_ms;
	sa->req.tries = 1;
	schedule(sa, now_ms);
	rc = eng_send_raw(sa, buf, len, false);
	sa->last_tx_ms = now_ms;
	return rc;
}

static void give_up(struct ike_sa *sa)
{
	char nb[32];
	enum eng_req_kind kind = sa->req.kind;
	unsigned tries = sa->req.tries;

	eng_request_clear(sa);
	switch (kind) {
	case REQ_INIT:
		if (sa->last_notify) {
			/* §2.4: the unprotected notify was only a hint; it is
			 * what we can report now that nothing better came. */
			eng_close(sa, eng_notify_error(sa->last_notify),
				  "no valid IKE_SA_INIT response after %u tries; the server sent "
				  "%s", tries, eng_notify_label(sa->last_notify, nb, sizeof(nb)));
			return;
		}
		if (sa->last_reject[0]) {
			eng_close(sa, IKE_ERR_NEGOTIATION_FAILED, "no valid IKE_SA_INIT response "
				  "after %u tries: %s", tries, sa->last_reject);
			return;
		}
		eng_close(sa, IKE_ERR_SERVER_NOT_RESPONDING,
			  "no IKE_SA_INIT response after %u tries", tries);
		return;
	case REQ_AUTH:
		if (sa->last_reject[0]) {
			eng_close(sa, IKE_ERR_PROTOCOL_ERROR, "no usable IKE_AUTH response after "
				  "%u tries: %s", tries, sa->last_reject);
			return;
		}
		eng_close(sa, IKE_ERR_SERVER_NOT_RESPONDING,
			  "no IKE_AUTH response after %u tries", tries);
		return;
	case REQ_DPD:
		if (sa->state == ST_DELETING) {
			eng_close(sa, IKE_ERR_NONE, "disconnected (the server did not answer)");
			return;
		}
		eng_close(sa, IKE_ERR_SERVER_DEAD,
			  "liveness check unanswered after %u tries", tries);
		return;
	case REQ_REKEY_CHILD:
	case REQ_DELETE_CHILD:
	case REQ_REKEY_IKE:
		eng_close(sa, IKE_ERR_SERVER_DEAD, "%s unanswered after %u tries",
			  kind == REQ_REKEY_CHILD ? "Child SA rekey" :
			  kind == REQ_REKEY_IKE ? "IKE SA rekey" : "DELETE of the old Child SA",
			  tries);
		return;
	case REQ_MOBIKE:
		/* RFC 4555 §3.5: the new path does not reach the server. */
		eng_close(sa, IKE_ERR_SERVER_DEAD, "no answer to the MOBIKE address update "
			  "after %u tries", tries);
		return;
	case REQ_DELETE:
		/* We were leaving anyway: clean up locally. */
		eng_close(sa, IKE_ERR_NONE, "disconnected (the server did not confirm the DELETE)");
		return;
	case REQ_NONE:
		return;
	}
}

void eng_request_tick(struct ike_sa *sa, uint64_t now_ms)
{
	if (sa->req.kind == REQ_NONE || now_ms < sa->req.next_ms)
		return;
	/* After an INVALID_IKE_SPI hint (dpd.c). */
	if (eng_hint_give_up(sa, now_ms))
		return;
	if (sa->req.tries >= sa->cfg.retx_max_tries ||
	    now_ms >= sa->req.first_ms + sa->cfg.retx_budget_ms) {
		give_up(sa);
		return;
	}
	sa->req.tries++;
	log_msg(LOG_DEBUG, sa->cfg.log_name, "IKE: retransmitting %s request (Message ID %u, try %u)",
		ike_exchange_name(sa->req.exch) ? ike_exchange_name(sa->req.exch) : "?",
		(unsigned)sa->req.mid, sa->req.tries);
	eng_send_raw(sa, sa->req.buf, sa->req.len, true);
	sa->last_tx_ms = now_ms;
	schedule(sa, now_ms);
	eng_hint_sent(sa, now_ms);
}

int eng_respond(struct ike_sa *sa, uint32_t mid, uint8_t *buf, size_t len)
{
	if (sa->resp_cache) {
		secret_wipe(sa->resp_cache, sa->resp_cache_len);
		free(sa->resp_cache);
	}
	/* §2.1: keep it to answer a retransmission of the same request. */
	sa->resp_cache = buf;
	sa->resp_cache_len = len;
	sa->resp_cache_mid = mid;
	sa->resp_cache_valid = true;
	return eng_send_raw(sa, buf, len, false);
}
