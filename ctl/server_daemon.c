/* server_daemon.c — pvpnd's daemon mode: the control socket's requests
 * carried out on the connection manager (conn.c) and the preferences store
 * (policy/).  Each request is answered at once; a connect's progress and
 * outcome reach watchers as CTL_EV_STATUS events from the manager's
 * on_status hook.  Several profiles may be connected at once; each keeps
 * its status and last error after it ends. */
#include "ctl/proto.h"
#include "ctl/ctl.h"

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/log.h"

struct dmode {
	struct ctl_daemon *d;
	struct ctl_server *srv;
	const char *prefs;
	uint64_t error_time[CTL_MAX_CONNS];   /* per conns[] slot, unix seconds */
	enum ike_status last_status[CTL_MAX_CONNS];
};

/* Replies are at most one frame; one static buffer serves them all. */
static uint8_t frame_buf[4 + CTL_FRAME_MAX];

static size_t conn_idx(const struct dmode *dm, const struct ctl_conn *c)
{
	return (size_t)(c - dm->d->conns);
}

static void reply_error(struct dmode *dm, struct ctl_client *cl, const struct ctl_request *rq,
			enum ctl_result res, const char *error, const char *msg,
			const struct ctl_conn *c)
{
	struct ctl_msg m;
	ctl_msg_begin(&m, frame_buf, sizeof(frame_buf), CTL_KIND_REPLY, rq->op, rq->seq);
	ctl_msg_u32(&m, CTL_A_RESULT, res);
	if (error)
		ctl_msg_str(&m, CTL_A_ERROR, error);
	if (msg)
		ctl_msg_str(&m, CTL_A_MESSAGE, msg);
	if (c) {
		static struct ctl_conn_info ci;
		ctl_status_collect(dm->d, c, dm->error_time[conn_idx(dm, c)], &ci);
		ctl_msg_conn(&m, &ci);
	}
	int n = ctl_msg_finish(&m);
	if (n > 0)
		ctl_server_send(dm->srv, cl, frame_buf, (size_t)n);
}

static void reply_ok(struct dmode *dm, struct ctl_client *cl, const struct ctl_request *rq,
		     const char *msg, const struct ctl_conn *c)
{
	reply_error(dm, cl, rq, CTL_RES_OK, NULL, msg, c);
}

/* A profile's problem as the reply's error: a missing one is
 * configurationNotFound, anything else configurationInvalid (exit 2). */
static void reply_profile_error(struct dmode *dm, struct ctl_client *cl,
				const struct ctl_request *rq, int rc, const struct pvpn_err *e)
{
	reply_error(dm, cl, rq, CTL_RES_INVALID,
		    rc == -ENOENT ? "configurationNotFound" : "configurationInvalid", e->msg, NULL);
}

static void broadcast_conn(struct dmode *dm, const struct ctl_conn *c)
{
	static struct ctl_conn_info ci;
	struct ctl_msg m;
	ctl_status_collect(dm->d, c, dm->error_time[conn_idx(dm, c)], &ci);
	ctl_msg_begin(&m, frame_buf, sizeof(frame_buf), CTL_KIND_EVENT, CTL_EV_STATUS, 0);
	ctl_msg_conn(&m, &ci);
	int n = ctl_msg_finish(&m);
	if (n > 0)
		ctl_server_broadcast(dm->srv, frame_buf, (size_t)n);
}

static void on_status(struct ctl_daemon *d, struct ctl_conn *c)
{
	struct dmode *dm = d->user;
	if (!dm || !dm->srv)
		return;
	size_t i = conn_idx(dm, c);
	if (c->status == IKE_STATUS_DISCONNECTED && c->error != IKE_ERR_NONE)
		dm->error_time[i] = clock_wall_s();
	dm->last_status[i] = c->status;
	broadcast_conn(dm, c);
}

static void op_save(struct dmode *dm, struct ctl_client *cl, const struct ctl_request *rq)
{
	struct pvpn_err e = { 0 };
	int rc = prof_store_save_text(dm->prefs, rq->name, rq->text, rq->text_len, &e);
	if (rc < 0) {
		reply_error(dm, cl, rq, rc == -EACCES || rc == -EIO || rc == -ENOSPC || rc == -EROFS
				? CTL_RES_FAILED : CTL_RES_INVALID,
			    "configurationInvalid", e.msg, NULL);
		return;
	}
	log_msg(LOG_NOTICE, rq->name, "profile saved (uid %u)", ctl_client_uid(cl));
	reply_ok(dm, cl, rq, "saved", NULL);
}

static void op_load(struct dmode *dm, struct ctl_client *cl, const struct ctl_request *rq)
{
	static struct prof_profile p;
	struct pvpn_err e = { 0 };
	/* The secret files are not even opened: load shows them by name. */
	int rc = prof_store_load(dm->prefs, rq->name, PROF_PARSE_NO_FILES, &p, &e);
	if (rc < 0) {
		reply_profile_error(dm, cl, rq, rc, &e);
		return;
	}
	char *text = NULL;
	size_t len = 0;
	rc = prof_serialise(&p, true, &text, &len);
	prof_free(&p);
	if (rc < 0) {
		reply_error(dm, cl, rq, CTL_RES_FAILED, "internal", "out of memory", NULL);
		return;
	}
	struct ctl_msg m;
	ctl_msg_begin(&m, frame_buf, sizeof(frame_buf), CTL_KIND_REPLY, rq->op, rq->seq);
	ctl_msg_u32(&m, CTL_A_RESULT, CTL_RES_OK);
	ctl_msg_bytes(&m, CTL_A_TEXT, text, len);
	int n = ctl_msg_finish(&m);
	prof_text_free(text, len);
	if (n > 0)
		ctl_server_send(dm->srv, cl, frame_buf, (size_t)n);
	else
		reply_error(dm, cl, rq, CTL_RES_FAILED, "internal", "profile too large to send",
			    NULL);
}

/* Something to stop: an IKE SA, a reconnect waiting for its backoff, or
 * IncludeAllNetworks' block policies still holding traffic back. */
static bool conn_stoppable(const struct ctl_conn *c)
{
	return c->sa || c->reasserting || ctl_block_active(c);
}

static void op_remove(struct dmode *dm, struct ctl_client *cl, const struct ctl_request *rq)
{
	struct pvpn_err e = { 0 };
	int rc = prof_store_remove(dm->prefs, rq->name, &e);
	if (rc < 0) {
		reply_profile_error(dm, cl, rq, rc, &e);
		return;
	}
	/* Like removing a configuration on Apple's side: its tunnel goes too. */
	struct ctl_conn *c = ctl_conn_find(dm->d, rq->name);
	if (c && conn_stoppable(c))
		ctl_conn_stop(dm->d, c);
	log_msg(LOG_NOTICE, rq->name, "profile removed (uid %u)", ctl_client_uid(cl));
	reply_ok(dm, cl, rq, "removed", NULL);
}

static void op_list(struct dmode *dm, struct ctl_client *cl, const struct ctl_request *rq)
{
	struct prof_list_entry *l = NULL;
	size_t n = 0;
	struct pvpn_err e = { 0 };
	int rc = prof_store_list(dm->prefs, PROF_PARSE_NO_FILES, &l, &n, &e);
	if (rc == -ENOENT) {
		n = 0;          /* no folder yet: nothing saved */
	} else if (rc < 0) {
		reply_error(dm, cl, rq, CTL_RES_FAILED, "configurationFailed", e.msg, NULL);
		return;
	}
	struct ctl_msg m;
	ctl_msg_begin(&m, frame_buf, sizeof(frame_buf), CTL_KIND_REPLY, rq->op, rq->seq);
	ctl_msg_u32(&m, CTL_A_RESULT, CTL_RES_OK);
	for (size_t i = 0; i < n && i < CTL_MAX_LIST; i++) {
		ctl_msg_nest_begin(&m, CTL_A_PROFILE);
		ctl_msg_str(&m, CTL_A_NAME, l[i].name);
		ctl_msg_u8(&m, CTL_A_OK, l[i].ok);
		if (!l[i].ok)
			ctl_msg_str(&m, CTL_A_MESSAGE, l[i].err.msg);
		ctl_msg_nest_end(&m);
	}
	free(l);
	int len = ctl_msg_finish(&m);
	if (len > 0)
		ctl_server_send(dm->srv, cl, frame_buf, (size_t)len);
	else
		reply_error(dm, cl, rq, CTL_RES_FAILED, "internal", "list too large to send", NULL);
}

static void op_connect(struct dmode *dm, struct ctl_client *cl, const struct ctl_request *rq)
{
	static struct prof_profile p;
	struct pvpn_err e = { 0 };
	if (dm->d->stopping) {
		reply_error(dm, cl, rq, CTL_RES_FAILED, "configurationFailed",
			    "pvpnd is shutting down", NULL);
		return;
	}
	struct ctl_conn *c = ctl_conn_find(dm->d, rq->name);
	if (c && c->sa) {
		reply_ok(dm, cl, rq, "already active", c);
		return;
	}
	int rc = prof_store_load(dm->prefs, rq->name, 0, &p, &e);
	if (rc < 0) {
		reply_profile_error(dm, cl, rq, rc, &e);
		return;
	}
	log_msg(LOG_NOTICE, rq->name, "connect requested (uid %u)", ctl_client_uid(cl));
	c = NULL;
	rc = ctl_conn_start(dm->d, rq->name, &p, &c, &e);
	prof_free(&p);
	if (rc < 0) {
		log_msg(LOG_ERR, rq->name, "%s", e.msg);
		c = ctl_conn_find(dm->d, rq->name);
		if (c)
			dm->error_time[conn_idx(dm, c)] = clock_wall_s();
		enum ctl_vpn_error ve = ctl_vpn_error_from(0, rc, e.msg);
		reply_error(dm, cl, rq, CTL_RES_FAILED, ctl_vpn_error_str(ve), e.msg, c);
		if (c)
			broadcast_conn(dm, c);
		return;
	}
	dm->error_time[conn_idx(dm, c)] = 0;
	/* Failures the engine finds later come as events, and in last-error. */
	reply_ok(dm, cl, rq, "connecting", c);
}

static void op_disconnect(struct dmode *dm, struct ctl_client *cl, const struct ctl_request *rq)
{
	struct ctl_conn *c = ctl_conn_find(dm->d, rq->name);
	if (!c || !conn_stoppable(c)) {
		reply_ok(dm, cl, rq, "not connected", c);
		return;
	}
	log_msg(LOG_NOTICE, rq->name, "disconnect requested (uid %u)", ctl_client_uid(cl));
	ctl_conn_stop(dm->d, c);
	/* The connection may already be gone (struct kept, engine freed). */
	reply_ok(dm, cl, rq, "disconnecting", c);
}

/* One conn_info for a stored profile that has no connection record. */
static void idle_info(const char *name, bool ok, const char *msg, struct ctl_conn_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	snprintf(ci->name, sizeof(ci->name), "%s", name);
	ci->status = ok ? CTL_ST_DISCONNECTED : CTL_ST_INVALID;
	if (!ok) {
		ci->error = CTL_VE_CONFIGURATION_FAILED;
		snprintf(ci->detail, sizeof(ci->detail), "%s", msg);
	}
}

static void idle_server(struct dmode *dm, const char *name, struct ctl_conn_info *ci)
{
	static struct prof_profile p;
	struct pvpn_err e = { 0 };
	if (prof_store_load(dm->prefs, name, PROF_PARSE_NO_FILES, &p, &e) == 0)
		snprintf(ci->server, sizeof(ci->server), "%s", p.server_host);
	prof_free(&p);
}

static void op_status(struct dmode *dm, struct ctl_client *cl, const struct ctl_request *rq)
{
	static struct ctl_conn_info ci;
	struct ctl_msg m;
	struct pvpn_err e = { 0 };
	ctl_msg_begin(&m, frame_buf, sizeof(frame_buf), CTL_KIND_REPLY, rq->op, rq->seq);
	ctl_msg_u32(&m, CTL_A_RESULT, CTL_RES_OK);
	if (rq->has_name) {
		struct ctl_conn *c = ctl_conn_find(dm->d, rq->name);
		if (c) {
			ctl_status_collect(dm->d, c, dm->error_time[conn_idx(dm, c)], &ci);
		} else {
			static struct prof_profile p;
			int rc = prof_store_load(dm->prefs, rq->name, PROF_PARSE_NO_FILES, &p, &e);
			if (rc == -ENOENT) {
				reply_profile_error(dm, cl, rq, rc, &e);
				return;
			}
			idle_info(rq->name, rc == 0, e.msg, &ci);
			if (rc == 0)
				snprintf(ci.server, sizeof(ci.server), "%s", p.server_host);
			prof_free(&p);
		}
		ctl_msg_conn(&m, &ci);
	} else {
		/* Every connection the daemon knows, then every other stored profile. */
		size_t count = 0;
		for (size_t i = 0; i < CTL_MAX_CONNS; i++) {
			const struct ctl_conn *c = &dm->d->conns[i];
			if (!c->used)
				continue;
			ctl_status_collect(dm->d, c, dm->error_time[i], &ci);
			ctl_msg_conn(&m, &ci);
			count++;
		}
		struct prof_list_entry *l = NULL;
		size_t n = 0;
		if (prof_store_list(dm->prefs, PROF_PARSE_NO_FILES, &l, &n, &e) == 0) {
			for (size_t i = 0; i < n && count < CTL_MAX_CONN_INFO; i++) {
				if (ctl_conn_find(dm->d, l[i].name))
					continue;
				idle_info(l[i].name, l[i].ok, l[i].err.msg, &ci);
				if (l[i].ok)
					idle_server(dm, l[i].name, &ci);
				ctl_msg_conn(&m, &ci);
				count++;
			}
			free(l);
		}
	}
	int n = ctl_msg_finish(&m);
	if (n > 0)
		ctl_server_send(dm->srv, cl, frame_buf, (size_t)n);
	else
		reply_error(dm, cl, rq, CTL_RES_FAILED, "internal", "status too large to send", NULL);
}

static void op_watch(struct dmode *dm, struct ctl_client *cl, const struct ctl_request *rq)
{
	static struct ctl_conn_info ci;
	struct ctl_msg m;
	ctl_server_set_watch(cl, true);
	ctl_msg_begin(&m, frame_buf, sizeof(frame_buf), CTL_KIND_REPLY, rq->op, rq->seq);
	ctl_msg_u32(&m, CTL_A_RESULT, CTL_RES_OK);
	for (size_t i = 0; i < CTL_MAX_CONNS; i++) {
		const struct ctl_conn *c = &dm->d->conns[i];
		if (!c->used)
			continue;
		ctl_status_collect(dm->d, c, dm->error_time[i], &ci);
		ctl_msg_conn(&m, &ci);
	}
	int n = ctl_msg_finish(&m);
	if (n > 0)
		ctl_server_send(dm->srv, cl, frame_buf, (size_t)n);
}

static void op_last_error(struct dmode *dm, struct ctl_client *cl, const struct ctl_request *rq)
{
	struct ctl_conn *c = ctl_conn_find(dm->d, rq->name);
	if (!c) {
		static struct prof_profile p;
		struct pvpn_err e = { 0 };
		int rc = prof_store_load(dm->prefs, rq->name, PROF_PARSE_NO_FILES, &p, &e);
		prof_free(&p);
		if (rc == -ENOENT) {
			reply_profile_error(dm, cl, rq, rc, &e);
			return;
		}
		static struct ctl_conn_info ci;
		idle_info(rq->name, rc == 0, e.msg, &ci);
		struct ctl_msg m;
		ctl_msg_begin(&m, frame_buf, sizeof(frame_buf), CTL_KIND_REPLY, rq->op, rq->seq);
		ctl_msg_u32(&m, CTL_A_RESULT, CTL_RES_OK);
		ctl_msg_conn(&m, &ci);
		int n = ctl_msg_finish(&m);
		if (n > 0)
			ctl_server_send(dm->srv, cl, frame_buf, (size_t)n);
		return;
	}
	reply_ok(dm, cl, rq, NULL, c);
}

static void handle(void *ctx, struct ctl_server *s, struct ctl_client *cl,
		   const struct ctl_request *rq)
{
	struct dmode *dm = ctx;
	log_msg(LOG_DEBUG, rq->has_name ? rq->name : NULL, "control request %s from uid %u",
		ctl_op_str(rq->op), ctl_client_uid(cl));
	switch (rq->op) {
	case CTL_OP_SAVE: op_save(dm, cl, rq); break;
	case CTL_OP_LOAD: op_load(dm, cl, rq); break;
	case CTL_OP_REMOVE: op_remove(dm, cl, rq); break;
	case CTL_OP_LIST: op_list(dm, cl, rq); break;
	case CTL_OP_CONNECT: op_connect(dm, cl, rq); break;
	case CTL_OP_DISCONNECT: op_disconnect(dm, cl, rq); break;
	case CTL_OP_STATUS: op_status(dm, cl, rq); break;
	case CTL_OP_WATCH: op_watch(dm, cl, rq); break;
	case CTL_OP_LAST_ERROR: op_last_error(dm, cl, rq); break;
	default:
		reply_error(dm, cl, rq, CTL_RES_INVALID, "badRequest", "unknown request", NULL);
		break;
	}
}

int ctl_daemon_mode(const struct ctl_opts *o)
{
	static struct ctl_daemon d;
	static struct dmode dm;
	struct pvpn_err e = { 0 };
	int code = 1;

	memset(&dm, 0, sizeof(dm));
	if (ctl_daemon_init(&d, o->keylog, &e) < 0) {
		log_err("%s", e.msg);
		goto out;
	}
	dm.d = &d;
	dm.prefs = o->prefs;
	struct ctl_server_cfg cfg;
	ctl_server_cfg_defaults(&cfg);
	cfg.path = o->socket;
	cfg.handler = handle;
	cfg.ctx = &dm;
	/* Members of a "pvpn" group, when one exists, may use the socket. */
	struct group *gr = getgrnam("pvpn");
	if (gr)
		cfg.gid = (int)gr->gr_gid;
	if (ctl_server_open(&dm.srv, &d.loop, &cfg, &e) < 0) {
		log_err("control socket: %s", e.msg);
		goto out;
	}
	d.user = &dm;
	d.on_status = on_status;
	log_notice("listening on %s, profiles in %s", o->socket, o->prefs);
	ctl_sd_notify("READY=1");
	code = ctl_daemon_run(&d);
	ctl_sd_notify("STOPPING=1");
out:
	d.on_status = NULL;
	d.user = NULL;
	ctl_server_close(dm.srv);
	dm.srv = NULL;
	ctl_daemon_free(&d);
	return code;
}
