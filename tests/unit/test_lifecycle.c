/* Liveness checks only when the peer is quiet (RFC 7296 §2.4): the daemon
 * reports inbound ESP with ike_peer_traffic; a dead peer after the
 * retransmission budget.  Same harness as test_rekey.c. */
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

#include "ike-lite/ike.h"
#include "tests/lib/fake_responder_rekey.h"

static uint64_t rng_state;
static void test_rand(void *buf, size_t len)
{
	uint8_t *p = buf;
	for (size_t i = 0; i < len; i++) {
		rng_state ^= rng_state << 13;
		rng_state ^= rng_state >> 7;
		rng_state ^= rng_state << 17;
		p[i] = (uint8_t)(rng_state >> 24);
	}
}

#define MAX_REC 64
struct sent { uint8_t *data; size_t len; struct ike_path path; };
struct inst { struct ike_act_child c; uint8_t ein[64], eout[64], iin[64], iout[64]; size_t el, il; uint64_t at; };
struct rem { struct ike_act_remove_child r; uint64_t at; };

struct h {
	struct ike_config cfg;
	struct ike_sa *sa;
	struct fake_responder fr;
	struct fr_rekey rk;
	struct fr_config frc;
	uint64_t now;
	bool deliver;
	struct sent sent[MAX_REC];
	size_t n_sent;
	struct ike_act_status st[MAX_REC];
	size_t n_st;
	struct inst inst[8];
	size_t n_inst;
	struct rem rem[8];
	size_t n_rem;
	size_t n_alloc;
	uint32_t next_spi;
};

static void addr4(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in *s = (struct sockaddr_in *)ss;
	memset(ss, 0, sizeof(*ss));
	s->sin_family = AF_INET;
	s->sin_port = htons(port);
	inet_pton(AF_INET, ip, &s->sin_addr);
}

static void h_init(struct h *t, bool cbc)
{
	memset(t, 0, sizeof(*t));
	rng_state = 0x0123456789abcdefULL;
	ike_config_init(&t->cfg);
	addr4(&t->cfg.local, "192.0.2.1", 500);
	addr4(&t->cfg.remote, "192.0.2.2", 500);
	t->cfg.local_id.type = 2;
	t->cfg.local_id.len = 11;
	memcpy(t->cfg.local_id.data, "client.test", 11);
	secret_set(&t->cfg.psk, "correct horse", 13);
	struct ike_cfg_proposal *p = &t->cfg.ike_proposals[0], *c = &t->cfg.child_proposals[0];
	t->cfg.n_ike_proposals = t->cfg.n_child_proposals = 1;
	p->n_prf = 1; p->prf[0] = 5;
	p->n_dh = 2; p->dh[0] = 31; p->dh[1] = 19;
	if (!cbc) {
		p->n_encr = 1; p->encr[0].id = 20; p->encr[0].key_bits = 256;
		c->n_encr = 1; c->encr[0].id = 20; c->encr[0].key_bits = 256;
	} else {
		p->n_encr = 1; p->encr[0].id = 12; p->encr[0].key_bits = 128;
		p->n_integ = 1; p->integ[0] = 12;
		c->n_encr = 1; c->encr[0].id = 12; c->encr[0].key_bits = 128;
		c->n_integ = 1; c->integ[0] = 12;
	}
	t->cfg.rand = test_rand;
	t->cfg.child_lifetime_s = 100;
	t->cfg.reqid = 7;
	t->frc.self = t->cfg.remote;
	t->frc.peer = t->cfg.local;
	t->frc.psk = "correct horse";
	t->frc.id = "server.test";
	t->frc.rnd = test_rand;
	t->deliver = true;
	t->now = 1000000;
	t->next_spi = 0xa1b2c3d4;
}

static void h_free(struct h *t)
{
	ike_sa_free(t->sa);
	frr_free(&t->rk);
	fr_free(&t->fr);
	ike_config_clear(&t->cfg);
	for (size_t i = 0; i < t->n_sent && i < MAX_REC; i++)
		free(t->sent[i].data);
}

static void pump(struct h *t)
{
	struct ike_action a;
	for (int guard = 0; guard < 100; guard++) {
		bool any = false;
		struct { uint8_t *d; size_t l; struct ike_path p; } todo[8];
		size_t nt = 0;
		while (ike_next_action(t->sa, &a)) {
			any = true;
			switch (a.type) {
			case IKE_ACT_SEND: {
				assert_true(t->n_sent < MAX_REC);
				struct sent *s = &t->sent[t->n_sent++];
				s->data = malloc(a.u.send.len);
				memcpy(s->data, a.u.send.data, a.u.send.len);
				s->len = a.u.send.len;
				s->path = a.u.send.path;
				if (t->deliver && !a.u.send.keepalive && nt < 8) {
					todo[nt].d = malloc(a.u.send.len);
					memcpy(todo[nt].d, a.u.send.data, a.u.send.len);
					todo[nt].l = a.u.send.len;
					todo[nt++].p = a.u.send.path;
				}
				break;
			}
			case IKE_ACT_ALLOC_SPI:
				t->n_alloc++;
				ike_spi_allocated(t->sa, t->next_spi++, t->now);
				break;
			case IKE_ACT_INSTALL_CHILD: {
				assert_true(t->n_inst < 8);
				struct inst *in = &t->inst[t->n_inst++];
				in->c = a.u.install;
				in->el = a.u.install.encr_in.len;
				in->il = a.u.install.integ_in.len;
				memcpy(in->ein, a.u.install.encr_in.data, in->el);
				memcpy(in->eout, a.u.install.encr_out.data, in->el);
				if (in->il) {
					memcpy(in->iin, a.u.install.integ_in.data, in->il);
					memcpy(in->iout, a.u.install.integ_out.data, in->il);
				}
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
				t->st[t->n_st++ % MAX_REC] = a.u.status;
				break;
			default:
				break;
			}
		}
		for (size_t i = 0; i < nt; i++) {
			uint8_t *resp = NULL;
			size_t rlen = 0;
			if (frr_handle(&t->fr, &t->rk, todo[i].d, todo[i].l, &resp, &rlen) == 0) {
				ike_receive(t->sa, resp, rlen, &todo[i].p, t->now);
				any = true;
			}
			free(resp);
			free(todo[i].d);
		}
		if (!any)
			return;
	}
}

/* Advance the clock through the engine's deadlines up to now + ms. */
static void run_until(struct h *t, uint64_t ms)
{
	uint64_t end = t->now + ms, d;
	while ((d = ike_next_deadline(t->sa)) && d <= end) {
		if (d > t->now)
			t->now = d;
		ike_tick(t->sa, t->now);
		pump(t);
	}
	t->now = end;
}

static void connect_ok(struct h *t)
{
	struct pvpn_err err;
	fr_init(&t->fr, &t->frc);
	t->sa = ike_sa_new(&t->cfg, &err);
	assert_non_null(t->sa);
	assert_int_equal(ike_connect(t->sa, t->now), 0);
	pump(t);
	assert_int_equal(t->n_inst, 1);
	assert_false(t->inst[0].c.rekey);
	assert_int_equal(ike_get_status(t->sa), IKE_STATUS_CONNECTED);
}

static size_t count_exch(const struct h *t, size_t from, uint8_t exch)
{
	size_t n = 0;
	for (size_t i = from; i < t->n_sent; i++)
		if (t->sent[i].len > 18 && t->sent[i].data[18] == exch)
			n++;
	return n;
}

/* ---------------------------------------------------------------- tests */

static void dpd_only_when_quiet(void **state)
{
	struct h t;
	(void)state;
	h_init(&t, false);
	t.cfg.dpd_interval_ms = 10000;
	t.cfg.child_lifetime_s = 3600;
	connect_ok(&t);
	uint32_t in = 0, out = 0;
	assert_int_equal(ike_child_spis(t.sa, &in, &out), 0);
	assert_int_equal(in, t.inst[0].c.spi_in);
	assert_int_equal(out, t.inst[0].c.spi_out);
	/* ESP keeps arriving every 5 s: no liveness check for a minute. */
	for (int i = 0; i < 12; i++) {
		run_until(&t, 5000);
		ike_peer_traffic(t.sa, t.now);
	}
	assert_int_equal(count_exch(&t, 0, IKE_INFORMATIONAL), 0);
	assert_int_equal(t.fr.n_info, 0);
	/* Quiet: one check after the interval, answered; the SA stays. */
	run_until(&t, 9000);
	assert_int_equal(count_exch(&t, 0, IKE_INFORMATIONAL), 0);
	run_until(&t, 1500);
	assert_int_equal(count_exch(&t, 0, IKE_INFORMATIONAL), 1);
	assert_int_equal(t.fr.n_info, 1);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	h_free(&t);
}

static void dead_peer_after_budget(void **state)
{
	struct h t;
	(void)state;
	h_init(&t, false);
	t.cfg.dpd_interval_ms = 10000;
	t.cfg.retx_first_ms = 1000;
	t.cfg.retx_max_tries = 4;
	t.cfg.retx_budget_ms = 20000;
	connect_ok(&t);
	t.deliver = false;     /* the server is gone */
	uint64_t quiet = t.now;
	run_until(&t, 60000);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_DISCONNECTED);
	assert_int_equal(t.st[(t.n_st - 1) % MAX_REC].error, IKE_ERR_SERVER_DEAD);
	/* 4 tries of the check, then given up within the budget. */
	assert_int_equal(count_exch(&t, 0, IKE_INFORMATIONAL), 4);
	assert_true(t.rem[t.n_rem - 1].at <= quiet + 10000 + 20000 + 1000);
	assert_false(t.rem[t.n_rem - 1].r.old_only);
	assert_int_equal(ike_child_spis(t.sa, &(uint32_t){ 0 }, &(uint32_t){ 0 }), -ENOTCONN);
	h_free(&t);
}

static void liveness_check_on_demand(void **state)
{
	struct h t;
	(void)state;
	h_init(&t, false);
	t.cfg.dpd_interval_ms = 60000;
	connect_ok(&t);
	t.deliver = false;
	assert_int_equal(ike_check_liveness(t.sa, t.now), 1);
	pump(&t);
	assert_int_equal(count_exch(&t, 0, IKE_INFORMATIONAL), 1);
	/* One at a time (§2.3): a second call adds nothing. */
	assert_int_equal(ike_check_liveness(t.sa, t.now), 0);
	pump(&t);
	assert_int_equal(count_exch(&t, 0, IKE_INFORMATIONAL), 1);
	/* Unanswered: the server is dead within the retransmission budget,
	 * long before the 60 s rate. */
	run_until(&t, 45000);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_DISCONNECTED);
	assert_int_equal(t.st[(t.n_st - 1) % MAX_REC].error, IKE_ERR_SERVER_DEAD);
	assert_int_equal(ike_check_liveness(t.sa, t.now), -ENOTCONN);
	h_free(&t);
}

static void path_change_ends_the_sa(void **state)
{
	struct h t;
	struct sockaddr_storage same, other;
	(void)state;
	h_init(&t, false);
	connect_ok(&t);
	addr4(&same, "192.0.2.1", 500);
	addr4(&other, "198.51.100.7", 500);
	assert_int_equal(ike_path_changed(t.sa, &same, t.now), 0);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	unsigned before = t.fr.n_info;
	assert_int_equal(ike_path_changed(t.sa, &other, t.now), 1);
	pump(&t);
	/* A DELETE on the old path, then a clean end (no error: the daemon
	 * reconnects from the new address). */
	assert_int_equal(t.fr.n_info, before + 1);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_DISCONNECTED);
	assert_int_equal(t.st[(t.n_st - 1) % MAX_REC].error, IKE_ERR_NONE);
	assert_non_null(strstr(t.st[(t.n_st - 1) % MAX_REC].detail, "path"));
	assert_true(t.n_rem >= 1);
	assert_int_equal(ike_path_changed(t.sa, NULL, t.now), -ENOTCONN);
	h_free(&t);
}

static void traffic_ignored_when_not_up(void **state)
{
	struct h t;
	struct pvpn_err err;
	(void)state;
	h_init(&t, false);
	fr_init(&t.fr, &t.frc);
	t.sa = ike_sa_new(&t.cfg, &err);
	assert_non_null(t.sa);
	uint32_t a, b;
	assert_int_equal(ike_child_spis(t.sa, &a, &b), -ENOTCONN);
	ike_peer_traffic(t.sa, t.now);   /* before connecting: nothing happens */
	assert_int_equal(ike_next_deadline(t.sa), 0);
	h_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dpd_only_when_quiet),
		cmocka_unit_test(dead_peer_after_budget),
		cmocka_unit_test(liveness_check_on_demand),
		cmocka_unit_test(path_change_ends_the_sa),
		cmocka_unit_test(traffic_ignored_when_not_up),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
