/* profile.h — the public header of policy/: VPN profiles (the Linux form of
 * Apple's NEVPNProtocolIKEv2 + NEVPNManager preferences), their file format,
 * the preferences store, and routing decisions.
 *
 * policy/ knows no sockets, no netlink, no IKE wire format.  Everything here
 * is plain data; ctl/ translates it into ike-lite's config and kernel-xfrm's
 * requests.  Algorithm and identifier numbers are IANA's (RFC 7296 §3.3.2,
 * §3.5) so that translation is a copy, not a lookup.
 *
 * Ownership: a struct prof_profile holds struct secret members; call
 * prof_init() before use and prof_free() after (prof_free wipes the
 * secrets).  Everything else is inline arrays, so a profile may be
 * memcpy'd only through prof_copy(). */
#ifndef PVPN_POLICY_PROFILE_H
#define PVPN_POLICY_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/secret.h"

/* ---------------------------------------------------------------- limits */

#define PROF_NAME_MAX        64   /* store name, without ".conf" */
#define PROF_HOST_MAX        256  /* DNS name or address literal + NUL */
#define PROF_ID_MAX          256  /* identifier text + NUL / wire bytes */
#define PROF_PATH_MAX        512
#define PROF_TEXT_MAX        256  /* usernames, common names */
#define PROF_MAX_PROPOSALS   16
#define PROF_MAX_DH          8
#define PROF_MAX_ROUTES      64
#define PROF_MAX_DNS         8
#define PROF_DOMAIN_MAX      254
#define PROF_MAX_RULES       32
#define PROF_RULE_MAX_ITEMS  8
#define PROF_URL_MAX         512
#define PROF_LINE_MAX        4096 /* longest accepted profile line */
#define PROF_SECRET_MAX      4096 /* longest accepted secret (file or inline) */

/* ------------------------------------------------------ IANA numbers */

/* RFC 7296 §3.3.2 Transform Type 1 (encryption) — the ones we parse. */
enum {
	PROF_ENCR_AES_CBC = 12,
	PROF_ENCR_AES_GCM_16 = 20,
	PROF_ENCR_CHACHA20_POLY1305 = 28, /* RFC 7634 */
};
/* Transform Type 3 (integrity); 0 = NONE (AEAD). */
enum {
	PROF_AUTH_NONE = 0,
	PROF_AUTH_HMAC_SHA2_256_128 = 12,
	PROF_AUTH_HMAC_SHA2_384_192 = 13,
	PROF_AUTH_HMAC_SHA2_512_256 = 14,
};
/* Transform Type 2 (PRF); 0 = none (Child SA proposals). */
enum {
	PROF_PRF_NONE = 0,
	PROF_PRF_HMAC_SHA2_256 = 5,
	PROF_PRF_HMAC_SHA2_384 = 6,
	PROF_PRF_HMAC_SHA2_512 = 7,
};
/* Transform Type 4 (Diffie-Hellman group). */
enum {
	PROF_DH_MODP2048 = 14,
	PROF_DH_MODP3072 = 15,
	PROF_DH_MODP4096 = 16,
	PROF_DH_ECP256 = 19,
	PROF_DH_ECP384 = 20,
	PROF_DH_ECP521 = 21,
	PROF_DH_CURVE25519 = 31,
	PROF_DH_CURVE448 = 32,
};

/* One proposal, as the strongSwan syntax spells it
 * ("aes256gcm16-prfsha256-x25519").  One encryption algorithm, one
 * integrity algorithm (PROF_AUTH_NONE for AEAD), one PRF (IKE only), and
 * any number of DH groups (for a Child SA: the PFS groups; none = no PFS). */
struct prof_proposal {
	uint16_t encr;          /* PROF_ENCR_* */
	uint16_t encr_keybits;  /* 128 / 192 / 256 (256 for ChaCha20) */
	uint16_t integ;         /* PROF_AUTH_*; 0 for AEAD */
	uint16_t prf;           /* PROF_PRF_*; 0 in Child proposals */
	uint8_t n_dh;
	uint16_t dh[PROF_MAX_DH];  /* PROF_DH_*, in preference order */
};

static inline bool prof_encr_is_aead(uint16_t encr)
{
	return encr == PROF_ENCR_AES_GCM_16 || encr == PROF_ENCR_CHACHA20_POLY1305;
}

/* ------------------------------------------------------- identifiers */

/* RFC 7296 §3.5 ID Type values. */
enum prof_id_type {
	PROF_ID_NONE = 0,       /* not set */
	PROF_ID_IPV4_ADDR = 1,
	PROF_ID_FQDN = 2,
	PROF_ID_RFC822_ADDR = 3,
	PROF_ID_IPV6_ADDR = 5,
	PROF_ID_DER_ASN1_DN = 9,
	PROF_ID_KEY_ID = 11,
};

struct prof_id {
	enum prof_id_type type;
	bool type_explicit;          /* written with a "fqdn:"-style prefix */
	char text[PROF_ID_MAX];      /* as written, without the prefix */
	/* The Identification Data as it goes on the wire (RFC 7296 §3.5):
	 * 4 / 16 address bytes, the ASCII name, the key-id bytes (keyid:#HEX
	 * is decoded, keyid:TEXT is its bytes), and for DER_ASN1_DN the DER
	 * of the name (RDNs in the order written; PrintableString where it
	 * fits, else UTF8String). */
	uint8_t data[PROF_ID_MAX];
	size_t data_len;
	bool data_is_text;   /* always false now (kept for compatibility) */
};

/* ------------------------------------------------------ enumerations */

/* NEVPNIKEAuthenticationMethod. */
enum prof_auth_method {
	PROF_AUTH_METHOD_NONE = 0,          /* only EAP (needs UseExtendedAuthentication) */
	PROF_AUTH_METHOD_SHARED_SECRET = 1,
	PROF_AUTH_METHOD_CERTIFICATE = 2,
};

/* NEVPNIKEv2DeadPeerDetectionRate: none / low (30 min) / medium (10 min) /
 * high (1 min). */
enum prof_dpd_rate {
	PROF_DPD_NONE = 0,
	PROF_DPD_LOW = 1,
	PROF_DPD_MEDIUM = 2,
	PROF_DPD_HIGH = 3,
};
/* Seconds between liveness checks for a rate; 0 = never. */
unsigned prof_dpd_seconds(enum prof_dpd_rate rate);

enum prof_dns_mode {
	PROF_DNS_AUTO = 0,      /* resolved if present, else resolvconf, else file */
	PROF_DNS_RESOLVED = 1,  /* systemd-resolved per-link DNS */
	PROF_DNS_RESOLVCONF = 2,
	PROF_DNS_FILE = 3,      /* rewrite /etc/resolv.conf, restore afterwards */
	PROF_DNS_OFF = 4,       /* ignore DNS the server offers */
};

/* ------------------------------------------------------- addresses */

/* An IPv4 or IPv6 prefix; addr holds 4 or 16 bytes in network order,
 * host bits are always zero. */
struct prof_prefix {
	uint8_t family;   /* AF_INET or AF_INET6 */
	uint8_t len;      /* prefix length */
	uint8_t addr[16];
};

struct prof_addr {
	uint8_t family;   /* AF_INET or AF_INET6; 0 = none */
	uint8_t addr[16];
};

/* ------------------------------------------------------- on demand */

/* NEOnDemandRule subclasses. */
enum prof_od_action {
	PROF_OD_CONNECT = 1,
	PROF_OD_DISCONNECT = 2,
	PROF_OD_EVALUATE_CONNECTION = 3,
	PROF_OD_IGNORE = 4,
};

/* NEOnDemandRuleInterfaceType. */
enum prof_od_iface {
	PROF_OD_IFACE_ANY = 0,
	PROF_OD_IFACE_ETHERNET = 1,
	PROF_OD_IFACE_WIFI = 2,
	PROF_OD_IFACE_CELLULAR = 3,
};

/* NEEvaluateConnectionRuleAction. */
enum prof_od_domain_action {
	PROF_OD_CONNECT_IF_NEEDED = 1,
	PROF_OD_NEVER_CONNECT = 2,
};

/* One rule; every list that is non-empty must match (Apple: all set
 * conditions must match); the first matching rule wins.  Stored validated;
 * evaluating them is the daemon's business (later). */
struct prof_od_rule {
	enum prof_od_action action;
	enum prof_od_iface iface;                               /* InterfaceType */
	uint8_t n_ssid;
	char ssid[PROF_RULE_MAX_ITEMS][33];                     /* SSID (≤ 32 bytes) */
	uint8_t n_search_domain;
	char search_domain[PROF_RULE_MAX_ITEMS][PROF_DOMAIN_MAX]; /* DNSSearchDomain; "*.x" allowed */
	uint8_t n_dns_server;
	struct prof_addr dns_server[PROF_RULE_MAX_ITEMS];       /* DNSServer */
	char probe_url[PROF_URL_MAX];                           /* ProbeURL; "" = none */
	/* EvaluateConnection only (NEEvaluateConnectionRule). */
	enum prof_od_domain_action domain_action;               /* DomainAction */
	uint8_t n_domain;
	char domain[PROF_RULE_MAX_ITEMS][PROF_DOMAIN_MAX];       /* Domains */
};

/* What the host looks like when On Demand rules are evaluated (the
 * daemon gathers it). */
struct prof_od_env {
	enum prof_od_iface iface;          /* primary interface's type */
	char ssid[33];                     /* Wi-Fi SSID; "" when not on Wi-Fi */
	char search_domain[PROF_DOMAIN_MAX]; /* the current default search domain */
	size_t n_dns;                      /* the current default DNS servers */
	struct prof_addr dns[PROF_MAX_DNS];
	/* HTTP GET of a rule's ProbeURL: true when it answered 200.  NULL =
	 * every probe fails.  (policy/ does no I/O; the daemon does.) */
	bool (*probe)(const char *url, void *ctx);
	void *probe_ctx;
};

/* ---------------------------------------------------------- profile */

struct prof_profile {
	char name[PROF_NAME_MAX];       /* store name; "" when parsed from text */
	char base_dir[PROF_PATH_MAX];   /* folder relative paths resolve against */

	/* [IKEv2] */
	char server_host[PROF_HOST_MAX];         /* Server (host part) */
	uint16_t server_port;                    /* Server (:PORT), default 500 */
	struct prof_id remote_id;                /* RemoteIdentifier; default = server_host */
	bool remote_id_explicit;
	struct prof_id local_id;                 /* LocalIdentifier; type NONE = not set */

	enum prof_auth_method auth_method;       /* AuthenticationMethod */
	struct secret shared_secret;             /* SharedSecret or SharedSecretFile content */
	char shared_secret_file[PROF_PATH_MAX];  /* as written; "" = inline or none */
	char certificate_file[PROF_PATH_MAX];    /* CertificateFile */
	char private_key_file[PROF_PATH_MAX];    /* PrivateKeyFile */
	struct secret private_key;               /* its content (PEM/DER), when loaded */
	char server_ca_file[PROF_PATH_MAX];      /* ServerCertificateAuthorityFile */
	char server_cert_cn[PROF_TEXT_MAX];      /* ServerCertificateCommonName */
	char server_cert_issuer_cn[PROF_TEXT_MAX]; /* ServerCertificateIssuerCommonName */

	bool use_eap;                            /* UseExtendedAuthentication */
	char username[PROF_TEXT_MAX];            /* Username */
	struct secret password;                  /* Password or PasswordFile content */
	char password_file[PROF_PATH_MAX];       /* as written; "" = inline or none */

	size_t n_ike_proposals;                  /* IKEProposals (or the default) */
	struct prof_proposal ike_proposals[PROF_MAX_PROPOSALS];
	size_t n_child_proposals;                /* ChildProposals (or the default) */
	struct prof_proposal child_proposals[PROF_MAX_PROPOSALS];
	/* EnablePFS.  When true every Child proposal carries DH groups: those
	 * written in ChildProposals, or else the IKE proposals' groups (the
	 * parser fills them in), so the daemon needs no rule of its own. */
	bool enable_pfs;

	uint32_t ike_lifetime_s;                 /* IKELifetime, default 4h */
	uint32_t child_lifetime_s;               /* ChildLifetime, default 1h */
	uint32_t rekey_margin_s;                 /* RekeyMargin, default 60s: rekey starts
	                                            this long before the lifetime ends */
	enum prof_dpd_rate dpd_rate;             /* DeadPeerDetectionRate, default medium */
	bool disable_mobike;                     /* DisableMOBIKE */
	bool disable_redirect;                   /* DisableRedirect */
	bool enable_revocation_check;            /* EnableRevocationCheck */
	bool strict_revocation_check;            /* StrictRevocationCheck */
	bool use_internal_subnet;                /* UseConfigurationAttributeInternalIPSubnet */
	bool disconnect_on_sleep;                /* DisconnectOnSleep */
	uint16_t mtu;                            /* MTU; 0 = automatic */

	/* [Routing] */
	bool include_all_networks;               /* IncludeAllNetworks */
	bool exclude_local_networks;             /* ExcludeLocalNetworks */
	size_t n_included;
	struct prof_prefix included[PROF_MAX_ROUTES];   /* IncludedRoutes */
	size_t n_excluded;
	struct prof_prefix excluded[PROF_MAX_ROUTES];   /* ExcludedRoutes */

	/* [DNS] */
	enum prof_dns_mode dns_mode;             /* Mode */
	size_t n_dns_servers;
	struct prof_addr dns_servers[PROF_MAX_DNS];     /* Servers (override the server's) */
	size_t n_search_domains;
	char search_domains[PROF_MAX_DNS][PROF_DOMAIN_MAX]; /* SearchDomains */
	size_t n_match_domains;
	char match_domains[PROF_MAX_DNS][PROF_DOMAIN_MAX];  /* MatchDomains (split DNS) */

	/* [OnDemand] */
	bool on_demand;                          /* Enabled */
	size_t n_rules;
	struct prof_od_rule rules[PROF_MAX_RULES];       /* Rule (in order) */
};

/* Defaults everywhere (no server, so not valid yet).  Never fails. */
void prof_init(struct prof_profile *p);
/* Wipe the secrets and reset to prof_init's state. */
void prof_free(struct prof_profile *p);
/* Deep copy (secrets duplicated).  dst must be initialised; 0 or -ENOMEM. */
int prof_copy(struct prof_profile *dst, const struct prof_profile *src);
/* True when both describe the same profile (name and base_dir ignored;
 * secrets compared in constant time). */
bool prof_equal(const struct prof_profile *a, const struct prof_profile *b);

/* -------------------------------------------------------- parsing */

/* Parse options. */
enum {
	/* Do not open SharedSecretFile / PasswordFile / PrivateKeyFile: keep
	 * the paths only (display, fuzzing, syntax checks). */
	PROF_PARSE_NO_FILES = 1u << 0,
};

/* Streaming parser: prof_parser_init, prof_parser_line for each line (with
 * or without its "\n"), prof_parser_finish.  The first error stops the
 * parse: later lines are ignored and finish returns that error.  Errors
 * read "NAME:LINE: Key: problem with 'value' (allowed: ...)". */
struct prof_parser {
	struct prof_profile *out;
	char file[PROF_PATH_MAX];       /* name used in error messages */
	unsigned flags;
	unsigned lineno;
	int section;                    /* internal */
	int rc;                         /* sticky first error */
	uint64_t seen[2];               /* internal: keys seen (duplicates) */
	unsigned key_line[64];          /* internal: line each key was set on */
	struct pvpn_err err;
};

/* file_for_errors names the input in messages ("home.conf"); base_dir is
 * where relative file paths resolve (NULL: relative paths are refused).
 * out is initialised here (prof_init).  */
void prof_parser_init(struct prof_parser *ps, struct prof_profile *out,
		      const char *file_for_errors, const char *base_dir,
		      unsigned flags);
/* One line, len bytes (a trailing "\n" or "\r\n" is allowed).  0 or the
 * sticky negative error. */
int prof_parser_line(struct prof_parser *ps, const char *line, size_t len);
/* Defaults and cross-field checks.  0 or negative; on failure *out has been
 * prof_free'd and err holds the reason. */
int prof_parser_finish(struct prof_parser *ps, struct pvpn_err *err);

/* Whole text in one call (the daemon receives profiles over its socket).
 * out is initialised here; on failure it is left freed. */
int prof_parse_string(const char *name_for_errors, const char *text, size_t len,
		      const char *base_dir, unsigned flags,
		      struct prof_profile *out, struct pvpn_err *err);
/* A file; base_dir becomes the file's folder; errors name the file's
 * basename.  Opens with O_NOFOLLOW off (symlinked profiles are fine). */
int prof_parse_file(const char *path, unsigned flags,
		    struct prof_profile *out, struct pvpn_err *err);

/* Parse a proposal list in strongSwan syntax.  ike = true requires a PRF
 * for AEAD and allows prfXXX; false (Child) forbids prfXXX.  Exposed for
 * the CLI and tests.  Error message without file:line (caller prefixes). */
int prof_parse_proposals(const char *text, bool ike, struct prof_proposal *out,
			 size_t max, size_t *n_out, struct pvpn_err *err);
/* The proposal's text ("aes256gcm16-prfsha256-x25519"); 0 or -ENOSPC. */
int prof_proposal_str(const struct prof_proposal *pr, char *buf, size_t len);

/* Parse "10.0.0.0/8", "fd00::/64", or a bare address (= /32, /128).
 * Host bits set is an error. */
int prof_parse_prefix(const char *text, struct prof_prefix *out, struct pvpn_err *err);
/* "10.0.0.0/8" */
int prof_prefix_str(const struct prof_prefix *pf, char *buf, size_t len);

/* ---------------------------------------------------- serialising */

/* The profile as profile text, every key written (defaults included) in a
 * fixed order, so serialising twice gives the same bytes and parsing the
 * text gives an equal profile (prof_equal).  Secrets read from files are
 * written as their *File key; inline secrets are written inline unless
 * redact_secrets, which writes "SharedSecret = <redacted>" etc. (for
 * display only — such text does not parse back to the same secret).
 * Writes a NUL-terminated string of *out_len bytes into a malloc'd *out
 * (free it with prof_text_free, which wipes).  0 or -ENOMEM. */
int prof_serialise(const struct prof_profile *p, bool redact_secrets,
		   char **out, size_t *out_len);
void prof_text_free(char *text, size_t len);

/* ----------------------------------------------- preferences store */

#define PROF_STORE_DEFAULT_DIR "/etc/pvpn"

/* A profile name: 1..PROF_NAME_MAX-1 bytes of [A-Za-z0-9._-], not starting
 * with '.' or '-'.  0 or -EINVAL with a reason. */
int prof_name_check(const char *name, struct pvpn_err *err);

/* dir == NULL means PROF_STORE_DEFAULT_DIR.  All operate on DIR/NAME.conf. */
/* Validate p (a full parse of its serialised text) and write it atomically
 * with mode 0600 (temp file in DIR, fsync, rename, fsync DIR).  p->name is
 * ignored; name decides the file. */
int prof_store_save(const char *dir, const char *name,
		    const struct prof_profile *p, struct pvpn_err *err);
/* Save profile text as given (comments kept) after validating it. */
int prof_store_save_text(const char *dir, const char *name,
			 const char *text, size_t len, struct pvpn_err *err);
/* Load and parse; out->name is set.  -ENOENT when there is no such profile. */
int prof_store_load(const char *dir, const char *name, unsigned flags,
		    struct prof_profile *out, struct pvpn_err *err);
/* Delete.  -ENOENT when there is none. */
int prof_store_remove(const char *dir, const char *name, struct pvpn_err *err);

struct prof_list_entry {
	char name[PROF_NAME_MAX];
	bool ok;                 /* parses and validates */
	struct pvpn_err err;     /* why not, when !ok */
};
/* Every DIR/NAME.conf, sorted by name; broken ones reported with their error.
 * *out is malloc'd (free()); 0 or negative (DIR unreadable). */
int prof_store_list(const char *dir, unsigned flags,
		    struct prof_list_entry **out, size_t *n_out,
		    struct pvpn_err *err);

/* ---------------------------------------------- routing decisions */

/* A traffic selector (RFC 7296 §3.13.1) as a plain range. */
struct prof_ts {
	uint8_t family;          /* AF_INET / AF_INET6 */
	uint8_t proto;           /* 0 = any */
	uint16_t port_lo, port_hi;  /* 0..65535 = any */
	uint8_t start[16], end[16]; /* inclusive, network order (4 or 16 used) */
};

#define PROF_MAX_TS      32
#define PROF_MAX_PLAN    512

/* What the host looks like now (given by the daemon). */
struct prof_env {
	struct prof_addr server;         /* the address IKE talks to */
	size_t n_local;                  /* connected prefixes of local interfaces */
	struct prof_prefix local[PROF_MAX_ROUTES];
};

/* What the server assigned (configuration payload and narrowed TS). */
struct prof_assigned {
	struct prof_addr vip4;           /* INTERNAL_IP4_ADDRESS; family 0 = none */
	struct prof_addr vip6;           /* INTERNAL_IP6_ADDRESS */
	size_t n_tsr;                    /* TSr the responder accepted */
	struct prof_ts tsr[PROF_MAX_TS];
	size_t n_subnets;                /* INTERNAL_IP4/6_SUBNET */
	struct prof_prefix subnets[PROF_MAX_ROUTES];
	size_t n_dns;                    /* INTERNAL_IP4/6_DNS */
	struct prof_addr dns[PROF_MAX_DNS];
	size_t n_domains;                /* INTERNAL_DNS_DOMAIN (RFC 8598) */
	char domains[PROF_MAX_DNS][PROF_DOMAIN_MAX];
};

/* The traffic selectors to propose in IKE_AUTH (RFC 7296 §2.9). */
struct prof_ts_proposal {
	size_t n_tsi;
	struct prof_ts tsi[PROF_MAX_TS];
	size_t n_tsr;
	struct prof_ts tsr[PROF_MAX_TS];
};

enum prof_route_kind {
	PROF_ROUTE_TUNNEL = 1,   /* into the tunnel; src = the virtual IP */
	PROF_ROUTE_BYPASS = 2,   /* stays outside (excluded, local, the server) */
};

struct prof_route {
	enum prof_route_kind kind;
	struct prof_prefix dst;
	struct prof_addr src;    /* preferred source (TUNNEL); family 0 = none */
};

enum prof_block_dir { PROF_DIR_OUT = 1, PROF_DIR_IN = 2, PROF_DIR_FWD = 3 };
enum prof_block_action { PROF_BLOCK_ALLOW = 1, PROF_BLOCK_DROP = 2 };

/* A kernel-policy-like rule without kernel-xfrm's structs: lower priority
 * numbers win (the XFRM convention). */
struct prof_block_rule {
	enum prof_block_dir dir;
	enum prof_block_action action;
	uint32_t priority;
	struct prof_prefix src, dst;   /* selector */
	uint8_t proto;                 /* 0 = any */
	uint16_t dport;                /* 0 = any (only with proto UDP/TCP) */
};

/* Priorities used for block rules (documented in routing.c). */
#define PROF_PRIO_ALLOW_IKE    100
#define PROF_PRIO_ALLOW_BYPASS 200
#define PROF_PRIO_TUNNEL       1000   /* suggested for the tunnel's own policies */
#define PROF_PRIO_BLOCK        10000

struct prof_plan {
	size_t n_routes;
	struct prof_route routes[PROF_MAX_PLAN];
	size_t n_blocks;
	struct prof_block_rule blocks[PROF_MAX_PLAN];
	/* DNS to configure (profile's Servers override the server's). */
	size_t n_dns;
	struct prof_addr dns[PROF_MAX_DNS];
	size_t n_domains;
	char domains[PROF_MAX_DNS * 2][PROF_DOMAIN_MAX];
};

/* TSi/TSr to propose before anything is assigned. */
int prof_route_proposal(const struct prof_profile *p, struct prof_ts_proposal *out,
			struct pvpn_err *err);
/* Routes, bypasses, DNS and (IncludeAllNetworks) block rules once the
 * tunnel is up. */
int prof_route_plan(const struct prof_profile *p, const struct prof_env *env,
		    const struct prof_assigned *as, struct prof_plan *out,
		    struct pvpn_err *err);
/* The block rules alone, for while the tunnel is connecting or down
 * (IncludeAllNetworks): allow IKE to the server, allow excluded/local
 * bypasses, drop the rest.  n_blocks = 0 when IncludeAllNetworks is off. */
int prof_route_blocks(const struct prof_profile *p, const struct prof_env *env,
		      struct prof_plan *out, struct pvpn_err *err);

/* VPN On Demand: the index of the first rule that matches env (all its
 * set conditions hold), or -1.  An EvaluateConnection rule matches only
 * when host (the name being connected to; NULL = none) is in its Domains,
 * so several EvaluateConnection lines act as Apple's ordered
 * connectionRules.  -1 also when On Demand is off; the daemon then does
 * nothing (pvpn's default, like Ignore). */
int prof_od_match(const struct prof_profile *p, const struct prof_od_env *env, const char *host);

/* Convert a TS range to the prefixes covering exactly it. */
int prof_ts_to_prefixes(const struct prof_ts *ts, struct prof_prefix *out,
			size_t max, size_t *n_out);

#endif
