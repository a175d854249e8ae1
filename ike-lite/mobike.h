/* mobike.h — the engine's state for moving the IKE SA to another path:
 * MOBIKE for the initiator (RFC 4555) and NAT mapping changes (RFC 7296
 * §2.23).  Internal to ike-lite; embedded in struct ike_sa. */
#ifndef PVPN_IKE_MOBIKE_H
#define PVPN_IKE_MOBIKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ike-lite/ike.h"
#include "ike-lite/message.h"

#define MOB_COOKIE2_LEN 16          /* RFC 4555 §3.11: 8 to 64 octets */

struct eng_mobike {
	bool peer;                       /* MOBIKE_SUPPORTED in the final IKE_AUTH response */
	/* A move the daemon asked for that is not done yet: to target, or
	 * (have_target false) waiting for any path at all. */
	bool wanted;
	bool have_target;
	struct sockaddr_storage target;  /* the new local address (port unused) */
	uint64_t since_ms;               /* when the SA lost its path (no target) */
	/* Our UPDATE_SA_ADDRESSES is the outstanding request (REQ_MOBIKE),
	 * sent from sent_from with this COOKIE2 (§3.11). */
	struct sockaddr_storage sent_from;
	uint8_t cookie2[MOB_COOKIE2_LEN];
	unsigned n_moves;                /* completed (tests, log) */
};

struct ike_sa;
struct ike_builder;

/* RFC 4555 §3.3: MOBIKE_SUPPORTED in our first IKE_AUTH request unless
 * the profile disables MOBIKE. */
void eng_mobike_build_auth(struct ike_sa *sa, struct ike_builder *b);
/* The final IKE_AUTH response (authenticated): note the responder's
 * MOBIKE_SUPPORTED. */
void eng_mobike_auth_done(struct ike_sa *sa, const struct ike_message *in);
/* Before the first IKE_AUTH request: RFC 4555 §3.3, a MOBIKE initiator
 * moves IKE to port 4500 when the responder does NAT-T, NAT or not. */
void eng_mobike_float(struct ike_sa *sa);
/* True when both sides agreed on MOBIKE. */
bool eng_mobike_on(const struct ike_sa *sa);
/* Start a wanted UPDATE_SA_ADDRESSES once the window is free; give up when
 * the SA stayed without a path for the retransmission budget. */
void eng_mobike_tick(struct ike_sa *sa, uint64_t now_ms);
uint64_t eng_mobike_deadline(const struct ike_sa *sa);
/* The response to our UPDATE_SA_ADDRESSES. */
int eng_mobike_response(struct ike_sa *sa, uint8_t *buf, size_t len,
			const struct ike_path *path, uint64_t now_ms);
/* An authenticated, new message from the server arrived on path: follow
 * its NAT-rebound port (RFC 7296 §2.23) when it is behind a NAT. */
void eng_mobike_seen(struct ike_sa *sa, const struct ike_path *path);
/* True when ESP is UDP-encapsulated (a NAT on the path), whatever port
 * IKE uses. */
bool eng_encap(const struct ike_sa *sa);

/* dpd.c — an unprotected INVALID_IKE_SPI answering the outstanding
 * request (RFC 7296 §2.21.4): 1 when buf (header h) is that hint (then
 * only the wait for a real answer is shortened), 0 when it is not. */
int eng_invalid_spi_hint(struct ike_sa *sa, const struct ike_header *h, const uint8_t *buf,
			 size_t len, uint64_t now_ms);
/* retransmit.c, before a resend: true when the hint's few extra sends or
 * its time are spent; the SA is then closed. */
bool eng_hint_give_up(struct ike_sa *sa, uint64_t now_ms);
/* retransmit.c, after a resend: count it and keep the next one close. */
void eng_hint_sent(struct ike_sa *sa, uint64_t now_ms);

#endif
