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

enum life_rekey {
	RK_IDLE = 0,
	RK_I_WAIT_SPI,      /* we rekey: waiting for the kernel's new inbound SPI */
	RK_I_SENT,          /* our CREATE_CHILD_SA request outstanding */
	RK_R_WAIT_SPI,      /* the peer rekeys: our answer waits for the SPI */
};

struct eng_life {
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

	uint64_t rekey_ms;               /* when to rekey the current pair; 0 = not planned */
	unsigned n_rekeys;               /* completed, both directions (stats, tests) */

	/* Our rekey of the IKE SA (exchange_rekey_ike.c). */
	bool ike_rk;                     /* its request outstanding */
	uint8_t ike_spi_i[8];            /* our SPI of the new IKE SA */
	uint64_t ike_rekey_ms;           /* 0 = not planned */
	unsigned n_ike_rekeys;
};

struct ike_sa;

/* exchange_rekey_ike.c */
void eng_life_plan_ike(struct ike_sa *sa, uint64_t now_ms);
int eng_rekey_ike_start(struct ike_sa *sa, uint64_t now_ms);
int eng_rekey_ike_response(struct ike_sa *sa, uint8_t *buf, size_t len, uint64_t now_ms);

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
