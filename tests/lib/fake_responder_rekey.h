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

	/* --- the IKE SA's roles and the responder's own IKE SA rekey --- */
	bool fr_is_i;                     /* it started the current IKE SA (§2.18) */
	/* Nonce knobs (collision tests, §2.8): every byte of the nonce of its
	 * own rekey requests (req) / of its answers (resp) is this value. */
	bool fix_req_nonce, fix_resp_nonce;
	uint8_t req_nonce_fill, resp_nonce_fill;
	uint16_t ike_offer[2];            /* groups its IKE rekey offers (0: the current one) */
	uint16_t ike_ke_group;            /* its KE's group (0: the first offered) */
	uint8_t ike_new_spi[8];           /* its SPI of the IKE SA it proposes */
	uint8_t ike_ni[32];
	struct ike_dh_ctx *ike_dh;
	/* The IKE SA its request went out on (the answer comes on it). */
	struct fr_ike_ctx {
		bool valid, is_i;
		uint8_t spi_i[8], spi_r[8];
		struct ike_suite suite;
		struct ike_sa_keys keys;
		uint32_t next_mid;
	} req_ctx, old_ctx;               /* old_ctx: the one its last IKE rekey replaced */
	uint16_t ike_answer_notify;       /* error notify in the answer to its IKE rekey */
	unsigned n_own_ike_rekeys;
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

/* The responder rekeys the IKE SA itself (SA(IKE, new SPI), Ni, KEi; §1.3.2),
 * on the current IKE SA; the request's IKE SA is remembered (req_ctx). */
int frr_request_ike_rekey(struct fake_responder *fr, struct fr_rekey *rk, uint8_t **out,
			  size_t *out_len);
/* The initiator's answer to that: 0 and fr switched to the new IKE SA (it
 * is then its original initiator, fr_is_i; the replaced one in old_ctx);
 * 1 with rk->ike_answer_notify set when the answer is an error notify;
 * <0 when unusable. */
int frr_ike_rekey_answer(struct fake_responder *fr, struct fr_rekey *rk, uint8_t *msg, size_t len);
/* DELETE(IKE) of the IKE SA its last IKE rekey replaced (old_ctx). */
int frr_request_delete_old_ike(struct fake_responder *fr, struct fr_rekey *rk, uint8_t **out,
			       size_t *out_len);
/* An empty INFORMATIONAL (liveness check) of its own on the current IKE SA. */
int frr_request_empty(struct fake_responder *fr, struct fr_rekey *rk, uint8_t **out,
		      size_t *out_len);
/* Open a message of the initiator's on the current IKE SA (roles as they
 * are now) into fr->inner. */
int frr_open(struct fake_responder *fr, struct fr_rekey *rk, uint8_t *msg, size_t len);
/* Open a message of the initiator's on the kept context c into fr->inner. */
int frr_open_ctx(struct fake_responder *fr, const struct fr_ike_ctx *c, uint8_t *msg, size_t len);

#endif
