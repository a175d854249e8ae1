/* reauth.c — re-authentication as RFC 4478 asks: the server's AUTH_LIFETIME
 * says how long its trust in our authentication lasts; before it ends the
 * daemon builds a second IKE SA (make-before-break) and deletes this one.
 * The engine only reads the notify and plans the time; the second SA is an
 * ordinary one with cfg.reauth set. */
#include <errno.h>
#include <string.h>

#include "ike-lite/engine_internal.h"
#include "lib/log.h"
#include "lib/reader.h"

/* A server that asks for a lifetime this short would have us
 * re-authenticate in a loop; we never start sooner than this after it
 * spoke. */
#define REAUTH_MIN_MS 10000

void eng_reauth_notify(struct ike_sa *sa, const struct ike_message *in, uint64_t now_ms)
{
	const struct ike_payload *p = ike_message_find_notify(in, IKE_N_AUTH_LIFETIME);
	struct reader r;
	uint32_t secs = 0;
	uint64_t at;

	if (!p)
		return;
	/* RFC 4478 §3: no SPI, a 4-octet lifetime in seconds.  A malformed
	 * one changes nothing (the server's earlier word stands). */
	rd_init(&r, p->u.notify.data, p->u.notify.len);
	if (p->u.notify.spi_size || !rd_u32(&r, &secs) || !rd_done(&r)) {
		log_msg(LOG_WARNING, sa->cfg.log_name, "IKE: ignoring a malformed AUTH_LIFETIME "
			"(%zu bytes)", p->u.notify.len);
		return;
	}
	/* The same planner as the rekeys: RekeyMargin (or a tenth) before
	 * the end, less a random part of it, so the new IKE SA is up before
	 * the server's trust runs out. */
	at = eng_life_rekey_at(sa, now_ms, secs);
	if (at < now_ms + REAUTH_MIN_MS)
		at = now_ms + REAUTH_MIN_MS;
	sa->reauth_ms = at;
	log_msg(LOG_INFO, sa->cfg.log_name, "IKE: the server wants us to re-authenticate within "
		"%u s (AUTH_LIFETIME); starting in %llu s", (unsigned)secs,
		(unsigned long long)((at - now_ms) / 1000));
}

void eng_reauth_cp(const struct ike_sa *sa, struct ike_cp_attr *cp, size_t n, uint8_t *buf)
{
	static const uint8_t zero[16];

	if (!sa->cfg.reauth)
		return;
	for (size_t i = 0; i < n; i++) {
		/* RFC 7296 §3.15.1: a request may name the address it wants;
		 * asking for the one we hold keeps the tunnel's address. */
		if (cp[i].type == IKE_CP_INTERNAL_IP4_ADDRESS && sa->cfg.reauth_vip4.s_addr) {
			cp[i].data = (const uint8_t *)&sa->cfg.reauth_vip4;
			cp[i].len = 4;
		} else if (cp[i].type == IKE_CP_INTERNAL_IP6_ADDRESS &&
			   memcmp(&sa->cfg.reauth_vip6, zero, 16)) {
			memcpy(buf, &sa->cfg.reauth_vip6, 16);
			buf[16] = 128;
			cp[i].data = buf;
			cp[i].len = 17;
		}
	}
}

uint64_t ike_reauth_deadline(const struct ike_sa *sa)
{
	if (!sa || sa->state != ST_ESTABLISHED)
		return 0;
	return sa->reauth_ms;
}

bool ike_owns_datagram(const struct ike_sa *sa, const uint8_t *dgram, size_t len,
		       const struct ike_path *path)
{
	if (!sa || !dgram)
		return false;
	/* RFC 3948 §2.2: on the NAT-T port IKE follows a zero marker. */
	if (path && eng_port(&path->local) == sa->cfg.natt_port) {
		if (len < ENG_NON_ESP_MARKER || dgram[0] || dgram[1] || dgram[2] || dgram[3])
			return false;
		dgram += ENG_NON_ESP_MARKER;
		len -= ENG_NON_ESP_MARKER;
	}
	/* RFC 7296 §3.1: the initiator's SPI opens the header; ours is
	 * never zero once IKE_SA_INIT went out. */
	if (len < 28 || sa->state == ST_IDLE)
		return false;
	if (memcmp(dgram, sa->spi_i, 8) == 0)
		return true;
	/* An IKE SA a rekey just replaced is still this SA's (its DELETE and
	 * retransmissions are answered for a while, §2.18). */
	struct ike_header h;
	return eng_peek_header(dgram, len, &h) == 0 && eng_old_ike_match(sa, &h);
}
