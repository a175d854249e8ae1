/* lifecycle.c — see lifecycle.h. */
#include "ctl/lifecycle.h"
#include "ctl/mobike.h"

#include <errno.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/log.h"

#include <stdio.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

static void record(struct ctl_installed *in, uint32_t spi, const struct sockaddr_storage *dst)
{
	if (in->n_sas >= sizeof(in->sas) / sizeof(in->sas[0]))
		return;
	in->sas[in->n_sas] = (struct xfrm_sa_id){ .spi = spi, .proto = IPPROTO_ESP };
	ctl_sockaddr_to_xfrm(dst, &in->sas[in->n_sas].dst);
	in->n_sas++;
}

static void forget(struct ctl_installed *in, uint32_t spi)
{
	for (size_t i = 0; i < in->n_sas; i++)
		if (in->sas[i].spi == spi) {
			memmove(&in->sas[i], &in->sas[i + 1], (in->n_sas - i - 1) * sizeof(in->sas[0]));
			in->n_sas--;
			return;
		}
}

int ctl_life_install_rekeyed(struct ctl_daemon *d, struct ctl_conn *c,
			     const struct ike_act_child *ch)
{
	struct pvpn_err e = { 0 };
	int rc;

	/* Inbound first (it fills the larval SA of the SPI allocation), so
	 * the server's first packets on the new pair are accepted; then the
	 * outbound one, which the policy's template picks from now on (the
	 * kernel prefers the newest SA of a reqid).  RFC 7296 §2.8. */
	if ((rc = ctl_conn_add_sa(d, ch, true, &e)) < 0)
		goto fail;
	record(&c->inst, ch->spi_in, &ch->local);
	if ((rc = ctl_conn_add_sa(d, ch, false, &e)) < 0)
		goto fail;
	record(&c->inst, ch->spi_out, &ch->remote);
	log_msg(LOG_NOTICE, c->name, "CHILD SA rekeyed: SPIs in %08x out %08x", ch->spi_in,
		ch->spi_out);
	if ((rc = ctl_state_save(c->name, &c->inst)) < 0)
		log_msg(LOG_WARNING, c->name, "cannot record the new SAs for crash recovery: %s",
			strerror(-rc));
	return 0;
fail:
	return err_set(&c->last_error, rc, "installing the rekeyed Child SA: %s", e.msg);
}

void ctl_life_remove_old(struct ctl_daemon *d, struct ctl_conn *c,
			 const struct ike_act_remove_child *r)
{
	struct pvpn_err e = { 0 };
	struct xfrm_sa_id id;
	const struct {
		uint32_t spi;
		const struct sockaddr_storage *dst;
	} two[2] = { { r->spi_out, &r->remote }, { r->spi_in, &r->local } };

	for (size_t i = 0; i < 2; i++) {
		memset(&id, 0, sizeof(id));
		id.spi = two[i].spi;
		id.proto = IPPROTO_ESP;
		ctl_sockaddr_to_xfrm(two[i].dst, &id.dst);
		if (xfrm_sa_delete(d->xh, &id, &e) < 0 && e.code != -ESRCH && e.code != -ENOENT)
			log_msg(LOG_WARNING, c->name, "removing the replaced SA %08x: %s", id.spi,
				e.msg);
		forget(&c->inst, id.spi);
	}
	log_msg(LOG_INFO, c->name, "removed the replaced CHILD SA (SPIs in %08x out %08x)",
		r->spi_in, r->spi_out);
	ctl_state_save(c->name, &c->inst);
}

/* --- reconnecting ------------------------------------------------------ */

#define LIFE_BACKOFF_FIRST_MS 1000
#define LIFE_BACKOFF_MAX_MS   30000

static bool unplanned(enum ike_error e)
{
	switch (e) {
	case IKE_ERR_SERVER_DEAD:
	case IKE_ERR_SERVER_NOT_RESPONDING:
	case IKE_ERR_PROTOCOL_ERROR:
	/* The server's DELETE of the IKE or Child SA: a server that restarts
	 * or is reloaded sends one, and the user did not ask for the tunnel
	 * to end (issue #8: an unplanned loss). */
	case IKE_ERR_SERVER_DISCONNECTED:
		return true;
	default:
		/* Authentication, proposals, configuration: trying again
		 * gives the same answer. */
		return false;
	}
}

bool ctl_life_on_finished(struct ctl_daemon *d, struct ctl_conn *c)
{
	uint64_t now = clock_mono_ms();

	bool moved = c->path_changed;
	c->path_changed = false;
	/* The next IKE SA starts from wherever the route then leads. */
	memset(&c->path_reported, 0, sizeof(c->path_reported));
	c->path_lost = false;
	if (d->stopping || c->no_reconnect)
		return false;
	if (moved) {
		/* A new local address: connect again from it at once. */
		c->backoff_ms = 0;
		c->reasserting = true;
		c->reconnect_at_ms = now;
		log_msg(LOG_NOTICE, c->name, "reasserting: the path to the server changed; "
			"reconnecting");
		if (d->on_status)
			d->on_status(d, c);
		return true;
	}
	bool lost = unplanned(c->error);
	if (!lost || (!c->ever_connected && !c->reasserting))
		return false;
	if (c->ever_connected || !c->backoff_ms)
		c->backoff_ms = LIFE_BACKOFF_FIRST_MS;
	else if (c->backoff_ms < LIFE_BACKOFF_MAX_MS)
		c->backoff_ms = c->backoff_ms * 2 > LIFE_BACKOFF_MAX_MS ? LIFE_BACKOFF_MAX_MS
									: c->backoff_ms * 2;
	c->reasserting = true;
	c->reconnect_at_ms = now + c->backoff_ms;
	log_msg(LOG_NOTICE, c->name, "reasserting: reconnecting in %u ms (%s)", c->backoff_ms,
		c->last_error.msg[0] ? c->last_error.msg : ike_error_name(c->error));
	if (d->on_status)
		d->on_status(d, c);
	return true;
}

static void reconnect(struct ctl_daemon *d, struct ctl_conn *c)
{
	struct prof_profile p;
	struct pvpn_err e = { 0 };
	uint32_t backoff = c->backoff_ms;
	unsigned n = c->reconnects + 1;
	char name[sizeof(c->name)];

	prof_init(&p);
	snprintf(name, sizeof(name), "%s", c->name);
	if (prof_copy(&p, &c->prof) < 0) {
		prof_free(&p);
		c->reconnect_at_ms = clock_mono_ms() + LIFE_BACKOFF_MAX_MS;
		return;
	}
	log_msg(LOG_NOTICE, name, "reconnecting (attempt %u)", n);
	/* What ended the tunnel stays the last error while it reasserts
	 * (starting clears it, as a user's connect should; being connected
	 * again clears it too). */
	struct pvpn_err why = c->last_error;
	enum ike_error why_code = c->error;
	int rc = ctl_conn_start(d, name, &p, NULL, &e);
	prof_free(&p);
	if (rc == 0 && !c->last_error.code) {
		c->last_error = why;
		c->error = why_code;
	}
	c->reconnects = n;
	c->backoff_ms = backoff;
	if (rc < 0) {
		/* Not even a packet went out (no route to the server, ...):
		 * try again later. */
		c->reasserting = true;
		c->backoff_ms = !backoff ? LIFE_BACKOFF_FIRST_MS
			      : backoff * 2 > LIFE_BACKOFF_MAX_MS ? LIFE_BACKOFF_MAX_MS : backoff * 2;
		c->reconnect_at_ms = clock_mono_ms() + c->backoff_ms;
		log_msg(LOG_WARNING, name, "reconnecting failed: %s; again in %u ms", e.msg,
			c->backoff_ms);
		return;
	}
	/* Still reasserting until the new IKE SA is up. */
	c->reasserting = true;
	c->reconnect_at_ms = 0;
}

#define LIFE_POLL_MS       5000   /* counters read this often while up */
#define LIFE_SILENT_MS    10000   /* ESP out, nothing in: check liveness */

static int read_packets(struct ctl_daemon *d, uint32_t spi, const struct sockaddr_storage *dst,
			uint64_t *packets)
{
	struct xfrm_sa_counters k;
	struct xfrm_sa_id id;
	struct pvpn_err e = { 0 };
	int rc;

	memset(&id, 0, sizeof(id));
	id.spi = spi;
	id.proto = IPPROTO_ESP;
	ctl_sockaddr_to_xfrm(dst, &id.dst);
	if ((rc = xfrm_sa_counters(d->xh, &id, &k, &e)) < 0)
		return rc;
	*packets = k.packets;
	return 0;
}

/* Feed the inbound SA's packet counter to the engine: ESP from the peer
 * means it is alive (RFC 7296 §2.4), so no liveness check is needed.  And
 * the other way round: ESP going out with nothing coming back for
 * LIFE_SILENT_MS (a restarted server drops our packets) asks for a check
 * at once instead of after DeadPeerDetectionRate. */
/* The source address the kernel now picks towards the server (the same
 * lookup as at connect time).  0, or -ENETUNREACH etc. */
static int route_source(const struct sockaddr_storage *remote, struct sockaddr_storage *local)
{
	int fd = socket(remote->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	socklen_t sl = sizeof(*local), rl;
	int rc = 0;

	if (fd < 0)
		return -errno;
	rl = remote->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	if (connect(fd, (const struct sockaddr *)remote, rl) < 0 ||
	    getsockname(fd, (struct sockaddr *)local, &sl) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		       &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
}

/* The network changed under the tunnel (address moved, interface down,
 * default route elsewhere).  With MOBIKE (RFC 4555) the engine moves the
 * IKE SA and then asks for the kernel's SAs to follow (IKE_ACT_MIGRATE,
 * ctl/mobike.c); without it the IKE SA ends and pvpnd connects again from
 * the new address.  The address compared with is the one last reported
 * while a move is under way, so more rtnetlink messages about the same
 * change do not restart it.  true when c is ending. */
static bool check_path(struct ctl_conn *c, uint64_t now)
{
	struct sockaddr_storage now_local;
	char b[64] = "none";
	int rc = route_source(&c->remote, &now_local);
	const struct sockaddr_storage *ref =
		c->path_reported.ss_family ? &c->path_reported : &c->local;
	int r;

	if (rc == 0 && !c->path_lost && same_addr(&now_local, ref))
		return false;
	if (rc < 0 && c->path_lost)
		return false;        /* still no route: said so already */
	if (rc == 0) {
		if (now_local.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&now_local)->sin_addr, b, sizeof(b));
		else
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&now_local)->sin6_addr, b,
				  sizeof(b));
	}
	log_msg(LOG_NOTICE, c->name, "the path to the server changed (local address now %s)", b);
	c->path_changed = true;   /* read by conn_finished while the engine ends */
	r = ike_path_changed(c->sa, rc == 0 ? &now_local : NULL, now);
	if (r > 0)
		return true;
	c->path_changed = false;
	if (r == 0) {
		c->path_lost = rc < 0;
		if (rc == 0 && !same_addr(&now_local, &c->local))
			c->path_reported = now_local;
		else
			memset(&c->path_reported, 0, sizeof(c->path_reported));
	}
	return false;
}

static void poll_traffic(struct ctl_daemon *d, struct ctl_conn *c, uint64_t now)
{
	uint32_t in, out;
	uint64_t rx = 0, tx = 0;
	bool rx_new, tx_new;

	c->poll_ms = now;
	/* Without the rtnetlink watcher, the path is polled here. */
	if (!d->rtmon && check_path(c, now))
		return;
	if (ike_child_spis(c->sa, &in, &out) < 0 || read_packets(d, in, &c->local, &rx) < 0)
		return;
	if (read_packets(d, out, &c->remote, &tx) < 0)
		tx = 0;
	/* A new pair (rekey): any packet on it is news. */
	rx_new = in != c->rx_spi ? rx > 0 : rx > c->rx_packets;
	tx_new = out != c->tx_spi ? tx > 0 : tx > c->tx_packets;
	c->rx_spi = in;
	c->tx_spi = out;
	c->rx_packets = rx;
	c->tx_packets = tx;
	if (!c->rx_moved_ms)
		c->rx_moved_ms = now;
	if (rx_new) {
		c->rx_moved_ms = now;
		ike_peer_traffic(c->sa, now);
		return;
	}
	if (tx_new && c->prof.dpd_rate != PROF_DPD_NONE && now - c->rx_moved_ms >= LIFE_SILENT_MS) {
		unsigned long long secs = (now - c->rx_moved_ms) / 1000;
		c->rx_moved_ms = now;   /* once per silent stretch */
		if (ike_check_liveness(c->sa, now) == 1)
			log_msg(LOG_INFO, c->name, "ESP goes out but nothing came back for %llu s: "
				"checking that the server is alive", secs);
	}
}

/* --- watching the network (rtnetlink) --------------------------------- */

#define LIFE_PATH_DEBOUNCE_MS   200   /* one move brings several messages */
#define LIFE_PATH_MAX_DELAY_MS 1000   /* a steady stream does not postpone forever */

/* Arm the daemon's timer for `at` unless it already fires sooner. */
static void timer_at_most(struct ctl_daemon *d, uint64_t at)
{
	struct itimerspec its;
	uint64_t now = clock_mono_ms();

	if (timerfd_gettime(d->timer_fd, &its) == 0 &&
	    (its.it_value.tv_sec || its.it_value.tv_nsec)) {
		uint64_t left = (uint64_t)its.it_value.tv_sec * 1000 +
				(uint64_t)its.it_value.tv_nsec / 1000000;
		if (now + left <= at)
			return;
	}
	ctl_timer_arm(d->timer_fd, at);
}

static void on_rtmon(void *ctx, int fd, uint32_t events)
{
	struct ctl_daemon *d = ctx;
	struct pvpn_err e = { 0 };
	uint64_t now, at;
	int n = xfrm_rtmon_read(d->rtmon, &e);

	if (n < 0) {
		log_warn("network watcher: %s", e.msg);
		return;
	}
	if (n == 0)
		return;
	now = clock_mono_ms();
	if (!d->path_check_ms)
		d->path_first_ms = now;
	at = now + LIFE_PATH_DEBOUNCE_MS;
	if (at > d->path_first_ms + LIFE_PATH_MAX_DELAY_MS)
		at = d->path_first_ms + LIFE_PATH_MAX_DELAY_MS;
	if (at < now)
		at = now;
	d->path_check_ms = at;
	timer_at_most(d, at);
}

void ctl_life_watch_open(struct ctl_daemon *d)
{
	struct pvpn_err e = { 0 };

	if (xfrm_rtmon_open(&d->rtmon, &e) < 0) {
		log_warn("not watching the network (%s); checking the path every %u s instead",
			 e.msg, LIFE_POLL_MS / 1000);
		d->rtmon = NULL;
		return;
	}
	if (ctl_loop_add(&d->loop, xfrm_rtmon_fd(d->rtmon), EPOLLIN, on_rtmon, d, &e) < 0) {
		log_warn("not watching the network (%s); checking the path every %u s instead",
			 e.msg, LIFE_POLL_MS / 1000);
		xfrm_rtmon_close(d->rtmon);
		d->rtmon = NULL;
	}
}

void ctl_life_watch_close(struct ctl_daemon *d)
{
	if (!d->rtmon)
		return;
	ctl_loop_del(&d->loop, xfrm_rtmon_fd(d->rtmon));
	xfrm_rtmon_close(d->rtmon);
	d->rtmon = NULL;
}

/* The debounced check: every connected server's route, once. */
static void check_paths(struct ctl_daemon *d, uint64_t now_ms)
{
	d->path_check_ms = 0;
	for (size_t i = 0; i < CTL_MAX_CONNS; i++) {
		struct ctl_conn *c = &d->conns[i];
		if (!c->used || !c->sa || c->status != IKE_STATUS_CONNECTED)
			continue;
		check_path(c, now_ms);
		ctl_conn_drain(d, c);
	}
}

void ctl_life_timer(struct ctl_daemon *d, uint64_t now_ms)
{
	if (d->path_check_ms && now_ms >= d->path_check_ms)
		check_paths(d, now_ms);
	for (size_t i = 0; i < CTL_MAX_CONNS; i++) {
		struct ctl_conn *c = &d->conns[i];
		if (!c->used)
			continue;
		if (c->sa) {
			uint64_t t = ike_next_deadline(c->sa);
			if (c->status == IKE_STATUS_CONNECTED &&
			    ((t && t <= now_ms) || now_ms >= c->poll_ms + LIFE_POLL_MS)) {
				poll_traffic(d, c, now_ms);
				ctl_conn_drain(d, c);
			}
			continue;
		}
		if (c->reasserting && !d->stopping && c->reconnect_at_ms &&
		    now_ms >= c->reconnect_at_ms)
			reconnect(d, c);
	}
}

uint64_t ctl_life_deadline(const struct ctl_daemon *d)
{
	uint64_t next = d->path_check_ms;
	for (size_t i = 0; i < CTL_MAX_CONNS; i++) {
		const struct ctl_conn *c = &d->conns[i];
		uint64_t t = 0;
		if (!c->used)
			continue;
		if (!c->sa && c->reasserting && c->reconnect_at_ms)
			t = c->reconnect_at_ms;
		else if (c->sa && c->status == IKE_STATUS_CONNECTED)
			t = c->poll_ms + LIFE_POLL_MS;
		if (t && (!next || t < next))
			next = t;
	}
	return next;
}

bool ctl_life_user_stop(struct ctl_daemon *d, struct ctl_conn *c)
{
	bool waiting = !c->sa && c->reasserting;
	c->no_reconnect = true;
	c->reasserting = false;
	c->reconnect_at_ms = 0;
	if (waiting) {
		log_msg(LOG_NOTICE, c->name, "reconnect cancelled");
		c->status = IKE_STATUS_DISCONNECTED;
		if (d->on_status)
			d->on_status(d, c);
	}
	return waiting;
}
