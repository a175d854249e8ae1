/* loop.c — the one-thread epoll loop of pvpnd.
 *
 * Every descriptor the daemon waits on (IKE sockets, the XFRM event
 * socket, the timerfd, the signalfd, later the control socket and its
 * clients) is a watch: an fd with a callback.  Watches live in a fixed
 * table so a callback may remove any watch (even its own) while a batch of
 * events is being dispatched: removed slots are only reused after the
 * batch, so a stale event never reaches a new owner. */
#include "ctl/ctl.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"

static struct ctl_watch *slot_find(struct ctl_loop *l, int fd)
{
	for (size_t i = 0; i < CTL_LOOP_MAX_WATCH; i++)
		if (l->w[i].used && !l->w[i].dead && l->w[i].fd == fd)
			return &l->w[i];
	return NULL;
}

int ctl_loop_init(struct ctl_loop *l, struct pvpn_err *e)
{
	memset(l, 0, sizeof(*l));
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return err_set(e, -errno, "epoll_create1: %s", strerror(errno));
	return 0;
}

void ctl_loop_free(struct ctl_loop *l)
{
	if (l->epfd > 0)
		close(l->epfd);
	l->epfd = -1;
	memset(l->w, 0, sizeof(l->w));
}

int ctl_loop_add(struct ctl_loop *l, int fd, uint32_t events, ctl_fd_cb cb, void *ctx,
		 struct pvpn_err *e)
{
	if (fd < 0 || !cb)
		return err_set(e, -EINVAL, "internal error: watching an invalid descriptor");
	if (slot_find(l, fd))
		return err_set(e, -EEXIST, "internal error: descriptor %d watched twice", fd);
	struct ctl_watch *w = NULL;
	for (size_t i = 0; i < CTL_LOOP_MAX_WATCH; i++) {
		if (!l->w[i].used) {
			w = &l->w[i];
			break;
		}
	}
	if (!w)
		return err_set(e, -EMFILE, "too many descriptors in the event loop (max %d)",
			       CTL_LOOP_MAX_WATCH);
	struct epoll_event ev = { .events = events, .data.ptr = w };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return err_set(e, -errno, "epoll_ctl(ADD, %d): %s", fd, strerror(errno));
	*w = (struct ctl_watch){ .used = true, .fd = fd, .cb = cb, .ctx = ctx };
	return 0;
}

int ctl_loop_del(struct ctl_loop *l, int fd)
{
	struct ctl_watch *w = slot_find(l, fd);
	if (!w)
		return -ENOENT;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	/* Keep the slot reserved until the current batch is over. */
	w->dead = true;
	w->cb = NULL;
	if (!l->dispatching)
		w->used = false;
	return 0;
}

void ctl_loop_stop(struct ctl_loop *l)
{
	l->stop = true;
}

int ctl_loop_run_once(struct ctl_loop *l, int timeout_ms, struct pvpn_err *e)
{
	struct epoll_event evs[16];
	int n = epoll_wait(l->epfd, evs, 16, timeout_ms);
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		return err_set(e, -errno, "epoll_wait: %s", strerror(errno));
	}
	l->dispatching = true;
	for (int i = 0; i < n; i++) {
		struct ctl_watch *w = evs[i].data.ptr;
		if (w->used && !w->dead && w->cb)
			w->cb(w->ctx, w->fd, evs[i].events);
	}
	l->dispatching = false;
	for (size_t i = 0; i < CTL_LOOP_MAX_WATCH; i++)
		if (l->w[i].dead)
			l->w[i] = (struct ctl_watch){ 0 };
	return n;
}

/* --- timerfd ------------------------------------------------------------ */

int ctl_timer_open(struct pvpn_err *e)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0)
		return err_set(e, -errno, "timerfd_create: %s", strerror(errno));
	return fd;
}

int ctl_timer_arm(int fd, uint64_t deadline_ms)
{
	struct itimerspec its = { 0 };
	/* 0 disarms; a deadline already past fires at once (abs time 1 ns). */
	if (deadline_ms) {
		its.it_value.tv_sec = (time_t)(deadline_ms / 1000);
		its.it_value.tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
		if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
			its.it_value.tv_nsec = 1;
	}
	if (timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return -errno;
	return 0;
}

void ctl_timer_drain(int fd)
{
	uint64_t ticks;
	while (read(fd, &ticks, sizeof(ticks)) == (ssize_t)sizeof(ticks))
		;
}

/* --- signalfd ----------------------------------------------------------- */

int ctl_signals_open(struct pvpn_err *e)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return err_set(e, -errno, "sigprocmask: %s", strerror(errno));
	/* A peer closing a socket must not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);
	int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return err_set(e, -errno, "signalfd: %s", strerror(errno));
	return fd;
}

int ctl_signals_read(int fd)
{
	struct signalfd_siginfo si;
	ssize_t n = read(fd, &si, sizeof(si));
	if (n != (ssize_t)sizeof(si))
		return 0;
	return (int)si.ssi_signo;
}
