/* MOBIKE for the initiator (RFC 4555), the server's NAT rebinding (RFC 7296
 * §2.23) and a restarted server's INVALID_IKE_SPI hint (§2.21.4), against
 * the fake responder (tests/lib) on a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/sha.h>

#include "ike-lite/ike.h"
#include "tests/lib/engine_harness.h"

/* ---------------------------------------------------------------- driver */

struct mt {
	struct eh t;
	struct ike_act_migrate mig[8];
	size_t n_mig;
	uint64_t mig_at[8];
	size_t n_keepalive;
	uint64_t last_keepalive;
};

static bool on_natt(const struct ike_path *p)
{
	return eng_port(&p->local) == 4500;
}

/* The IKE message of a SEND (the marker skipped). */
static const uint8_t *ike_of(const struct eh_sent *s, size_t *len)
{
	size_t off = on_natt(&s->path) ? 4 : 0;
	assert_true(s->len >= off + 28);
	*len = s->len - off;
	return s->data + off;
}

static uint8_t exch_of(const struct eh_sent *s)
{
	size_t l;
	return ike_of(s, &l)[18];
}

static uint32_t mid_of(const struct eh_sent *s)
{
	size_t l;
	const uint8_t *p = ike_of(s, &l);
	return (uint32_t)p[20] << 24 | (uint32_t)p[21] << 16 | (uint32_t)p[22] << 8 | p[23];
}

/* Give the engine a datagram as the daemon would: on port 4500 with the
 * non-ESP marker. */
static int feed(struct mt *m, const uint8_t *msg, size_t len, const struct ike_path *p)
{
	uint8_t *buf = malloc(len + 4);
	int rc;
	assert_non_null(buf);
	if (on_natt(p)) {
		memset(buf, 0, 4);
		memcpy(buf + 4, msg, len);
		rc = ike_receive(m->t.sa, buf, len + 4, p, m->t.now);
	} else {
		rc = ike_receive(m->t.sa, msg, len, p, m->t.now);
	}
	free(buf);
	return rc;
}

/* The responder's answer to sent[i], fed back on the same path. */
static int answer(struct mt *m, size_t i)
{
	uint8_t *resp = NULL;
	size_t rlen = 0, l;
	const uint8_t *msg = ike_of(&m->t.sent[i], &l);
	assert_int_equal(frr_handle(&m->t.fr, &m->t.rk, msg, l, &resp, &rlen), 0);
	int rc = feed(m, resp, rlen, &m->t.sent[i].path);
	free(resp);
	return rc;
}

static void pump(struct mt *m)
{
	struct eh *t = &m->t;
	struct ike_action a;
	for (int guard = 0; guard < 100; guard++) {
		bool any = false;
		size_t todo[8], nt = 0;
		while (ike_next_action(t->sa, &a)) {
			any = true;
			switch (a.type) {
			case IKE_ACT_SEND: {
				if (a.u.send.keepalive) {
					assert_int_equal(a.u.send.len, 1);
					m->n_keepalive++;
					m->last_keepalive = t->now;
					break;
				}
				assert_true(t->n_sent < EH_MAX_REC);
				struct eh_sent *s = &t->sent[t->n_sent];
				s->data = malloc(a.u.send.len);
				memcpy(s->data, a.u.send.data, a.u.send.len);
				s->len = a.u.send.len;
				s->path = a.u.send.path;
				if (on_natt(&s->path))   /* RFC 3948 §2.2 */
					assert_memory_equal(s->data, "\0\0\0\0", 4);
				if (t->deliver && nt < 8)
					todo[nt++] = t->n_sent;
				t->n_sent++;
				break;
			}
			case IKE_ACT_ALLOC_SPI:
				t->n_alloc++;
				ike_spi_allocated(t->sa, t->next_spi++, t->now);
				break;
			case IKE_ACT_INSTALL_CHILD: {
				assert_true(t->n_inst < 8);
				struct eh_inst *in = &t->inst[t->n_inst++];
				in->c = a.u.install;
				memset(&in->c.encr_in, 0, sizeof(struct secret) * 4);
				in->at = t->now;
				break;
			}
			case IKE_ACT_REMOVE_CHILD:
				assert_true(t->n_rem < 8);
				t->rem[t->n_rem].r = a.u.remove;
				t->rem[t->n_rem++].at = t->now;
				break;
			case IKE_ACT_STATUS:
				t->st[t->n_st++ % EH_MAX_REC] = a.u.status;
				break;
			case IKE_ACT_MIGRATE:
				assert_true(m->n_mig < 8);
				m->mig_at[m->n_mig] = t->now;
				m->mig[m->n_mig++] = a.u.migrate;
				break;
			default:
				break;
			}
		}
		for (size_t i = 0; i < nt; i++) {
			uint8_t *resp = NULL;
			size_t rlen = 0, l;
			const uint8_t *msg = ike_of(&t->sent[todo[i]], &l);
			if (frr_handle(&t->fr, &t->rk, msg, l, &resp, &rlen) == 0) {
				feed(m, resp, rlen, &t->sent[todo[i]].path);
				any = true;
			}
			free(resp);
		}
		if (!any)
			return;
	}
}

static void run_until(struct mt *m, uint64_t ms)
{
	uint64_t end = m->t.now + ms, d;
	while ((d = ike_next_deadline(m->t.sa)) && d <= end) {
		if (d > m->t.now)
			m->t.now = d;
		ike_tick(m->t.sa, m->t.now);
		pump(m);
	}
	m->t.now = end;
}

/* A client and a NAT-T responder (NAT detection without a NAT), MOBIKE
 * on the responder's side when server_mobike. */
static void mt_init(struct mt *m, bool server_mobike)
{
	memset(m, 0, sizeof(*m));
	eh_init(&m->t, false);
	m->t.cfg.child_lifetime_s = 3600;
	m->t.cfg.retx_first_ms = 1000;
	m->t.cfg.retx_max_tries = 4;
	m->t.cfg.retx_budget_ms = 20000;
	m->t.frc.natd = true;
	m->t.frc.mobike = server_mobike;
}

static void mt_connect(struct mt *m)
{
	struct pvpn_err err;
	fr_init(&m->t.fr, &m->t.frc);
	m->t.sa = ike_sa_new(&m->t.cfg, &err);
	assert_non_null(m->t.sa);
	assert_int_equal(ike_connect(m->t.sa, m->t.now), 0);
	pump(m);
	assert_int_equal(m->t.n_inst, 1);
	assert_int_equal(ike_get_status(m->t.sa), IKE_STATUS_CONNECTED);
}

static const struct ike_act_status *last_st(const struct mt *m)
{
	assert_true(m->t.n_st > 0);
	return &m->t.st[(m->t.n_st - 1) % EH_MAX_REC];
}

static bool addr_is(const struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_storage w;
	eh_addr4(&w, ip, port);
	return eng_same_addr(ss, &w) && eng_port(ss) == port;
}

static bool ip_is(const struct sockaddr_storage *ss, const char *ip)
{
	struct sockaddr_storage w;
	eh_addr4(&w, ip, 0);
	return eng_same_addr(ss, &w);
}

/* Decrypt sent[i] (ours) into the responder's fr->inner. */
static void open_sent(struct mt *m, size_t i)
{
	size_t l;
	const uint8_t *msg = ike_of(&m->t.sent[i], &l);
	uint8_t *copy = malloc(l);
	memcpy(copy, msg, l);
	assert_int_equal(fr_open_response(&m->t.fr, copy, l), 0);
	free(copy);
}

static size_t count_info(const struct mt *m, size_t from)
{
	size_t n = 0;
	for (size_t i = from; i < m->t.n_sent; i++)
		if (exch_of(&m->t.sent[i]) == IKE_INFORMATIONAL)
			n++;
	return n;
}

/* RFC 7296 §2.23 hash, computed here with OpenSSL's SHA-1. */
static void natd_want(const uint8_t spis[16], const char *ip, uint16_t port, uint8_t out[20])
{
	uint8_t in[16 + 4 + 2];
	memcpy(in, spis, 16);
	inet_pton(AF_INET, ip, in + 16);
	in[20] = (uint8_t)(port >> 8);
	in[21] = (uint8_t)port;
	SHA1(in, sizeof(in), out);
}

static void mt_free(struct mt *m)
{
	eh_free(&m->t);
}

/* ----------------------------------------------------------- negotiation */

static void negotiated_and_port_4500(void **state)
{
	struct mt m;
	(void)state;
	mt_init(&m, true);
	mt_connect(&m);
	/* RFC 4555 §3.3: MOBIKE_SUPPORTED in IKE_AUTH (the responder's last
	 * decrypted message is our IKE_AUTH request). */
	assert_non_null(ike_message_find_notify(m.t.fr.inner, IKE_N_MOBIKE_SUPPORTED));
	/* IKE_SA_INIT on 500, IKE_AUTH moved to 4500 although no NAT. */
	assert_true(addr_is(&m.t.sent[0].path.local, "192.0.2.1", 500));
	assert_true(addr_is(&m.t.sent[1].path.local, "192.0.2.1", 4500));
	assert_true(addr_is(&m.t.sent[1].path.remote, "192.0.2.2", 4500));
	assert_int_equal(exch_of(&m.t.sent[1]), IKE_AUTH);
	/* ESP stays plain without a NAT, and no keepalives. */
	assert_false(m.t.inst[0].c.encap);
	run_until(&m, 120000);
	assert_int_equal(m.n_keepalive, 0);
	assert_int_equal(ike_get_status(m.t.sa), IKE_STATUS_CONNECTED);
	mt_free(&m);
}

static void disabled_by_profile(void **state)
{
	struct mt m;
	struct sockaddr_storage nl;
	(void)state;
	mt_init(&m, true);
	m.t.cfg.disable_mobike = true;
	mt_connect(&m);
	assert_null(ike_message_find_notify(m.t.fr.inner, IKE_N_MOBIKE_SUPPORTED));
	assert_true(addr_is(&m.t.sent[1].path.local, "192.0.2.1", 500));
	/* Without MOBIKE a new path ends the SA (the daemon reconnects). */
	eh_addr4(&nl, "198.51.100.7", 0);
	assert_int_equal(ike_path_changed(m.t.sa, &nl, m.t.now), 1);
	pump(&m);
	assert_int_equal(ike_get_status(m.t.sa), IKE_STATUS_DISCONNECTED);
	assert_int_equal(last_st(&m)->error, IKE_ERR_NONE);
	assert_int_equal(m.t.n_rem, 1);
	assert_int_equal(m.n_mig, 0);
	mt_free(&m);
}

static void server_without_mobike(void **state)
{
	struct mt m;
	struct sockaddr_storage nl;
	(void)state;
	mt_init(&m, false);
	mt_connect(&m);
	/* We offered it (and moved to 4500), the server did not agree. */
	assert_non_null(ike_message_find_notify(m.t.fr.inner, IKE_N_MOBIKE_SUPPORTED));
	assert_true(addr_is(&m.t.sent[1].path.local, "192.0.2.1", 4500));
	eh_addr4(&nl, "192.0.2.1", 0);
	assert_int_equal(ike_path_changed(m.t.sa, &nl, m.t.now), 0);   /* same address */
	eh_addr4(&nl, "198.51.100.7", 0);
	assert_int_equal(ike_path_changed(m.t.sa, &nl, m.t.now), 1);
	pump(&m);
	assert_int_equal(ike_get_status(m.t.sa), IKE_STATUS_DISCONNECTED);
	assert_int_equal(m.n_mig, 0);
	mt_free(&m);
}

/* ------------------------------------------------------------- the move */

static void update_request_and_migrate(void **state)
{
	struct mt m;
	struct sockaddr_storage nl;
	uint8_t spis[16], want[20];
	(void)state;
	mt_init(&m, true);
	mt_connect(&m);
	size_t n0 = m.t.n_sent, st0 = m.t.n_st;
	eh_addr4(&nl, "198.51.100.7", 0);
	eh_addr4(&m.t.fr.mob_peer, "198.51.100.7", 4500);
	m.t.deliver = false;
	assert_int_equal(ike_path_changed(m.t.sa, &nl, m.t.now), 0);
	pump(&m);
	assert_int_equal(m.t.n_sent, n0 + 1);
	const struct eh_sent *u = &m.t.sent[n0];
	/* From the new address, on the NAT-T ports (§3.3). */
	assert_true(addr_is(&u->path.local, "198.51.100.7", 4500));
	assert_true(addr_is(&u->path.remote, "192.0.2.2", 4500));
	assert_int_equal(exch_of(u), IKE_INFORMATIONAL);
	size_t l;
	memcpy(spis, ike_of(u, &l), 16);
	open_sent(&m, n0);
	const struct ike_message *in = m.t.fr.inner;
	assert_non_null(ike_message_find_notify(in, IKE_N_UPDATE_SA_ADDRESSES));
	const struct ike_payload *p = ike_message_find_notify(in, IKE_N_NAT_DETECTION_SOURCE_IP);
	assert_non_null(p);
	natd_want(spis, "198.51.100.7", 4500, want);
	assert_int_equal(p->u.notify.len, 20);
	assert_memory_equal(p->u.notify.data, want, 20);
	p = ike_message_find_notify(in, IKE_N_NAT_DETECTION_DESTINATION_IP);
	assert_non_null(p);
	natd_want(spis, "192.0.2.2", 4500, want);
	assert_memory_equal(p->u.notify.data, want, 20);
	p = ike_message_find_notify(in, IKE_N_COOKIE2);
	assert_non_null(p);
	assert_int_equal(p->u.notify.len, 16);
	assert_int_equal(m.n_mig, 0);   /* nothing moves before the answer */

	assert_int_equal(answer(&m, n0), 0);
	pump(&m);
	assert_int_equal(m.t.fr.n_update, 1);
	assert_int_equal(m.n_mig, 1);
	const struct ike_act_migrate *g = &m.mig[0];
	assert_true(addr_is(&g->old_local, "192.0.2.1", 0));
	assert_true(addr_is(&g->new_local, "198.51.100.7", 0));
	assert_true(addr_is(&g->old_remote, "192.0.2.2", 0));
	assert_true(addr_is(&g->new_remote, "192.0.2.2", 0));
	assert_false(g->old_encap);
	assert_false(g->new_encap);
	assert_int_equal(g->new_encap_local_port, 0);
	assert_int_equal(g->proto, IPPROTO_ESP);
	assert_int_equal(g->reqid, 7);
	assert_int_equal(g->n_pairs, 1);
	assert_int_equal(g->pairs[0].spi_in, m.t.inst[0].c.spi_in);
	assert_int_equal(g->pairs[0].spi_out, m.t.inst[0].c.spi_out);
	/* Still connected, no status change. */
	assert_int_equal(m.t.n_st, st0);
	assert_int_equal(ike_get_status(m.t.sa), IKE_STATUS_CONNECTED);
	/* The same address again: nothing to do; IKE now goes the new way. */
	assert_int_equal(ike_path_changed(m.t.sa, &nl, m.t.now), 0);
	pump(&m);
	assert_int_equal(m.t.n_sent, n0 + 1);
	assert_int_equal(ike_check_liveness(m.t.sa, m.t.now), 1);
	pump(&m);
	assert_true(addr_is(&m.t.sent[m.t.n_sent - 1].path.local, "198.51.100.7", 4500));
	/* Disconnect removes the SAs at their new addresses. */
	m.t.deliver = true;
	answer(&m, m.t.n_sent - 1);
	ike_disconnect(m.t.sa, m.t.now);
	pump(&m);
	assert_int_equal(m.t.n_rem, 1);
	assert_true(ip_is(&m.t.rem[0].r.local, "198.51.100.7"));
	mt_free(&m);
}

static void migrate_includes_pair_in_grace(void **state)
{
	struct mt m;
	struct sockaddr_storage nl;
	(void)state;
	mt_init(&m, true);
	mt_connect(&m);
	assert_int_equal(ike_rekey_child(m.t.sa, m.t.now), 0);
	pump(&m);
	assert_int_equal(m.t.n_inst, 2);
	assert_true(m.t.inst[1].c.rekey);
	eh_addr4(&nl, "198.51.100.7", 0);
	eh_addr4(&m.t.fr.mob_peer, "198.51.100.7", 4500);
	assert_int_equal(ike_path_changed(m.t.sa, &nl, m.t.now), 0);
	pump(&m);
	assert_int_equal(m.n_mig, 1);
	assert_int_equal(m.mig[0].n_pairs, 2);
	assert_int_equal(m.mig[0].pairs[0].spi_in, m.t.inst[1].c.spi_in);
	assert_int_equal(m.mig[0].pairs[0].spi_out, m.t.inst[1].c.spi_out);
	assert_int_equal(m.mig[0].pairs[1].spi_in, m.t.inst[0].c.spi_in);
	assert_int_equal(m.mig[0].pairs[1].spi_out, m.t.inst[0].c.spi_out);
	/* After the grace period only the current pair moves. */
	run_until(&m, 20000);
	eh_addr4(&nl, "203.0.113.8", 0);
	eh_addr4(&m.t.fr.mob_peer, "203.0.113.8", 4500);
	assert_int_equal(ike_path_changed(m.t.sa, &nl, m.t.now), 0);
	pump(&m);
	assert_int_equal(m.n_mig, 2);
	assert_int_equal(m.mig[1].n_pairs, 1);
	assert_true(addr_is(&m.mig[1].old_local, "198.51.100.7", 0));
	assert_true(addr_is(&m.mig[1].new_local, "203.0.113.8", 0));
	mt_free(&m);
}

static void nat_appears_on_new_path(void **state)
{
	struct mt m;
	struct sockaddr_storage nl;
	(void)state;
	mt_init(&m, true);
	mt_connect(&m);
	assert_false(m.t.inst[0].c.encap);
	eh_addr4(&nl, "10.1.2.3", 0);
	/* The server sees a NAT's public address and port. */
	eh_addr4(&m.t.fr.mob_peer, "203.0.113.9", 61001);
	assert_int_equal(ike_path_changed(m.t.sa, &nl, m.t.now), 0);
	pump(&m);
	assert_int_equal(m.n_mig, 1);
	assert_false(m.mig[0].old_encap);
	assert_true(m.mig[0].new_encap);
	assert_int_equal(m.mig[0].new_encap_local_port, 4500);
	assert_int_equal(m.mig[0].new_encap_remote_port, 4500);
	assert_true(addr_is(&m.mig[0].new_local, "10.1.2.3", 0));
	/* Behind a NAT now: keepalives keep its mapping (RFC 3948 §4). */
	run_until(&m, 25000);
	assert_true(m.n_keepalive >= 1);
	mt_free(&m);
}

static void nat_disappears_on_new_path(void **state)
{
	struct mt m;
	struct sockaddr_storage nl;
	(void)state;
	mt_init(&m, true);
	m.t.frc.nat = true;
	mt_connect(&m);
	assert_true(m.t.inst[0].c.encap);
	eh_addr4(&nl, "198.51.100.7", 0);
	eh_addr4(&m.t.fr.mob_peer, "198.51.100.7", 4500);
	assert_int_equal(ike_path_changed(m.t.sa, &nl, m.t.now), 0);
	pump(&m);
	assert_int_equal(m.n_mig, 1);
	assert_true(m.mig[0].old_encap);
	assert_int_equal(m.mig[0].old_encap_local_port, 4500);
	assert_int_equal(m.mig[0].old_encap_remote_port, 4500);
	assert_false(m.mig[0].new_encap);
	assert_int_equal(m.mig[0].new_encap_remote_port, 0);
	size_t ka = m.n_keepalive;
	run_until(&m, 120000);
	assert_int_equal(m.n_keepalive, ka);
	mt_free(&m);
}

/* -------------------------------------------------------- failures */

static void no_answer_ends_like_dead_peer(void **state)
{
	struct mt m;
	struct sockaddr_storage nl;
	(void)state;
	mt_init(&m, true);
	mt_connect(&m);
	size_t n0 = m.t.n_sent;
	uint64_t t0 = m.t.now;
	m.t.deliver = false;
	eh_addr4(&nl, "198.51.100.7", 0);
	assert_int_equal(ike_path_changed(m.t.sa, &nl, m.t.now), 0);
	pump(&m);
	run_until(&m, 60000);
	assert_int_equal(ike_get_status(m.t.sa), IKE_STATUS_DISCONNECTED);
	assert_int_equal(last_st(&m)->error, IKE_ERR_SERVER_DEAD);
	assert_non_null(strstr(last_st(&m)->detail, "MOBIKE"));
	/* All four tries of the same UPDATE, from the new address. */
	assert_int_equal(count_info(&m, n0), 4);
	for (size_t i = n0; i < m.t.n_sent; i++) {
		assert_true(addr_is(&m.t.sent[i].path.local, "198.51.100.7", 4500));
		assert_int_equal(mid_of(&m.t.sent[i]), mid_of(&m.t.sent[n0]));
	}
	assert_int_equal(m.n_mig, 0);
	/* The SAs never moved: removed where they are. */
	assert_int_equal(m.t.n_rem, 1);
	assert_true(ip_is(&m.t.rem[0].r.local, "192.0.2.1"));
	assert_true(m.t.rem[0].at <= t0 + 20000);
	mt_free(&m);
}

static void error_answer_ends(void **state)
{
	struct mt m;
	struct sockaddr_storage nl;
	(void)state;
	mt_init(&m, true);
	m.t.frc.update_error = IKE_N_UNACCEPTABLE_ADDRESSES;
	mt_connect(&m);
	eh_addr4(&nl, "198.51.100.7", 0);
	assert_int_equal(ike_path_changed(m.t.sa, &nl, m.t.now), 0);
	pump(&m);
	assert_int_equal(m.t.fr.n_update, 1);
	assert_int_equal(ike_get_status(m.t.sa), IKE_STATUS_DISCONNECTED);
	/* An unplanned end: pvpnd reconnects. */
	assert_int_equal(last_st(&m)->error, IKE_ERR_PROTOCOL_ERROR);
	assert_non_null(strstr(last_st(&m)->detail, "UNACCEPTABLE_ADDRESSES"));
	assert_int_equal(m.n_mig, 0);
	assert_int_equal(m.t.n_rem, 1);
	mt_free(&m);
}

static void no_path_then_a_path(void **state)
{
	struct mt m;
	struct sockaddr_storage nl;
	(void)state;
	mt_init(&m, true);
	m.t.cfg.dpd_interval_ms = 5000;
	mt_connect(&m);
	size_t n0 = m.t.n_sent;
	assert_int_equal(ike_path_changed(m.t.sa, NULL, m.t.now), 0);
	assert_int_equal(ike_path_changed(m.t.sa, NULL, m.t.now), 0);
	pump(&m);
	run_until(&m, 15000);
	/* Nothing goes out without a path (no liveness check either). */
	assert_int_equal(m.t.n_sent, n0);
	assert_int_equal(ike_get_status(m.t.sa), IKE_STATUS_CONNECTED);
	eh_addr4(&nl, "198.51.100.7", 0);
	eh_addr4(&m.t.fr.mob_peer, "198.51.100.7", 4500);
	assert_int_equal(ike_path_changed(m.t.sa, &nl, m.t.now), 0);
	pump(&m);
	assert_int_equal(m.n_mig, 1);
	assert_true(addr_is(&m.mig[0].new_local, "198.51.100.7", 0));
	assert_int_equal(ike_get_status(m.t.sa), IKE_STATUS_CONNECTED);
	mt_free(&m);
}

static void no_path_for_the_budget(void **state)
{
	struct mt m;
	(void)state;
	mt_init(&m, true);
	mt_connect(&m);
	uint64_t t0 = m.t.now;
	assert_int_equal(ike_path_changed(m.t.sa, NULL, m.t.now), 0);
	run_until(&m, 19000);
	assert_int_equal(ike_get_status(m.t.sa), IKE_STATUS_CONNECTED);
	run_until(&m, 2000);
	assert_int_equal(ike_get_status(m.t.sa), IKE_STATUS_DISCONNECTED);
	assert_int_equal(last_st(&m)->error, IKE_ERR_SERVER_DEAD);
	assert_non_null(strstr(last_st(&m)->detail, "no path"));
	assert_true(m.t.rem[0].at >= t0 + 20000 && m.t.rem[0].at <= t0 + 21000);
	mt_free(&m);
}

/* --------------------------------------------- window and newest path */

static void newest_address_wins(void **state)
{
	struct mt m;
	struct sockaddr_storage b, c;
	(void)state;
	mt_init(&m, true);
	mt_connect(&m);
	size_t n0 = m.t.n_sent;
	m.t.deliver = false;
	eh_addr4(&b, "198.51.100.7", 0);
	eh_addr4(&c, "203.0.113.8", 0);
	eh_addr4(&m.t.fr.mob_peer, "203.0.113.8", 4500);
	assert_int_equal(ike_path_changed(m.t.sa, &b, m.t.now), 0);
	pump(&m);
	assert_int_equal(m.t.n_sent, n0 + 1);
	assert_true(addr_is(&m.t.sent[n0].path.local, "198.51.100.7", 4500));
	/* A newer change while the first is in flight: no second request
	 * (window of one), but the retransmission goes from the newest. */
	assert_int_equal(ike_path_changed(m.t.sa, &c, m.t.now), 0);
	pump(&m);
	assert_int_equal(m.t.n_sent, n0 + 1);
	run_until(&m, 1100);
	assert_int_equal(m.t.n_sent, n0 + 2);
	assert_true(addr_is(&m.t.sent[n0 + 1].path.local, "203.0.113.8", 4500));
	assert_int_equal(mid_of(&m.t.sent[n0 + 1]), mid_of(&m.t.sent[n0]));
	/* The first answer comes: a fresh UPDATE from the newest address. */
	assert_int_equal(answer(&m, n0), 0);
	pump(&m);
	assert_int_equal(m.n_mig, 0);
	assert_int_equal(m.t.n_sent, n0 + 3);
	assert_true(addr_is(&m.t.sent[n0 + 2].path.local, "203.0.113.8", 4500));
	assert_int_equal(mid_of(&m.t.sent[n0 + 2]), mid_of(&m.t.sent[n0]) + 1);
	assert_int_equal(answer(&m, n0 + 2), 0);
	pump(&m);
	assert_int_equal(m.n_mig, 1);
	assert_true(addr_is(&m.mig[0].old_local, "192.0.2.1", 0));
	assert_true(addr_is(&m.mig[0].new_local, "203.0.113.8", 0));
	assert_int_equal(m.t.fr.n_update, 2);
	mt_free(&m);
}

static void waits_for_outstanding_request(void **state)
{
	struct mt m;
	struct sockaddr_storage nl;
	(void)state;
	mt_init(&m, true);
	mt_connect(&m);
	size_t n0 = m.t.n_sent;
	m.t.deliver = false;
	assert_int_equal(ike_check_liveness(m.t.sa, m.t.now), 1);
	pump(&m);
	assert_int_equal(m.t.n_sent, n0 + 1);
	eh_addr4(&nl, "198.51.100.7", 0);
	eh_addr4(&m.t.fr.mob_peer, "198.51.100.7", 4500);
	assert_int_equal(ike_path_changed(m.t.sa, &nl, m.t.now), 0);
	pump(&m);
	assert_int_equal(m.t.n_sent, n0 + 1);   /* §2.3: the check first */
	run_until(&m, 1100);
	assert_int_equal(m.t.n_sent, n0 + 2);   /* its retransmission, from the new path */
	assert_true(addr_is(&m.t.sent[n0 + 1].path.local, "198.51.100.7", 4500));
	assert_int_equal(mid_of(&m.t.sent[n0 + 1]), mid_of(&m.t.sent[n0]));
	m.t.deliver = true;
	assert_int_equal(answer(&m, n0 + 1), 0);
	pump(&m);
	assert_int_equal(m.t.fr.n_update, 1);
	assert_int_equal(m.n_mig, 1);
	mt_free(&m);
}

/* ------------------------------------------------------------ hostile */

static void hostile_answers_change_nothing(void **state)
{
	struct mt m;
	struct sockaddr_storage nl;
	uint8_t *resp = NULL;
	size_t rlen = 0, l;
	(void)state;
	mt_init(&m, true);
	mt_connect(&m);
	size_t n0 = m.t.n_sent;
	m.t.deliver = false;
	eh_addr4(&nl, "198.51.100.7", 0);
	eh_addr4(&m.t.fr.mob_peer, "198.51.100.7", 4500);
	assert_int_equal(ike_path_changed(m.t.sa, &nl, m.t.now), 0);
	pump(&m);
	const uint8_t *msg = ike_of(&m.t.sent[n0], &l);
	assert_int_equal(frr_handle(&m.t.fr, &m.t.rk, msg, l, &resp, &rlen), 0);
	/* A flipped bit: the ICV fails. */
	resp[rlen - 1] ^= 1;
	assert_true(feed(&m, resp, rlen, &m.t.sent[n0].path) < 0);
	resp[rlen - 1] ^= 1;
	/* The right bytes from another address. */
	struct ike_path other = m.t.sent[n0].path;
	eh_addr4(&other.remote, "192.0.2.99", 4500);
	assert_true(feed(&m, resp, rlen, &other) < 0);
	pump(&m);
	assert_int_equal(m.n_mig, 0);
	assert_int_equal(ike_get_status(m.t.sa), IKE_STATUS_CONNECTED);
	/* The genuine answer still works. */
	assert_int_equal(feed(&m, resp, rlen, &m.t.sent[n0].path), 0);
	pump(&m);
	assert_int_equal(m.n_mig, 1);
	/* Replayed: no second move. */
	assert_true(feed(&m, resp, rlen, &m.t.sent[n0].path) < 0);
	pump(&m);
	assert_int_equal(m.n_mig, 1);
	free(resp);
	mt_free(&m);
}

static void answer_without_cookie2_ignored(void **state)
{
	struct mt m;
	struct sockaddr_storage nl;
	(void)state;
	mt_init(&m, true);
	m.t.frc.update_no_cookie2 = true;
	mt_connect(&m);
	eh_addr4(&nl, "198.51.100.7", 0);
	assert_int_equal(ike_path_changed(m.t.sa, &nl, m.t.now), 0);
	pump(&m);
	assert_true(m.t.fr.n_update >= 1);
	assert_int_equal(m.n_mig, 0);
	assert_int_equal(ike_get_status(m.t.sa), IKE_STATUS_CONNECTED);
	run_until(&m, 30000);
	assert_int_equal(m.n_mig, 0);
	assert_int_equal(ike_get_status(m.t.sa), IKE_STATUS_DISCONNECTED);
	assert_int_equal(last_st(&m)->error, IKE_ERR_SERVER_DEAD);
	mt_free(&m);
}

/* ---------------------------------------------------------- NAT mapping */

static void nat_mapping_event(void **state)
{
	struct mt m;
	struct sockaddr_storage nr;
	(void)state;
	mt_init(&m, true);
	m.t.frc.nat_server = true;   /* the server is behind a NAT */
	mt_connect(&m);
	assert_true(m.t.inst[0].c.encap);
	eh_addr4(&nr, "192.0.2.2", 4600);
	assert_int_equal(ike_nat_mapping(m.t.sa, &nr, m.t.now), 1);
	pump(&m);
	assert_int_equal(m.n_mig, 1);
	const struct ike_act_migrate *g = &m.mig[0];
	assert_true(addr_is(&g->old_remote, "192.0.2.2", 0));
	assert_true(addr_is(&g->new_remote, "192.0.2.2", 0));
	assert_true(addr_is(&g->new_local, "192.0.2.1", 0));
	assert_true(g->old_encap && g->new_encap);
	assert_int_equal(g->old_encap_remote_port, 4500);
	assert_int_equal(g->new_encap_remote_port, 4600);
	assert_int_equal(g->new_encap_local_port, 4500);
	assert_int_equal(g->n_pairs, 1);
	/* IKE follows. */
	assert_int_equal(ike_check_liveness(m.t.sa, m.t.now), 1);
	pump(&m);
	assert_true(addr_is(&m.t.sent[m.t.n_sent - 1].path.remote, "192.0.2.2", 4600));
	/* The same mapping again: nothing. */
	assert_int_equal(ike_nat_mapping(m.t.sa, &nr, m.t.now), 0);
	/* Another family: refused. */
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&nr;
	memset(&nr, 0, sizeof(nr));
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(4700);
	assert_int_equal(ike_nat_mapping(m.t.sa, &nr, m.t.now), -EINVAL);
	pump(&m);
	assert_int_equal(m.n_mig, 1);
	mt_free(&m);
}

static void nat_mapping_refused_without_server_nat(void **state)
{
	struct mt m;
	struct sockaddr_storage nr;
	(void)state;
	mt_init(&m, true);
	m.t.frc.nat = true;          /* a NAT in front of us only */
	mt_connect(&m);
	eh_addr4(&nr, "192.0.2.2", 4600);
	assert_int_equal(ike_nat_mapping(m.t.sa, &nr, m.t.now), -EPERM);
	pump(&m);
	assert_int_equal(m.n_mig, 0);
	ike_disconnect(m.t.sa, m.t.now);
	pump(&m);
	assert_int_equal(ike_nat_mapping(m.t.sa, &nr, m.t.now), -ENOTCONN);
	mt_free(&m);
}

static void ike_request_from_new_port(void **state)
{
	struct mt m;
	uint8_t *req = NULL;
	size_t rl = 0;
	(void)state;
	mt_init(&m, true);
	m.t.frc.nat_server = true;
	mt_connect(&m);
	struct ike_path p = m.t.sent[m.t.n_sent - 1].path;
	eng_set_port(&p.remote, 4700);
	assert_int_equal(fr_request(&m.t.fr, FR_REQ_EMPTY, &req, &rl), 0);
	assert_int_equal(feed(&m, req, rl, &p), 0);
	pump(&m);
	assert_int_equal(m.n_mig, 1);
	assert_int_equal(m.mig[0].new_encap_remote_port, 4700);
	/* IKE follows it. */
	assert_int_equal(ike_check_liveness(m.t.sa, m.t.now), 1);
	pump(&m);
	assert_true(addr_is(&m.t.sent[m.t.n_sent - 1].path.remote, "192.0.2.2", 4700));
	/* A retransmission of that request from yet another port is answered
	 * from the cache and moves nothing (it may be a replay). */
	eng_set_port(&p.remote, 4800);
	assert_int_equal(feed(&m, req, rl, &p), 0);
	pump(&m);
	assert_int_equal(m.n_mig, 1);
	free(req);
	mt_free(&m);
}

static void ike_from_new_port_without_server_nat(void **state)
{
	struct mt m;
	uint8_t *req = NULL;
	size_t rl = 0;
	(void)state;
	mt_init(&m, true);
	mt_connect(&m);
	struct ike_path p = m.t.sent[m.t.n_sent - 1].path;
	eng_set_port(&p.remote, 4700);
	assert_int_equal(fr_request(&m.t.fr, FR_REQ_EMPTY, &req, &rl), 0);
	assert_int_equal(feed(&m, req, rl, &p), 0);
	pump(&m);
	assert_int_equal(m.n_mig, 0);
	assert_true(addr_is(&m.t.sent[m.t.n_sent - 1].path.remote, "192.0.2.2", 4500));
	free(req);
	mt_free(&m);
}

/* --------------------------------------------------- INVALID_IKE_SPI */

/* What a restarted server answers (RFC 7296 §1.5, §2.21.4): unprotected,
 * the SPIs and Message ID of our request, the R flag. */
static size_t invalid_spi_answer(const struct mt *m, size_t i, uint32_t mid, uint8_t *out)
{
	size_t l;
	const uint8_t *req = ike_of(&m->t.sent[i], &l);
	memset(out, 0, 36);
	memcpy(out, req, 16);
	out[16] = IKE_PT_NOTIFY;
	out[17] = 0x20;
	out[18] = req[18];
	out[19] = 0x20;   /* R */
	out[20] = (uint8_t)(mid >> 24); out[21] = (uint8_t)(mid >> 16);
	out[22] = (uint8_t)(mid >> 8); out[23] = (uint8_t)mid;
	out[27] = 36;
	out[30] = 0; out[31] = 8;                 /* notify payload length */
	out[34] = 0; out[35] = IKE_N_INVALID_IKE_SPI;
	return 36;
}

static void invalid_spi_hint_shortens_wait(void **state)
{
	struct mt m;
	uint8_t hint[36];
	struct ike_stats st;
	(void)state;
	mt_init(&m, true);
	m.t.cfg.retx_max_tries = 6;
	m.t.cfg.retx_budget_ms = 40000;
	mt_connect(&m);
	m.t.deliver = false;
	size_t n0 = m.t.n_sent;
	assert_int_equal(ike_check_liveness(m.t.sa, m.t.now), 1);
	pump(&m);
	uint64_t t_hint = m.t.now + 100;
	m.t.now = t_hint;
	size_t hl = invalid_spi_answer(&m, n0, mid_of(&m.t.sent[n0]), hint);
	assert_true(feed(&m, hint, hl, &m.t.sent[n0].path) < 0);
	pump(&m);
	/* One spoofable packet never ends the SA at once. */
	assert_int_equal(ike_get_status(m.t.sa), IKE_STATUS_CONNECTED);
	ike_get_stats(m.t.sa, &st);
	assert_int_equal(st.ignored_notifies, 1);
	size_t n1 = m.t.n_sent;
	run_until(&m, 10000);
	assert_int_equal(ike_get_status(m.t.sa), IKE_STATUS_DISCONNECTED);
	assert_int_equal(last_st(&m)->error, IKE_ERR_SERVER_DEAD);
	assert_non_null(strstr(last_st(&m)->detail, "INVALID_IKE_SPI"));
	assert_true(m.t.n_sent - n1 <= 2);
	assert_true(m.t.n_sent - n1 >= 1);
	assert_true(m.t.rem[0].at <= t_hint + 5000);
	mt_free(&m);
}

static void no_hint_waits_the_budget(void **state)
{
	struct mt m;
	uint8_t hint[36];
	(void)state;
	mt_init(&m, true);
	m.t.cfg.retx_max_tries = 6;
	m.t.cfg.retx_budget_ms = 40000;
	mt_connect(&m);
	m.t.deliver = false;
	size_t n0 = m.t.n_sent;
	assert_int_equal(ike_check_liveness(m.t.sa, m.t.now), 1);
	pump(&m);
	/* A notify for another Message ID is no answer to ours. */
	size_t hl = invalid_spi_answer(&m, n0, mid_of(&m.t.sent[n0]) + 1, hint);
	assert_true(feed(&m, hint, hl, &m.t.sent[n0].path) < 0);
	/* Nor one inside an SK payload position (first payload SK). */
	hl = invalid_spi_answer(&m, n0, mid_of(&m.t.sent[n0]), hint);
	hint[16] = IKE_PT_SK;
	assert_true(feed(&m, hint, hl, &m.t.sent[n0].path) < 0);
	run_until(&m, 20000);
	assert_int_equal(ike_get_status(m.t.sa), IKE_STATUS_CONNECTED);
	run_until(&m, 25000);
	assert_int_equal(ike_get_status(m.t.sa), IKE_STATUS_DISCONNECTED);
	assert_int_equal(last_st(&m)->error, IKE_ERR_SERVER_DEAD);
	assert_null(strstr(last_st(&m)->detail, "INVALID_IKE_SPI"));
	mt_free(&m);
}

static void hint_then_genuine_answer(void **state)
{
	struct mt m;
	uint8_t hint[36];
	(void)state;
	mt_init(&m, true);
	m.t.cfg.retx_max_tries = 6;
	m.t.cfg.retx_budget_ms = 40000;
	mt_connect(&m);
	m.t.deliver = false;
	size_t n0 = m.t.n_sent;
	assert_int_equal(ike_check_liveness(m.t.sa, m.t.now), 1);
	pump(&m);
	size_t hl = invalid_spi_answer(&m, n0, mid_of(&m.t.sent[n0]), hint);
	assert_true(feed(&m, hint, hl, &m.t.sent[n0].path) < 0);
	/* Forged: the real server answers the resend. */
	run_until(&m, 2500);
	assert_true(m.t.n_sent > n0 + 1);
	assert_int_equal(answer(&m, m.t.n_sent - 1), 0);
	pump(&m);
	m.t.deliver = true;
	run_until(&m, 30000);
	assert_int_equal(ike_get_status(m.t.sa), IKE_STATUS_CONNECTED);
	mt_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(negotiated_and_port_4500),
		cmocka_unit_test(disabled_by_profile),
		cmocka_unit_test(server_without_mobike),
		cmocka_unit_test(update_request_and_migrate),
		cmocka_unit_test(migrate_includes_pair_in_grace),
		cmocka_unit_test(nat_appears_on_new_path),
		cmocka_unit_test(nat_disappears_on_new_path),
		cmocka_unit_test(no_answer_ends_like_dead_peer),
		cmocka_unit_test(error_answer_ends),
		cmocka_unit_test(no_path_then_a_path),
		cmocka_unit_test(no_path_for_the_budget),
		cmocka_unit_test(newest_address_wins),
		cmocka_unit_test(waits_for_outstanding_request),
		cmocka_unit_test(hostile_answers_change_nothing),
		cmocka_unit_test(answer_without_cookie2_ignored),
		cmocka_unit_test(nat_mapping_event),
		cmocka_unit_test(nat_mapping_refused_without_server_nat),
		cmocka_unit_test(ike_request_from_new_port),
		cmocka_unit_test(ike_from_new_port_without_server_nat),
		cmocka_unit_test(invalid_spi_hint_shortens_wait),
		cmocka_unit_test(no_hint_waits_the_budget),
		cmocka_unit_test(hint_then_genuine_answer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
