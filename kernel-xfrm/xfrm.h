/* xfrm.h — kernel-xfrm: a plain translator to the kernel's XFRM framework
 * (ESP SAs and policies over NETLINK_XFRM) and to rtnetlink (addresses and
 * routes), plus the IKE UDP sockets.  No IKE notions live here.
 *
 * Conventions
 * - Every function returns 0 (or a count where said) or a negative errno
 *   and, when `e` is not NULL, leaves a sentence a person can act on in it;
 *   the kernel's extended-ACK text is appended when the kernel gave one.
 * - Codes callers may act on: -EEXIST (the SA, policy, address or route
 *   is already there), -ENOENT (the one to update, read or delete is not
 *   there; the kernel's ESRCH/EADDRNOTAVAIL are folded into it), -EPERM
 *   (needs CAP_NET_ADMIN), -EPROTONOSUPPORT (no ESP in this kernel),
 *   -ENOSYS (no such crypto algorithm), -EINVAL (refused input).
 * - Integers in these structs are in host order (SPI, ports, reqid).
 * - Key bytes are borrowed from the caller for the duration of the call;
 *   kernel-xfrm wipes every buffer of its own that held them.
 *
 * Ownership ("what pvpn installed")
 * Every SA and policy added through this API carries the tag
 * XFRM_OWNER_TAG in its selector's `user` field (struct xfrm_selector.user
 * in linux/xfrm.h).  The kernel stores and dumps that field verbatim but
 * never matches packets on it, so the tag changes no traffic and survives a
 * crash of pvpnd.  An SPI reserved by xfrm_alloc_spi() and never filled is a
 * "larval" SA without a selector of ours; it is recognised by its reqid,
 * which pvpn takes from [XFRM_REQID_MIN, XFRM_REQID_MAX] (xfrm_alloc_spi
 * and policy templates refuse others; SAs accept any reqid, but should use
 * the policy's).  xfrm_flush_owned() deletes exactly those SAs and
 * policies; anything else (another IKE daemon's, `ip xfrm` entries) is left
 * alone.  Socket policies (xfrm_socket_bypass) live and die with the socket.
 */
#ifndef PVPN_KERNEL_XFRM_H
#define PVPN_KERNEL_XFRM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "lib/err.h"

/* 'pvpn' in ASCII: the selector-user tag on everything pvpn installs. */
#define XFRM_OWNER_TAG 0x7076706eu
/* The reqids pvpn uses for its SAs and policy templates. */
#define XFRM_REQID_MIN 0x70760000u
#define XFRM_REQID_MAX 0x7076ffffu

/* Lifetimes, byte and packet limits: 0 means "no limit". */

/* An IPv4 or IPv6 address.  family is AF_INET, AF_INET6, or 0 for "none /
 * any" where a field is optional. */
struct xfrm_addr {
	int family;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	};
};

enum xfrm_sa_mode {
	XFRM_SA_TRANSPORT = 0,          /* = XFRM_MODE_TRANSPORT */
	XFRM_SA_TUNNEL = 1,             /* = XFRM_MODE_TUNNEL */
};

/* An optional mark: present when mask != 0 or value != 0. */
struct xfrm_mark_opt {
	uint32_t value;
	uint32_t mask;
};

/* Traffic selector.  A zero prefix length with family set means "any
 * address of that family"; port 0 means any port; proto 0 means any. */
struct xfrm_sel {
	int family;                     /* AF_INET / AF_INET6 (inner family) */
	struct xfrm_addr src;
	struct xfrm_addr dst;
	uint8_t src_len;
	uint8_t dst_len;
	uint8_t proto;                  /* IPPROTO_*, 0 = any */
	uint16_t sport;                 /* host order, 0 = any */
	uint16_t dport;                 /* host order, 0 = any */
	int ifindex;                    /* 0 = any */
};

/* An algorithm as the kernel spells it (crypto API names):
 *   AEAD: "rfc4106(gcm(aes))" bits = ICV bits (128),
 *         key = AES key + 4-byte salt (20 or 36 bytes);
 *         "rfc7539esp(chacha20,poly1305)" bits = 128, key = 32 + 4 salt.
 *   enc:  "cbc(aes)" (16 or 32 byte key), bits unused.
 *   auth: "hmac(sha256)" bits = 128, "hmac(sha384)" 192, "hmac(sha512)" 256
 *         (truncation length; sent as XFRMA_ALG_AUTH_TRUNC).
 * An empty name means "not used". */
#define XFRM_ALG_NAME_MAX 64
struct xfrm_alg {
	char name[XFRM_ALG_NAME_MAX];
	unsigned int bits;              /* ICV bits (AEAD) or truncation bits (auth) */
	const uint8_t *key;             /* borrowed; never stored */
	size_t key_len;                 /* bytes */
};

struct xfrm_lifetime {
	uint64_t soft_bytes, hard_bytes;
	uint64_t soft_packets, hard_packets;
	uint64_t soft_add_seconds, hard_add_seconds;
};

/* NAT-T: ESP in UDP (RFC 3948).  Present when sport != 0. */
struct xfrm_encap {
	uint16_t sport;                 /* host order, usually 4500 */
	uint16_t dport;
};

/* Which SA: the kernel's key is (dst, spi, proto) plus mark. */
struct xfrm_sa_id {
	struct xfrm_addr dst;
	uint32_t spi;                   /* host order */
	uint8_t proto;                  /* 0 means IPPROTO_ESP */
	struct xfrm_mark_opt mark;
};

struct xfrm_sa {
	struct xfrm_addr src;           /* outer addresses (tunnel) or hosts */
	struct xfrm_addr dst;
	uint32_t spi;                   /* host order */
	uint8_t proto;                  /* 0 means IPPROTO_ESP */
	enum xfrm_sa_mode mode;
	uint32_t reqid;                 /* must match the policy template's */
	/* Either aead, or enc (+ auth). */
	struct xfrm_alg aead;
	struct xfrm_alg enc;
	struct xfrm_alg auth;
	uint32_t replay_window;         /* packets; 0 = none (outbound) */
	bool esn;                       /* 64-bit extended sequence numbers */
	struct xfrm_lifetime lifetime;
	struct xfrm_encap encap;        /* NAT-T; sport 0 = none */
	struct xfrm_mark_opt mark;
	uint32_t if_id;                 /* xfrm interface id, 0 = none */
	struct xfrm_sel sel;            /* family 0 = any inner family (tunnel) */
};

struct xfrm_sa_counters {
	uint64_t bytes;
	uint64_t packets;
	uint64_t add_time;              /* unix seconds the SA was added */
	uint64_t use_time;              /* unix seconds of first use, 0 = never */
};

/* One SA as read back from the kernel (dumps). */
struct xfrm_sa_info {
	struct xfrm_sa_id id;
	struct xfrm_addr src;
	enum xfrm_sa_mode mode;
	uint32_t reqid;
	bool owned;                     /* carries pvpn's tag or reqid range */
	struct xfrm_sa_counters counters;
};

enum xfrm_dir {
	XFRM_DIR_IN = 0,                /* = XFRM_POLICY_IN */
	XFRM_DIR_OUT = 1,               /* = XFRM_POLICY_OUT */
	XFRM_DIR_FWD = 2,               /* = XFRM_POLICY_FWD */
};

enum xfrm_action {
	XFRM_ACT_ALLOW = 0,
	XFRM_ACT_BLOCK = 1,
};

/* The one IPsec template a policy may carry. */
struct xfrm_tmpl {
	uint8_t proto;                  /* 0 means IPPROTO_ESP */
	enum xfrm_sa_mode mode;
	uint32_t reqid;
	struct xfrm_addr src;           /* tunnel endpoints (tunnel mode only) */
	struct xfrm_addr dst;
	bool optional;                  /* "level use" (inbound transport etc.) */
};

struct xfrm_policy {
	struct xfrm_sel sel;
	enum xfrm_dir dir;
	enum xfrm_action action;
	uint32_t priority;              /* lower = preferred */
	bool has_tmpl;                  /* IPsec: the template below applies */
	struct xfrm_tmpl tmpl;
	struct xfrm_mark_opt mark;
	uint32_t if_id;
};

/* One policy as read back from the kernel (dumps). */
struct xfrm_policy_info {
	struct xfrm_sel sel;
	enum xfrm_dir dir;
	enum xfrm_action action;
	uint32_t priority;
	uint32_t index;                 /* kernel's policy index */
	bool has_tmpl;
	struct xfrm_tmpl tmpl;          /* first template */
	bool owned;
	struct xfrm_mark_opt mark;
	uint32_t if_id;
};

/* Kernel events. */
enum xfrm_event_type {
	XFRM_EV_ACQUIRE = 1,            /* traffic hit a policy without SA */
	XFRM_EV_EXPIRE,                 /* SA reached a soft or hard limit */
	XFRM_EV_MAPPING,                /* NAT-T peer address/port changed */
	XFRM_EV_POLEXPIRE,              /* a policy expired (rare) */
};

struct xfrm_ev_acquire {
	struct xfrm_addr src;           /* template addresses (outer) */
	struct xfrm_addr dst;
	uint8_t proto;
	uint32_t reqid;
	struct xfrm_sel sel;            /* the packet's selector */
	enum xfrm_dir dir;              /* of the policy that fired */
	uint32_t policy_index;
	bool owned;                     /* the policy carries pvpn's tag */
};

struct xfrm_ev_expire {
	struct xfrm_sa_id id;
	struct xfrm_addr src;
	uint32_t reqid;
	bool hard;                      /* false: soft limit (rekey time) */
	bool owned;
	struct xfrm_sa_counters counters;
};

struct xfrm_ev_mapping {
	struct xfrm_sa_id id;
	uint32_t reqid;
	struct xfrm_addr old_addr;
	uint16_t old_port;              /* host order */
	struct xfrm_addr new_addr;
	uint16_t new_port;
};

struct xfrm_ev_polexpire {
	struct xfrm_sel sel;
	enum xfrm_dir dir;
	uint32_t index;
	bool hard;
	bool owned;
};

struct xfrm_event {
	enum xfrm_event_type type;
	union {
		struct xfrm_ev_acquire acquire;
		struct xfrm_ev_expire expire;
		struct xfrm_ev_mapping mapping;
		struct xfrm_ev_polexpire polexpire;
	};
};

/* rtnetlink: an address on an interface (the virtual IP).  IPv6 addresses
 * are added without duplicate address detection (IFA_F_NODAD), so they
 * work at once. */
struct xfrm_ifaddr {
	int ifindex;
	struct xfrm_addr addr;
	uint8_t prefix_len;
};

/* rtnetlink: a unicast route. */
struct xfrm_route {
	struct xfrm_addr dst;           /* family decides the route's family */
	uint8_t dst_len;
	int ifindex;                    /* 0 = let the gateway decide */
	uint32_t table;                 /* 0 = main */
	struct xfrm_addr src;           /* preferred source, family 0 = none */
	struct xfrm_addr gw;            /* gateway, family 0 = none */
	uint32_t metric;                /* priority, 0 = default */
};

struct xfrm_handle;                     /* opaque: NETLINK_XFRM + rtnetlink */
struct xfrm_events;                     /* opaque: event subscription */

/* --- the handle ---------------------------------------------------- */

/* Open a NETLINK_XFRM and a NETLINK_ROUTE socket.  Both work in the
 * caller's network namespace at the time of this call, wherever the
 * caller goes afterwards. */
int xfrm_open(struct xfrm_handle **out, struct pvpn_err *e);
void xfrm_close(struct xfrm_handle *h);

/* --- SAs ------------------------------------------------------------ */

/* Reserve an SPI in [min, max] (host order; 0,0 = kernel's choice of
 * 0x100..0xffffffff) for an inbound SA from src to dst.  The kernel keeps
 * a larval SA until xfrm_sa_update() fills it (or about 30 s pass).
 * reqid must lie in [XFRM_REQID_MIN, XFRM_REQID_MAX]. */
int xfrm_alloc_spi(struct xfrm_handle *h, const struct xfrm_addr *src,
		   const struct xfrm_addr *dst, enum xfrm_sa_mode mode,
		   uint32_t reqid, uint32_t min, uint32_t max,
		   uint32_t *spi_out, struct pvpn_err *e);

/* XFRM_MSG_NEWSA: fails with -EEXIST when (dst, spi, proto, mark) exists,
 * including a larval SA from xfrm_alloc_spi — fill those with update. */
int xfrm_sa_add(struct xfrm_handle *h, const struct xfrm_sa *sa,
		struct pvpn_err *e);
/* XFRM_MSG_UPDSA: fill a larval SA, or update lifetimes/encap of a live one
 * (keys of a live SA cannot change).  -ENOENT when there is none. */
int xfrm_sa_update(struct xfrm_handle *h, const struct xfrm_sa *sa,
		   struct pvpn_err *e);
int xfrm_sa_delete(struct xfrm_handle *h, const struct xfrm_sa_id *id,
		   struct pvpn_err *e);
int xfrm_sa_counters(struct xfrm_handle *h, const struct xfrm_sa_id *id,
		     struct xfrm_sa_counters *out, struct pvpn_err *e);
/* Call fn for every SA (owned or not).  fn returning non-zero stops the
 * walk and is returned. */
int xfrm_sa_dump(struct xfrm_handle *h,
		 int (*fn)(const struct xfrm_sa_info *sa, void *arg), void *arg,
		 struct pvpn_err *e);

/* --- policies ------------------------------------------------------- */

int xfrm_policy_add(struct xfrm_handle *h, const struct xfrm_policy *p,
		    struct pvpn_err *e);
/* Deletes by selector + direction (+ mark, if_id), as given to add. */
int xfrm_policy_delete(struct xfrm_handle *h, const struct xfrm_policy *p,
		       struct pvpn_err *e);
int xfrm_policy_dump(struct xfrm_handle *h,
		     int (*fn)(const struct xfrm_policy_info *p, void *arg),
		     void *arg, struct pvpn_err *e);

/* Remove every SA and policy pvpn installed (see "Ownership" above).
 * Counts go to *sas / *policies when not NULL. */
int xfrm_flush_owned(struct xfrm_handle *h, unsigned int *sas,
		     unsigned int *policies, struct pvpn_err *e);

/* --- moving SAs to a new path (migrate.c) -------------------------- */

/* A path change: MOBIKE's UPDATE_SA_ADDRESSES (RFC 4555 §3.5) or a NAT
 * mapping change (RFC 3948).  Addresses carry no ports; the encapsulation
 * after the move is given from our side: sport = our UDP port, dport = the
 * peer's (sport 0 = plain ESP, which also stops an encapsulation). */
struct xfrm_move {
	struct xfrm_addr old_local, old_remote;
	struct xfrm_addr new_local, new_remote;
	struct xfrm_encap new_encap;
};

/* Move the SA *id (either direction: told apart by its addresses, which
 * must be m's old ones) to m's new addresses and encapsulation, keeping
 * its SPI, keys, replay window, counters and lifetimes; the outbound
 * sequence number continues (a little ahead, never repeated).  *id is
 * updated to the SA's new key on success.  On failure the old SA is left
 * in place where possible (*id unchanged); id->spi is set to 0 when it is
 * gone.  Does not need CONFIG_XFRM_MIGRATE. */
int xfrm_sa_move(struct xfrm_handle *h, struct xfrm_sa_id *id, const struct xfrm_move *m,
		 struct pvpn_err *e);
/* Point a tunnel policy's template (as added, selector unchanged) at m's
 * new addresses in place (XFRM_MSG_UPDPOLICY); *p is updated.  1 when it
 * moved, 0 when the template did not run between m's old addresses (left
 * alone), <0 on error. */
int xfrm_policy_move(struct xfrm_handle *h, struct xfrm_policy *p, const struct xfrm_move *m,
		     struct pvpn_err *e);

/* --- sockets -------------------------------------------------------- */

/* Per-socket policies (IP_XFRM_POLICY / IPV6_XFRM_POLICY, in and out) that
 * let this socket's traffic bypass every IPsec policy.  family is the
 * socket's family. */
int xfrm_socket_bypass(int fd, int family, struct pvpn_err *e);

/* Open a non-blocking UDP socket bound to `port` on `local` (NULL or
 * family 0 = any address of `family`), IPv6 sockets V6ONLY, with the bypass
 * policies; with encap, UDP_ENCAP_ESPINUDP is set so the kernel decapsulates
 * ESP-in-UDP arriving on it (port 4500, RFC 3948) and hands only IKE
 * (non-ESP marker) datagrams to the socket.  The fd goes to *fd_out. */
int xfrm_ike_socket_open(int family, const struct xfrm_addr *local,
			 uint16_t port, bool encap, int *fd_out,
			 struct pvpn_err *e);

/* --- events --------------------------------------------------------- */

/* Subscribe to ACQUIRE, EXPIRE, MAPPING (and POLEXPIRE) in the current
 * network namespace.  The fd is non-blocking, for epoll/poll. */
int xfrm_events_open(struct xfrm_events **out, struct pvpn_err *e);
int xfrm_events_fd(const struct xfrm_events *ev);
/* Read the next event: 1 when *out was filled, 0 when nothing is pending
 * (or a message of no interest was skipped; call again), <0 on error
 * (-ENOBUFS: events were lost, the caller should resync by dumping). */
int xfrm_events_read(struct xfrm_events *ev, struct xfrm_event *out,
		     struct pvpn_err *e);
void xfrm_events_close(struct xfrm_events *ev);

/* Decode one netlink message (header included) holding an XFRM event.
 * 1 = decoded, 0 = not an event type we report, <0 = malformed. */
int xfrm_event_decode(const void *msg, size_t len, struct xfrm_event *out,
		      struct pvpn_err *e);

/* --- rtnetlink: addresses and routes ------------------------------- */

int xfrm_addr_add(struct xfrm_handle *h, const struct xfrm_ifaddr *a,
		  struct pvpn_err *e);
int xfrm_addr_del(struct xfrm_handle *h, const struct xfrm_ifaddr *a,
		  struct pvpn_err *e);
int xfrm_route_add(struct xfrm_handle *h, const struct xfrm_route *r,
		   struct pvpn_err *e);
int xfrm_route_del(struct xfrm_handle *h, const struct xfrm_route *r,
		   struct pvpn_err *e);

/* --- rtnetlink: watching the network (rtmon.c) --------------------- */

struct xfrm_rtmon;                      /* opaque: link/address/route watch */

/* Subscribe to link, IPv4/IPv6 address and route changes in the current
 * network namespace.  The fd is non-blocking, for epoll. */
int xfrm_rtmon_open(struct xfrm_rtmon **out, struct pvpn_err *e);
int xfrm_rtmon_fd(const struct xfrm_rtmon *m);
/* Drain what is pending: the number of change messages read (0 = none; a
 * lost batch, ENOBUFS, counts as a change), <0 on a socket error. */
int xfrm_rtmon_read(struct xfrm_rtmon *m, struct pvpn_err *e);
void xfrm_rtmon_close(struct xfrm_rtmon *m);

/* The route the kernel picks toward dst now (RTM_GETROUTE). */
struct xfrm_route_info {
	struct xfrm_addr src;           /* preferred source, family 0 = none given */
	struct xfrm_addr gw;            /* gateway, family 0 = on-link */
	int ifindex;                    /* outgoing interface */
};
/* 0, or -ENETUNREACH / -EHOSTUNREACH etc. when there is no route. */
int xfrm_route_lookup(struct xfrm_handle *h, const struct xfrm_addr *dst,
		      struct xfrm_route_info *out, struct pvpn_err *e);

/* --- small helpers -------------------------------------------------- */

/* Parse "192.0.2.1" or "2001:db8::1" into *a.  0 or -EINVAL. */
int xfrm_addr_parse(const char *s, struct xfrm_addr *a);
/* Format into buf (INET6_ADDRSTRLEN is enough); returns buf. */
const char *xfrm_addr_str(const struct xfrm_addr *a, char *buf, size_t len);
/* The same address: same family (AF_INET or AF_INET6) and bytes; two
 * "none" (family 0) addresses are not equal. */
bool xfrm_addr_equal(const struct xfrm_addr *a, const struct xfrm_addr *b);

#endif
