/* engine_internal.h — the engine's state and the helpers its files share.
 * Internal to ike-lite (and the test-only fake responder). */
#ifndef PVPN_IKE_ENGINE_INTERNAL_H
#define PVPN_IKE_ENGINE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike-lite/ike.h"
#include "ike-lite/crypto.h"
#include "ike-lite/message.h"
#include "lib/secret.h"
#include "ike-lite/lifecycle.h"
#include "ike-lite/mobike.h"

#define ENG_NONCE_LEN      32
#define ENG_MSG_MAX        8192     /* our own messages are far smaller */
#define ENG_MAX_KE_RETRIES 2        /* INVALID_KE_PAYLOAD rounds */
#define ENG_MAX_COOKIES    3        /* COOKIE rounds */
#define ENG_COOKIE_MAX     64       /* RFC 7296 §2.6: 1..64 bytes */
#define ENG_NON_ESP_MARKER 4        /* RFC 3948 §2.2 */

enum eng_state {
	ST_IDLE = 0,
	ST_INIT_SENT,       /* IKE_SA_INIT request outstanding */
	ST_WAIT_SPI,        /* keys derived; waiting for the kernel's inbound SPI */
	ST_AUTH_SENT,       /* IKE_AUTH request outstanding */
	ST_ESTABLISHED,
	ST_DELETING,        /* our DELETE(IKE) outstanding */
	ST_CLOSED,          /* final: nothing more is sent or accepted */
};

enum eng_req_kind { REQ_NONE = 0, REQ_INIT, REQ_AUTH, REQ_DPD, REQ_DELETE,
		    REQ_REKEY_CHILD, REQ_DELETE_CHILD, REQ_REKEY_IKE,
		    REQ_MOBIKE /* UPDATE_SA_ADDRESSES, mobike.c */ };

/* The one outstanding request (window size one, RFC 7296 §2.3). */
struct eng_req {
	enum eng_req_kind kind;
	uint8_t *buf;              /* the IKE message as first sent (no marker) */
	size_t len;
	uint32_t mid;
	uint8_t exch;
	unsigned tries;            /* sends so far */
	uint64_t first_ms;         /* first send */
	uint64_t next_ms;          /* next resend or give-up */
	/* An unprotected INVALID_IKE_SPI answered it (§2.21.4, dpd.c): a
	 * few more sends, then give up. */
	bool hint;
	uint64_t hint_until_ms;
	unsigned hint_sends;
};

struct eng_qitem {
	struct ike_action a;
	uint8_t *buf;              /* SEND bytes / KEYLOG text, wiped when freed */
	size_t buf_len;
	struct eng_qitem *next;
};

struct ike_sa {
	struct ike_config cfg;
	char log_name[64];         /* cfg.log_name points here: the caller's may go */
	ike_rand_fn rnd;
	enum eng_state state;
	enum ike_status status;

	uint8_t spi_i[8], spi_r[8];
	struct ike_dh_ctx *dh;
	uint16_t dh_group;
	uint8_t ni[ENG_NONCE_LEN];
	uint8_t nr[IKE_NONCE_MAX];
	size_t nr_len;
	uint8_t cookie[ENG_COOKIE_MAX];
	size_t cookie_len;
	unsigned ke_retries, cookie_rounds;

	uint8_t *init_req;         /* our IKE_SA_INIT request (AUTH input) */
	size_t init_req_len;
	uint8_t *init_resp;        /* the responder's (to verify its AUTH) */
	size_t init_resp_len;

	struct ike_suite suite;
	struct ike_sa_keys keys;
	struct secret g_ir, skeyseed;   /* kept only until the key log is written */
	bool have_keys, keylog_done;

	/* Paths: where IKE goes now (ports move to 4500 on NAT, §2.23). */
	struct ike_path path;
	bool natt;                 /* using the NAT-T port with the marker */
	bool nat_local, nat_remote;

	uint32_t next_mid;         /* our next request's Message ID */
	uint32_t peer_mid;         /* the peer request Message ID we expect next */
	struct eng_req req;
	bool delete_pending;       /* DELETE waits for the outstanding request (§2.3) */
	uint8_t *resp_cache;       /* our last response to a peer request */
	size_t resp_cache_len;
	uint32_t resp_cache_mid;
	bool resp_cache_valid;

	/* The Child SA. */
	uint32_t spi_in, spi_out;
	bool child_up;
	struct ike_suite esp;
	bool esp_esn;
	struct ike_child_keys ck;
	struct ike_cfg_ts ts_l[IKE_CFG_MAX_TS], ts_r[IKE_CFG_MAX_TS];
	size_t n_ts_l, n_ts_r;
	struct eng_life life;      /* rekeying and replaced pairs (lifecycle.h) */
	struct eng_mobike mob;     /* moving to another path (mobike.h) */

	uint64_t last_rx_ms, last_tx_ms;
	uint16_t last_notify;      /* last unprotected error notify seen (§2.4) */
	char last_reject[IKE_DETAIL_MAX]; /* why the last unusable response was refused */
	enum ike_error fail_error;
	struct ike_stats stats;

	struct eng_qitem *q_head, *q_tail, *q_cur;

	/* Certificates and EAP (auth_engine.c). */
	struct eng_auth *auth;
	uint32_t peer_hashes;      /* SIGNATURE_HASH_ALGORITHMS of the responder (RFC 7427) */

	/* Re-authentication (reauth.c, RFC 4478): when to start it; 0 = none. */
	uint64_t reauth_ms;

	/* Scratch for parsing (large: pools). */
	struct ike_message *m_outer, *m_inner;
};

/* engine.c */
void eng_enter(struct ike_sa *sa);
int eng_queue(struct ike_sa *sa, const struct ike_action *a, const uint8_t *buf, size_t len,
	      struct eng_qitem **out);
void eng_status(struct ike_sa *sa, enum ike_status st, enum ike_error err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Queue REMOVE_CHILD for the ESP pair (spi_in, spi_out) between our
 * configured addresses; old_only: a rekeyed pair whose successor stays
 * (the policies stay too). */
void eng_queue_remove_child(struct ike_sa *sa, uint32_t spi_in, uint32_t spi_out, bool old_only);
/* End the SA: REMOVE_CHILD when one is up, key log if not written, STATUS. */
void eng_close(struct ike_sa *sa, enum ike_error err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void eng_keylog(struct ike_sa *sa);
uint16_t eng_port(const struct sockaddr_storage *ss);
void eng_set_port(struct sockaddr_storage *ss, uint16_t port);
bool eng_same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
enum ike_error eng_notify_error(uint16_t type);
const char *eng_notify_label(uint16_t type, char *buf, size_t cap);

/* retransmit.c */
/* Send (queue) an IKE message towards the peer on the current path. */
int eng_send_raw(struct ike_sa *sa, const uint8_t *msg, size_t len, bool retransmit);
/* Start a request: takes ownership of buf (malloc'd). */
int eng_request_start(struct ike_sa *sa, enum eng_req_kind kind, uint8_t exch,
		      uint32_t mid, uint8_t *buf, size_t len, uint64_t now_ms);
void eng_request_clear(struct ike_sa *sa);
void eng_request_tick(struct ike_sa *sa, uint64_t now_ms);
/* Remember and send a response to a peer request. */
int eng_respond(struct ike_sa *sa, uint32_t mid, uint8_t *buf, size_t len);

/* natd.c — RFC 7296 §2.23: SHA-1(SPIi | SPIr | IP | port). */
int eng_natd_hash(const uint8_t spi_i[8], const uint8_t spi_r[8],
		  const struct sockaddr_storage *addr, uint16_t port, uint8_t out[20]);

/* engine_msg.c — protected messages, shared with the fake responder. */
/* Build a whole SK-protected message: inner payloads are in
 * plain[0..plain_len) with first inner type first; the result is malloc'd. */
int eng_seal(const struct ike_suite *s, const struct secret *ek, const struct secret *ak,
	     ike_rand_fn rnd, const struct ike_header *h, uint8_t first,
	     const uint8_t *plain, size_t plain_len, uint8_t **out, size_t *out_len);
/* Check + decrypt the message in buf (modified in place) whose parsed
 * outer form is outer; the inner chain is parsed into inner. */
int eng_open(const struct ike_suite *s, const struct secret *ek, const struct secret *ak,
	     uint8_t *buf, size_t len, const struct ike_message *outer,
	     struct ike_message *inner, struct pvpn_err *e);
/* Read the 28-byte header only (no payloads looked at). */
int eng_peek_header(const uint8_t *buf, size_t len, struct ike_header *h);

/* exchange_init.c */
int eng_init_start(struct ike_sa *sa, uint64_t now_ms);
int eng_init_response(struct ike_sa *sa, uint8_t *buf, size_t len,
		      const struct ike_path *path, uint64_t now_ms);

struct eng_choice;
int eng_check_choice(const struct ike_sa *sa, bool ike, const struct ike_sa_body *sab,
		     struct eng_choice *out, char *why, size_t whylen);
int eng_check_child_choice(const struct ike_sa *sa, const struct ike_sa_body *sab,
			   uint16_t *encr, uint16_t *bits, uint16_t *integ, bool *esn,
			   uint32_t *spi, char *why, size_t whylen);
/* Our SA offer in the codec's form: the proposals point into xf. */
struct eng_offer {
	struct ike_proposal props[IKE_CFG_MAX_PROPOSALS];
	struct ike_transform xf[IKE_CFG_MAX_PROPOSALS][5 * IKE_CFG_MAX_ALGS];
	size_t n;
};
/* Appends one transform to xs, counting it in *n. */
void eng_offer_add_xf(struct ike_transform *xs, uint8_t *n, uint8_t type, uint16_t id,
		      uint16_t bits);
/* Our proposals from the configuration (ike: IKE SA, no SPI; else ESP with
 * spi_in, no DH): IKE_SA_INIT, IKE_AUTH, and the rekey of the IKE SA. */
void eng_make_offer(const struct ike_sa *sa, bool ike, struct eng_offer *o);
/* One of our IKE (ike) or ESP proposals holds this transform (a DH
 * group only if supported; no ESN configured = ESN "no"). */
bool eng_cfg_has(const struct ike_sa *sa, bool ike, uint8_t type, uint16_t id, uint16_t bits);
/* Transform t (type, id, key length) is one of proposal p's. */
bool eng_offered(const struct ike_proposal *p, const struct ike_transform *t);
/* Our SA offer (ike: IKE SA; else ESP with spi_in) appended to b. */
int eng_build_offer(const struct ike_sa *sa, bool ike, struct ike_builder *b);

/* exchange_auth.c */
/* Queues the action installing the pair spi_in/spi_out (rekey: beside the
 * current one) with these algorithms and copies of keys ("i" = outbound),
 * on the current path and selectors; used after IKE_AUTH and after a rekey
 * of the Child SA.  -ENOMEM (nothing queued) when the keys cannot be
 * copied; a failed queue frees the copies. */
int eng_queue_install_child(struct ike_sa *sa, bool rekey, uint32_t spi_in, uint32_t spi_out,
			    const struct ike_suite *esp, bool esn, const struct ike_child_keys *keys);
int eng_auth_start(struct ike_sa *sa, uint64_t now_ms);
int eng_auth_response(struct ike_sa *sa, uint8_t *buf, size_t len, uint64_t now_ms);

/* auth_engine.c — certificates, signatures and EAP in IKE_AUTH. */
struct eng_auth;
int eng_auth_check_config(const struct ike_config *cfg, struct pvpn_err *err);
/* Copy the secrets, load keys and anchors; 0 or negative (err filled). */
int eng_auth_setup(struct ike_sa *sa, const struct ike_config *cfg, struct pvpn_err *err);
void eng_auth_free(struct ike_sa *sa);
/* Append our authentication to the first IKE_AUTH request: CERT(s) and
 * AUTH by signature, AUTH by PSK, or nothing (EAP); CERTREQ when we
 * expect a server certificate.  Payloads go right after IDi/IDr.  0 or
 * negative (the SA is closed). */
int eng_auth_build_ours(struct ike_sa *sa, struct ike_builder *b, const uint8_t *idb,
			size_t idlen);
/* True when the server must authenticate with a certificate. */
bool eng_auth_server_cert(const struct ike_sa *sa);
/* RFC 5998: a first IKE_AUTH response without AUTH but with EAP, accepted
 * only with EAP-TLS (we offered EAP-only); 1 when it took the message
 * (the SA may be closed), 0 when it is not that case. */
int eng_auth_eap_only(struct ike_sa *sa, const struct ike_message *in, uint64_t now_ms);
/* Check the server's AUTH in an IKE_AUTH response (certificate chain and
 * signature, or PSK, or — at the end of EAP — the MSK).  0 when it is
 * right; otherwise the SA has been closed with the error. */
int eng_auth_verify_server(struct ike_sa *sa, const struct ike_message *in,
			   const struct ike_payload *pid, const struct ike_payload *pauth);
/* EAP: the response holds an EAP payload.  Sends the next IKE_AUTH
 * request.  Returns 1 when it continued, 0 when the SA closed. */
int eng_auth_eap(struct ike_sa *sa, const struct ike_message *in, uint64_t now_ms);
/* True while EAP rounds are going on (the final response is the one with
 * the MSK-based AUTH and the Child SA). */
bool eng_auth_in_eap(const struct ike_sa *sa);

/* reauth.c — RFC 4478 AUTH_LIFETIME in a protected message of the
 * server's (IKE_AUTH response, INFORMATIONAL): plans ike_reauth_deadline. */
void eng_reauth_notify(struct ike_sa *sa, const struct ike_message *in, uint64_t now_ms);
/* Fills the CP request's address attributes with cfg.reauth_vip4/6;
 * buf (at least 17 bytes) holds the IPv6 value until the CP is built. */
void eng_reauth_cp(const struct ike_sa *sa, struct ike_cp_attr *cp, size_t n, uint8_t *buf);

/* exchange_info.c */
int eng_info_request(struct ike_sa *sa, uint8_t *buf, size_t len, uint64_t now_ms);
int eng_info_response(struct ike_sa *sa, uint8_t *buf, size_t len, uint64_t now_ms);
int eng_send_info_request(struct ike_sa *sa, enum eng_req_kind kind, uint64_t now_ms);
/* DELETE(IKE) sent once, no answer awaited (we are closing anyway). */
void eng_send_delete_oneshot(struct ike_sa *sa);
/* Build an SK-protected message of ours (initiator's keys). */
int eng_build_protected(struct ike_sa *sa, uint8_t exch, bool response, uint32_t mid,
			const uint8_t *plain, size_t plain_len, uint8_t first,
			uint8_t **out, size_t *out_len);

#endif
