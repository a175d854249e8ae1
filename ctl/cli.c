/* cli.c — `pvpn`, the command line over pvpnd's control socket
 * (docs/pvpn.8).  One verb per run; secrets only ever travel from a file
 * or stdin to the socket, never through argv or to the terminal.
 * Exit codes: 0 ok, 1 the operation failed, 2 usage or profile error,
 * 3 the daemon is not running. */
#define _GNU_SOURCE 1
#include "ctl/proto.h"
#include "ctl/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/secret.h"

#ifndef PVPN_VERSION
#define PVPN_VERSION "0.1"
#endif

#define CLI_REPLY_TIMEOUT_MS 15000
#define CLI_WAIT_TIMEOUT_MS 300000

const char *ctl_cli_usage(void)
{
	return "usage: pvpn [--socket PATH] [--json] COMMAND\n"
	       "\n"
	       "  save NAME FILE|-       store a profile (from FILE or stdin)\n"
	       "  load NAME              show a stored profile, secrets redacted\n"
	       "  remove NAME            delete a stored profile (disconnects it)\n"
	       "  list                   the stored profiles\n"
	       "  connect NAME [--wait]  start a tunnel; --wait follows it until up or failed\n"
	       "  disconnect NAME        stop a tunnel\n"
	       "  status [NAME]          every profile's status, or one in detail\n"
	       "  watch                  print status changes as they happen\n"
	       "  last-error NAME        why NAME's last connection failed or ended\n"
	       "\n"
	       "  -s, --socket PATH      control socket (default $PVPN_SOCKET or " CTL_SOCKET_DEFAULT ")\n"
	       "  -j, --json             machine-readable output\n"
	       "  -h, --help             this text\n"
	       "  -V, --version          the version\n"
	       "\n"
	       "Exit status: 0 ok, 1 the operation failed, 2 usage or profile error,\n"
	       "3 pvpnd is not running.\n";
}

static const struct {
	const char *name;
	enum ctl_cli_verb verb;
	int min_args, max_args;
} verbs[] = {
	{ "save", CLI_SAVE, 2, 2 },         { "load", CLI_LOAD, 1, 1 },
	{ "remove", CLI_REMOVE, 1, 1 },     { "list", CLI_LIST, 0, 0 },
	{ "connect", CLI_CONNECT, 1, 1 },   { "disconnect", CLI_DISCONNECT, 1, 1 },
	{ "status", CLI_STATUS, 0, 1 },     { "watch", CLI_WATCH, 0, 0 },
	{ "last-error", CLI_LAST_ERROR, 1, 1 }, { "help", CLI_HELP, 0, 0 },
	{ "version", CLI_VERSION, 0, 0 },
};

int ctl_cli_parse(int argc, char **argv, struct ctl_cli_args *a, struct pvpn_err *e)
{
	const char *pos[4];
	int npos = 0;
	bool opts_done = false;
	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		if (!opts_done && s[0] == '-' && s[1] != '\0') {
			if (!strcmp(s, "--")) {
				opts_done = true;
			} else if (!strcmp(s, "--json") || !strcmp(s, "-j")) {
				a->json = true;
			} else if (!strcmp(s, "--wait") || !strcmp(s, "-w")) {
				a->wait = true;
			} else if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
				a->verb = CLI_HELP;
				return 0;
			} else if (!strcmp(s, "--version") || !strcmp(s, "-V")) {
				a->verb = CLI_VERSION;
				return 0;
			} else if (!strcmp(s, "--socket") || !strcmp(s, "-s")) {
				if (i + 1 >= argc || !argv[i + 1][0])
					return err_set(e, -EINVAL, "%s needs a path", s);
				a->socket = argv[++i];
			} else if (!strncmp(s, "--socket=", 9) && s[9]) {
				a->socket = s + 9;
			} else {
				return err_set(e, -EINVAL, "unknown option %s", s);
			}
			continue;
		}
		if (npos >= 4)
			return err_set(e, -EINVAL, "too many arguments");
		pos[npos++] = s;
	}
	if (npos == 0)
		return err_set(e, -EINVAL, "no command given");
	size_t k;
	for (k = 0; k < sizeof(verbs) / sizeof(verbs[0]); k++)
		if (!strcmp(pos[0], verbs[k].name))
			break;
	if (k == sizeof(verbs) / sizeof(verbs[0]))
		return err_set(e, -EINVAL, "unknown command '%s'", pos[0]);
	a->verb = verbs[k].verb;
	int nargs = npos - 1;
	if (nargs < verbs[k].min_args)
		return err_set(e, -EINVAL, "%s needs %s", verbs[k].name,
			       a->verb == CLI_SAVE ? "a NAME and a FILE (or - for stdin)" : "a NAME");
	if (nargs > verbs[k].max_args)
		return err_set(e, -EINVAL, "too many arguments for %s", verbs[k].name);
	if (a->wait && a->verb != CLI_CONNECT)
		return err_set(e, -EINVAL, "--wait goes with connect only");
	if (nargs >= 1) {
		a->name = pos[1];
		struct pvpn_err ne = { 0 };
		if (prof_name_check(a->name, &ne) < 0)
			return err_set(e, -EINVAL, "%s", ne.msg);
	}
	if (nargs >= 2)
		a->file = pos[2];
	if (!a->socket) {
		const char *env = getenv("PVPN_SOCKET");
		a->socket = env && *env ? env : CTL_SOCKET_DEFAULT;
	}
	return 0;
}

/* --- output ------------------------------------------------------------- */

void ctl_cli_duration(char *buf, size_t len, uint64_t s)
{
	uint64_t d = s / 86400, h = (s / 3600) % 24, m = (s / 60) % 60, sec = s % 60;
	if (d)
		snprintf(buf, len, "%" PRIu64 "d %" PRIu64 "h %" PRIu64 "m", d, h, m);
	else if (h)
		snprintf(buf, len, "%" PRIu64 "h %" PRIu64 "m %" PRIu64 "s", h, m, sec);
	else if (m)
		snprintf(buf, len, "%" PRIu64 "m %" PRIu64 "s", m, sec);
	else
		snprintf(buf, len, "%" PRIu64 "s", sec);
}

static void time_str(char *buf, size_t len, uint64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, len, "%" PRIu64, t);
}

static void print_list_line(FILE *f, const char *label, const char (*items)[CTL_ADDR_STR],
			    size_t n)
{
	fprintf(f, "  %-12s", label);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? ", " : "", items[i]);
	fputc('\n', f);
}

static void print_bytes(char *buf, size_t len, uint64_t b)
{
	if (b >= 10ull * 1024 * 1024 * 1024)
		snprintf(buf, len, "%" PRIu64 " GiB", b >> 30);
	else if (b >= 10ull * 1024 * 1024)
		snprintf(buf, len, "%" PRIu64 " MiB", b >> 20);
	else if (b >= 10ull * 1024)
		snprintf(buf, len, "%" PRIu64 " KiB", b >> 10);
	else
		snprintf(buf, len, "%" PRIu64 " B", b);
}

void ctl_cli_print_conn(FILE *f, const struct ctl_conn_info *ci, uint64_t now_wall)
{
	char b[128], d[64];
	fprintf(f, "%s: %s\n", ci->name, ctl_status_str(ci->status));
	if (ci->server[0]) {
		if (ci->server_addr[0] && strcmp(ci->server, ci->server_addr))
			fprintf(f, "  %-12s%s (%s)\n", "server", ci->server, ci->server_addr);
		else
			fprintf(f, "  %-12s%s\n", "server", ci->server);
	}
	if (ci->local_addr[0] && ci->status != CTL_ST_DISCONNECTED)
		fprintf(f, "  %-12s%s\n", "local", ci->local_addr);
	if (ci->since) {
		time_str(b, sizeof(b), ci->since);
		ctl_cli_duration(d, sizeof(d), now_wall > ci->since ? now_wall - ci->since : 0);
		fprintf(f, "  %-12s%s (%s)\n", "since", b, d);
	}
	if (ci->n_vip)
		print_list_line(f, "virtual IP", ci->vip, ci->n_vip);
	if (ci->n_dns)
		print_list_line(f, "DNS", ci->dns, ci->n_dns);
	for (size_t i = 0; i < ci->n_child; i++) {
		const struct ctl_child_info *c = &ci->child[i];
		char bi[32], bo[32];
		fprintf(f, "  child SA    SPIs in %08x out %08x%s\n", c->spi_in, c->spi_out,
			c->encap ? ", UDP-encapsulated" : "");
		if (c->encr[0])
			fprintf(f, "    %-10s%s%s%s (%u-bit key)\n", "cipher", c->encr,
				c->integ[0] ? " + " : "", c->integ, c->keybits);
		if (c->n_ts_local)
			print_list_line(f, "  local TS", c->ts_local, c->n_ts_local);
		if (c->n_ts_remote)
			print_list_line(f, "  remote TS", c->ts_remote, c->n_ts_remote);
		print_bytes(bi, sizeof(bi), c->bytes_in);
		print_bytes(bo, sizeof(bo), c->bytes_out);
		fprintf(f, "    %-10s%s, %" PRIu64 " packets\n", "in", bi, c->packets_in);
		fprintf(f, "    %-10s%s, %" PRIu64 " packets\n", "out", bo, c->packets_out);
		if (c->has_rekey) {
			ctl_cli_duration(d, sizeof(d), c->rekey_s);
			fprintf(f, "    %-10s%s\n", "rekey in", d);
		}
	}
	if (ci->error != CTL_VE_NONE) {
		fprintf(f, "  %-12s%s: %s\n", "last error", ctl_vpn_error_str(ci->error),
			ctl_vpn_error_sentence(ci->error));
		if (ci->detail[0])
			fprintf(f, "  %-12s%s\n", "detail", ci->detail);
		if (ci->error_time) {
			time_str(b, sizeof(b), ci->error_time);
			fprintf(f, "  %-12s%s\n", "at", b);
		}
	}
}

void ctl_cli_print_status_table(FILE *f, const struct ctl_conn_info *ci, size_t n)
{
	size_t w = 4;
	for (size_t i = 0; i < n; i++)
		if (strlen(ci[i].name) > w)
			w = strlen(ci[i].name);
	fprintf(f, "%-*s  %-13s  %-24s  %s\n", (int)w, "NAME", "STATUS", "SERVER", "VIRTUAL IP");
	for (size_t i = 0; i < n; i++) {
		const char *srv = ci[i].server[0] ? ci[i].server : "-";
		fprintf(f, "%-*s  %-13s  %-24s  %s", (int)w, ci[i].name,
			ctl_status_str(ci[i].status), srv, ci[i].n_vip ? ci[i].vip[0] : "-");
		if (ci[i].error != CTL_VE_NONE && ci[i].status == CTL_ST_DISCONNECTED)
			fprintf(f, "  (last error: %s)", ctl_vpn_error_str(ci[i].error));
		else if (ci[i].status == CTL_ST_INVALID)
			fprintf(f, "  (%s)", ci[i].detail);
		fputc('\n', f);
	}
}

void ctl_cli_print_list(FILE *f, const struct ctl_list_entry *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (l[i].ok)
			fprintf(f, "%s\n", l[i].name);
		else
			fprintf(f, "%s  (invalid: %s)\n", l[i].name, l[i].message);
	}
}

void ctl_cli_json_conn(struct ctl_json *j, const char *key, const struct ctl_conn_info *ci)
{
	ctl_json_obj_begin(j, key);
	ctl_json_str(j, "name", ci->name);
	ctl_json_str(j, "status", ctl_status_str(ci->status));
	if (ci->error != CTL_VE_NONE) {
		ctl_json_str(j, "error", ctl_vpn_error_str(ci->error));
		ctl_json_str(j, "error_message", ctl_vpn_error_sentence(ci->error));
		ctl_json_str(j, "error_detail", ci->detail);
		if (ci->error_time)
			ctl_json_u64(j, "error_time", ci->error_time);
		else
			ctl_json_null(j, "error_time");
	} else {
		ctl_json_null(j, "error");
	}
	ctl_json_str(j, "server", ci->server[0] ? ci->server : NULL);
	ctl_json_str(j, "server_address", ci->server_addr[0] ? ci->server_addr : NULL);
	ctl_json_str(j, "local_address", ci->local_addr[0] ? ci->local_addr : NULL);
	if (ci->since)
		ctl_json_u64(j, "connected_since", ci->since);
	else
		ctl_json_null(j, "connected_since");
	ctl_json_arr_begin(j, "virtual_ips");
	for (size_t i = 0; i < ci->n_vip; i++)
		ctl_json_str(j, NULL, ci->vip[i]);
	ctl_json_arr_end(j);
	ctl_json_arr_begin(j, "dns_servers");
	for (size_t i = 0; i < ci->n_dns; i++)
		ctl_json_str(j, NULL, ci->dns[i]);
	ctl_json_arr_end(j);
	ctl_json_arr_begin(j, "child_sas");
	for (size_t i = 0; i < ci->n_child; i++) {
		const struct ctl_child_info *c = &ci->child[i];
		ctl_json_obj_begin(j, NULL);
		ctl_json_u64(j, "spi_in", c->spi_in);
		ctl_json_u64(j, "spi_out", c->spi_out);
		ctl_json_str(j, "encryption", c->encr[0] ? c->encr : NULL);
		ctl_json_str(j, "integrity", c->integ[0] ? c->integ : NULL);
		if (c->keybits)
			ctl_json_u64(j, "key_bits", c->keybits);
		else
			ctl_json_null(j, "key_bits");
		ctl_json_bool(j, "udp_encapsulation", c->encap);
		ctl_json_arr_begin(j, "local_ts");
		for (size_t k = 0; k < c->n_ts_local; k++)
			ctl_json_str(j, NULL, c->ts_local[k]);
		ctl_json_arr_end(j);
		ctl_json_arr_begin(j, "remote_ts");
		for (size_t k = 0; k < c->n_ts_remote; k++)
			ctl_json_str(j, NULL, c->ts_remote[k]);
		ctl_json_arr_end(j);
		ctl_json_u64(j, "bytes_in", c->bytes_in);
		ctl_json_u64(j, "packets_in", c->packets_in);
		ctl_json_u64(j, "bytes_out", c->bytes_out);
		ctl_json_u64(j, "packets_out", c->packets_out);
		if (c->has_rekey)
			ctl_json_u64(j, "rekey_in_seconds", c->rekey_s);
		else
			ctl_json_null(j, "rekey_in_seconds");
		if (c->added)
			ctl_json_u64(j, "installed_at", c->added);
		ctl_json_obj_end(j);
	}
	ctl_json_arr_end(j);
	ctl_json_obj_end(j);
}

/* --- talking to the daemon -------------------------------------------------- */

struct cli {
	struct ctl_cli_args *a;
	int fd;
	uint32_t seq;
	uint8_t *buf;                   /* 4 + CTL_FRAME_MAX */
	size_t len;                     /* bytes buffered */
	size_t frame_len;               /* the last frame handed out (to discard) */
};

static int cli_connect(struct cli *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(c->a->socket) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "pvpn: socket path too long: %s\n", c->a->socket);
		return CLI_EXIT_USAGE;
	}
	memcpy(sa.sun_path, c->a->socket, strlen(c->a->socket));
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		fprintf(stderr, "pvpn: socket: %s\n", strerror(errno));
		return CLI_EXIT_FAILED;
	}
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;
		if (err == ENOENT || err == ECONNREFUSED || err == ENOTDIR) {
			fprintf(stderr,
				"pvpn: pvpnd is not running (nothing listens on %s).\n"
				"Start it with `systemctl start pvpnd`, or `pvpnd --foreground &` "
				"(add --socket %s if you use another socket).\n",
				c->a->socket, c->a->socket);
			return CLI_EXIT_NO_DAEMON;
		}
		if (err == EACCES || err == EPERM)
			fprintf(stderr, "pvpn: %s: permission denied (run as root or as a member "
				"of the pvpn group)\n", c->a->socket);
		else
			fprintf(stderr, "pvpn: cannot reach pvpnd at %s: %s\n", c->a->socket,
				strerror(err));
		return CLI_EXIT_FAILED;
	}
	return 0;
}

static int send_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int cli_request(struct cli *c, uint16_t op, const char *name, const char *text,
		       size_t text_len, uint32_t *seq_out)
{
	static uint8_t frame[4 + CTL_FRAME_MAX];
	struct ctl_request rq = { .op = op, .seq = ++c->seq };
	if (name) {
		rq.has_name = true;
		snprintf(rq.name, sizeof(rq.name), "%s", name);
	}
	rq.text = text;
	rq.text_len = text_len;
	int n = ctl_request_encode(&rq, frame, sizeof(frame));
	if (n < 0) {
		fprintf(stderr, "pvpn: request too large\n");
		return -EMSGSIZE;
	}
	int rc = send_all(c->fd, frame, (size_t)n);
	/* A save's frame holds the profile's secrets. */
	secret_wipe(frame, (size_t)n);
	if (rc < 0) {
		fprintf(stderr, "pvpn: sending to pvpnd: %s\n", strerror(-rc));
		return rc;
	}
	if (seq_out)
		*seq_out = rq.seq;
	return 0;
}

/* The next frame (reply or event) decoded into r; timeout_ms < 0 waits
 * forever.  0, or a negative errno with a message printed. */
static int cli_next(struct cli *c, struct ctl_reply *r, int timeout_ms)
{
	struct pvpn_err e = { 0 };
	if (c->frame_len) {
		memmove(c->buf, c->buf + c->frame_len, c->len - c->frame_len);
		c->len -= c->frame_len;
		c->frame_len = 0;
	}
	uint64_t deadline = timeout_ms < 0 ? 0 : clock_mono_ms() + (uint64_t)timeout_ms;
	for (;;) {
		if (c->len >= 4) {
			uint32_t fl = (uint32_t)c->buf[0] << 24 | (uint32_t)c->buf[1] << 16 |
				      (uint32_t)c->buf[2] << 8 | c->buf[3];
			if (fl < CTL_HDR_LEN || fl > CTL_FRAME_MAX) {
				fprintf(stderr, "pvpn: the daemon sent a bad frame (length %u)\n", fl);
				return -EPROTO;
			}
			if (c->len >= 4 + (size_t)fl) {
				if (ctl_reply_decode(c->buf + 4, fl, r, &e) < 0) {
					fprintf(stderr, "pvpn: %s\n", e.msg);
					return -EPROTO;
				}
				c->frame_len = 4 + fl;
				return 0;
			}
		}
		int wait = -1;
		if (deadline) {
			uint64_t now = clock_mono_ms();
			if (now >= deadline) {
				fprintf(stderr, "pvpn: pvpnd did not answer in time\n");
				return -ETIMEDOUT;
			}
			wait = (int)(deadline - now);
		}
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		int pr = poll(&pfd, 1, wait);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			continue;
		ssize_t n = recv(c->fd, c->buf + c->len, 4 + CTL_FRAME_MAX - c->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "pvpn: pvpnd closed the connection\n");
			return -ECONNRESET;
		}
		c->len += (size_t)n;
	}
}

/* Wait for the reply to seq (events before it are passed to on_event). */
static int cli_reply(struct cli *c, uint32_t seq, struct ctl_reply *r,
		     void (*on_event)(struct cli *, const struct ctl_reply *, void *), void *arg)
{
	for (;;) {
		int rc = cli_next(c, r, CLI_REPLY_TIMEOUT_MS);
		if (rc < 0)
			return rc;
		if (r->kind == CTL_KIND_EVENT) {
			if (on_event)
				on_event(c, r, arg);
			continue;
		}
		/* seq 0: the daemon refused us before reading (busy, not allowed). */
		if (r->seq == seq || r->seq == 0)
			return 0;
	}
}

static void json_head(struct ctl_json *j)
{
	ctl_json_init(j, stdout, true);
	ctl_json_obj_begin(j, NULL);
	ctl_json_u64(j, "version", CTL_PROTO_VERSION);
}

/* A reply that is not OK: say why; the exit code is the result. */
static int report_failure(struct cli *c, const struct ctl_reply *r)
{
	const char *msg = r->message[0] ? r->message : "the operation failed";
	if (c->a->json) {
		struct ctl_json j;
		json_head(&j);
		ctl_json_str(&j, "result", "error");
		ctl_json_str(&j, "error", r->error[0] ? r->error : "failed");
		ctl_json_str(&j, "message", msg);
		if (r->n_conn)
			ctl_cli_json_conn(&j, "connection", &r->conn[0]);
		ctl_json_obj_end(&j);
		ctl_json_end(&j);
	}
	enum ctl_vpn_error ve = CTL_VE_NONE;
	for (int k = 1; k <= CTL_VE_MAX_; k++)
		if (!strcmp(r->error, ctl_vpn_error_str((enum ctl_vpn_error)k)))
			ve = (enum ctl_vpn_error)k;
	if (ve != CTL_VE_NONE)
		fprintf(stderr, "pvpn: %s: %s\n  %s\n", r->error, ctl_vpn_error_sentence(ve), msg);
	else
		fprintf(stderr, "pvpn: %s\n", msg);
	return r->result == CTL_RES_INVALID ? CLI_EXIT_USAGE : CLI_EXIT_FAILED;
}

static int simple_ok(struct cli *c, const char *what)
{
	if (c->a->json) {
		struct ctl_json j;
		json_head(&j);
		ctl_json_str(&j, "result", "ok");
		ctl_json_str(&j, "name", c->a->name);
		ctl_json_obj_end(&j);
		ctl_json_end(&j);
	} else {
		printf("%s %s\n", what, c->a->name);
	}
	return 0;
}

static int read_profile(const char *file, char **out, size_t *len)
{
	int fd = strcmp(file, "-") ? open(file, O_RDONLY | O_CLOEXEC) : 0;
	if (fd < 0) {
		fprintf(stderr, "pvpn: %s: %s\n", file, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	size_t cap = CTL_TEXT_MAX + 1, n = 0;
	char *buf = malloc(cap);
	if (!buf) {
		if (fd)
			close(fd);
		return CLI_EXIT_FAILED;
	}
	for (;;) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "pvpn: reading %s: %s\n", file, strerror(errno));
			goto bad;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == cap) {
			fprintf(stderr, "pvpn: %s: profile larger than %d bytes\n", file, CTL_TEXT_MAX);
			goto bad;
		}
	}
	if (fd)
		close(fd);
	*out = buf;
	*len = n;
	return 0;
bad:
	secret_wipe(buf, cap);
	free(buf);
	if (fd)
		close(fd);
	return CLI_EXIT_USAGE;
}

static int do_save(struct cli *c, struct ctl_reply *r)
{
	char *text = NULL;
	size_t len = 0;
	uint32_t seq;
	int rc = read_profile(c->a->file, &text, &len);
	if (rc)
		return rc;
	rc = cli_request(c, CTL_OP_SAVE, c->a->name, text, len, &seq);
	secret_wipe(text, len);
	free(text);
	if (rc < 0 || cli_reply(c, seq, r, NULL, NULL) < 0)
		return CLI_EXIT_FAILED;
	if (r->result != CTL_RES_OK)
		return report_failure(c, r);
	return simple_ok(c, "saved");
}

static int do_simple(struct cli *c, struct ctl_reply *r, uint16_t op)
{
	uint32_t seq;
	if (cli_request(c, op, c->a->name, NULL, 0, &seq) < 0 || cli_reply(c, seq, r, NULL, NULL) < 0)
		return CLI_EXIT_FAILED;
	if (r->result != CTL_RES_OK)
		return report_failure(c, r);
	return 0;
}

static void event_line(struct cli *c, const struct ctl_conn_info *ci)
{
	if (c->a->json) {
		struct ctl_json j;
		ctl_json_init(&j, stdout, false);
		ctl_json_obj_begin(&j, NULL);
		ctl_json_u64(&j, "version", CTL_PROTO_VERSION);
		ctl_json_str(&j, "event", "status");
		ctl_json_u64(&j, "time", clock_wall_s());
		ctl_cli_json_conn(&j, "connection", ci);
		ctl_json_obj_end(&j);
		ctl_json_end(&j);
		return;
	}
	char t[64];
	time_str(t, sizeof(t), clock_wall_s());
	printf("%s  %s: %s", t, ci->name, ctl_status_str(ci->status));
	if (ci->status == CTL_ST_CONNECTED && ci->n_vip)
		printf(" (virtual IP %s)", ci->vip[0]);
	if (ci->status == CTL_ST_DISCONNECTED && ci->error != CTL_VE_NONE)
		printf(" (%s: %s)", ctl_vpn_error_str(ci->error), ci->detail);
	putchar('\n');
	fflush(stdout);
}

struct wait_state {
	const char *name;
	bool done, ok, seen_active;
	struct ctl_conn_info last;
};

static void wait_event(struct cli *c, const struct ctl_reply *r, void *arg)
{
	struct wait_state *w = arg;
	for (size_t i = 0; i < r->n_conn; i++) {
		const struct ctl_conn_info *ci = &r->conn[i];
		if (strcmp(ci->name, w->name))
			continue;
		event_line(c, ci);
		w->last = *ci;
		if (ci->status == CTL_ST_CONNECTING || ci->status == CTL_ST_REASSERTING)
			w->seen_active = true;
		if (ci->status == CTL_ST_CONNECTED) {
			w->done = w->ok = true;
		} else if ((ci->status == CTL_ST_DISCONNECTED || ci->status == CTL_ST_INVALID) &&
			   w->seen_active) {
			w->done = true;
			w->ok = false;
		}
	}
}

static int do_connect(struct cli *c, struct ctl_reply *r)
{
	uint32_t seq;
	struct wait_state w = { .name = c->a->name };
	if (c->a->wait) {
		/* Subscribe first, so no status change can slip between the
		 * connect and the subscription. */
		if (cli_request(c, CTL_OP_WATCH, NULL, NULL, 0, &seq) < 0 ||
		    cli_reply(c, seq, r, NULL, NULL) < 0)
			return CLI_EXIT_FAILED;
		if (r->result != CTL_RES_OK)
			return report_failure(c, r);
	}
	if (cli_request(c, CTL_OP_CONNECT, c->a->name, NULL, 0, &seq) < 0 ||
	    cli_reply(c, seq, r, c->a->wait ? wait_event : NULL, &w) < 0)
		return CLI_EXIT_FAILED;
	if (r->result != CTL_RES_OK)
		return report_failure(c, r);
	const struct ctl_conn_info *ci = r->n_conn ? &r->conn[0] : NULL;
	if (!c->a->wait) {
		if (c->a->json) {
			struct ctl_json j;
			json_head(&j);
			ctl_json_str(&j, "result", "ok");
			if (ci)
				ctl_cli_json_conn(&j, "connection", ci);
			ctl_json_obj_end(&j);
			ctl_json_end(&j);
		} else {
			printf("%s: %s\n", c->a->name, ci ? ctl_status_str(ci->status) : r->message);
		}
		return 0;
	}
	if (!c->a->json && ci && !w.seen_active && !w.done)
		printf("%s: connecting to %s\n", c->a->name, ci->server);
	if (ci && ci->status == CTL_ST_CONNECTED)
		w.done = w.ok = true, w.last = *ci;
	if (ci && (ci->status == CTL_ST_CONNECTING || ci->status == CTL_ST_DISCONNECTING))
		w.seen_active = true;
	uint64_t deadline = clock_mono_ms() + CLI_WAIT_TIMEOUT_MS;
	while (!w.done) {
		uint64_t now = clock_mono_ms();
		if (now >= deadline) {
			fprintf(stderr, "pvpn: %s: still not connected after %d s\n", c->a->name,
				CLI_WAIT_TIMEOUT_MS / 1000);
			return CLI_EXIT_FAILED;
		}
		if (cli_next(c, r, (int)(deadline - now)) < 0)
			return CLI_EXIT_FAILED;
		if (r->kind == CTL_KIND_EVENT)
			wait_event(c, r, &w);
	}
	if (w.ok) {
		if (!c->a->json && !w.seen_active)
			printf("%s: already connected\n", c->a->name);
		if (c->a->json) {
			struct ctl_json j;
			json_head(&j);
			ctl_json_str(&j, "result", "ok");
			ctl_cli_json_conn(&j, "connection", &w.last);
			ctl_json_obj_end(&j);
			ctl_json_end(&j);
		}
		return 0;
	}
	fprintf(stderr, "pvpn: %s: %s: %s\n", c->a->name, ctl_vpn_error_str(w.last.error),
		ctl_vpn_error_sentence(w.last.error));
	if (w.last.detail[0])
		fprintf(stderr, "  %s\n", w.last.detail);
	return CLI_EXIT_FAILED;
}

static int do_watch(struct cli *c, struct ctl_reply *r)
{
	uint32_t seq;
	if (cli_request(c, CTL_OP_WATCH, NULL, NULL, 0, &seq) < 0 ||
	    cli_reply(c, seq, r, NULL, NULL) < 0)
		return CLI_EXIT_FAILED;
	if (r->result != CTL_RES_OK)
		return report_failure(c, r);
	for (size_t i = 0; i < r->n_conn; i++)
		event_line(c, &r->conn[i]);
	for (;;) {
		if (cli_next(c, r, -1) < 0)
			return CLI_EXIT_FAILED;
		if (r->kind == CTL_KIND_EVENT)
			for (size_t i = 0; i < r->n_conn; i++)
				event_line(c, &r->conn[i]);
	}
}

static int run(struct cli *c, struct ctl_reply *r)
{
	struct ctl_json j;
	int rc;
	switch (c->a->verb) {
	case CLI_SAVE:
		return do_save(c, r);
	case CLI_LOAD:
		if ((rc = do_simple(c, r, CTL_OP_LOAD)))
			return rc;
		if (c->a->json) {
			json_head(&j);
			ctl_json_str(&j, "name", c->a->name);
			ctl_json_strn(&j, "profile", r->text ? r->text : "", r->text_len);
			ctl_json_obj_end(&j);
			ctl_json_end(&j);
		} else if (r->text_len) {
			fwrite(r->text, 1, r->text_len, stdout);
		}
		return 0;
	case CLI_REMOVE:
		if ((rc = do_simple(c, r, CTL_OP_REMOVE)))
			return rc;
		return simple_ok(c, "removed");
	case CLI_LIST:
		if ((rc = do_simple(c, r, CTL_OP_LIST)))
			return rc;
		if (c->a->json) {
			json_head(&j);
			ctl_json_arr_begin(&j, "profiles");
			for (size_t i = 0; i < r->n_list; i++) {
				ctl_json_obj_begin(&j, NULL);
				ctl_json_str(&j, "name", r->list[i].name);
				ctl_json_bool(&j, "valid", r->list[i].ok);
				if (!r->list[i].ok)
					ctl_json_str(&j, "problem", r->list[i].message);
				ctl_json_obj_end(&j);
			}
			ctl_json_arr_end(&j);
			ctl_json_obj_end(&j);
			ctl_json_end(&j);
		} else {
			ctl_cli_print_list(stdout, r->list, r->n_list);
		}
		return 0;
	case CLI_CONNECT:
		return do_connect(c, r);
	case CLI_DISCONNECT:
		if ((rc = do_simple(c, r, CTL_OP_DISCONNECT)))
			return rc;
		if (c->a->json) {
			json_head(&j);
			ctl_json_str(&j, "result", "ok");
			if (r->n_conn)
				ctl_cli_json_conn(&j, "connection", &r->conn[0]);
			ctl_json_obj_end(&j);
			ctl_json_end(&j);
		} else {
			printf("%s: %s\n", c->a->name, r->message[0] ? r->message : "disconnecting");
		}
		return 0;
	case CLI_STATUS:
		if ((rc = do_simple(c, r, CTL_OP_STATUS)))
			return rc;
		if (c->a->json) {
			json_head(&j);
			if (c->a->name && r->n_conn) {
				ctl_cli_json_conn(&j, "connection", &r->conn[0]);
			} else {
				ctl_json_arr_begin(&j, "connections");
				for (size_t i = 0; i < r->n_conn; i++)
					ctl_cli_json_conn(&j, NULL, &r->conn[i]);
				ctl_json_arr_end(&j);
			}
			ctl_json_obj_end(&j);
			ctl_json_end(&j);
		} else if (c->a->name) {
			for (size_t i = 0; i < r->n_conn; i++)
				ctl_cli_print_conn(stdout, &r->conn[i], clock_wall_s());
		} else if (r->n_conn) {
			ctl_cli_print_status_table(stdout, r->conn, r->n_conn);
		} else {
			printf("no profiles (save one with `pvpn save NAME FILE`)\n");
		}
		return 0;
	case CLI_WATCH:
		return do_watch(c, r);
	case CLI_LAST_ERROR:
		if ((rc = do_simple(c, r, CTL_OP_LAST_ERROR)))
			return rc;
		if (!r->n_conn)
			return CLI_EXIT_FAILED;
		const struct ctl_conn_info *ci = &r->conn[0];
		if (c->a->json) {
			json_head(&j);
			ctl_json_str(&j, "name", ci->name);
			if (ci->error == CTL_VE_NONE) {
				ctl_json_null(&j, "error");
			} else {
				ctl_json_str(&j, "error", ctl_vpn_error_str(ci->error));
				ctl_json_str(&j, "message", ctl_vpn_error_sentence(ci->error));
				ctl_json_str(&j, "detail", ci->detail);
				if (ci->error_time)
					ctl_json_u64(&j, "time", ci->error_time);
			}
			ctl_json_obj_end(&j);
			ctl_json_end(&j);
		} else if (ci->error == CTL_VE_NONE) {
			printf("%s: no error\n", ci->name);
		} else {
			char t[64];
			printf("%s: %s\n  %s\n", ci->name, ctl_vpn_error_str(ci->error),
			       ctl_vpn_error_sentence(ci->error));
			if (ci->detail[0])
				printf("  detail: %s\n", ci->detail);
			if (ci->error_time) {
				time_str(t, sizeof(t), ci->error_time);
				printf("  at:     %s\n", t);
			}
		}
		return 0;
	default:
		return CLI_EXIT_USAGE;
	}
}

int ctl_cli_main(int argc, char **argv)
{
	struct ctl_cli_args a;
	struct pvpn_err e = { 0 };
	if (ctl_cli_parse(argc, argv, &a, &e) < 0) {
		fprintf(stderr, "pvpn: %s\n%s", e.msg, ctl_cli_usage());
		return CLI_EXIT_USAGE;
	}
	if (a.verb == CLI_HELP) {
		fputs(ctl_cli_usage(), stdout);
		return 0;
	}
	if (a.verb == CLI_VERSION) {
		printf("pvpn %s (control protocol %d)\n", PVPN_VERSION, CTL_PROTO_VERSION);
		return 0;
	}
	struct cli c = { .a = &a, .fd = -1 };
	struct ctl_reply r = { 0 };
	int rc = cli_connect(&c);
	if (rc)
		return rc;
	c.buf = malloc(4 + CTL_FRAME_MAX);
	if (!c.buf) {
		close(c.fd);
		return CLI_EXIT_FAILED;
	}
	rc = run(&c, &r);
	ctl_reply_free(&r);
	free(c.buf);
	close(c.fd);
	return rc;
}
