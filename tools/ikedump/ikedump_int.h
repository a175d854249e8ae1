/* ikedump_int.h — internal to tools/ikedump: the capture as a list of
 * messages grouped into IKE SAs, shared by ikedump.c, print.c and
 * verify.c. */
#ifndef PVPN_IKEDUMP_INT_H
#define PVPN_IKEDUMP_INT_H

#include "ike-lite/crypto.h"
#include "ike-lite/message.h"
#include "tools/ikedump/ikedump.h"

struct ikd_msg {
	struct ikd_packet pkt;          /* pkt.ike points into ctx.pcap_buf */
	/* Kept from the parse (valid when parse_rc == 0); the decoded
	 * payloads are not kept, to bound memory on long captures: the dump
	 * parses each message again. */
	struct ike_header hdr;
	bool has_sk, has_skf;
	size_t sk_off;                  /* the SK payload's generic header */
	uint8_t sk_first;               /* its Next Payload: first inner type */
	int parse_rc;
	struct pvpn_err parse_err;
	size_t sa;                      /* index into ctx.sas, SIZE_MAX if none */
};

struct ikd_sa {
	uint8_t spi_i[8], spi_r[8];
	bool have_spi_r;
	const uint8_t *ni, *nr;         /* Nonce data of IKE_SA_INIT */
	size_t ni_len, nr_len;
	bool have_init_resp;
	size_t init_resp;               /* index of the IKE_SA_INIT response */
	bool have_suite;
	struct ike_suite suite;         /* from the IKE_SA_INIT response's SA */
	struct pvpn_err suite_err;
};

struct ikd_ctx {
	FILE *out, *err;
	bool verbose;
	uint8_t *pcap_buf;
	size_t pcap_len;
	struct ikd_pcap pcap;
	struct ikd_msg *msgs;
	size_t nmsgs, cap_msgs, parse_failures;
	struct ikd_sa *sas;
	size_t nsas;
	struct ikd_keyfile keys;
	struct ike_message *scratch;    /* for parsing one message at a time */
};

/* A decrypted SK payload: buf is a copy of the message with the plaintext
 * in place (wiped on free); m the inner payload chain. */
struct ikd_plain {
	uint8_t *buf;
	size_t len;
	struct ike_message *m;
};

int ikd_decrypt(const struct ikd_ctx *c, const struct ikd_msg *msg, const struct ike_suite *suite,
		const struct secret *ek, const struct secret *ak, struct ikd_plain *out,
		struct pvpn_err *e);
void ikd_plain_free(struct ikd_plain *p);

/* The suite of the single (chosen) proposal of protocol proto in an SA
 * payload of a response.  0, or negative with the reason in e. */
int ikd_suite_from_sa(const struct ike_sa_body *sa, uint8_t proto, struct ike_suite *s,
		      struct pvpn_err *e);

/* print.c */
void ikd_print_payload_list(FILE *f, const struct ike_message *m);
void ikd_print_payload(FILE *f, const struct ike_payload *p, const char *pad);

/* verify.c: one line per key; returns the exit status. */
int ikd_verify(struct ikd_ctx *c);

#endif
