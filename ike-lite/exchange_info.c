/* exchange_info.c — INFORMATIONAL both ways (RFC 7296 §1.4, §1.5, §2.4),
 * and the answer to a peer's CREATE_CHILD_SA until rekeying exists. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ike-lite/engine_internal.h"
#include "lib/log.h"

int eng_build_protected(struct ike_sa *sa, uint8_t exch, bool response, uint32_t mid,
			const uint8_t *plain, size_t plain_len, uint8_t first,
			uint8_t **out, size_t *out_len)
{
	struct ike_header h;

	memset(&h, 0, sizeof(h));
	memcpy(h.spi_i, sa->spi_i, 8);
	memcpy(h.spi_r, sa->spi_r, 8);
	h.version = IKE_VERSION_2_0;
	h.exchange = exch;
	/* §3.1: I is set by the IKE SA's original initiator; after the peer
	 * rekeyed it (§2.18) that is the peer, and we send with SK_er/SK_ar. */
	h.flags = (!sa->life.peer_initiated ? IKE_FLAG_I : 0) | (response ? IKE_FLAG_R : 0);
	h.message_id = mid;
	if (sa->life.peer_initiated)
		return eng_seal(&sa->suite, &sa->keys.sk_er, &sa->keys.sk_ar, sa->rnd, &h, first,
				plain, plain_len, out, out_len);
	return eng_seal(&sa->suite, &sa->keys.sk_ei, &sa->keys.sk_ai, sa->rnd, &h, first,
			plain, plain_len, out, out_len);
}

int eng_send_info_request(struct ike_sa *sa, enum eng_req_kind kind, uint64_t now_ms)
{
	uint8_t plain[64], first = IKE_PT_NONE, *msg;
	size_t plain_len = 0, len;
	uint32_t mid;
	int rc;

	if (kind == REQ_DELETE) {
		struct ike_builder b;
		ike_build_chain_begin(&b, plain, sizeof(plain));
		/* §3.11: deleting the IKE SA: protocol IKE, no SPIs. */
		ike_build_delete(&b, IKE_PROTO_IKE, 0, NULL, 0);
		if ((rc = ike_build_finish(&b, &plain_len, &first, NULL)) < 0)
			return rc;
	}
	mid = sa->next_mid;
	if ((rc = eng_build_protected(sa, IKE_INFORMATIONAL, false, mid, plain, plain_len, first,
				      &msg, &len)) < 0)
		return rc;
	sa->next_mid++;
	return eng_request_start(sa, kind, IKE_INFORMATIONAL, mid, msg, len, now_ms);
}

void eng_send_delete_oneshot(struct ike_sa *sa)
{
	uint8_t plain[16], first = 0, *msg;
	size_t plain_len = 0, len;
	struct ike_builder b;

	ike_build_chain_begin(&b, plain, sizeof(plain));
	ike_build_delete(&b, IKE_PROTO_IKE, 0, NULL, 0);
	if (ike_build_finish(&b, &plain_len, &first, NULL) == 0 &&
	    eng_build_protected(sa, IKE_INFORMATIONAL, false, sa->next_mid, plain, plain_len,
				first, &msg, &len) == 0) {
		sa->next_mid++;
		eng_send_raw(sa, msg, len, false);
		free(msg);
	}
}

/* A response to our INFORMATIONAL (liveness check or DELETE). */
int eng_info_response(struct ike_sa *sa, uint8_t *buf, size_t len, uint64_t now_ms)
{
	struct pvpn_err err;
	int rc;

	if ((rc = eng_open_peer(sa, buf, len, &err)) < 0) {
		log_msg(LOG_DEBUG, sa->cfg.log_name, "IKE: bad INFORMATIONAL response: %s", err.msg);
		return rc;
	}
	if (sa->req.kind == REQ_DELETE) {
		eng_close(sa, IKE_ERR_NONE, "disconnected");
		return 0;
	}
	eng_reauth_notify(sa, sa->m_inner, now_ms);   /* RFC 4478 §3 */
	eng_request_clear(sa);
	if (sa->delete_pending) {
		sa->delete_pending = false;
		if (eng_send_info_request(sa, REQ_DELETE, now_ms) < 0)
			eng_close(sa, IKE_ERR_NONE, "disconnected (DELETE could not be built)");
	}
	return 0;
}

static int respond(struct ike_sa *sa, uint8_t exch, uint32_t mid, struct ike_builder *b)
{
	uint8_t plain_first = IKE_PT_NONE, *msg;
	size_t plain_len = 0, len;
	int rc;

	if (b && (rc = ike_build_finish(b, &plain_len, &plain_first, NULL)) < 0)
		return rc;
	if ((rc = eng_build_protected(sa, exch, true, mid, b ? b->w.buf : NULL, plain_len,
				      plain_first, &msg, &len)) < 0)
		return rc;
	return eng_respond(sa, mid, msg, len);
}

int eng_info_request(struct ike_sa *sa, uint8_t *buf, size_t len, uint64_t now_ms)
{
	struct ike_message *in = sa->m_inner;
	struct ike_header h;
	struct pvpn_err err;
	struct ike_builder b;
	uint8_t plain[256];
	const struct ike_payload *p;
	size_t from = 0;
	bool del_ike = false, del_child = false, del_old = false;
	uint32_t old_in = 0;
	int rc;

	if (eng_peek_header(buf, len, &h) < 0)
		return -EBADMSG;
	if (h.exchange != IKE_INFORMATIONAL && h.exchange != IKE_CREATE_CHILD_SA)
		return -EOPNOTSUPP;
	/* §2.1: a retransmitted request gets the same response again. */
	bool retransmitted = sa->resp_cache_valid && h.message_id == sa->resp_cache_mid &&
			     h.message_id + 1 == sa->peer_mid;
	if (!retransmitted && h.message_id != sa->peer_mid)
		return -EINVAL;
	/* §3.14: a retransmission too must be the peer's own message (ICV
	 * checked), or anybody could make us send and look alive (§2.4). */
	if ((rc = eng_open_peer(sa, buf, len, &err)) < 0) {
		log_msg(LOG_DEBUG, sa->cfg.log_name, "IKE: bad request from the server: %s", err.msg);
		return rc;
	}
	if (retransmitted) {
		sa->stats.cached_responses++;
		log_msg(LOG_DEBUG, sa->cfg.log_name, "IKE: re-sending the response to Message ID %u",
			(unsigned)h.message_id);
		return eng_send_raw(sa, sa->resp_cache, sa->resp_cache_len, true);
	}
	sa->peer_mid++;
	ike_build_chain_begin(&b, plain, sizeof(plain));

	if (h.exchange == IKE_CREATE_CHILD_SA)
		/* exchange_rekey.c: a Child SA rekey, or a refusal. */
		return eng_rekey_request(sa, h.message_id, now_ms);
	eng_reauth_notify(sa, in, now_ms);   /* RFC 4478 §3 */

	while ((p = ike_message_find(in, IKE_PT_DELETE, &from))) {
		const struct ike_delete_body *d = &p->u.del;
		if (d->protocol == IKE_PROTO_IKE) {
			del_ike = true;
		} else if (d->protocol == IKE_PROTO_ESP && d->spi_size == 4 && sa->child_up) {
			for (uint16_t i = 0; i < d->nspis; i++) {
				const uint8_t *s = d->spis + 4 * (size_t)i;
				uint32_t spi = (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 |
					       (uint32_t)s[2] << 8 | s[3];
				/* The peer names its inbound SPI = our outbound. */
				if (spi == sa->spi_out)
					del_child = true;
				else if (eng_life_old_deleted(sa, spi, &old_in, now_ms))
					del_old = true;
			}
		}
	}
	if (del_ike) {
		/* §1.4.1: the answer to deleting the IKE SA is empty. */
		rc = respond(sa, IKE_INFORMATIONAL, h.message_id, NULL);
		/* Both sides leaving at once (§1.4.1) is not the server's doing. */
		if (sa->state == ST_DELETING)
			eng_close(sa, IKE_ERR_NONE, "disconnected");
		else
			eng_close(sa, IKE_ERR_SERVER_DISCONNECTED, "the server deleted the IKE SA");
		return rc;
	}
	if (del_child) {
		/* §1.4.1: answer with the deletion of our inbound half. */
		uint8_t spi[4] = { (uint8_t)(sa->spi_in >> 24), (uint8_t)(sa->spi_in >> 16),
				   (uint8_t)(sa->spi_in >> 8), (uint8_t)sa->spi_in };
		ike_build_delete(&b, IKE_PROTO_ESP, 4, spi, 1);
		rc = respond(sa, IKE_INFORMATIONAL, h.message_id, &b);
		/* Our only Child SA is gone: the IKE SA has no use left. */
		eng_send_delete_oneshot(sa);
		eng_close(sa, IKE_ERR_SERVER_DISCONNECTED, "the server deleted the Child SA");
		return rc;
	}
	if (del_old) {
		/* §1.4.1: the pair a rekey replaced; our inbound half goes
		 * after its grace period (exchange_rekey.c). */
		uint8_t spi[4] = { (uint8_t)(old_in >> 24), (uint8_t)(old_in >> 16),
				   (uint8_t)(old_in >> 8), (uint8_t)old_in };
		ike_build_delete(&b, IKE_PROTO_ESP, 4, spi, 1);
		return respond(sa, IKE_INFORMATIONAL, h.message_id, &b);
	}
	/* A liveness check or a notification: an empty answer (§1.4). */
	return respond(sa, IKE_INFORMATIONAL, h.message_id, NULL);
}
