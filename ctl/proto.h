/* proto.h — pvpn's control protocol (ctl/ internal): the framed, versioned
 * request/response protocol between the `pvpn` CLI and `pvpnd` over a unix
 * stream socket, its status event stream, the status/error vocabulary
 * (NEVPNStatus, NEVPNConnectionError), a small JSON writer and the control
 * socket server.  The wire format is documented in docs/control-protocol.md.
 *
 * Frame (all integers big-endian):
 *   u32 length            bytes that follow, CTL_HDR_LEN..CTL_FRAME_MAX
 *   u8  version           CTL_PROTO_VERSION
 *   u8  kind              CTL_KIND_REQUEST / _REPLY / _EVENT
 *   u16 op                CTL_OP_* (an event carries CTL_EV_*)
 *   u32 seq               chosen by the client, echoed in the reply
 *   attributes            until the end of the frame:
 *     u16 type, u32 len, len bytes of value
 * Every request is decoded through lib/reader.h and validated completely
 * before anything acts on it. */
#ifndef PVPN_CTL_PROTO_H
#define PVPN_CTL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/err.h"
#include "policy/profile.h"

#define CTL_PROTO_VERSION 1
#define CTL_HDR_LEN 8                 /* version, kind, op, seq */
#define CTL_FRAME_MAX (64 * 1024)     /* the most a frame may carry after its length */
#define CTL_ATTR_HDR 6
#define CTL_TEXT_MAX (CTL_FRAME_MAX - 256) /* longest profile text in a save */

enum ctl_kind {
	CTL_KIND_REQUEST = 1,
	CTL_KIND_REPLY = 2,
	CTL_KIND_EVENT = 3,
};

enum ctl_op {
	CTL_OP_SAVE = 1,        /* NAME, TEXT */
	CTL_OP_LOAD = 2,        /* NAME -> TEXT (secrets redacted) */
	CTL_OP_REMOVE = 3,      /* NAME */
	CTL_OP_LIST = 4,        /* -> PROFILE* */
	CTL_OP_CONNECT = 5,     /* NAME -> CONN */
	CTL_OP_DISCONNECT = 6,  /* NAME -> CONN */
	CTL_OP_STATUS = 7,      /* [NAME] -> CONN* */
	CTL_OP_WATCH = 8,       /* -> CONN* now, then CTL_EV_STATUS events */
	CTL_OP_LAST_ERROR = 9,  /* NAME -> CONN */
	CTL_OP_MAX_ = 9,
};

enum ctl_event { CTL_EV_STATUS = 1 };  /* CONN */

/* Attribute types.  Requests may carry only NAME and TEXT. */
enum ctl_attr {
	CTL_A_NAME = 1,         /* string: a profile name */
	CTL_A_TEXT = 2,         /* string: profile text */
	CTL_A_RESULT = 3,       /* u32: enum ctl_result (replies) */
	CTL_A_ERROR = 4,        /* string: NEVPNConnectionError-style name or "badRequest" */
	CTL_A_MESSAGE = 5,      /* string: a sentence for a person */
	CTL_A_PROFILE = 6,      /* nested: NAME, OK, MESSAGE */
	CTL_A_OK = 7,           /* u8 */
	CTL_A_CONN = 8,         /* nested: a struct ctl_conn_info */
	/* inside CONN */
	CTL_A_STATUS = 20,      /* u8 enum ctl_vpn_status */
	CTL_A_VPN_ERROR = 21,   /* u8 enum ctl_vpn_error */
	CTL_A_DETAIL = 22,      /* string */
	CTL_A_SERVER = 23,      /* string: host as in the profile */
	CTL_A_SERVER_ADDR = 24, /* string */
	CTL_A_LOCAL_ADDR = 25,  /* string */
	CTL_A_SINCE = 26,       /* u64 unix seconds connected since */
	CTL_A_VIP = 27,         /* string, repeated */
	CTL_A_DNS = 28,         /* string, repeated */
	CTL_A_CHILD = 29,       /* nested */
	CTL_A_ERROR_TIME = 30,  /* u64 unix seconds of the last error */
	/* inside CHILD */
	CTL_A_SPI_IN = 40,      /* u32 */
	CTL_A_SPI_OUT = 41,     /* u32 */
	CTL_A_ENCR = 42,        /* string: kernel algorithm name */
	CTL_A_INTEG = 43,       /* string */
	CTL_A_KEYBITS = 44,     /* u32 */
	CTL_A_ENCAP = 45,       /* u8 */
	CTL_A_TS_LOCAL = 46,    /* string, repeated */
	CTL_A_TS_REMOTE = 47,   /* string, repeated */
	CTL_A_BYTES_IN = 48,    /* u64 */
	CTL_A_PACKETS_IN = 49,
	CTL_A_BYTES_OUT = 50,
	CTL_A_PACKETS_OUT = 51,
	CTL_A_REKEY_S = 52,     /* u64 seconds until the next rekey; absent = unknown */
	CTL_A_ADDED = 53,       /* u64 unix seconds the SA was installed */
};

/* A reply's result; the CLI's exit code is the same number. */
enum ctl_result {
	CTL_RES_OK = 0,
	CTL_RES_FAILED = 1,     /* the operation failed */
	CTL_RES_INVALID = 2,    /* bad request, bad profile, no such profile */
};

/* NEVPNStatus. */
enum ctl_vpn_status {
	CTL_ST_INVALID = 0,
	CTL_ST_DISCONNECTED = 1,
	CTL_ST_CONNECTING = 2,
	CTL_ST_CONNECTED = 3,
	CTL_ST_REASSERTING = 4,
	CTL_ST_DISCONNECTING = 5,
	CTL_ST_MAX_ = 5,
};

/* NEVPNConnectionError, with Apple's numbers (and 0 = none). */
enum ctl_vpn_error {
	CTL_VE_NONE = 0,
	CTL_VE_OVERSLEPT = 1,
	CTL_VE_NO_NETWORK = 2,
	CTL_VE_UNRECOVERABLE_NETWORK_CHANGE = 3,
	CTL_VE_CONFIGURATION_FAILED = 4,
	CTL_VE_SERVER_ADDRESS_RESOLUTION_FAILED = 5,
	CTL_VE_SERVER_NOT_RESPONDING = 6,
	CTL_VE_SERVER_DEAD = 7,
	CTL_VE_AUTHENTICATION_FAILED = 8,
	CTL_VE_CLIENT_CERT_INVALID = 9,
	CTL_VE_CLIENT_CERT_NOT_YET_VALID = 10,
	CTL_VE_CLIENT_CERT_EXPIRED = 11,
	CTL_VE_PLUGIN_FAILED = 12,
	CTL_VE_CONFIGURATION_NOT_FOUND = 13,
	CTL_VE_PLUGIN_DISABLED = 14,
	CTL_VE_NEGOTIATION_FAILED = 15,
	CTL_VE_SERVER_DISCONNECTED = 16,
	CTL_VE_SERVER_CERT_INVALID = 17,
	CTL_VE_SERVER_CERT_NOT_YET_VALID = 18,
	CTL_VE_SERVER_CERT_EXPIRED = 19,
	CTL_VE_MAX_ = 19,
};

const char *ctl_status_str(enum ctl_vpn_status s);      /* "connected" */
const char *ctl_vpn_error_str(enum ctl_vpn_error e);    /* "authenticationFailed" */
const char *ctl_vpn_error_sentence(enum ctl_vpn_error e); /* "The server refused ..." */
const char *ctl_op_str(enum ctl_op op);                 /* "connect", NULL if unknown */

/* --- status information --------------------------------------------- */

#define CTL_MAX_TS_STR 8
#define CTL_ADDR_STR 64
#define CTL_MAX_CHILD 2
#define CTL_MAX_VIP 2
#define CTL_MAX_DNS_STR 4
#define CTL_DETAIL_MAX 256
#define CTL_ALG_STR 64

struct ctl_child_info {
	uint32_t spi_in, spi_out;
	char encr[CTL_ALG_STR];         /* kernel name, "" unknown */
	char integ[CTL_ALG_STR];        /* "" for AEAD / unknown */
	uint32_t keybits;
	bool encap;
	uint8_t n_ts_local, n_ts_remote;
	char ts_local[CTL_MAX_TS_STR][CTL_ADDR_STR];
	char ts_remote[CTL_MAX_TS_STR][CTL_ADDR_STR];
	uint64_t bytes_in, packets_in, bytes_out, packets_out;
	bool has_rekey;
	uint64_t rekey_s;               /* seconds to the next rekey */
	uint64_t added;                 /* unix seconds */
};

struct ctl_conn_info {
	char name[PROF_NAME_MAX];
	enum ctl_vpn_status status;
	enum ctl_vpn_error error;
	char detail[CTL_DETAIL_MAX];    /* the underlying reason (notify, kernel message) */
	uint64_t error_time;            /* unix seconds, 0 none */
	char server[PROF_HOST_MAX];
	char server_addr[CTL_ADDR_STR];
	char local_addr[CTL_ADDR_STR];
	uint64_t since;                 /* connected since, unix seconds; 0 = not */
	uint8_t n_vip, n_dns;
	char vip[CTL_MAX_VIP][CTL_ADDR_STR];
	char dns[CTL_MAX_DNS_STR][CTL_ADDR_STR];
	uint8_t n_child;
	struct ctl_child_info child[CTL_MAX_CHILD];
};

/* --- requests ---------------------------------------------------------- */

struct ctl_request {
	uint16_t op;
	uint32_t seq;
	bool has_name;
	char name[PROF_NAME_MAX];
	const char *text;               /* borrowed from the frame, not NUL-terminated; NULL when absent */
	size_t text_len;
};

/* Decode one frame's body (after the u32 length: version..attributes).
 * Every field is checked: version, kind, op, attribute types allowed for
 * the op, attribute lengths, duplicates, the name (prof_name_check), the
 * text (no NUL bytes, at most CTL_TEXT_MAX).  On failure returns -EINVAL
 * (-EPROTONOSUPPORT for a version, -EOPNOTSUPP for an unknown op) with the
 * reason in e; *seq_out gets the seq whenever the header could be read
 * (so the error reply can carry it), else 0. */
int ctl_request_decode(const uint8_t *body, size_t len, struct ctl_request *out,
		       uint32_t *seq_out, struct pvpn_err *e);

/* --- building frames ----------------------------------------------------- */

#define CTL_MSG_NEST_MAX 4

struct ctl_msg {
	uint8_t *buf;
	size_t cap, len;
	bool overflow;
	size_t nest[CTL_MSG_NEST_MAX];  /* offsets of open nested attributes' length */
	int depth;
};

/* Start a frame in buf (cap bytes, at most 4 + CTL_FRAME_MAX useful). */
void ctl_msg_begin(struct ctl_msg *m, void *buf, size_t cap, enum ctl_kind kind, uint16_t op,
		   uint32_t seq);
void ctl_msg_bytes(struct ctl_msg *m, uint16_t type, const void *p, size_t n);
void ctl_msg_str(struct ctl_msg *m, uint16_t type, const char *s);
void ctl_msg_u8(struct ctl_msg *m, uint16_t type, uint8_t v);
void ctl_msg_u32(struct ctl_msg *m, uint16_t type, uint32_t v);
void ctl_msg_u64(struct ctl_msg *m, uint16_t type, uint64_t v);
void ctl_msg_nest_begin(struct ctl_msg *m, uint16_t type);
void ctl_msg_nest_end(struct ctl_msg *m);
void ctl_msg_conn(struct ctl_msg *m, const struct ctl_conn_info *ci);
/* Close the frame (writes the length); the frame's size, or -EMSGSIZE. */
int ctl_msg_finish(struct ctl_msg *m);

/* Convenience: a whole request frame into buf; its size or -EMSGSIZE. */
int ctl_request_encode(const struct ctl_request *rq, void *buf, size_t cap);
/* An error reply (result, error name, message). */
int ctl_error_encode(void *buf, size_t cap, uint16_t op, uint32_t seq, enum ctl_result res,
		     const char *error, const char *msg);

/* --- replies and events (decoded by the CLI) ---------------------------- */

#define CTL_MAX_LIST 256
#define CTL_MAX_CONN_INFO 64

struct ctl_list_entry {
	char name[PROF_NAME_MAX];
	bool ok;
	char message[PVPN_ERR_MSG_MAX];
};

struct ctl_reply {
	uint8_t kind;                   /* REPLY or EVENT */
	uint16_t op;
	uint32_t seq;
	uint32_t result;
	char error[64];
	char message[PVPN_ERR_MSG_MAX + 64];
	const char *text;               /* borrowed from the frame */
	size_t text_len;
	size_t n_list;
	struct ctl_list_entry *list;    /* malloc'd, CTL_MAX_LIST */
	size_t n_conn;
	struct ctl_conn_info *conn;     /* malloc'd, CTL_MAX_CONN_INFO */
};

/* Decode a reply or event body (daemon's bytes are checked as strictly as
 * a request; unknown attributes are skipped for forward compatibility).
 * r must be zeroed or freed before; ctl_reply_free releases it. */
int ctl_reply_decode(const uint8_t *body, size_t len, struct ctl_reply *r, struct pvpn_err *e);
void ctl_reply_free(struct ctl_reply *r);

/* Map the connection manager's outcome to NEVPNConnectionError:
 * ike_err is an enum ike_error value, code/msg the daemon's last error. */
enum ctl_vpn_error ctl_vpn_error_from(int ike_err, int code, const char *msg);

/* --- JSON writer (json.c) ------------------------------------------------ */

#define CTL_JSON_DEPTH 16

struct ctl_json {
	FILE *f;
	int depth;
	bool need_comma[CTL_JSON_DEPTH];
	bool pretty;
};

void ctl_json_init(struct ctl_json *j, FILE *f, bool pretty);
/* key is NULL inside arrays and at the top. */
void ctl_json_obj_begin(struct ctl_json *j, const char *key);
void ctl_json_obj_end(struct ctl_json *j);
void ctl_json_arr_begin(struct ctl_json *j, const char *key);
void ctl_json_arr_end(struct ctl_json *j);
void ctl_json_str(struct ctl_json *j, const char *key, const char *v);
void ctl_json_strn(struct ctl_json *j, const char *key, const char *v, size_t n);
void ctl_json_u64(struct ctl_json *j, const char *key, uint64_t v);
void ctl_json_bool(struct ctl_json *j, const char *key, bool v);
void ctl_json_null(struct ctl_json *j, const char *key);
/* Finish the document (a newline). */
void ctl_json_end(struct ctl_json *j);

/* --- the control socket server (server.c) -------------------------------- */

struct ctl_loop;
struct ctl_server;
struct ctl_client;

/* Called for each decoded, validated request. */
typedef void (*ctl_server_handler)(void *ctx, struct ctl_server *s, struct ctl_client *cl,
				   const struct ctl_request *rq);

struct ctl_server_cfg {
	const char *path;
	unsigned mode;                  /* 0660 */
	int gid;                        /* -1: keep; else chown the socket and allow it */
	size_t max_clients;             /* beyond: refused with an error frame */
	size_t out_max;                 /* a client's unsent output beyond this: dropped */
	unsigned stall_ms;              /* a partial frame or unsent output this old: dropped */
	unsigned idle_ms;               /* a non-watching client silent this long: dropped */
	ctl_server_handler handler;
	void *ctx;
};

#define CTL_SRV_MAX_CLIENTS 24
#define CTL_SRV_OUT_MAX (256 * 1024)
#define CTL_SRV_STALL_MS 5000
#define CTL_SRV_IDLE_MS 60000

void ctl_server_cfg_defaults(struct ctl_server_cfg *c);
/* Create the socket (parent folder made 0755 if missing; a stale socket
 * replaced, a live one refused), listen, and watch it in loop. */
int ctl_server_open(struct ctl_server **out, struct ctl_loop *loop,
		    const struct ctl_server_cfg *cfg, struct pvpn_err *e);
void ctl_server_close(struct ctl_server *s);
/* Queue a finished frame to one client (dropped if over its bound). */
int ctl_server_send(struct ctl_server *s, struct ctl_client *cl, const void *frame, size_t len);
/* Mark a client as a watcher: it receives ctl_server_broadcast()'s frames. */
void ctl_server_set_watch(struct ctl_client *cl, bool on);
void ctl_server_broadcast(struct ctl_server *s, const void *frame, size_t len);
size_t ctl_server_n_clients(const struct ctl_server *s);
/* The peer's uid (SO_PEERCRED). */
unsigned ctl_client_uid(const struct ctl_client *cl);

/* --- status (status.c) and daemon mode (server_daemon.c) ------------------- */

struct ctl_daemon;
struct ctl_conn;
/* Fill ci from a connection (counters read from the kernel now). */
void ctl_status_collect(struct ctl_daemon *d, const struct ctl_conn *c, uint64_t error_time,
			struct ctl_conn_info *ci);

struct ctl_opts;
/* pvpnd without --profile: the control socket over the connection manager
 * until SIGTERM.  Returns the exit code. */
int ctl_daemon_mode(const struct ctl_opts *o);

/* --- systemd notify (sdnotify.c) ------------------------------------------ */

/* Send state ("READY=1", "STOPPING=1") to $NOTIFY_SOCKET; 0 when unset. */
int ctl_sd_notify(const char *state);

/* --- the CLI (cli.c) -------------------------------------------------------- */

enum ctl_cli_verb {
	CLI_SAVE = 1, CLI_LOAD, CLI_REMOVE, CLI_LIST, CLI_CONNECT, CLI_DISCONNECT,
	CLI_STATUS, CLI_WATCH, CLI_LAST_ERROR, CLI_HELP, CLI_VERSION,
};

struct ctl_cli_args {
	const char *socket;
	bool json;
	enum ctl_cli_verb verb;
	const char *name;
	const char *file;               /* save: FILE or "-" */
	bool wait;
};

/* Exit codes. */
enum { CLI_EXIT_OK = 0, CLI_EXIT_FAILED = 1, CLI_EXIT_USAGE = 2, CLI_EXIT_NO_DAEMON = 3 };

int ctl_cli_parse(int argc, char **argv, struct ctl_cli_args *a, struct pvpn_err *e);
const char *ctl_cli_usage(void);
int ctl_cli_main(int argc, char **argv);

/* Output (exposed for tests). */
void ctl_cli_print_conn(FILE *f, const struct ctl_conn_info *ci, uint64_t now_wall);
void ctl_cli_json_conn(struct ctl_json *j, const char *key, const struct ctl_conn_info *ci);
void ctl_cli_print_list(FILE *f, const struct ctl_list_entry *l, size_t n);
void ctl_cli_print_status_table(FILE *f, const struct ctl_conn_info *ci, size_t n);
/* "1h 2m 3s" */
void ctl_cli_duration(char *buf, size_t len, uint64_t s);

#endif
