/* server.c — pvpnd's control socket: a unix stream socket in the daemon's
 * one event loop.  Clients are local but not trusted to behave: each has a
 * bounded input buffer (one frame), a bounded output buffer, and clocks for
 * stalls; a client that sends a length it cannot back, stops mid-frame,
 * never reads its replies or events, or merely idles is dropped without
 * affecting anyone else.  Only complete, validated requests reach the
 * handler (ctl_request_decode).
 *
 * Plugging in: ctl_server_open(&s, &daemon->loop, &cfg, &e) adds the
 * listening socket and a timerfd of its own to the loop; nothing else in
 * the daemon changes. */
#define _GNU_SOURCE 1 /* accept4, struct ucred */
#include "ctl/proto.h"
#include "ctl/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"

struct ctl_client {
	bool used;
	int fd;
	unsigned uid, gid;
	int pid;
	bool watching;
	bool want_out;                  /* registered for EPOLLOUT */
	bool closing;                   /* close once the output is flushed */
	uint8_t *in;                    /* 4 + CTL_FRAME_MAX */
	size_t in_len;
	uint8_t *out;
	size_t out_len, out_cap;
	uint64_t last_in_ms;            /* last byte received */
	uint64_t partial_since_ms;      /* first byte of an incomplete frame, 0 none */
	uint64_t out_since_ms;          /* last progress writing pending output, 0 none */
	struct ctl_server *srv;
};

struct ctl_server {
	struct ctl_server_cfg cfg;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct ctl_loop *loop;
	int lfd, tfd;
	struct ctl_client clients[CTL_SRV_MAX_CLIENTS];
	size_t n_clients;
};

void ctl_server_cfg_defaults(struct ctl_server_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->mode = 0660;
	c->gid = -1;
	c->max_clients = CTL_SRV_MAX_CLIENTS;
	c->out_max = CTL_SRV_OUT_MAX;
	c->stall_ms = CTL_SRV_STALL_MS;
	c->idle_ms = CTL_SRV_IDLE_MS;
}

size_t ctl_server_n_clients(const struct ctl_server *s)
{
	return s->n_clients;
}

unsigned ctl_client_uid(const struct ctl_client *cl)
{
	return cl->uid;
}

void ctl_server_set_watch(struct ctl_client *cl, bool on)
{
	cl->watching = on;
}

static void client_drop(struct ctl_server *s, struct ctl_client *cl, const char *why)
{
	if (!cl->used)
		return;
	if (why)
		log_info("control client (uid %u pid %d) dropped: %s", cl->uid, cl->pid, why);
	ctl_loop_del(s->loop, cl->fd);
	close(cl->fd);
	free(cl->in);
	free(cl->out);
	memset(cl, 0, sizeof(*cl));
	cl->fd = -1;
	s->n_clients--;
}

static void on_client(void *ctx, int fd, uint32_t events);

static void client_interest(struct ctl_server *s, struct ctl_client *cl)
{
	bool want = cl->out_len > 0;
	if (want == cl->want_out)
		return;
	struct pvpn_err e = { 0 };
	ctl_loop_del(s->loop, cl->fd);
	uint32_t ev = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0);
	if (ctl_loop_add(s->loop, cl->fd, ev, on_client, cl, &e) < 0) {
		log_warn("control client: %s", e.msg);
		client_drop(s, cl, NULL);
		return;
	}
	cl->want_out = want;
}

/* Write what we can; false when the client was dropped. */
static bool client_flush(struct ctl_server *s, struct ctl_client *cl)
{
	while (cl->out_len > 0) {
		ssize_t n = send(cl->fd, cl->out, cl->out_len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			client_drop(s, cl, NULL);
			return false;
		}
		memmove(cl->out, cl->out + n, cl->out_len - (size_t)n);
		cl->out_len -= (size_t)n;
		cl->out_since_ms = clock_mono_ms();
	}
	if (cl->out_len == 0) {
		cl->out_since_ms = 0;
		if (cl->closing) {
			client_drop(s, cl, NULL);
			return false;
		}
	}
	client_interest(s, cl);
	return cl->used;
}

int ctl_server_send(struct ctl_server *s, struct ctl_client *cl, const void *frame, size_t len)
{
	if (!cl->used)
		return -ENOTCONN;
	if (cl->out_len + len > s->cfg.out_max) {
		client_drop(s, cl, "it does not read what it is sent");
		return -ENOBUFS;
	}
	if (cl->out_len + len > cl->out_cap) {
		size_t cap = cl->out_cap ? cl->out_cap : 4096;
		while (cap < cl->out_len + len)
			cap *= 2;
		if (cap > s->cfg.out_max)
			cap = s->cfg.out_max;
		uint8_t *p = realloc(cl->out, cap);
		if (!p) {
			client_drop(s, cl, "out of memory");
			return -ENOMEM;
		}
		cl->out = p;
		cl->out_cap = cap;
	}
	if (cl->out_len == 0)
		cl->out_since_ms = clock_mono_ms();
	memcpy(cl->out + cl->out_len, frame, len);
	cl->out_len += len;
	return client_flush(s, cl) ? 0 : -EPIPE;
}

void ctl_server_broadcast(struct ctl_server *s, const void *frame, size_t len)
{
	for (size_t i = 0; i < CTL_SRV_MAX_CLIENTS; i++) {
		struct ctl_client *cl = &s->clients[i];
		if (cl->used && cl->watching && !cl->closing)
			ctl_server_send(s, cl, frame, len);
	}
}

static void send_error(struct ctl_server *s, struct ctl_client *cl, uint16_t op, uint32_t seq,
		       const char *msg)
{
	uint8_t buf[512];
	int n = ctl_error_encode(buf, sizeof(buf), op, seq, CTL_RES_INVALID, "badRequest", msg);
	if (n > 0)
		ctl_server_send(s, cl, buf, (size_t)n);
}

/* Handle every complete frame in the input buffer; false if dropped. */
static bool client_frames(struct ctl_server *s, struct ctl_client *cl)
{
	size_t off = 0;
	bool ok = true;
	while (cl->used && !cl->closing && cl->in_len - off >= 4) {
		const uint8_t *p = cl->in + off;
		uint32_t flen = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
				(uint32_t)p[2] << 8 | p[3];
		if (flen < CTL_HDR_LEN || flen > CTL_FRAME_MAX) {
			/* The stream cannot be resynchronised: say why, then close. */
			char msg[128];
			snprintf(msg, sizeof(msg), "frame length %u outside %d..%d; closing", flen,
				 CTL_HDR_LEN, CTL_FRAME_MAX);
			send_error(s, cl, 0, 0, msg);
			if (cl->used) {
				cl->closing = true;
				log_info("control client (uid %u pid %d): %s", cl->uid, cl->pid, msg);
				if (cl->out_len == 0)
					client_drop(s, cl, NULL);
			}
			return false;
		}
		if (cl->in_len - off < 4 + (size_t)flen)
			break;
		struct ctl_request rq;
		struct pvpn_err e = { 0 };
		uint32_t seq = 0;
		uint16_t op = flen >= 4 ? (uint16_t)(p[6] << 8 | p[7]) : 0;
		if (ctl_request_decode(p + 4, flen, &rq, &seq, &e) < 0) {
			log_debug("control client (uid %u pid %d): bad request: %s", cl->uid, cl->pid,
				  e.msg);
			send_error(s, cl, op, seq, e.msg);
		} else {
			s->cfg.handler(s->cfg.ctx, s, cl, &rq);
		}
		off += 4 + (size_t)flen;
	}
	if (!cl->used)
		return false;
	if (off) {
		memmove(cl->in, cl->in + off, cl->in_len - off);
		cl->in_len -= off;
	}
	cl->partial_since_ms = cl->in_len ? (cl->partial_since_ms ?: clock_mono_ms()) : 0;
	return ok;
}

static void on_client(void *ctx, int fd, uint32_t events)
{
	struct ctl_client *cl = ctx;
	struct ctl_server *s = cl->srv;
	if (!cl->used)
		return;
	if (events & EPOLLOUT) {
		if (!client_flush(s, cl))
			return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP | EPOLLERR)) {
		/* Backpressure: a client with a full output buffer is not read
		 * until it drains (the stall timer drops it if it never does). */
		if (cl->out_len > s->cfg.out_max / 2 && !(events & (EPOLLHUP | EPOLLERR)))
			return;
		size_t room = 4 + CTL_FRAME_MAX - cl->in_len;
		/* One read per wakeup keeps one busy client from starving others. */
		ssize_t n = recv(fd, cl->in + cl->in_len, room > 16384 ? 16384 : room, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			client_drop(s, cl, NULL);
			return;
		}
		if (n > 0) {
			if (cl->closing)
				return;     /* ignore input after a fatal framing error */
			cl->in_len += (size_t)n;
			cl->last_in_ms = clock_mono_ms();
			client_frames(s, cl);
		}
	}
}

static void on_accept(void *ctx, int lfd, uint32_t events)
{
	struct ctl_server *s = ctx;
	for (int burst = 0; burst < 16; burst++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct ucred cr = { 0 };
		socklen_t cl_len = sizeof(cr);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl_len) < 0) {
			close(fd);
			continue;
		}
		/* The socket's mode already limits who can connect; SO_PEERCRED
		 * makes the check independent of the file system (a socket
		 * passed on, a bind mount): root, our own user, or the group. */
		bool allowed = cr.uid == 0 || cr.uid == geteuid() ||
			       (s->cfg.gid >= 0 && cr.gid == (gid_t)s->cfg.gid);
		if (!allowed) {
			uint8_t buf[256];
			int n = ctl_error_encode(buf, sizeof(buf), 0, 0, CTL_RES_FAILED,
						 "permissionDenied",
						 "not allowed to control pvpnd (root or the pvpn group)");
			if (n > 0)
				(void)!send(fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
			log_notice("control socket: refused uid %u pid %d", cr.uid, cr.pid);
			close(fd);
			continue;
		}
		struct ctl_client *cl = NULL;
		if (s->n_clients < s->cfg.max_clients)
			for (size_t i = 0; i < CTL_SRV_MAX_CLIENTS; i++)
				if (!s->clients[i].used) {
					cl = &s->clients[i];
					break;
				}
		uint8_t *in = cl ? malloc(4 + CTL_FRAME_MAX) : NULL;
		struct pvpn_err e = { 0 };
		if (!cl || !in || ctl_loop_add(s->loop, fd, EPOLLIN | EPOLLRDHUP, on_client, cl, &e) < 0) {
			uint8_t buf[256];
			int n = ctl_error_encode(buf, sizeof(buf), 0, 0, CTL_RES_FAILED, "busy",
						 "too many control clients; try again");
			if (n > 0)
				(void)!send(fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
			log_notice("control socket: refused a client (%zu connected)", s->n_clients);
			free(in);
			close(fd);
			continue;
		}
		*cl = (struct ctl_client){
			.used = true, .fd = fd, .uid = cr.uid, .gid = cr.gid, .pid = cr.pid,
			.in = in, .last_in_ms = clock_mono_ms(), .srv = s,
		};
		s->n_clients++;
		log_debug("control client uid %u pid %d connected", cr.uid, cr.pid);
	}
}

static void on_tick(void *ctx, int fd, uint32_t events)
{
	struct ctl_server *s = ctx;
	ctl_timer_drain(fd);
	uint64_t now = clock_mono_ms();
	for (size_t i = 0; i < CTL_SRV_MAX_CLIENTS; i++) {
		struct ctl_client *cl = &s->clients[i];
		if (!cl->used)
			continue;
		if (cl->partial_since_ms && now - cl->partial_since_ms > s->cfg.stall_ms)
			client_drop(s, cl, "stalled in the middle of a request");
		else if (cl->out_since_ms && now - cl->out_since_ms > s->cfg.stall_ms)
			client_drop(s, cl, "stopped reading its replies");
		else if (!cl->watching && !cl->out_len && now - cl->last_in_ms > s->cfg.idle_ms)
			client_drop(s, cl, "idle");
	}
	/* A coarse tick is enough for timeouts measured in seconds. */
	ctl_timer_arm(s->tfd, now + 500);
}

int ctl_server_open(struct ctl_server **out, struct ctl_loop *loop,
		    const struct ctl_server_cfg *cfg, struct pvpn_err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int rc;
	*out = NULL;
	if (!cfg->path || !*cfg->path || strlen(cfg->path) >= sizeof(sa.sun_path))
		return err_set(e, -ENAMETOOLONG, "control socket path must be 1..%zu bytes",
			       sizeof(sa.sun_path) - 1);
	struct ctl_server *s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(e, -ENOMEM, "out of memory");
	s->cfg = *cfg;
	if (s->cfg.max_clients > CTL_SRV_MAX_CLIENTS || !s->cfg.max_clients)
		s->cfg.max_clients = CTL_SRV_MAX_CLIENTS;
	s->loop = loop;
	s->lfd = s->tfd = -1;
	for (size_t i = 0; i < CTL_SRV_MAX_CLIENTS; i++)
		s->clients[i].fd = -1;
	snprintf(s->path, sizeof(s->path), "%s", cfg->path);
	memcpy(sa.sun_path, s->path, strlen(s->path));

	/* The folder (e.g. /run/pvpn from systemd's RuntimeDirectory). */
	char dir[sizeof(s->path)];
	snprintf(dir, sizeof(dir), "%s", s->path);
	char *d = dirname(dir);
	if (mkdir(d, 0755) < 0 && errno != EEXIST) {
		rc = err_set(e, -errno, "cannot create %s: %s", d, strerror(errno));
		goto fail;
	}
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0) {
		rc = err_set(e, -errno, "socket(AF_UNIX): %s", strerror(errno));
		goto fail;
	}
	/* A socket file left by a crash is replaced; a live daemon's is not. */
	struct stat st;
	if (lstat(s->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			rc = err_set(e, -EEXIST, "%s exists and is not a socket", s->path);
			goto fail;
		}
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			rc = err_set(e, -EADDRINUSE, "another pvpnd is listening on %s", s->path);
			goto fail;
		}
		if (probe >= 0)
			close(probe);
		unlink(s->path);
	}
	mode_t old = umask(0777 & ~(mode_t)cfg->mode);
	rc = bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0) {
		rc = err_set(e, -errno, "bind %s: %s", s->path, strerror(errno));
		goto fail;
	}
	if (chmod(s->path, cfg->mode) < 0) {
		rc = err_set(e, -errno, "chmod %s: %s", s->path, strerror(errno));
		goto fail_unlink;
	}
	if (cfg->gid >= 0 && chown(s->path, (uid_t)-1, (gid_t)cfg->gid) < 0)
		log_warn("cannot give %s to group %d: %s", s->path, cfg->gid, strerror(errno));
	if (listen(s->lfd, 16) < 0) {
		rc = err_set(e, -errno, "listen %s: %s", s->path, strerror(errno));
		goto fail_unlink;
	}
	rc = s->tfd = ctl_timer_open(e);
	if (rc < 0)
		goto fail_unlink;
	if ((rc = ctl_loop_add(loop, s->lfd, EPOLLIN, on_accept, s, e)) < 0)
		goto fail_unlink;
	if ((rc = ctl_loop_add(loop, s->tfd, EPOLLIN, on_tick, s, e)) < 0) {
		ctl_loop_del(loop, s->lfd);
		goto fail_unlink;
	}
	ctl_timer_arm(s->tfd, clock_mono_ms() + 500);
	*out = s;
	return 0;
fail_unlink:
	unlink(s->path);
fail:
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->tfd >= 0)
		close(s->tfd);
	free(s);
	return rc;
}

void ctl_server_close(struct ctl_server *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < CTL_SRV_MAX_CLIENTS; i++)
		if (s->clients[i].used) {
			client_flush(s, &s->clients[i]);
			client_drop(s, &s->clients[i], NULL);
		}
	ctl_loop_del(s->loop, s->lfd);
	ctl_loop_del(s->loop, s->tfd);
	close(s->lfd);
	close(s->tfd);
	unlink(s->path);
	free(s);
}
