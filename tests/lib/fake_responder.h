/* fake_responder.h — a minimal IKEv2 responder for the engine's unit tests,
 * built from the same codec and crypto (test-only code). */
#ifndef PVPN_TESTS_FAKE_RESPONDER_H
#define PVPN_TESTS_FAKE_RESPONDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ike-lite/engine_internal.h"

struct fr_config {
	struct sockaddr_storage self;     /* the responder's address:port */
	struct sockaddr_storage peer;     /* the initiator's, as the responder sees it */
	const char *psk;
	const char *id;                   /* FQDN */
	bool require_cookie;
	uint16_t want_group;              /* INVALID_KE_PAYLOAD unless the KE is this (0: any) */
	bool no_proposal;                 /* IKE_SA_INIT: NO_PROPOSAL_CHOSEN */
	bool bogus_transform;             /* choose an encryption algorithm not offered */
	bool nat;                         /* NATD hashes show a NAT in front of the initiator */
	bool natd;                        /* NATD hashes without a NAT (else none unless nat) */
	bool nat_server;                  /* NATD hashes show a NAT in front of the responder */
	/* MOBIKE (RFC 4555): MOBIKE_SUPPORTED in the IKE_AUTH response, and
	 * the answer to UPDATE_SA_ADDRESSES: this error notify instead (0:
	 * none), or without the COOKIE2 echo (hostile). */
	bool mobike;
	uint16_t update_error;
	bool update_no_cookie2;
	uint16_t auth_child_error;        /* IKE_AUTH: authenticate, then this notify */
	bool bad_own_auth;                /* send an AUTH that does not verify */
	bool skf_auth;                    /* answer IKE_AUTH with an SKF fragment */
	uint32_t auth_lifetime_s;         /* IKE_AUTH: AUTH_LIFETIME (RFC 4478) when set */
	/* Called on the plaintext of each SK-protected message before it is
	 * sealed (hostile-input tests); NULL = none. */
	void (*mutate_plain)(uint8_t *plain, size_t len, void *ctx);
	void *mutate_ctx;
	ike_rand_fn rnd;
};

struct fake_responder {
	struct fr_config cfg;
	uint8_t spi_i[8], spi_r[8];
	uint8_t ni[IKE_NONCE_MAX], nr[32];
	size_t ni_len;
	struct ike_suite suite, esp;
	struct ike_sa_keys keys;
	struct ike_child_keys ck;
	uint8_t *init_req, *init_resp;
	size_t init_req_len, init_resp_len;
	uint32_t spi_in, spi_out;         /* the responder's inbound / outbound ESP SPI */
	uint32_t next_mid;                /* for its own requests */
	unsigned n_init, n_auth, n_info;  /* requests seen */
	bool auth_ok;                     /* the initiator's AUTH verified */
	/* MOBIKE: what the responder sees of an UPDATE_SA_ADDRESSES request
	 * for the NAT detection of its answer: its own address:port and the
	 * initiator's (family 0: cfg.self / cfg.peer on port 4500). */
	struct sockaddr_storage mob_self, mob_peer;
	unsigned n_update;                /* UPDATE_SA_ADDRESSES answered */
	struct ike_message *m, *inner;
};

void fr_init(struct fake_responder *fr, const struct fr_config *cfg);
void fr_free(struct fake_responder *fr);
/* Handle one request from the initiator (an IKE message, no marker); the
 * response is malloc'd into *out.  0, or negative when the responder would
 * stay silent. */
/* The answer's payloads to the request in fr->inner when it holds
 * UPDATE_SA_ADDRESSES (NAT detection, COOKIE2 echo, or update_error):
 * 1 when appended, 0 when the request is no MOBIKE update. */
int fr_build_update_answer(struct fake_responder *fr, struct ike_builder *b);
/* Skip a leading non-ESP marker (RFC 3948 §2.2) of a datagram sent on
 * port 4500; the responders take IKE messages without it. */
void fr_strip_marker(const uint8_t **msg, size_t *len);
int fr_handle(struct fake_responder *fr, const uint8_t *msg, size_t len,
	      uint8_t **out, size_t *out_len);

enum fr_req { FR_REQ_EMPTY, FR_REQ_DELETE_IKE, FR_REQ_DELETE_CHILD, FR_REQ_CREATE_CHILD };
/* A request of the responder's own (Message ID from next_mid). */
int fr_request(struct fake_responder *fr, enum fr_req kind, uint8_t **out, size_t *out_len);
/* Decrypt the initiator's response to our request into fr->inner. */
int fr_open_response(struct fake_responder *fr, uint8_t *msg, size_t len);

#endif
