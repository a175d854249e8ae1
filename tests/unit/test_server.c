/* Unit tests for the control socket server (ctl/server.c) in a real event
 * loop over a real unix socket, with hostile clients: garbage, bad
 * versions, huge lengths, a frame cut off mid-way, too many clients, a
 * watcher that never reads, a peer of another uid.  Throughout, a
 * well-behaved client keeps getting answers. */
#define _GNU_SOURCE 1
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "ctl/proto.h"
#include "lib/clock.h"
#include "lib/log.h"

struct fixture {
	char dir[40], path[100];
	struct ctl_loop loop;
	struct ctl_server *srv;
	unsigned handled;
	char last_name[PROF_NAME_MAX];
};

static void handler(void *ctx, struct ctl_server *s, struct ctl_client *cl,
		    const struct ctl_request *rq)
{
	struct fixture *fx = ctx;
	fx->handled++;
	snprintf(fx->last_name, sizeof(fx->last_name), "%s", rq->has_name ? rq->name : "");
	if (rq->op == CTL_OP_WATCH)
		ctl_server_set_watch(cl, true);
	uint8_t buf[256];
	int n = ctl_error_encode(buf, sizeof(buf), rq->op, rq->seq, CTL_RES_OK, NULL,
				 ctl_op_str(rq->op));
	assert_true(n > 0);
	ctl_server_send(s, cl, buf, (size_t)n);
}

static struct fixture *fx_open(size_t max_clients, size_t out_max, unsigned stall_ms)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct pvpn_err e = { 0 };
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/pvpn-test-srv-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/sub/control.sock", fx->dir);
	assert_int_equal(ctl_loop_init(&fx->loop, &e), 0);
	struct ctl_server_cfg cfg;
	ctl_server_cfg_defaults(&cfg);
	cfg.path = fx->path;
	cfg.handler = handler;
	cfg.ctx = fx;
	if (max_clients)
		cfg.max_clients = max_clients;
	if (out_max)
		cfg.out_max = out_max;
	if (stall_ms)
		cfg.stall_ms = stall_ms;
	assert_int_equal(ctl_server_open(&fx->srv, &fx->loop, &cfg, &e), 0);
	return fx;
}

static void fx_close(struct fixture *fx)
{
	char sub[64];
	ctl_server_close(fx->srv);
	/* The socket file goes with the server. */
	assert_int_equal(access(fx->path, F_OK), -1);
	ctl_loop_free(&fx->loop);
	snprintf(sub, sizeof(sub), "%s/sub", fx->dir);
	rmdir(sub);
	rmdir(fx->dir);
	free(fx);
}

static void pump(struct fixture *fx, int ms)
{
	struct pvpn_err e = { 0 };
	uint64_t end = clock_mono_ms() + (uint64_t)ms;
	do {
		ctl_loop_run_once(&fx->loop, 10, &e);
	} while (clock_mono_ms() < end);
}

static int client(struct fixture *fx)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fx->path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	pump(fx, 20);
	return fd;
}

static void send_bytes(int fd, const void *p, size_t n)
{
	assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void send_req(int fd, uint16_t op, uint32_t seq, const char *name)
{
	uint8_t buf[512];
	struct ctl_request rq = { .op = op, .seq = seq };
	if (name) {
		rq.has_name = true;
		snprintf(rq.name, sizeof(rq.name), "%s", name);
	}
	int n = ctl_request_encode(&rq, buf, sizeof(buf));
	assert_true(n > 0);
	send_bytes(fd, buf, (size_t)n);
}

/* Read one frame (pumping the loop meanwhile); 0 ok, -1 closed/none. */
static int recv_frame(struct fixture *fx, int fd, struct ctl_reply *r)
{
	static uint8_t buf[4 + CTL_FRAME_MAX];
	size_t len = 0;
	struct pvpn_err e = { 0 };
	for (int tries = 0; tries < 100; tries++) {
		pump(fx, 5);
		ssize_t n = recv(fd, buf + len, len < 4 ? 4 - len : sizeof(buf) - len, MSG_DONTWAIT);
		if (n == 0)
			return -1;
		if (n < 0)
			continue;
		len += (size_t)n;
		if (len < 4)
			continue;
		uint32_t fl = (uint32_t)buf[0] << 24 | buf[1] << 16 | buf[2] << 8 | buf[3];
		assert_true(fl >= CTL_HDR_LEN && fl <= CTL_FRAME_MAX);
		while (len < 4 + fl) {
			pump(fx, 2);
			n = recv(fd, buf + len, 4 + fl - len, MSG_DONTWAIT);
			if (n == 0)
				return -1;
			if (n > 0)
				len += (size_t)n;
		}
		assert_int_equal(ctl_reply_decode(buf + 4, fl, r, &e), 0);
		return 0;
	}
	return -1;
}

static bool is_closed(struct fixture *fx, int fd)
{
	char c[4096];
	for (int tries = 0; tries < 50; tries++) {
		pump(fx, 5);
		ssize_t n = recv(fd, c, sizeof(c), MSG_DONTWAIT);
		if (n == 0)
			return true;
		if (n < 0 && errno != EAGAIN)
			return true;
	}
	return false;
}

/* The good client asks and gets the answer to exactly its request. */
static void good_round(struct fixture *fx, int fd, uint32_t seq)
{
	struct ctl_reply r = { 0 };
	send_req(fd, CTL_OP_STATUS, seq, "home");
	assert_int_equal(recv_frame(fx, fd, &r), 0);
	assert_int_equal(r.kind, CTL_KIND_REPLY);
	assert_int_equal(r.seq, seq);
	assert_int_equal(r.result, CTL_RES_OK);
	assert_string_equal(r.message, "status");
	ctl_reply_free(&r);
}

static void serves_requests(void **state)
{
	struct fixture *fx = fx_open(0, 0, 0);
	struct stat st;
	assert_int_equal(stat(fx->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);
	int fd = client(fx);
	good_round(fx, fd, 1);
	assert_string_equal(fx->last_name, "home");
	/* Two requests in one write: two replies in order. */
	uint8_t buf[256];
	struct ctl_request a = { .op = CTL_OP_LIST, .seq = 10 }, b = { .op = CTL_OP_WATCH, .seq = 11 };
	int n1 = ctl_request_encode(&a, buf, sizeof(buf));
	int n2 = ctl_request_encode(&b, buf + n1, sizeof(buf) - (size_t)n1);
	send_bytes(fd, buf, (size_t)(n1 + n2));
	struct ctl_reply r = { 0 };
	assert_int_equal(recv_frame(fx, fd, &r), 0);
	assert_int_equal(r.seq, 10);
	assert_int_equal(recv_frame(fx, fd, &r), 0);
	assert_int_equal(r.seq, 11);
	/* A watcher gets broadcasts. */
	uint8_t ev[128];
	struct ctl_msg m;
	ctl_msg_begin(&m, ev, sizeof(ev), CTL_KIND_EVENT, CTL_EV_STATUS, 0);
	int en = ctl_msg_finish(&m);
	ctl_server_broadcast(fx->srv, ev, (size_t)en);
	assert_int_equal(recv_frame(fx, fd, &r), 0);
	assert_int_equal(r.kind, CTL_KIND_EVENT);
	ctl_reply_free(&r);
	/* A second server on the same live socket is refused. */
	struct ctl_server *s2 = NULL;
	struct ctl_server_cfg cfg;
	struct pvpn_err e = { 0 };
	ctl_server_cfg_defaults(&cfg);
	cfg.path = fx->path;
	cfg.handler = handler;
	assert_int_equal(ctl_server_open(&s2, &fx->loop, &cfg, &e), -EADDRINUSE);
	close(fd);
	pump(fx, 20);
	assert_int_equal(ctl_server_n_clients(fx->srv), 0);
	fx_close(fx);
}

static void bad_requests_get_error_replies(void **state)
{
	struct fixture *fx = fx_open(0, 0, 0);
	int good = client(fx), bad = client(fx);
	struct ctl_reply r = { 0 };
	uint8_t frame[64];

	/* A well-framed body that is garbage: error reply, connection kept. */
	memset(frame, 0xa5, sizeof(frame));
	frame[0] = 0; frame[1] = 0; frame[2] = 0; frame[3] = 40;
	send_bytes(bad, frame, 44);
	assert_int_equal(recv_frame(fx, bad, &r), 0);
	assert_int_equal(r.result, CTL_RES_INVALID);
	assert_string_equal(r.error, "badRequest");
	assert_non_null(strstr(r.message, "version"));
	/* Unknown op, with its seq echoed. */
	memset(frame, 0, sizeof(frame));
	frame[3] = 8; frame[4] = 1; frame[5] = 1; frame[6] = 0x12; frame[7] = 0x34;
	frame[11] = 77;
	send_bytes(bad, frame, 12);
	assert_int_equal(recv_frame(fx, bad, &r), 0);
	assert_int_equal(r.seq, 77);
	assert_int_equal(r.op, 0x1234);
	assert_non_null(strstr(r.message, "unknown request"));
	/* A name with a slash. */
	send_req(bad, CTL_OP_CONNECT, 78, "a/b");
	assert_int_equal(recv_frame(fx, bad, &r), 0);
	assert_int_equal(r.seq, 78);
	assert_int_equal(r.result, CTL_RES_INVALID);
	/* None of it reached the handler. */
	assert_int_equal(fx->handled, 0);
	good_round(fx, good, 5);
	good_round(fx, bad, 6);     /* the bad client may still behave */
	assert_int_equal(fx->handled, 2);

	/* A huge length cannot be resynchronised: error, then closed. */
	uint8_t huge[4] = { 0x7f, 0xff, 0xff, 0xff };
	send_bytes(bad, huge, 4);
	assert_int_equal(recv_frame(fx, bad, &r), 0);
	assert_non_null(strstr(r.message, "frame length"));
	assert_true(is_closed(fx, bad));
	/* A length below the header, likewise. */
	int bad2 = client(fx);
	uint8_t tiny[4] = { 0, 0, 0, 3 };
	send_bytes(bad2, tiny, 4);
	assert_int_equal(recv_frame(fx, bad2, &r), 0);
	assert_true(is_closed(fx, bad2));
	good_round(fx, good, 7);
	ctl_reply_free(&r);
	close(bad);
	close(bad2);
	close(good);
	fx_close(fx);
}

static void stalled_and_truncated_clients_dropped(void **state)
{
	struct fixture *fx = fx_open(0, 0, 300);
	int good = client(fx), slow = client(fx);
	/* Half a frame, then nothing. */
	uint8_t half[10] = { 0, 0, 0, 40, 1, 1, 0, 7, 0, 0 };
	send_bytes(slow, half, sizeof(half));
	pump(fx, 100);
	good_round(fx, good, 1);
	assert_int_equal(ctl_server_n_clients(fx->srv), 2);
	pump(fx, 900);
	assert_true(is_closed(fx, slow));
	assert_int_equal(ctl_server_n_clients(fx->srv), 1);
	assert_int_equal(fx->handled, 1);
	/* A client that disconnects mid-frame is simply gone. */
	int quitter = client(fx);
	send_bytes(quitter, half, 6);
	close(quitter);
	pump(fx, 50);
	assert_int_equal(ctl_server_n_clients(fx->srv), 1);
	good_round(fx, good, 2);
	close(slow);
	close(good);
	fx_close(fx);
}

static void too_many_clients(void **state)
{
	struct fixture *fx = fx_open(3, 0, 0);
	int fds[3];
	for (int i = 0; i < 3; i++)
		fds[i] = client(fx);
	assert_int_equal(ctl_server_n_clients(fx->srv), 3);
	int extra = client(fx);
	struct ctl_reply r = { 0 };
	assert_int_equal(recv_frame(fx, extra, &r), 0);
	assert_string_equal(r.error, "busy");
	assert_true(is_closed(fx, extra));
	assert_int_equal(ctl_server_n_clients(fx->srv), 3);
	for (int i = 0; i < 3; i++)
		good_round(fx, fds[i], (uint32_t)i + 1);
	/* A slot frees up when a client leaves. */
	close(fds[0]);
	pump(fx, 20);
	int again = client(fx);
	good_round(fx, again, 9);
	ctl_reply_free(&r);
	close(extra);
	close(again);
	close(fds[1]);
	close(fds[2]);
	fx_close(fx);
}

static void watcher_that_never_reads(void **state)
{
	struct fixture *fx = fx_open(0, 16 * 1024, 0);
	int good = client(fx), deaf = client(fx);
	struct ctl_reply r = { 0 };
	/* Make the deaf client's receive buffer small so it fills quickly. */
	int small = 4096;
	setsockopt(deaf, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	send_req(deaf, CTL_OP_WATCH, 1, NULL);
	send_req(good, CTL_OP_WATCH, 1, NULL);
	pump(fx, 20);
	assert_int_equal(recv_frame(fx, good, &r), 0);
	static uint8_t ev[2048];
	struct ctl_msg m;
	ctl_msg_begin(&m, ev, sizeof(ev), CTL_KIND_EVENT, CTL_EV_STATUS, 0);
	char pad[1500];
	memset(pad, 'p', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	ctl_msg_str(&m, 900, pad);   /* unknown to the client: skipped */
	int en = ctl_msg_finish(&m);
	unsigned got = 0;
	for (int i = 0; i < 400 && ctl_server_n_clients(fx->srv) == 2; i++) {
		ctl_server_broadcast(fx->srv, ev, (size_t)en);
		pump(fx, 1);
		/* The good watcher keeps up. */
		while (recv_frame(fx, good, &r) == 0 && r.kind == CTL_KIND_EVENT) {
			got++;
			if (got >= (unsigned)i + 1)
				break;
		}
	}
	assert_int_equal(ctl_server_n_clients(fx->srv), 1);
	assert_true(is_closed(fx, deaf));
	assert_true(got > 10);
	good_round(fx, good, 99);
	ctl_reply_free(&r);
	close(deaf);
	close(good);
	fx_close(fx);
}

static void other_uid_refused(void **state)
{
	if (geteuid() != 0) {
		/* Needs root to become another user; say so rather than pass. */
		fail_msg("other_uid_refused must run as root (setuid to nobody)");
	}
	struct fixture *fx = fx_open(0, 0, 0);
	/* Let nobody reach the socket in the file system, so only the
	 * SO_PEERCRED check stands in the way. */
	chmod(fx->path, 0666);
	char sub[64];
	snprintf(sub, sizeof(sub), "%s/sub", fx->dir);
	chmod(fx->dir, 0755);
	chmod(sub, 0755);
	int sv[2];
	assert_int_equal(pipe(sv), 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(10);
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fx->path);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			_exit(11);
		char b = 1;
		(void)!write(sv[1], &b, 1);
		uint8_t buf[512];
		size_t len = 0;
		for (;;) {
			ssize_t n = read(fd, buf + len, sizeof(buf) - len);
			if (n <= 0)
				break;
			len += (size_t)n;
		}
		struct ctl_reply r = { 0 };
		struct pvpn_err e = { 0 };
		if (len < 4 || ctl_reply_decode(buf + 4, len - 4, &r, &e) < 0)
			_exit(12);
		_exit(strcmp(r.error, "permissionDenied") == 0 ? 0 : 13);
	}
	close(sv[1]);
	int status = 0;
	for (int i = 0; i < 200; i++) {
		pump(fx, 10);
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(ctl_server_n_clients(fx->srv), 0);
	assert_int_equal(fx->handled, 0);
	close(sv[0]);
	fx_close(fx);
}

/* Type=notify: the datagram systemd reads, to a path and to an abstract
 * socket ('@'); nothing (and no error) without NOTIFY_SOCKET. */
static void sd_notify_protocol(void **state)
{
	char path[64];
	snprintf(path, sizeof(path), "/tmp/pvpn-test-notify-%d", (int)getpid());
	for (int abstract = 0; abstract < 2; abstract++) {
		int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		socklen_t len;
		char env[128];
		if (abstract) {
			snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "pvpn-test-%d", (int)getpid());
			len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
					  strlen(sa.sun_path + 1));
			snprintf(env, sizeof(env), "@%s", sa.sun_path + 1);
		} else {
			unlink(path);
			snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
			len = sizeof(sa);
			snprintf(env, sizeof(env), "%s", path);
		}
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
		setenv("NOTIFY_SOCKET", env, 1);
		assert_int_equal(ctl_sd_notify("READY=1"), 0);
		assert_int_equal(ctl_sd_notify("STOPPING=1"), 0);
		char buf[64] = { 0 };
		assert_int_equal(recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT), 7);
		assert_string_equal(buf, "READY=1");
		memset(buf, 0, sizeof(buf));
		assert_int_equal(recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT), 10);
		assert_string_equal(buf, "STOPPING=1");
		close(fd);
	}
	unlink(path);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(ctl_sd_notify("READY=1"), -EINVAL);
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(ctl_sd_notify("READY=1"), 0);
}

int main(void)
{
	log_init("test", LOG_TO_STDERR, LOG_WARNING);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(serves_requests),
		cmocka_unit_test(bad_requests_get_error_replies),
		cmocka_unit_test(stalled_and_truncated_clients_dropped),
		cmocka_unit_test(too_many_clients),
		cmocka_unit_test(watcher_that_never_reads),
		cmocka_unit_test(other_uid_refused),
		cmocka_unit_test(sd_notify_protocol),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
