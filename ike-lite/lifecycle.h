/* lifecycle.h — the engine's state for the Child SA's life after IKE_AUTH:
 * rekeying (RFC 7296 §1.3.3, §2.8) in both directions and the grace period
 * of a replaced SA pair.  Internal to ike-lite; embedded in struct ike_sa. */
#ifndef PVPN_IKE_LIFECYCLE_H
#define PVPN_IKE_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike-lite/crypto.h"
#include "ike-lite/ike.h"
#include "ike-lite/message.h"

#define LIFE_NONCE_LEN      32
#define LIFE_GRACE_MS       3000    /* old inbound SA kept for packets in flight */
#define LIFE_ORPHAN_MS      15000   /* a replaced pair the peer never deletes */
#define LIFE_RETRY_MIN_MS   2000    /* after TEMPORARY_FAILURE (§2.25) */
#define LIFE_RETRY_SPAN_MS  3000
#define LIFE_TF_GIVEUP_MS   (5 * 60 * 1000)  /* TEMPORARY_FAILURE this long: out of sync */
#define LIFE_OLD_IKE_MS     30000   /* a replaced IKE SA is still answered this long */
#define LIFE_MAX_OLD        3       /* replaced Child SA pairs kept at once */
#define LIFE_MAX_OLD_IKE    2       /* replaced / redundant IKE SAs kept at once */

/* An IKE SA's identity and keys: the current one's live in struct ike_sa;
 * a replaced (§2.18) or redundant (§2.8.2) one is kept here a while so
 * the peer's DELETE and retransmissions on it are answered. */
struct eng_ike_ctx {
	bool valid;
	uint8_t spi_i[8], spi_r[8];
	bool we_initiated;
	struct ike_suite suite;
	struct ike_sa_keys keys;
	uint32_t next_mid, peer_mid;
	uint8_t *resp;                   /* our last response on it (§2.1) */
	size_t resp_len;
	uint32_t resp_mid;
	bool resp_valid;
	uint64_t until_ms;
};

/* A new IKE SA the peer's rekey created while ours was outstanding
 * (§2.8.2): kept until our exchange is done and the nonces decide. */
struct eng_ike_new {
	bool valid;
	uint8_t spi_i[8], spi_r[8];
	struct ike_suite suite;
	struct ike_sa_keys keys;
	struct secret gir, seed;
	uint8_t ni[IKE_NONCE_MAX], nr[LIFE_NONCE_LEN];
	size_t ni_len;
};

/* A Child SA pair replaced by a rekey or made redundant by a collision. */
struct eng_old_pair {
	bool valid;
	uint32_t spi_in, spi_out;
	uint64_t remove_ms;
};

enum life_rekey {
	RK_IDLE = 0,
	RK_I_WAIT_SPI,      /* we rekey: waiting for the kernel's new inbound SPI */
	RK_I_SENT,          /* our CREATE_CHILD_SA request outstanding */
	RK_R_WAIT_SPI,      /* the peer rekeys: our answer waits for the SPI */
};

struct eng_life {
	/* The current IKE SA's original initiator is the peer (§2.2): true
	 * after the peer rekeyed it (§2.18), false while we started it (the
	 * default).  The one place deciding the I flag and which keys we send
	 * with (eng_build_protected) and open with (eng_open_peer). */
	bool peer_initiated;
	enum life_rekey rk;
	uint32_t new_spi_in;
	uint8_t n_ours[LIFE_NONCE_LEN];
	uint8_t n_peer[IKE_NONCE_MAX];
	size_t n_peer_len;
	struct ike_dh_ctx *dh;           /* PFS (§1.3.1 KE in CREATE_CHILD_SA) */
	unsigned ke_retries;

	/* The peer's request we answer once the SPI is there. */
	uint32_t r_mid;
	uint32_t r_spi_out;
	uint8_t r_prop_num;
	uint16_t r_encr, r_bits, r_integ, r_group;
	bool r_esn;
	uint8_t *r_ke;                   /* the peer's KE data (PFS) */
	size_t r_ke_len;
	struct ike_ts r_tsi[IKE_CFG_MAX_TS], r_tsr[IKE_CFG_MAX_TS];
	size_t n_r_tsi, n_r_tsr;

	/* The pair a rekey replaced, until its grace period is over. */
	bool old_valid;
	uint32_t old_spi_in, old_spi_out;
	uint64_t old_remove_ms;
	/* Further replaced / redundant pairs (collisions, §2.8.1). */
	struct eng_old_pair more_old[LIFE_MAX_OLD];

	/* The peer's rekey of the pair answered while ours is outstanding
	 * (§2.8.1): the pair it made, its nonces, until ours is done. */
	bool r_wait;                     /* the peer's request waits for an SPI */
	bool coll;                       /* that request collides with ours */
	bool p_valid;                    /* the peer's new pair is installed */
	uint32_t p_spi_in, p_spi_out;
	struct ike_suite p_esp;
	bool p_esn;
	struct ike_child_keys p_keys;    /* "i" = our outbound */
	uint8_t r_n_ours[LIFE_NONCE_LEN];
	uint8_t r_n_peer[IKE_NONCE_MAX];
	size_t r_n_peer_len;
	unsigned n_collisions;           /* resolved, Child and IKE SA (tests) */
	uint64_t tf_since_ms;            /* first TEMPORARY_FAILURE of a run of them (0: none) */

	uint64_t rekey_ms;               /* when to rekey the current pair; 0 = not planned */
	unsigned n_rekeys;               /* completed, both directions (stats, tests) */

	/* Our rekey of the IKE SA (exchange_rekey_ike.c). */
	bool ike_rk;                     /* its request outstanding */
	uint8_t ike_spi_i[8];            /* our SPI of the new IKE SA */
	uint64_t ike_rekey_ms;           /* 0 = not planned */
	unsigned n_ike_rekeys;
	struct eng_ike_new ike_peer;     /* the peer's colliding rekey (§2.8.2) */
	struct eng_ike_ctx old_ike[LIFE_MAX_OLD_IKE];
};

struct ike_sa;

/* engine_msg.c: parse buf into sa->m_outer and open it into sa->m_inner
 * with the peer's keys of the current IKE SA (SK_er/SK_ar while we are its
 * original initiator, else SK_ei/SK_ai). */
int eng_open_peer(struct ike_sa *sa, uint8_t *buf, size_t len, struct pvpn_err *e);

/* exchange_rekey_ike.c */
void eng_life_plan_ike(struct ike_sa *sa, uint64_t now_ms);
int eng_rekey_ike_start(struct ike_sa *sa, uint64_t now_ms);
int eng_rekey_ike_response(struct ike_sa *sa, uint8_t *buf, size_t len, uint64_t now_ms);
/* The peer's CREATE_CHILD_SA rekeying the IKE SA (in sa->m_inner, peer_mid
 * advanced): answered; the new IKE SA replaces the current one now, or
 * after our own colliding rekey is done (§2.8.2). */
int eng_rekey_ike_request(struct ike_sa *sa, uint32_t mid, uint64_t now_ms);
/* True when h names a replaced or redundant IKE SA we still keep. */
bool eng_old_ike_match(const struct ike_sa *sa, const struct ike_header *h);
/* A message on such an IKE SA: its DELETE, a liveness check or a
 * retransmission is answered; a response is taken silently.  Never ends
 * or changes the current IKE SA. */
int eng_old_ike_receive(struct ike_sa *sa, const uint8_t *dgram, size_t len,
			const struct ike_header *h, uint64_t now_ms);
void eng_old_ike_free(struct ike_sa *sa);
/* Forget replaced IKE SAs whose time is over; the earliest such time. */
uint64_t eng_old_ike_tick(struct ike_sa *sa, uint64_t now_ms);
/* §2.8: true when nonce a is lower than nonce b (as unsigned big numbers
 * of their bytes; a shorter one is lower on a tie of the common part). */
bool eng_nonce_lower(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
/* §2.8.1, §2.8.2: two colliding rekeys; ours (its nonces our Ni and the
 * peer's Nr) is the redundant one when the lowest of the four nonces is
 * one of its two (the peer's exchange: its Ni and our Nr). */
bool eng_collision_ours_redundant(const uint8_t *our_ni, size_t our_ni_len, const uint8_t *our_nr,
				  size_t our_nr_len, const uint8_t *peer_ni, size_t peer_ni_len,
				  const uint8_t *peer_nr, size_t peer_nr_len);

/* exchange_rekey.c */
/* A random number below n from the engine's source (0 when n is 0). */
uint32_t eng_rand_below(struct ike_sa *sa, uint32_t n);
/* When to rekey an SA of lifetime_s installed at now_ms (Child and IKE SA
 * alike): RekeyMargin before its end, less a random part of the margin. */
uint64_t eng_life_rekey_at(struct ike_sa *sa, uint64_t now_ms, uint32_t lifetime_s);
/* The current pair was just installed at now_ms: plan its rekey. */
void eng_life_child_installed(struct ike_sa *sa, uint64_t now_ms);
void eng_life_free(struct ike_sa *sa);
void eng_life_tick(struct ike_sa *sa, uint64_t now_ms);
uint64_t eng_life_deadline(const struct ike_sa *sa);
/* ike_spi_allocated while a rekey waits for it: 1 = handled. */
int eng_life_spi_allocated(struct ike_sa *sa, uint32_t spi, uint64_t now_ms);
/* §2.25: TEMPORARY_FAILURE answered one of our rekeys; false (and the SA
 * closed as out of sync) when they have gone on for several minutes. */
bool eng_life_temp_failure(struct ike_sa *sa, uint64_t now_ms);
/* Answer a peer's CREATE_CHILD_SA with one error notify (§2.21.2). */
int eng_rekey_refuse(struct ike_sa *sa, uint32_t mid, uint16_t notify, const uint8_t *data,
		     size_t dlen, const char *why);
/* The response to our CREATE_CHILD_SA or to our DELETE of the old pair. */
int eng_rekey_response(struct ike_sa *sa, uint8_t *buf, size_t len, uint64_t now_ms);
int eng_delete_child_response(struct ike_sa *sa, uint8_t *buf, size_t len, uint64_t now_ms);
/* The peer's CREATE_CHILD_SA (already decrypted into sa->m_inner, peer_mid
 * advanced).  Answers it now or once the SPI is there. */
int eng_rekey_request(struct ike_sa *sa, uint32_t mid, uint64_t now_ms);
/* The peer's DELETE names spi (its inbound = our outbound): true when that
 * is the replaced pair; *spi_in gets our inbound SPI of that pair. */
bool eng_life_old_deleted(struct ike_sa *sa, uint32_t spi, uint32_t *spi_in, uint64_t now_ms);

#endif
