/* Shared harness for the ike-lite engine's unit tests: a fixed xorshift
 * random source, the usual test addresses and PSK client configuration,
 * and a driver that runs the engine against the fake responder (with its
 * rekey extension) on a fake clock, carrying every datagram by hand and
 * recording every action. */
#ifndef PVPN_TESTS_ENGINE_HARNESS_H
#define PVPN_TESTS_ENGINE_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ike-lite/ike.h"
#include "tests/lib/fake_responder.h"
#include "tests/lib/fake_responder_rekey.h"

/* xorshift state behind eh_rand; tests reseed it for repeatable runs. */
extern uint64_t eh_rng;
void eh_rand(void *buf, size_t len);

/* An IPv4 sockaddr_storage for ip:port. */
void eh_addr4(struct sockaddr_storage *ss, const char *ip, uint16_t port);

/* Reseeds eh_rng and fills the parts of a PSK client's configuration the
 * engine tests share (192.0.2.1 -> 192.0.2.2 on port 500, "client.test",
 * "correct horse", one IKE and one Child proposal left for the caller to
 * fill, eh_rand, reqid 7) and the fake responder's matching view. */
void eh_client_cfg(struct ike_config *cfg, struct fr_config *frc);

/* The hostile-input tests' minimal PSK client: 192.0.2.1 -> 192.0.2.2 on
 * port 500, ID "c", PSK "k", AES-GCM-128, PRF SHA-256 and the first n_dh
 * of the groups 31, 19; the Child proposal is the same without a group. */
void eh_small_cfg(struct ike_config *c, uint8_t n_dh);

/* ------------------------------------------- driver with every action */

#define EH_MAX_REC 64
struct eh_sent { uint8_t *data; size_t len; struct ike_path path; };
struct eh_inst { struct ike_act_child c; uint8_t ein[64], eout[64], iin[64], iout[64]; size_t el, il; uint64_t at; };
struct eh_rem { struct ike_act_remove_child r; uint64_t at; };

struct eh {
	struct ike_config cfg;
	struct ike_sa *sa;
	struct fake_responder fr;
	struct fr_rekey rk;
	struct fr_config frc;
	uint64_t now;
	bool deliver;                 /* carry SENDs to the responder */
	struct eh_sent sent[EH_MAX_REC];
	size_t n_sent;
	struct ike_act_status st[EH_MAX_REC];
	size_t n_st;
	struct eh_inst inst[8];       /* keys copied, secrets in c zeroed */
	size_t n_inst;
	struct eh_rem rem[8];
	size_t n_rem;
	size_t n_alloc;
	uint32_t next_spi;
};

/* AES-GCM-256 (or AES-CBC-128 + HMAC-SHA-256-128 with cbc), PRF SHA-256,
 * groups 31 then 19; Child SA lifetime 100 s; clock at 1000000 ms. */
void eh_init(struct eh *t, bool cbc);
void eh_free(struct eh *t);
/* Drain the engine's actions; carry SENDs to the responder and its answers
 * back, until nothing moves. */
void eh_pump(struct eh *t);
/* Advance the clock through the engine's deadlines up to now + ms. */
void eh_run_until(struct eh *t, uint64_t ms);
/* Start the responder and the SA, connect, and check one Child SA is up. */
void eh_connect_ok(struct eh *t);
/* How many of the datagrams sent since sent[from] are of exchange type
 * exch (the IKE header's octet 18). */
size_t eh_count_exch(const struct eh *t, size_t from, uint8_t exch);

#endif
