/* fake_responder_rekey.h — Child SA rekeying for the test-only fake
 * responder (RFC 7296 §1.3.3): answering the initiator's CREATE_CHILD_SA
 * and DELETE of the old pair, and starting a rekey of its own. */
#ifndef PVPN_TESTS_FAKE_RESPONDER_REKEY_H
#define PVPN_TESTS_FAKE_RESPONDER_REKEY_H

#include "tests/lib/fake_responder.h"

struct fr_rekey {
	/* knobs */
	uint16_t group;                   /* PFS group it uses / prefers (0: none) */
	unsigned temp_failures;           /* answer this many rekeys with TEMPORARY_FAILURE */
	uint16_t answer_notify;           /* answer rekeys with this error notify instead */
	uint16_t want_group;              /* INVALID_KE_PAYLOAD unless the KE is this group */
	/* state */
	uint32_t next_spi;                /* its next inbound SPI (0: 0xd0000001) */
	uint8_t n_ours[32];
	struct ike_dh_ctx *dh;
	uint32_t pending_spi_in;          /* its own rekey under way */
	uint32_t old_spi_in, old_spi_out; /* the pair the last rekey replaced */
	uint32_t deleted_spi;             /* SPI named by the initiator's last DELETE */
	unsigned n_create, n_rekeyed, n_delete_child;
	uint16_t last_group;              /* group of the last completed rekey */
	unsigned n_ike_rekeyed;           /* IKE SA rekeys answered */
	uint8_t old_ike_spi_i[8];         /* the initiator's SPI of the replaced IKE SA */
	struct ike_message *inner2;
};

void frr_free(struct fr_rekey *rk);
/* Like fr_handle, and also CREATE_CHILD_SA (Child or IKE SA rekey) and
 * DELETE(ESP). */
int frr_handle(struct fake_responder *fr, struct fr_rekey *rk, const uint8_t *msg, size_t len,
	       uint8_t **out, size_t *out_len);
/* The responder rekeys the Child SA itself (REKEY_SA + SA + Ni [+ KEi] + TS). */
int frr_request_rekey(struct fake_responder *fr, struct fr_rekey *rk, uint8_t **out,
		      size_t *out_len);
/* The initiator's answer to that: derives the new keys (fr->ck, "i" =
 * initiator -> responder as always) and switches fr's SPIs. 0, or <0 when
 * the answer is an error notify or unusable (fr->inner holds it). */
int frr_rekey_answer(struct fake_responder *fr, struct fr_rekey *rk, uint8_t *msg, size_t len);
/* INFORMATIONAL DELETE of the pair its last rekey replaced (its old inbound). */
int frr_request_delete_old(struct fake_responder *fr, struct fr_rekey *rk, uint8_t **out,
			   size_t *out_len);

#endif
