/* ctl.h — the public header of ctl/, the composition root: pvpnd's event
 * loop, its connection manager (which joins ike-lite, kernel-xfrm and
 * policy), the key log and the command line.  Later the control socket
 * and the pvpn CLI live here too. */
#ifndef PVPN_CTL_H
#define PVPN_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "ike-lite/ike.h"
#include "kernel-xfrm/xfrm.h"
#include "lib/err.h"
#include "policy/profile.h"

/* --- event loop (loop.c) ----------------------------------------------- */

#define CTL_LOOP_MAX_WATCH 64

typedef void (*ctl_fd_cb)(void *ctx, int fd, uint32_t events);

struct ctl_watch {
	bool used;
	bool dead;      /* removed during a dispatch; freed after the batch */
	int fd;
	ctl_fd_cb cb;
	void *ctx;
};

struct ctl_loop {
	int epfd;
	bool stop;
	bool dispatching;
	struct ctl_watch w[CTL_LOOP_MAX_WATCH];
};

int ctl_loop_init(struct ctl_loop *l, struct pvpn_err *e);
void ctl_loop_free(struct ctl_loop *l);
/* Watch fd for events (EPOLLIN ...); cb(ctx, fd, events) when ready. */
int ctl_loop_add(struct ctl_loop *l, int fd, uint32_t events, ctl_fd_cb cb, void *ctx,
		 struct pvpn_err *e);
/* Stop watching fd (safe from inside any callback); does not close it. */
int ctl_loop_del(struct ctl_loop *l, int fd);
void ctl_loop_stop(struct ctl_loop *l);
/* Wait up to timeout_ms (-1: forever) and dispatch; returns the number of
 * events or a negative errno. */
int ctl_loop_run_once(struct ctl_loop *l, int timeout_ms, struct pvpn_err *e);

/* A CLOCK_MONOTONIC timerfd armed to absolute deadlines in ms (lib/clock.h's
 * clock_mono_ms() scale); 0 disarms. */
int ctl_timer_open(struct pvpn_err *e);
int ctl_timer_arm(int fd, uint64_t deadline_ms);
void ctl_timer_drain(int fd);

/* Block SIGTERM, SIGINT, SIGHUP (and ignore SIGPIPE); return a signalfd. */
int ctl_signals_open(struct pvpn_err *e);
/* The next pending signal number, 0 when none. */
int ctl_signals_read(int fd);

/* --- key log (keylog.c) -------------------------------------------------
 * Format: the engine's blocks (ike.h, IKE_ACT_KEYLOG), appended with one
 * write(2) each: per IKE SA, spi_i= and spi_r= (its 8-byte SPIs) first,
 * then the fixtures' keys.txt names (dh_shared, skeyseed, sk_d, sk_ai,
 * sk_ar, sk_ei, sk_er, sk_pi, sk_pr and the Child SA's esp_enc_i/_r,
 * esp_integ_i/_r), then an empty line; what pvpn-ikedump --keys reads.
 * ctl_keylog_block() writes blocks of its own in the same grammar, with a
 * '#' comment line naming the block. */

struct ctl_keylog {
	int fd;         /* -1 when off */
};

struct ctl_keylog_item {
	const char *name;
	const uint8_t *data;
	size_t len;
};

/* Open (create 0600, append) and log a warning that keys are recorded. */
int ctl_keylog_open(struct ctl_keylog *k, const char *path, struct pvpn_err *e);
void ctl_keylog_close(struct ctl_keylog *k);
/* Append text as given (the engine's blocks); a no-op when off. */
int ctl_keylog_write_text(struct ctl_keylog *k, const char *text, size_t len);
/* The engine's block (ike.h's IKE_ACT_KEYLOG) with its ike_spi_i/ike_spi_r
 * lines renamed spi_i/spi_r, the names pvpn-ikedump --keys reads. */
int ctl_keylog_write_engine(struct ctl_keylog *k, const char *text, size_t len);
/* Append one block; a no-op when k is NULL or off. */
int ctl_keylog_block(struct ctl_keylog *k, const char *title,
		     const struct ctl_keylog_item *items, size_t n);

/* --- ESP algorithm names (algs.c) ------------------------------------- */

struct ctl_esp_encr {
	uint16_t iana_id;       /* IKEv2 Transform Type 1 id */
	const char *kernel;     /* crypto API name, e.g. "rfc4106(gcm(aes))" */
	bool aead;
	unsigned icv_bits;      /* AEAD tag length */
	unsigned salt_bytes;    /* part of the key material after the key */
};

struct ctl_esp_integ {
	uint16_t iana_id;       /* IKEv2 Transform Type 3 id */
	const char *kernel;     /* e.g. "hmac(sha256)" */
	unsigned trunc_bits;
};

/* NULL when the kernel name is unknown to pvpn. */
const struct ctl_esp_encr *ctl_esp_encr_lookup(uint16_t iana_id);
const struct ctl_esp_integ *ctl_esp_integ_lookup(uint16_t iana_id);

/* --- command line (opts.c) --------------------------------------------- */

enum ctl_mode { CTL_MODE_ONESHOT, CTL_MODE_DAEMON };

struct ctl_opts {
	enum ctl_mode mode;
	const char *profile;    /* --profile FILE (one-shot) */
	const char *keylog;     /* --keylog FILE */
	const char *socket;     /* --socket PATH (daemon) */
	const char *prefs;      /* --prefs DIR (daemon) */
	bool foreground;
	int verbose;            /* -v count */
	bool help;
	bool version;
};

#define CTL_SOCKET_DEFAULT "/run/pvpn/control.sock"
#define CTL_PREFS_DEFAULT "/etc/pvpn"

/* Parse argv; on a usage error return -EINVAL with the sentence in e. */
int ctl_opts_parse(struct ctl_opts *o, int argc, char **argv, struct pvpn_err *e);
const char *ctl_usage(void);

/* --- translation (translate.c): profile -> engine, engine -> kernel ---- */

void ctl_sockaddr_to_xfrm(const struct sockaddr_storage *ss, struct xfrm_addr *out);
/* Fill cfg (ike_config_init first) from profile p talking from local to
 * remote (ports set).  cfg must be cleared with ike_config_clear. */
int ctl_translate_config(const struct prof_profile *p, const struct sockaddr_storage *local,
			 const struct sockaddr_storage *remote, uint32_t reqid,
			 struct ike_config *cfg, struct pvpn_err *e);
/* One direction of an engine's Child SA as a kernel SA (keys borrowed from
 * c: use before the next engine call). */
int ctl_translate_sa(const struct ike_act_child *c, bool inbound, struct xfrm_sa *out,
		     struct pvpn_err *e);
/* The in/out/fwd tunnel policies covering the negotiated TS pairs. */
#define CTL_MAX_POLICIES 96
int ctl_translate_policies(const struct ike_act_child *c, uint32_t priority,
			   struct xfrm_policy *out, size_t max, size_t *n_out,
			   struct pvpn_err *e);
/* An engine traffic selector as the profile room's plain range. */
void ctl_ts_to_prof(const struct ike_cfg_ts *in, struct prof_ts *out);
/* A profile prefix as a kernel selector address and prefix length (the
 * tunnel policies' selectors, the block rules' too). */
void ctl_prefix_to_xfrm(const struct prof_prefix *pf, struct xfrm_addr *a, uint8_t *len);

/* --- OCSP over HTTP (ocsp_http.c): the engine's ocsp_fetch ------------ */

#define CTL_OCSP_TIMEOUT_MS 3000           /* connect + send + answer, per URL */
#define CTL_OCSP_RESP_MAX   (64 * 1024)    /* body bytes accepted */
#define CTL_OCSP_URL_MAX    255
struct ctl_ocsp_http {                     /* ocsp_ctx; NULL = the defaults */
	uint32_t timeout_ms;
	size_t max_resp;
};
struct ctl_ocsp_url {
	char host[254];                    /* name or address, no brackets */
	bool numeric;                      /* an [IPv6] literal */
	uint16_t port;                     /* 80 when not given */
	char path[CTL_OCSP_URL_MAX + 1];   /* "/" when not given */
};
/* http://host[:port][/path] only: no user info, no fragment, printable
 * path.  0 or -EINVAL with why in e. */
int ctl_ocsp_parse_url(const char *url, struct ctl_ocsp_url *u, struct pvpn_err *e);
/* An HTTP/1.x answer: status 200, Content-Type application/ocsp-response,
 * the body (cut to Content-Length when given) pointed into buf. */
int ctl_ocsp_parse_reply(const uint8_t *buf, size_t len, const uint8_t **body,
			 size_t *body_len, struct pvpn_err *e);
/* ike_config.ocsp_fetch: one POST, bounded by ctx's (or the default)
 * timeout and size; blocks the caller that long at most (plus name
 * resolution). */
int ctl_ocsp_fetch(void *ctx, const char *url, const uint8_t *req, size_t req_len,
		   uint8_t **resp, size_t *resp_len, struct pvpn_err *e);

/* --- connections (conn.c) ---------------------------------------------- */

/* A router with a few tunnels, or the benchmark's hundred.  The slots live
 * in the daemon's zero-initialised static struct and are only touched when
 * used, so an unused slot costs no memory. */
#define CTL_MAX_CONNS 128
#define CTL_MAX_ROUTES 64

/* What one connection put into the kernel, so it can take it out again. */
struct ctl_installed {
	size_t n_sas;
	struct xfrm_sa_id sas[4];
	size_t n_policies;
	struct xfrm_policy policies[CTL_MAX_POLICIES];
	size_t n_addrs;
	struct xfrm_ifaddr addrs[2];
	size_t n_routes;
	struct xfrm_route routes[CTL_MAX_ROUTES];
};

struct ctl_daemon;

struct ctl_conn {
	bool used;
	char name[PROF_NAME_MAX];
	struct ctl_daemon *d;
	struct prof_profile prof;
	struct ike_sa *sa;
	enum ike_status status;
	enum ike_error error;
	struct pvpn_err last_error;      /* why it last ended or failed */
	bool ever_connected;
	uint64_t started_ms, connected_ms;
	uint32_t reqid;
	/* The last SPI the kernel reserved for us: a larval SA until the
	 * Child SA fills it.  A full teardown removes it, so an attempt that
	 * fails after the allocation (AUTHENTICATION_FAILED, NO_PROPOSAL_CHOSEN)
	 * leaves nothing for net.core.xfrm_acq_expires seconds. */
	bool has_larval;
	struct xfrm_sa_id larval;
	/* The installed Child SA's negotiated choices (no keys), for status. */
	struct ctl_child_rec {
		uint16_t encr_id, encr_key_bits, integ_id;   /* IANA numbers; 0 = none */
		bool encap;
		uint32_t soft_lifetime_s;
	} child;
	struct sockaddr_storage local, remote;
	int ifindex;                      /* interface toward the server */
	struct ike_act_config assigned;   /* the server's CFG_REPLY */
	bool have_assigned;
	struct ctl_installed inst;
	/* Lifecycle (ctl/lifecycle.c): reconnecting after an unplanned loss,
	 * and the inbound SA's counters for liveness checks. */
	bool reasserting, no_reconnect;
	uint64_t reconnect_at_ms;
	uint32_t backoff_ms;
	unsigned reconnects;
	uint32_t rx_spi;
	uint64_t rx_packets;
	uint32_t tx_spi;
	uint64_t tx_packets;
	uint64_t rx_moved_ms, poll_ms;    /* last inbound ESP seen; last counter poll */
	bool path_changed;                /* reconnect from the new address */
	/* Re-authentication (ctl/reauth.c, RFC 4478): a second IKE SA for
	 * this connection is made before the first is deleted. */
	struct ctl_reauth {
		struct ike_sa *sa;            /* the new IKE SA while it comes up */
		struct ike_sa *old;           /* the replaced one while its DELETE goes */
		uint64_t tried_for;           /* the deadline the attempts are for */
		uint64_t retry_at_ms;         /* another attempt after a failure; 0 = none */
		unsigned tries;               /* attempts for tried_for */
		bool same;                    /* same VIPs and selectors: SAs only */
		bool switched;                /* installed in full (they differed) */
		bool has_larval;
		struct xfrm_sa_id larval;
		size_t n_sas;
		struct xfrm_sa_id sas[2];
		struct ike_act_config assigned;
		bool have_assigned;
		struct ctl_child_rec child;
		unsigned done, failed;        /* completed and failed attempts */
	} reauth;
	/* IncludeAllNetworks block policies (block.c); NULL = none.  They
	 * outlive c->inst: kept while reasserting. */
	struct ctl_blocks *blocks;
	/* Path watching (lifecycle.c, mobike.c): the local address last
	 * handed to ike_path_changed while a MOBIKE move is under way
	 * (family 0: none since the last move), and "no route to the
	 * server" already reported. */
	struct sockaddr_storage path_reported;
	bool path_lost;
};

/* Socket slots: [v4 500, v4 4500, v6 500, v6 4500]. */
#define CTL_NSOCK 4

struct ctl_daemon {
	struct ctl_loop loop;
	struct xfrm_handle *xh;
	struct xfrm_events *xev;
	int sock[CTL_NSOCK];
	int timer_fd;
	int signal_fd;
	struct ctl_keylog keylog;
	struct ctl_conn conns[CTL_MAX_CONNS];
	bool stopping;                    /* SIGTERM seen: disconnect all, exit */
	uint64_t stop_deadline_ms;        /* give up waiting for DELETE replies */
	bool oneshot;
	int exit_code;
	/* Called on every status change (the control socket's watchers). */
	void (*on_status)(struct ctl_daemon *d, struct ctl_conn *c);
	void *user;                       /* for on_status's owner; ctl/conn.c never reads it */
	/* The network watcher (lifecycle.c): rtnetlink link/address/route
	 * changes, and when the debounced path check is due (0 = none). */
	struct xfrm_rtmon *rtmon;
	uint64_t path_check_ms, path_first_ms;
};

/* Open the loop, netlink, IKE sockets, timer and signals; flush what a
 * previous pvpnd left in the kernel.  d must be zero-initialised (static
 * storage or calloc): clearing it here would dirty every page of it. */
int ctl_daemon_init(struct ctl_daemon *d, const char *keylog_path, struct pvpn_err *e);
void ctl_daemon_free(struct ctl_daemon *d);
/* Take a copy of the profile and start connecting it under name. */
int ctl_conn_start(struct ctl_daemon *d, const char *name, const struct prof_profile *p,
		   struct ctl_conn **out, struct pvpn_err *e);
struct ctl_conn *ctl_conn_find(struct ctl_daemon *d, const char *name);
/* Send DELETE and tear down (the teardown finishes in the loop). */
int ctl_conn_stop(struct ctl_daemon *d, struct ctl_conn *c);
/* Run until stopped; returns the exit code (one-shot semantics). */
int ctl_daemon_run(struct ctl_daemon *d);

/* --- crash leftovers outside XFRM (state.c) ------------------------------ */

#define CTL_STATE_DIR_DEFAULT "/run/pvpn"
/* Where the state files live (NULL: the default); for tests and daemons
 * with their own runtime directory. */
void ctl_state_set_dir(const char *dir);
/* Record c's virtual IPs and routes for this network namespace and name. */
int ctl_state_save(const char *name, const struct ctl_installed *in);
void ctl_state_forget(const char *name);
/* Remove what a crashed pvpnd recorded under name; the count removed. */
int ctl_state_cleanup(struct xfrm_handle *h, const char *name);

/* Block policies (block.c), in their own file NAME.blocks: they outlive
 * the connection's SAs and routes while it reasserts, so the per-start
 * cleanup above must not touch them.  n = 0 removes the file. */
int ctl_state_save_blocks(const char *name, const struct xfrm_policy *pols, size_t n);
void ctl_state_forget_blocks(const char *name);
/* Remove the block policies a crashed pvpnd recorded under name; the count. */
int ctl_state_cleanup_blocks(struct xfrm_handle *h, const char *name);
/* Forget every block file of this network namespace (after the start-up
 * flush took their policies). */
void ctl_state_forget_all_blocks(void);
/* At start-up: remove what every state file of this network namespace
 * recorded (a crashed pvpnd's virtual IPs and routes, whatever the
 * connection's name) and forget the block files; the count removed. */
int ctl_state_cleanup_all(struct xfrm_handle *h);
/* One line of that file ("block out drop 10000 0.0.0.0/0 0.0.0.0/0 0 0"); 0 or -EINVAL. */
int ctl_state_parse_block(const char *line, struct xfrm_policy *p);

/* --- IncludeAllNetworks block policies (block.c) ------------------------- */

struct ctl_blocks;
/* One of policy/'s block rules as an XFRM policy (no template: allow =
 * bypass in clear, drop = discard). */
int ctl_block_translate(const struct prof_block_rule *r, struct xfrm_policy *out,
			struct pvpn_err *e);
/* All block policies for profile p in environment env (none when
 * IncludeAllNetworks is off). */
int ctl_block_policies(const struct prof_profile *p, const struct prof_env *env,
		       struct xfrm_policy *out, size_t max, size_t *n_out, struct pvpn_err *e);
/* The environment the rules depend on: the server's address (c->remote)
 * and, with ExcludeLocalNetworks, the connected prefixes of the host. */
void ctl_block_env(const struct ctl_conn *c, struct prof_env *env);
/* Install (or bring up to date) c's block policies; removes them when the
 * profile has IncludeAllNetworks off.  Before the first IKE packet. */
int ctl_block_up(struct ctl_daemon *d, struct ctl_conn *c, struct pvpn_err *e);
/* Remove them: the connection ended for good. */
void ctl_block_down(struct ctl_daemon *d, struct ctl_conn *c);
bool ctl_block_active(const struct ctl_conn *c);
size_t ctl_block_count(const struct ctl_conn *c);

/* --- one-shot mode (oneshot.c) ----------------------------------------- */
int ctl_oneshot(const struct ctl_opts *o);

#endif
