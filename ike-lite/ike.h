/* ike.h — the public header of ike-lite, the IKEv2 engine (initiator).
 *
 * ike-lite knows IKEv2 messages, payloads, crypto, key derivation and the
 * exchanges; it knows nothing of sockets, netlink, files or clocks.  It is
 * sans-I/O (DESIGN.md): the daemon feeds it commands (ike_connect,
 * ike_disconnect), received datagrams (ike_receive), the current time
 * (every call takes now_ms, a monotonic millisecond clock) and answers to
 * its kernel requests (ike_spi_allocated); the engine answers with a queue
 * of actions the daemon drains with ike_next_action() after EVERY call, and
 * with the next timer deadline (ike_next_deadline()).
 *
 * Typical loop in the daemon:
 *
 *     sa = ike_sa_new(&cfg, &err);
 *     ike_connect(sa, now);
 *     for (;;) {
 *         while (ike_next_action(sa, &act)) handle(&act);
 *         wait for a datagram or ike_next_deadline(sa);
 *         ike_receive(sa, buf, len, &path, now) or ike_tick(sa, now);
 *     }
 *
 * Numbers in the config and actions are IANA's IKEv2 numbers (RFC 7296 §3.3.2
 * transform IDs, §3.5 ID types, §3.13.1 TS types); kernel-xfrm's names are
 * ctl/'s business.
 *
 * Ports and the non-ESP marker: a SEND action's bytes are the EXACT UDP
 * payload — when the engine has moved to port 4500 (NAT detected, or
 * MOBIKE offered to a NAT-T responder, RFC 4555 §3.3) the bytes
 * already start with the 4-byte non-ESP marker (RFC 3948 §2.2), and a NAT
 * keepalive is the single byte 0xFF (RFC 3948 §2.3).  Likewise ike_receive()
 * takes the UDP payload exactly as received: on a socket whose local port is
 * the NAT-T port (path.local port == cfg.natt_port) the engine expects and
 * strips the marker itself.  The daemon must send from the socket bound to
 * the SEND action's local port (500 or 4500; the 4500 one is the kernel's
 * UDP_ENCAP_ESPINUDP socket).
 */
#ifndef PVPN_IKE_H
#define PVPN_IKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "lib/err.h"
#include "lib/secret.h"

/* ---------------------------------------------------------------- config */

#define IKE_CFG_MAX_ALGS       8    /* per transform type in one proposal */
#define IKE_CFG_MAX_PROPOSALS  8
#define IKE_CFG_MAX_TS         16   /* traffic selectors per side */
#define IKE_CFG_MAX_ID_LEN     255
#define IKE_MAX_CP_ADDRS   4    /* DNS servers / subnets kept per family */
#define IKE_MAX_DOMAINS    4
#define IKE_MAX_DOMAIN_LEN 255
#define IKE_DETAIL_MAX     192

/* Randomness (nonces, SPIs, DH private values, IVs): the same type as
 * crypto.h's (C11 allows the identical typedef twice, so this header does
 * not pull in the codec's and crypto's headers).  The default (rand == NULL
 * in the config) is libsodium's randombytes_buf.  Unit tests inject a fixed
 * stream. */
typedef void (*ike_rand_fn)(void *buf, size_t len);

/* RFC 7296 §3.5 identification (type is IANA: 1 IPV4_ADDR, 2 FQDN,
 * 3 RFC822_ADDR, 5 IPV6_ADDR, 9 DER_ASN1_DN, 11 KEY_ID). */
struct ike_id {
	uint8_t type;                    /* 0 = not set */
	uint16_t len;
	uint8_t data[IKE_CFG_MAX_ID_LEN];
};

/* How we authenticate (not the IANA auth method number, which is
 * constants.h's enum ike_auth_method: EAP is not one of those). */
enum ike_cred_kind {
	IKE_CRED_PSK = 1,                /* RFC 7296 §2.15 shared key MIC */
	/* seams for later issues: */
	IKE_CRED_CERT = 2,
	IKE_CRED_EAP = 3,
	/* EAP-TLS (RFC 5216) with cert/key, EAP-only (RFC 5998) when the
	 * server agrees; eap_user, when set, answers EAP-Identity. */
	IKE_CRED_EAP_TLS = 4,
};

struct ike_encr_alg {
	uint16_t id;                     /* e.g. 12 ENCR_AES_CBC, 20 AES_GCM_16, 28 CHACHA20_POLY1305 */
	uint16_t key_bits;               /* Key Length attribute; 0 = none (ChaCha20) */
};

/* One proposal.  For the IKE SA: encr, integ (empty for AEAD), prf, dh.
 * For a Child SA (ESP): encr, integ, dh (only used for PFS in a later
 * CREATE_CHILD_SA; never sent in IKE_AUTH, RFC 7296 §1.2), esn (IANA 0 =
 * no ESN, 1 = ESN; empty = "no ESN" only). */
struct ike_cfg_proposal {
	uint8_t n_encr, n_integ, n_prf, n_dh, n_esn;
	struct ike_encr_alg encr[IKE_CFG_MAX_ALGS];
	uint16_t integ[IKE_CFG_MAX_ALGS];    /* e.g. 12 AUTH_HMAC_SHA2_256_128 */
	uint16_t prf[IKE_CFG_MAX_ALGS];      /* e.g. 5 PRF_HMAC_SHA2_256 */
	uint16_t dh[IKE_CFG_MAX_ALGS];       /* e.g. 31 Curve25519, 14 MODP-2048 */
	uint8_t esn[2];
};

/* RFC 7296 §3.13.1 traffic selector (type 7 = IPv4 range, 8 = IPv6
 * range, as constants.h's IKE_TS_IPV4_ADDR_RANGE / IKE_TS_IPV6_ADDR_RANGE). */
#define IKE_TS_IPV4 7
#define IKE_TS_IPV6 8
struct ike_cfg_ts {
	uint8_t type;                    /* IKE_TS_IPV4 or IKE_TS_IPV6 */
	uint8_t ip_proto;                /* 0 = any */
	uint16_t start_port, end_port;   /* 0..65535 = any */
	uint8_t start[16], end[16];      /* first 4 bytes used for IPv4 */
};

struct ike_config {
	/* Path.  The addresses carry the ports.  local must be the concrete
	 * source address the kernel will use towards remote (ctl/ looks it up):
	 * the NAT detection hashes are made of it (RFC 7296 §2.23).  Ports 0
	 * mean 500 for local/remote, natt_port 0 means 4500. */
	struct sockaddr_storage local, remote;
	uint16_t natt_port;

	/* Identities. */
	struct ike_id local_id;          /* required */
	struct ike_id remote_id;         /* type 0 = not checked, IDr not sent */

	enum ike_cred_kind auth;
	struct secret psk;               /* IKE_CRED_PSK; the engine copies it */

	/* IKE_CRED_CERT: our certificate chain (PEM: ours first, then
	 * intermediates; or PKCS#12 DER without password) and private key
	 * (PEM or DER).  The engine copies them. */
	struct secret cert, key;
	/* The server authenticates with a certificate when ca is set (needed
	 * for IKE_CRED_CERT and IKE_CRED_EAP): PEM trust anchors, and PEM
	 * CRLs for revocation checks (optional). */
	struct secret ca, crl;
	/* The identity the server's certificate must hold besides its IDr
	 * (the profile's RemoteIdentifier, or the server address); type 0 =
	 * IDr only. */
	struct ike_id server_cert_id;
	char server_cert_cn[256];        /* ServerCertificateCommonName; "" = any */
	char server_cert_issuer_cn[256]; /* ServerCertificateIssuerCommonName */
	bool revocation_check;           /* CRLs (crl), then OCSP, for the whole chain */
	bool revocation_strict;          /* no revocation information = fail */
	/* OCSP (RFC 6960, ike-lite/ocsp.c) for certificates of the server's
	 * chain without a CRL here, only after the chain verified: the
	 * engine builds the request and checks the answer, the daemon
	 * carries it (ike-lite does no I/O).  POST req (a DER OCSPRequest)
	 * to url (http://...) and hand back the body in *resp (malloc'd; the
	 * engine free()s it).  0, or negative with why in err.  Called from
	 * within ike_receive, so it blocks the engine while it runs: keep it
	 * bounded.  NULL = no OCSP. */
	int (*ocsp_fetch)(void *ctx, const char *url, const uint8_t *req, size_t req_len,
			  uint8_t **resp, size_t *resp_len, struct pvpn_err *err);
	void *ocsp_ctx;
	/* Seconds since the epoch for certificate validity; NULL = time(). */
	int64_t (*wall_clock)(void);

	/* IKE_CRED_EAP: EAP-MSCHAPv2 with this user name and password (the
	 * engine copies them; the password is wiped after use). */
	char eap_user[256];
	struct secret eap_password;

	/* Proposals, offered in this order.  The KE payload of IKE_SA_INIT uses
	 * the first group of the first proposal. */
	struct ike_cfg_proposal ike_proposals[IKE_CFG_MAX_PROPOSALS];
	size_t n_ike_proposals;
	struct ike_cfg_proposal child_proposals[IKE_CFG_MAX_PROPOSALS];
	size_t n_child_proposals;
	bool pfs;                        /* Child rekeys with a KE (later issue) */

	/* Configuration payload request (RFC 7296 §3.15, RFC 8598). */
	bool want_vip4, want_vip6, want_dns, want_domains;

	/* Traffic selectors we propose: TSi (ours) and TSr (theirs).  Empty
	 * TSi means "whatever address we are given" (0.0.0.0/0 / ::/0 with the
	 * virtual IP narrowed by the responder); empty TSr means everything.
	 * The responder may narrow them; a selector of its outside ours ends
	 * the attempt with IKE_ERR_TS_UNACCEPTABLE (RFC 7296 §2.9). */
	struct ike_cfg_ts ts_local[IKE_CFG_MAX_TS];
	size_t n_ts_local;
	struct ike_cfg_ts ts_remote[IKE_CFG_MAX_TS];
	size_t n_ts_remote;

	/* Lifetimes in seconds (0 = defaults: IKE 86400, Child 3600). */
	uint32_t ike_lifetime_s;
	uint32_t child_lifetime_s;
	/* Rekeying starts this long before a lifetime ends, less up to a
	 * third of it at random (0 = a tenth of the lifetime). */
	uint32_t rekey_margin_s;

	uint32_t dpd_interval_ms;        /* 0 = no liveness checks */
	uint32_t natt_keepalive_ms;      /* 0 = default 20000 while behind a NAT */

	/* Retransmission (RFC 7296 §2.1): first timeout, doubled each time, at
	 * most retx_max_tries sends in all, and never longer than retx_budget_ms
	 * from the first send.  0 = defaults 1000 ms, 6 tries, 40000 ms. */
	uint32_t retx_first_ms;
	uint32_t retx_max_tries;
	uint32_t retx_budget_ms;

	bool disable_mobike;             /* MOBIKE_SUPPORTED not sent when set */
	bool disable_fragmentation;      /* IKEV2_FRAGMENTATION_SUPPORTED not sent */

	uint32_t reqid;                  /* hint passed back in INSTALL_CHILD */

	/* Re-authentication (RFC 4478, ike-lite/reauth.c): this IKE SA
	 * replaces one that is up, so IKE_AUTH carries no INITIAL_CONTACT
	 * (RFC 7296 §2.4: the old SA is still alive) and the CP request asks
	 * for the virtual IPs we hold (nonzero ones; §3.15.1). */
	bool reauth;
	struct in_addr reauth_vip4;
	struct in6_addr reauth_vip6;

	ike_rand_fn rand;                /* NULL = libsodium (crypto.h) */

	const char *log_name;            /* prefix for log lines (profile name); may be NULL;
					  * copied by ike_sa_new (up to 63 bytes) */
};

/* Fill in the defaults a config should start from (ports, lifetimes, retx,
 * CP requests all on).  Proposals, IDs and PSK are left empty. */
void ike_config_init(struct ike_config *cfg);
/* Release what the config holds (the PSK). */
void ike_config_clear(struct ike_config *cfg);

/* ------------------------------------------------------------- the SA */

struct ike_sa;

/* A new IKE SA in the state "disconnected" (nothing sent yet).  The config
 * is copied (the PSK too).  NULL with err filled on a config that cannot
 * work (no proposal, unknown algorithm, no local ID, no PSK, ...). */
struct ike_sa *ike_sa_new(const struct ike_config *cfg, struct pvpn_err *err);
/* Free everything, wiping keys.  Sends nothing: call ike_disconnect and
 * drain actions first for a clean goodbye. */
void ike_sa_free(struct ike_sa *sa);

/* ------------------------------------------------------------- inputs */

/* Where a datagram came in: the local address/port it was received on
 * (the socket's) and the sender's address/port. */
struct ike_path {
	struct sockaddr_storage local, remote;
};

/* Start IKE_SA_INIT.  0, or negative errno when not disconnected. */
int ike_connect(struct ike_sa *sa, uint64_t now_ms);
/* Start a clean shutdown: DELETE(IKE) in an INFORMATIONAL request, waiting
 * for the answer within the retransmission budget; then REMOVE_CHILD and
 * STATUS disconnected.  Before the IKE SA is established it just stops. */
int ike_disconnect(struct ike_sa *sa, uint64_t now_ms);
/* A UDP payload the daemon received (see the top of this file about the
 * non-ESP marker).  Bad messages are dropped and counted; state is not
 * changed by them.  Returns 0 when the datagram was used, -EBADMSG / -EINVAL
 * / -ENOENT etc. when it was dropped (for logging only). */
int ike_receive(struct ike_sa *sa, const uint8_t *dgram, size_t len,
		const struct ike_path *path, uint64_t now_ms);
/* Timers: retransmissions, give-up, keepalives, liveness checks. */
void ike_tick(struct ike_sa *sa, uint64_t now_ms);
/* Answer to an IKE_ACT_ALLOC_SPI: the inbound SPI the kernel reserved
 * (XFRM_MSG_ALLOCSPI), or 0 when allocation failed (the attempt ends with
 * IKE_ERR_CONFIGURATION_FAILED). */
int ike_spi_allocated(struct ike_sa *sa, uint32_t spi, uint64_t now_ms);

/* The kernel's EXPIRE for one of our SAs (spi in host order, either
 * direction).  Soft: rekey the Child SA now unless a rekey is under way
 * (RFC 7296 §2.8).  Hard on the current pair: rekey at once as well (the
 * tunnel carries nothing until it is done).  Hard on a pair a rekey
 * replaced: it is gone, nothing to do.  -ENOENT when spi is not ours. */
int ike_child_expired(struct ike_sa *sa, uint32_t spi, bool hard, uint64_t now_ms);
/* Rekey the Child SA now (CREATE_CHILD_SA with REKEY_SA, §1.3.3).  0 when
 * started or already under way, -ENOTCONN when not established. */
int ike_rekey_child(struct ike_sa *sa, uint64_t now_ms);

/* ESP from the peer arrived since the last call (the daemon reads the
 * inbound SA's counters): the peer is alive, so the next liveness check
 * waits a whole dpd_interval_ms from now (RFC 7296 §2.4). */
void ike_peer_traffic(struct ike_sa *sa, uint64_t now_ms);
/* The route to the server now leaves from another local address (or none:
 * new_local NULL; its port is ignored).
 * With MOBIKE agreed (RFC 4555: MOBIKE_SUPPORTED both ways in IKE_AUTH,
 * cfg.disable_mobike off) the IKE SA moves: an INFORMATIONAL request with
 * UPDATE_SA_ADDRESSES and NAT detection for the new path goes out FROM
 * new_local (after any exchange in flight, window of one); on its answer
 * the engine redoes NAT detection, queues IKE_ACT_MIGRATE (current pair and
 * a replaced pair still in grace) and stays connected.  A newer change
 * while one is pending restarts with the newest address.  new_local NULL
 * keeps the SA and waits for the next call with a path; no path or no
 * answer within the retransmission budget ends it (IKE_ERR_SERVER_DEAD),
 * an error answer (UNACCEPTABLE_ADDRESSES, ...) ends it too
 * (IKE_ERR_PROTOCOL_ERROR), and the daemon reconnects.
 * Without MOBIKE the IKE SA ends (DELETE on the old path, best effort;
 * STATUS disconnected without an error) and the daemon reconnects.
 * Returns 1 when the SA ended (reconnect), 0 when it stays (the same
 * address, or a MOBIKE update started or waits for a path), -ENOTCONN. */
int ike_path_changed(struct ike_sa *sa, const struct sockaddr_storage *new_local,
		     uint64_t now_ms);
/* The server's address/port as seen now differs from the SA's (the
 * kernel's XFRM MAPPING event for our inbound UDP-encapsulated SA: an
 * authenticated ESP packet came from new_remote, port included).  RFC 7296
 * §2.23: only when the server is behind a NAT (its NAT rebound); the
 * engine then sends IKE to new_remote and queues IKE_ACT_MIGRATE with the
 * new encap remote port (and address).  The engine does the same by itself
 * when an authenticated, new IKE message arrives from a new remote port
 * while the server is behind a NAT.  1 when the path moved, 0 when nothing
 * changed, -EPERM when the server is not behind a NAT (ignored), -EINVAL
 * for another address family, -ENOTCONN when not established. */
int ike_nat_mapping(struct ike_sa *sa, const struct sockaddr_storage *new_remote,
		    uint64_t now_ms);
/* Send a liveness check now (RFC 7296 §2.4), e.g. when ESP goes out but
 * nothing comes back.  1 when sent, 0 when one is already outstanding,
 * -EBUSY when another exchange is, -ENOTCONN. */
int ike_check_liveness(struct ike_sa *sa, uint64_t now_ms);
/* The current Child SA pair's SPIs (host order); -ENOTCONN when none. */
int ike_child_spis(const struct ike_sa *sa, uint32_t *spi_in, uint32_t *spi_out);

/* When the daemon should start re-authenticating (a second IKE SA, RFC
 * 4478): a random margin before the AUTH_LIFETIME the server sent in
 * IKE_AUTH or an INFORMATIONAL ends; 0 = the server asked for none.  Not
 * part of ike_next_deadline: the engine does nothing at that time. */
uint64_t ike_reauth_deadline(const struct ike_sa *sa);
/* True when the UDP payload (as ike_receive takes it) names this SA's
 * initiator SPI: routes datagrams between two IKE SAs with one server. */
bool ike_owns_datagram(const struct ike_sa *sa, const uint8_t *dgram, size_t len,
		       const struct ike_path *path);

/* Earliest time (same clock as now_ms) ike_tick wants to run; 0 = none. */
uint64_t ike_next_deadline(const struct ike_sa *sa);

/* ------------------------------------------------------------- outputs */

enum ike_status {
	IKE_STATUS_DISCONNECTED = 0,
	IKE_STATUS_CONNECTING,
	IKE_STATUS_CONNECTED,
	IKE_STATUS_DISCONNECTING,
};

/* Why a connection ended or failed (after Apple's NEVPNConnectionError). */
enum ike_error {
	IKE_ERR_NONE = 0,
	IKE_ERR_SERVER_NOT_RESPONDING,   /* retransmission budget spent */
	IKE_ERR_AUTHENTICATION_FAILED,   /* AUTHENTICATION_FAILED, bad AUTH/IDr */
	IKE_ERR_NEGOTIATION_FAILED,      /* NO_PROPOSAL_CHOSEN, INVALID_KE bounds, bad choice */
	IKE_ERR_TS_UNACCEPTABLE,
	IKE_ERR_INTERNAL_ADDRESS_FAILURE,/* INTERNAL_ADDRESS_FAILURE, FAILED_CP_REQUIRED */
	IKE_ERR_CONFIGURATION_FAILED,    /* our side: SPI allocation, crypto setup */
	IKE_ERR_SERVER_DISCONNECTED,     /* the peer deleted the IKE or Child SA */
	IKE_ERR_SERVER_DEAD,             /* liveness check unanswered */
	IKE_ERR_PROTOCOL_ERROR,          /* malformed / unexpected protected message */
	IKE_ERR_SERVER_CERT_INVALID,     /* not trusted: unknown CA, bad signature, usage, revoked */
	IKE_ERR_SERVER_CERT_EXPIRED,
	IKE_ERR_SERVER_CERT_NOT_YET_VALID,
	IKE_ERR_SERVER_IDENTITY_MISMATCH,/* the certificate does not name the server we asked for */
	IKE_ERR_CLIENT_CERT_REJECTED,    /* the server refused our certificate */
};

enum ike_action_type {
	IKE_ACT_NONE = 0,
	IKE_ACT_SEND,
	IKE_ACT_ALLOC_SPI,
	IKE_ACT_INSTALL_CHILD,
	IKE_ACT_REMOVE_CHILD,
	IKE_ACT_STATUS,
	IKE_ACT_CONFIG,
	IKE_ACT_KEYLOG,
	IKE_ACT_MIGRATE,
};

struct ike_act_send {
	const uint8_t *data;             /* exact UDP payload (marker included) */
	size_t len;
	struct ike_path path;            /* send from path.local (its port, and its address:
					  * a MOBIKE update leaves from the new one) to path.remote */
	bool retransmit;                 /* a resend of earlier bytes (for the log) */
	bool keepalive;                  /* a NAT keepalive (0xFF) */
};

struct ike_act_alloc_spi {
	struct sockaddr_storage local, remote;   /* ports zero */
	uint8_t proto;                   /* IPPROTO_ESP */
};

/* Both directions of one Child SA.  "in" = remote -> local. */
struct ike_act_child {
	uint32_t spi_in, spi_out;        /* host order */
	struct sockaddr_storage local, remote;   /* ports zero */
	uint8_t proto;                   /* IPPROTO_ESP */
	bool tunnel;                     /* always true for now */
	bool encap;                      /* UDP-encapsulated (NAT): ports below */
	uint16_t encap_local_port, encap_remote_port;
	uint16_t encr_id, encr_key_bits; /* IANA ENCR_*; key bits without salt */
	uint16_t integ_id;               /* IANA AUTH_*; 0 for AEAD */
	bool esn;
	/* Keys: encr includes the salt for AEAD (4 bytes for GCM and
	 * ChaCha20-Poly1305, RFC 4106 / RFC 7634). */
	struct secret encr_in, encr_out, integ_in, integ_out;
	struct ike_cfg_ts ts_local[IKE_CFG_MAX_TS];      /* negotiated TSi */
	size_t n_ts_local;
	struct ike_cfg_ts ts_remote[IKE_CFG_MAX_TS];     /* negotiated TSr */
	size_t n_ts_remote;
	uint32_t reqid;                  /* cfg.reqid */
	uint32_t soft_lifetime_s, hard_lifetime_s;
	/* A new SA pair for the Child SA already installed (a rekey, RFC 7296
	 * §2.8): install the two SAs only; the policies (same reqid, same
	 * selectors) stay and pick the newest outbound SA. */
	bool rekey;
};

struct ike_act_remove_child {
	uint32_t spi_in, spi_out;
	struct sockaddr_storage local, remote;
	uint8_t proto;
	uint32_t reqid;
	/* Only these two SAs: the pair a rekey replaced (its grace period for
	 * packets in flight is over).  Policies and routes stay. */
	bool old_only;
};

struct ike_act_status {
	enum ike_status status;
	enum ike_error error;            /* when status is DISCONNECTED */
	char detail[IKE_DETAIL_MAX];     /* e.g. "server sent NO_PROPOSAL_CHOSEN" */
};

/* What the responder assigned in its CFG_REPLY (RFC 7296 §3.15.1). */
struct ike_act_config {
	bool has_vip4, has_vip6;
	struct in_addr vip4;
	struct in6_addr vip6;
	uint8_t vip6_prefix;
	struct in_addr netmask4;         /* INTERNAL_IP4_NETMASK, 0 if absent */
	size_t n_dns4, n_dns6;
	struct in_addr dns4[IKE_MAX_CP_ADDRS];
	struct in6_addr dns6[IKE_MAX_CP_ADDRS];
	size_t n_domains;
	char domains[IKE_MAX_DOMAINS][IKE_MAX_DOMAIN_LEN + 1];
	size_t n_subnets4, n_subnets6;   /* INTERNAL_IP4/6_SUBNET */
	struct in_addr subnet4[IKE_MAX_CP_ADDRS], subnet4_mask[IKE_MAX_CP_ADDRS];
	struct in6_addr subnet6[IKE_MAX_CP_ADDRS];
	uint8_t subnet6_prefix[IKE_MAX_CP_ADDRS];
};

/* The IKE SA moved to another path (MOBIKE UPDATE_SA_ADDRESSES answered,
 * RFC 4555 §3.5; or a NAT mapping change, §3.8 / RFC 3948): move every
 * installed SA pair of the Child SA (the current one and a replaced one
 * still in its grace period) and the policies' templates from the old
 * addresses to the new ones, keeping SPIs, keys and replay state.  The
 * encapsulation may start, stop or change ports.  Addresses carry no
 * ports (the encap ports are below). */
#define IKE_MIGRATE_MAX_PAIRS 2
struct ike_act_migrate {
	struct sockaddr_storage old_local, old_remote;
	struct sockaddr_storage new_local, new_remote;
	bool old_encap;
	uint16_t old_encap_local_port, old_encap_remote_port;
	bool new_encap;
	uint16_t new_encap_local_port, new_encap_remote_port;
	uint8_t proto;                   /* IPPROTO_ESP */
	uint32_t reqid;
	size_t n_pairs;
	struct { uint32_t spi_in, spi_out; } pairs[IKE_MIGRATE_MAX_PAIRS];
};

/* Key log block (text, NUL-terminated, SECRET): one block per IKE SA in
 * the fixtures' keys.txt `name=hex` format as pvpn-ikedump --keys reads it:
 *   spi_i=<8 bytes>  spi_r=<8 bytes>   (first, to tell blocks apart)
 *   dh_shared, skeyseed, sk_d, sk_ai, sk_ar (absent for AEAD), sk_ei, sk_er,
 *   sk_pi, sk_pr, and once the Child SA exists esp_enc_i, esp_enc_r,
 *   esp_integ_i, esp_integ_r ("i" = initiator->responder = our outbound)
 * and a blank line.  It comes when the Child SA is installed, or when the
 * IKE SA ends without one (so a failed IKE_AUTH can still be decrypted). */
struct ike_act_keylog {
	const char *text;
	size_t len;
};

struct ike_action {
	enum ike_action_type type;
	union {
		struct ike_act_send send;
		struct ike_act_alloc_spi alloc_spi;
		struct ike_act_child install;        /* IKE_ACT_INSTALL_CHILD */
		struct ike_act_remove_child remove;  /* IKE_ACT_REMOVE_CHILD */
		struct ike_act_status status;
		struct ike_act_config config;
		struct ike_act_keylog keylog;
		struct ike_act_migrate migrate;
	} u;
};

/* Pop the next action into *out; false when the queue is empty.  Pointers
 * and secrets in *out are owned by the engine and stay valid until the next
 * call into the engine for this SA (any ike_* call); secrets are then wiped.
 *
 * Order on success: STATUS connecting, SEND (IKE_SA_INIT), ALLOC_SPI, (after
 * ike_spi_allocated) SEND (IKE_AUTH), KEYLOG, CONFIG, INSTALL_CHILD, STATUS
 * connected.  On an end: REMOVE_CHILD (if one was installed), STATUS
 * disconnected with the error. */
bool ike_next_action(struct ike_sa *sa, struct ike_action *out);

/* ------------------------------------------------------------- queries */

enum ike_status ike_get_status(const struct ike_sa *sa);

struct ike_stats {
	uint64_t rx_dropped;             /* datagrams dropped without effect */
	uint64_t rx_ok;
	uint64_t tx;
	uint64_t retransmits;
	uint64_t cached_responses;       /* re-sent answers to retransmitted requests */
	uint64_t ignored_notifies;       /* unprotected error notifies ignored (§2.4) */
};
void ike_get_stats(const struct ike_sa *sa, struct ike_stats *out);

const char *ike_status_name(enum ike_status s);
const char *ike_error_name(enum ike_error e);   /* "server not responding", ... */

#endif
