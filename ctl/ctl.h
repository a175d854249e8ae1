/* ctl.h — the public header of ctl/, the composition root: pvpnd's event
 * loop, its connection manager (which joins ike-lite, kernel-xfrm and
 * policy), the key log and the command line.  Later the control socket
 * and the pvpn CLI live here too. */
#ifndef PVPN_CTL_H
#define PVPN_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

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
 * Format, one block per SA, appended atomically:
 *   # ike-sa <profile>            or   # child-sa <profile>
 *   spi_i=<hex>                   IKE: the initiator's SPI (8 bytes);
 *   spi_r=<hex>                   Child: the SPI the initiator chose (its
 *   name=<hex>...                 inbound), spi_r the responder's
 *   <empty line>
 * with the names of tests/fixtures/.../keys.txt (sk_d, sk_ai, sk_ar, sk_ei,
 * sk_er, sk_pi, sk_pr; esp_enc_i, esp_enc_r, esp_integ_i, esp_integ_r). */

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

#endif
