/* mobike.c — moving the IKE SA to another path: MOBIKE for the initiator
 * (RFC 4555) and the server's NAT rebinding (RFC 7296 §2.23).
 *
 * The daemon tells the engine where the route to the server leaves from
 * now (ike_path_changed).  With MOBIKE agreed, IKE goes out from the new
 * address at once; an INFORMATIONAL request with UPDATE_SA_ADDRESSES and
 * NAT detection for the new path follows as soon as the window is free;
 * its answer moves the installed SAs (IKE_ACT_MIGRATE).  The SAs' kernel
 * addresses (cfg.local / cfg.remote) change only then. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "ike-lite/engine_internal.h"
#include "lib/log.h"

bool eng_encap(const struct ike_sa *sa)
{
	return sa->nat_local || sa->nat_remote;
}

bool eng_mobike_on(const struct ike_sa *sa)
{
	return !sa->cfg.disable_mobike && sa->mob.peer;
}

static const char *addr_str(const struct sockaddr_storage *ss, char *buf, size_t cap)
{
	const void *a = ss->ss_family == AF_INET6 ?
			(const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr :
			(const void *)&((const struct sockaddr_in *)ss)->sin_addr;
	if (!inet_ntop(ss->ss_family == AF_INET6 ? AF_INET6 : AF_INET, a, buf, (socklen_t)cap))
		snprintf(buf, cap, "?");
	return buf;
}

/* ss's address with ss_port's port. */
static void set_addr(struct sockaddr_storage *ss, const struct sockaddr_storage *addr)
{
	uint16_t port = eng_port(ss);
	*ss = *addr;
	eng_set_port(ss, port);
}

void eng_mobike_build_auth(struct ike_sa *sa, struct ike_builder *b)
{
	/* RFC 4555 §3.3: in the IKE_AUTH request (the first one: with EAP
	 * the later ones carry only EAP and AUTH). */
	if (!sa->cfg.disable_mobike)
		ike_build_notify(b, 0, NULL, 0, IKE_N_MOBIKE_SUPPORTED, NULL, 0);
}

void eng_mobike_auth_done(struct ike_sa *sa, const struct ike_message *in)
{
	/* RFC 4555 §3.3: the responder answers with MOBIKE_SUPPORTED in the
	 * IKE_AUTH response that completes the exchange. */
	if (!sa->cfg.disable_mobike && ike_message_find_notify(in, IKE_N_MOBIKE_SUPPORTED)) {
		sa->mob.peer = true;
		log_msg(LOG_DEBUG, sa->cfg.log_name, "IKE: the server supports MOBIKE");
	}
}

void eng_mobike_float(struct ike_sa *sa)
{
	struct pvpn_err err;

	if (sa->cfg.disable_mobike || sa->natt || !sa->init_resp)
		return;
	/* The IKE_SA_INIT response was checked when it came; here only its
	 * NAT detection notifies matter: they say the responder does NAT-T. */
	if (ike_message_parse(sa->m_outer, sa->init_resp, sa->init_resp_len, &err) < 0)
		return;
	if (!ike_message_find_notify(sa->m_outer, IKE_N_NAT_DETECTION_SOURCE_IP) ||
	    !ike_message_find_notify(sa->m_outer, IKE_N_NAT_DETECTION_DESTINATION_IP))
		return;
	/* RFC 4555 §3.3: a MOBIKE initiator moves to port 4500 for IKE_AUTH
	 * even without a NAT, so a NAT that shows up on a later path finds
	 * IKE on the NAT-T port already; ESP stays unencapsulated until a NAT
	 * is actually detected (eng_encap). */
	sa->natt = true;
	eng_set_port(&sa->path.local, sa->cfg.natt_port);
	eng_set_port(&sa->path.remote, sa->cfg.natt_port);
	log_msg(LOG_DEBUG, sa->cfg.log_name, "IKE: MOBIKE: IKE_AUTH on port %u",
		(unsigned)sa->cfg.natt_port);
}

/* ----------------------------------------------------- the path change */

static int send_update(struct ike_sa *sa, uint64_t now_ms)
{
	struct ike_builder b;
	uint8_t plain[256], first = IKE_PT_NONE, hash[20], *msg = NULL;
	size_t plain_len = 0, len = 0;
	uint32_t mid = sa->next_mid;
	struct sockaddr_storage from;
	int rc;

	set_addr(&sa->path.local, &sa->mob.target);
	from = sa->path.local;
	ike_build_chain_begin(&b, plain, sizeof(plain));
	/* RFC 4555 §3.5: UPDATE_SA_ADDRESSES, and NAT detection computed for
	 * the path this request takes (§3.9, RFC 7296 §2.23). */
	ike_build_notify(&b, 0, NULL, 0, IKE_N_UPDATE_SA_ADDRESSES, NULL, 0);
	eng_natd_hash(sa->spi_i, sa->spi_r, &from, eng_port(&from), hash);
	ike_build_notify(&b, 0, NULL, 0, IKE_N_NAT_DETECTION_SOURCE_IP, hash, 20);
	eng_natd_hash(sa->spi_i, sa->spi_r, &sa->path.remote, eng_port(&sa->path.remote), hash);
	ike_build_notify(&b, 0, NULL, 0, IKE_N_NAT_DETECTION_DESTINATION_IP, hash, 20);
	/* §3.11: COOKIE2 ties the answer to this request. */
	sa->rnd(sa->mob.cookie2, sizeof(sa->mob.cookie2));
	ike_build_notify(&b, 0, NULL, 0, IKE_N_COOKIE2, sa->mob.cookie2, sizeof(sa->mob.cookie2));
	if ((rc = ike_build_finish(&b, &plain_len, &first, NULL)) < 0 ||
	    (rc = eng_build_protected(sa, IKE_INFORMATIONAL, false, mid, plain, plain_len, first,
				      &msg, &len)) < 0) {
		eng_close(sa, IKE_ERR_CONFIGURATION_FAILED, "cannot build the MOBIKE address update");
		return rc;
	}
	sa->next_mid++;
	sa->mob.sent_from = from;
	sa->mob.wanted = false;
	{
		char ab[64];
		log_msg(LOG_INFO, sa->cfg.log_name, "IKE: MOBIKE: moving the IKE SA to %s "
			"(UPDATE_SA_ADDRESSES)", addr_str(&from, ab, sizeof(ab)));
	}
	return eng_request_start(sa, REQ_MOBIKE, IKE_INFORMATIONAL, mid, msg, len, now_ms);
}

void eng_mobike_tick(struct ike_sa *sa, uint64_t now_ms)
{
	if (sa->state != ST_ESTABLISHED || !sa->mob.wanted)
		return;
	if (!sa->mob.have_target) {
		/* No route to the server at all: like a dead peer, give the
		 * path the retransmission budget to come back. */
		if (now_ms >= sa->mob.since_ms + sa->cfg.retx_budget_ms)
			eng_close(sa, IKE_ERR_SERVER_DEAD, "no path to the server for %u s",
				  (unsigned)(sa->cfg.retx_budget_ms / 1000));
		return;
	}
	/* RFC 7296 §2.3 window of one: after the exchange in flight; a
	 * DELETE the user asked for goes first. */
	if (sa->req.kind == REQ_NONE && !sa->delete_pending)
		send_update(sa, now_ms);
}

uint64_t eng_mobike_deadline(const struct ike_sa *sa)
{
	if (sa->state != ST_ESTABLISHED || !sa->mob.wanted || sa->mob.have_target)
		return 0;
	return sa->mob.since_ms + sa->cfg.retx_budget_ms;
}

static void end_without_mobike(struct ike_sa *sa)
{
	/* Without MOBIKE an IKE SA cannot move: say goodbye on the old path
	 * if it still works, and end; the daemon connects again from the new
	 * address. */
	if (sa->state == ST_ESTABLISHED)
		eng_send_delete_oneshot(sa);
	eng_close(sa, IKE_ERR_NONE, "the path to the server changed");
}

int ike_path_changed(struct ike_sa *sa, const struct sockaddr_storage *new_local,
		     uint64_t now_ms)
{
	eng_enter(sa);
	if (sa->state == ST_IDLE || sa->state == ST_CLOSED)
		return -ENOTCONN;
	if (new_local && new_local->ss_family != AF_INET && new_local->ss_family != AF_INET6)
		new_local = NULL;
	if (sa->state != ST_ESTABLISHED || !eng_mobike_on(sa)) {
		if (new_local && eng_same_addr(new_local, &sa->cfg.local))
			return 0;
		end_without_mobike(sa);
		return 1;
	}
	/* Where IKE goes now: the address of a move under way, else the SAs'. */
	bool moving = sa->mob.wanted || sa->req.kind == REQ_MOBIKE;
	const struct sockaddr_storage *cur = !moving ? &sa->cfg.local :
					     sa->mob.wanted ? (sa->mob.have_target ?
							       &sa->mob.target : NULL) :
					     &sa->mob.sent_from;
	if (new_local && cur && eng_same_addr(new_local, cur))
		return 0;
	if (!new_local) {
		if (sa->mob.wanted && !sa->mob.have_target)
			return 0;
		/* RFC 4555 §3.5 leaves the choice of path to the initiator; with
		 * none, wait for one (the next call), within the budget. */
		sa->mob.wanted = true;
		sa->mob.have_target = false;
		sa->mob.since_ms = now_ms;
		log_msg(LOG_INFO, sa->cfg.log_name, "IKE: MOBIKE: no path to the server; waiting "
			"for one");
		return 0;
	}
	if (new_local->ss_family != sa->cfg.remote.ss_family) {
		/* The server's address is of the other family: this path cannot
		 * reach it (one remote address, RFC 4555 §3.4 lists not kept). */
		end_without_mobike(sa);
		return 1;
	}
	sa->mob.wanted = true;
	sa->mob.have_target = true;
	sa->mob.target = *new_local;
	eng_set_port(&sa->mob.target, 0);
	/* Whatever is in flight is retransmitted from the new address: the old
	 * one may be gone (RFC 4555 §3.5 lets the initiator pick the path of
	 * each request).  The answer to an UPDATE sent from an older address
	 * then leads to a new UPDATE from this one. */
	set_addr(&sa->path.local, &sa->mob.target);
	eng_mobike_tick(sa, now_ms);
	return 0;
}

/* ----------------------------------------------------- the answer */

static void queue_migrate(struct ike_sa *sa, const struct sockaddr_storage *old_local,
			  const struct sockaddr_storage *old_remote, bool old_encap,
			  uint16_t old_lport, uint16_t old_rport)
{
	struct ike_action a;
	struct ike_act_migrate *m = &a.u.migrate;

	if (!sa->child_up)
		return;
	memset(&a, 0, sizeof(a));
	a.type = IKE_ACT_MIGRATE;
	m->old_local = *old_local;
	m->old_remote = *old_remote;
	m->new_local = sa->cfg.local;
	m->new_remote = sa->cfg.remote;
	eng_set_port(&m->old_local, 0);
	eng_set_port(&m->old_remote, 0);
	eng_set_port(&m->new_local, 0);
	eng_set_port(&m->new_remote, 0);
	m->old_encap = old_encap;
	if (old_encap) {
		m->old_encap_local_port = old_lport;
		m->old_encap_remote_port = old_rport;
	}
	m->new_encap = eng_encap(sa);
	if (m->new_encap) {
		m->new_encap_local_port = eng_port(&sa->path.local);
		m->new_encap_remote_port = eng_port(&sa->path.remote);
	}
	m->proto = IPPROTO_ESP;
	m->reqid = sa->cfg.reqid;
	m->pairs[m->n_pairs].spi_in = sa->spi_in;
	m->pairs[m->n_pairs++].spi_out = sa->spi_out;
	/* A pair a rekey replaced still receives packets in flight. */
	if (sa->life.old_valid) {
		m->pairs[m->n_pairs].spi_in = sa->life.old_spi_in;
		m->pairs[m->n_pairs++].spi_out = sa->life.old_spi_out;
	}
	eng_queue(sa, &a, NULL, 0, NULL);
}

int eng_mobike_response(struct ike_sa *sa, uint8_t *buf, size_t len,
			const struct ike_path *path, uint64_t now_ms)
{
	struct ike_message *in = sa->m_inner;
	const struct ike_payload *p;
	struct pvpn_err err;
	uint8_t want[20];
	bool any_src = false, src_match = false, any_dst = false, dst_match = false;
	bool cookie_ok = false;
	uint16_t err_notify = 0;
	size_t from = 0;
	char nb[32], ab[64];
	int rc;

	if ((rc = eng_open_peer(sa, buf, len, &err)) < 0) {
		log_msg(LOG_DEBUG, sa->cfg.log_name, "IKE: bad MOBIKE response: %s", err.msg);
		return rc;
	}
	/* What the server saw: its own address (the source of this answer)
	 * and ours as it arrived (§2.23 hashes, RFC 4555 §3.5). */
	struct sockaddr_storage peer = path ? path->remote : sa->path.remote;
	while ((p = ike_message_find(in, IKE_PT_NOTIFY, &from))) {
		const struct ike_notify_body *n = &p->u.notify;
		if (n->type < 16384 && !err_notify)
			err_notify = n->type;
		else if (n->type == IKE_N_COOKIE2)
			cookie_ok = n->len == sizeof(sa->mob.cookie2) &&
				    !memcmp(n->data, sa->mob.cookie2, sizeof(sa->mob.cookie2));
		else if (n->type == IKE_N_NAT_DETECTION_SOURCE_IP) {
			any_src = true;
			eng_natd_hash(sa->spi_i, sa->spi_r, &peer, eng_port(&peer), want);
			if (n->len == 20 && !memcmp(n->data, want, 20))
				src_match = true;
		} else if (n->type == IKE_N_NAT_DETECTION_DESTINATION_IP) {
			any_dst = true;
			eng_natd_hash(sa->spi_i, sa->spi_r, &sa->mob.sent_from,
				      eng_port(&sa->mob.sent_from), want);
			if (n->len == 20 && !memcmp(n->data, want, 20))
				dst_match = true;
		}
	}
	if (err_notify) {
		/* RFC 4555 §3.5: UNACCEPTABLE_ADDRESSES, UNEXPECTED_NAT_DETECTED,
		 * ...: the server will not move; the daemon connects again. */
		eng_request_clear(sa);
		eng_send_delete_oneshot(sa);
		eng_close(sa, IKE_ERR_PROTOCOL_ERROR, "the server refused the MOBIKE address "
			  "update: %s", eng_notify_label(err_notify, nb, sizeof(nb)));
		return 0;
	}
	if (!cookie_ok) {
		/* §3.11: the answer must echo our COOKIE2; keep waiting (the
		 * budget decides) rather than act on something else. */
		log_msg(LOG_WARNING, sa->cfg.log_name, "IKE: MOBIKE answer without our COOKIE2 "
			"ignored");
		return -EBADMSG;
	}
	eng_request_clear(sa);
	if (sa->mob.wanted) {
		/* The path changed again while this was in flight: the server
		 * now holds an address that is not the newest; tell it again. */
		eng_mobike_tick(sa, now_ms);
		return 0;
	}

	struct sockaddr_storage old_local = sa->cfg.local, old_remote = sa->cfg.remote;
	bool old_encap = eng_encap(sa);
	uint16_t old_lport = eng_port(&sa->path.local), old_rport = eng_port(&sa->path.remote);
	/* The kernel's SAs keep the ports IKE used before; the encapsulation
	 * ports are those of the old path.  path.local now has the new
	 * address with the same port. */
	if (any_src && any_dst) {
		/* §2.23 redone for the new path (RFC 4555 §3.5). */
		sa->nat_remote = !src_match;
		sa->nat_local = !dst_match;
		if (eng_encap(sa) && !sa->natt) {
			sa->natt = true;
			eng_set_port(&sa->path.local, sa->cfg.natt_port);
			eng_set_port(&sa->path.remote, sa->cfg.natt_port);
		}
	}
	set_addr(&sa->cfg.local, &sa->mob.sent_from);
	sa->mob.n_moves++;
	if (!eng_same_addr(&old_local, &sa->cfg.local) || !eng_same_addr(&old_remote, &sa->cfg.remote) ||
	    old_encap != eng_encap(sa) ||
	    (old_encap && (old_lport != eng_port(&sa->path.local) ||
			   old_rport != eng_port(&sa->path.remote))))
		queue_migrate(sa, &old_local, &old_remote, old_encap, old_lport, old_rport);
	sa->last_tx_ms = now_ms;   /* the NAT mapping is fresh */
	log_msg(LOG_INFO, sa->cfg.log_name, "IKE: MOBIKE: moved to %s%s",
		addr_str(&sa->cfg.local, ab, sizeof(ab)),
		eng_encap(sa) ? " (behind a NAT: UDP-encapsulated)" : "");
	/* A DELETE the user asked for while we moved. */
	if (sa->delete_pending) {
		sa->delete_pending = false;
		if (eng_send_info_request(sa, REQ_DELETE, now_ms) < 0)
			eng_close(sa, IKE_ERR_NONE, "disconnected (DELETE could not be built)");
	}
	return 0;
}

/* ----------------------------------------------------- NAT rebinding */

/* The server (behind a NAT) now shows up at new_remote: IKE follows it and
 * the SAs move (RFC 7296 §2.23). */
static int follow_remote(struct ike_sa *sa, const struct sockaddr_storage *new_remote)
{
	struct sockaddr_storage old_local = sa->cfg.local, old_remote = sa->cfg.remote;
	bool encap = eng_encap(sa);
	uint16_t old_lport = eng_port(&sa->path.local), old_rport = eng_port(&sa->path.remote);
	char ab[64];

	if (eng_same_addr(new_remote, &sa->path.remote) && eng_port(new_remote) == old_rport)
		return 0;
	sa->path.remote = *new_remote;
	set_addr(&sa->cfg.remote, new_remote);
	queue_migrate(sa, &old_local, &old_remote, encap, old_lport, old_rport);
	log_msg(LOG_INFO, sa->cfg.log_name, "IKE: the server's NAT mapping changed: now %s port %u",
		addr_str(new_remote, ab, sizeof(ab)), (unsigned)eng_port(new_remote));
	return 1;
}

int ike_nat_mapping(struct ike_sa *sa, const struct sockaddr_storage *new_remote,
		    uint64_t now_ms)
{
	eng_enter(sa);
	(void)now_ms;
	if (sa->state != ST_ESTABLISHED)
		return -ENOTCONN;
	if (new_remote->ss_family != sa->cfg.remote.ss_family || !eng_port(new_remote))
		return -EINVAL;
	/* §2.23: only a host not behind a NAT follows its peer's new
	 * address; a NAT in front of the server is what makes it move. */
	if (!sa->nat_remote || !sa->natt)
		return -EPERM;
	return follow_remote(sa, new_remote);
}

void eng_mobike_seen(struct ike_sa *sa, const struct ike_path *path)
{
	/* §2.23: the source port of an authenticated new message; the
	 * address was checked (ike_receive takes only the server's). */
	if (!path || sa->state != ST_ESTABLISHED || !sa->nat_remote || !sa->natt ||
	    path->remote.ss_family != sa->path.remote.ss_family)
		return;
	if (eng_port(&path->remote) && eng_port(&path->remote) != eng_port(&sa->path.remote))
		follow_remote(sa, &path->remote);
}
