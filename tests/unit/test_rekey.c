/* Child SA rekeying (RFC 7296 §1.3.3, §2.8) in the ike-lite engine against
 * the fake responder: started by us (timer, kernel EXPIRE), by the server,
 * with and without PFS, TEMPORARY_FAILURE, collisions, CHILD_SA_NOT_FOUND. */
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

/* The newest install's keys are the fake responder's current ones. */
static void check_keys(const struct h *t)
{
	const struct inst *in = &t->inst[t->n_inst - 1];
	assert_int_equal(in->el, t->fr.ck.encr_i.len);
	assert_memory_equal(in->eout, t->fr.ck.encr_i.data, in->el);
	assert_memory_equal(in->ein, t->fr.ck.encr_r.data, in->el);
	assert_int_equal(in->il, t->fr.ck.integ_i.len);
	if (in->il) {
		assert_memory_equal(in->iout, t->fr.ck.integ_i.data, in->il);
		assert_memory_equal(in->iin, t->fr.ck.integ_r.data, in->il);
	}
	/* SPIs: ours in = its out and the other way round. */
	assert_int_equal(in->c.spi_in, t->fr.spi_out);
	assert_int_equal(in->c.spi_out, t->fr.spi_in);
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

static void rekey_by_us_on_timer(void **state)
{
	struct h t;
	(void)state;
	h_init(&t, false);
	connect_ok(&t);
	uint64_t up = t.now;
	uint32_t old_in = t.inst[0].c.spi_in, old_out = t.inst[0].c.spi_out;
	/* Default margin: a tenth of the 100 s lifetime, less up to a third
	 * of it at random: nothing before 86.6 s. */
	run_until(&t, 86000);
	assert_int_equal(t.n_inst, 1);
	assert_int_equal(count_exch(&t, 0, IKE_CREATE_CHILD_SA), 0);
	/* Before the kernel's soft limit (90 %) it has happened. */
	run_until(&t, 4000);
	assert_int_equal(count_exch(&t, 0, IKE_CREATE_CHILD_SA), 1);
	assert_int_equal(t.n_inst, 2);
	assert_true(t.inst[1].c.rekey);
	assert_true(t.inst[1].at >= up + 86600 && t.inst[1].at <= up + 90000);
	assert_int_not_equal(t.inst[1].c.spi_in, old_in);
	assert_int_not_equal(t.inst[1].c.spi_out, old_out);
	assert_int_equal(t.inst[1].c.reqid, 7);
	assert_int_equal(t.inst[1].c.n_ts_local, 1);
	assert_int_equal(t.rk.n_rekeyed, 1);
	assert_int_equal(t.rk.last_group, 0);
	check_keys(&t);
	assert_memory_not_equal(t.inst[1].eout, t.inst[0].eout, t.inst[0].el);
	/* The old pair: DELETEd at the server (our old inbound named)... */
	assert_int_equal(t.rk.n_delete_child, 1);
	assert_int_equal(t.rk.deleted_spi, old_in);
	/* ...and removed here only after the grace period, only it. */
	assert_int_equal(t.n_rem, 0);
	run_until(&t, 5000);
	assert_int_equal(t.n_rem, 1);
	assert_true(t.rem[0].r.old_only);
	assert_int_equal(t.rem[0].r.spi_in, old_in);
	assert_int_equal(t.rem[0].r.spi_out, old_out);
	assert_true(t.rem[0].at >= t.inst[1].at + 2000);
	assert_true(t.rem[0].at <= t.inst[1].at + 16000);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	/* And again for the new pair, 80..90 s later. */
	run_until(&t, 95000);
	assert_int_equal(t.n_inst, 3);
	check_keys(&t);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	h_free(&t);
}

static void rekey_margin_honoured(void **state)
{
	struct h t;
	(void)state;
	h_init(&t, false);
	t.cfg.child_lifetime_s = 60;
	t.cfg.rekey_margin_s = 30;
	connect_ok(&t);
	uint64_t up = t.now;
	run_until(&t, 19900);
	assert_int_equal(t.n_inst, 1);
	run_until(&t, 10200);
	assert_int_equal(t.n_inst, 2);
	assert_true(t.inst[1].at >= up + 20000 && t.inst[1].at <= up + 30000);
	check_keys(&t);
	h_free(&t);
}

static void rekey_by_us_with_pfs(void **state)
{
	struct h t;
	(void)state;
	h_init(&t, true);
	t.cfg.pfs = true;
	t.cfg.child_proposals[0].n_dh = 1;
	t.cfg.child_proposals[0].dh[0] = 19;
	connect_ok(&t);
	assert_int_equal(ike_rekey_child(t.sa, t.now), 0);
	pump(&t);
	assert_int_equal(t.n_inst, 2);
	assert_int_equal(t.rk.last_group, 19);
	assert_int_equal(t.inst[1].c.encr_id, 12);
	assert_int_equal(t.inst[1].c.integ_id, 12);
	check_keys(&t);
	h_free(&t);
}

static void rekey_pfs_with_ike_group(void **state)
{
	struct h t;
	(void)state;
	h_init(&t, false);
	t.cfg.pfs = true;        /* no group of its own: the IKE SA's (31) */
	connect_ok(&t);
	assert_int_equal(ike_rekey_child(t.sa, t.now), 0);
	pump(&t);
	assert_int_equal(t.n_inst, 2);
	assert_int_equal(t.rk.last_group, 31);
	check_keys(&t);
	h_free(&t);
}

static void rekey_invalid_ke_retried(void **state)
{
	struct h t;
	(void)state;
	h_init(&t, false);
	t.cfg.child_proposals[0].n_dh = 2;
	t.cfg.child_proposals[0].dh[0] = 31;
	t.cfg.child_proposals[0].dh[1] = 19;
	t.rk.want_group = 19;
	connect_ok(&t);
	ike_rekey_child(t.sa, t.now);
	pump(&t);
	assert_int_equal(t.rk.n_create, 2);
	assert_int_equal(t.n_inst, 2);
	assert_int_equal(t.rk.last_group, 19);
	check_keys(&t);
	h_free(&t);
}

static void rekey_on_soft_expire(void **state)
{
	struct h t;
	(void)state;
	h_init(&t, false);
	connect_ok(&t);
	assert_int_equal(ike_child_expired(t.sa, 0x12345678, false, t.now), -ENOENT);
	assert_int_equal(count_exch(&t, 0, IKE_CREATE_CHILD_SA), 0);
	uint32_t old_out = t.inst[0].c.spi_out;
	t.now += 5000;
	assert_int_equal(ike_child_expired(t.sa, old_out, false, t.now), 0);
	pump(&t);
	assert_int_equal(t.n_inst, 2);
	check_keys(&t);
	/* A late EXPIRE of the replaced pair changes nothing. */
	size_t before = t.n_sent;
	assert_int_equal(ike_child_expired(t.sa, old_out, true, t.now), 0);
	pump(&t);
	assert_int_equal(t.n_sent, before);
	assert_int_equal(t.n_inst, 2);
	h_free(&t);
}

static void server_rekey(struct h *t, uint16_t group)
{
	uint8_t *req = NULL;
	size_t rl = 0;
	t->rk.group = group;
	connect_ok(t);
	uint32_t old_in = t->inst[0].c.spi_in, old_out = t->inst[0].c.spi_out;
	t->deliver = false;
	size_t before = t->n_sent;
	assert_int_equal(frr_request_rekey(&t->fr, &t->rk, &req, &rl), 0);
	assert_int_equal(ike_receive(t->sa, req, rl, &t->sent[0].path, t->now), 0);
	free(req);
	pump(t);
	assert_int_equal(t->n_sent, before + 1);
	assert_int_equal(t->sent[before].data[18], IKE_CREATE_CHILD_SA);
	assert_int_equal(frr_rekey_answer(&t->fr, &t->rk, t->sent[before].data,
					  t->sent[before].len), 0);
	assert_int_equal(t->n_inst, 2);
	assert_true(t->inst[1].c.rekey);
	assert_int_equal(t->rk.last_group, group);
	check_keys(t);
	assert_int_equal(t->n_rem, 0);
	/* The server deletes the old pair: we answer with our old inbound,
	 * and remove it a few seconds later. */
	assert_int_equal(frr_request_delete_old(&t->fr, &t->rk, &req, &rl), 0);
	t->now += 100;
	assert_int_equal(ike_receive(t->sa, req, rl, &t->sent[0].path, t->now), 0);
	free(req);
	pump(t);
	assert_int_equal(t->n_sent, before + 2);
	assert_int_equal(fr_open_response(&t->fr, t->sent[before + 1].data,
					  t->sent[before + 1].len), 0);
	const struct ike_payload *pd = ike_message_find(t->fr.inner, IKE_PT_DELETE, NULL);
	assert_non_null(pd);
	assert_int_equal(pd->u.del.nspis, 1);
	uint32_t named = (uint32_t)pd->u.del.spis[0] << 24 | (uint32_t)pd->u.del.spis[1] << 16 |
			 (uint32_t)pd->u.del.spis[2] << 8 | pd->u.del.spis[3];
	assert_int_equal(named, old_in);
	assert_int_equal(t->n_rem, 0);
	run_until(t, 5000);
	assert_int_equal(t->n_rem, 1);
	assert_true(t->rem[0].r.old_only);
	assert_int_equal(t->rem[0].r.spi_in, old_in);
	assert_int_equal(t->rem[0].r.spi_out, old_out);
	assert_int_equal(ike_get_status(t->sa), IKE_STATUS_CONNECTED);
}

static void rekey_by_server(void **state)
{
	struct h t;
	(void)state;
	h_init(&t, false);
	server_rekey(&t, 0);
	h_free(&t);
}

static void rekey_by_server_pfs(void **state)
{
	struct h t;
	(void)state;
	h_init(&t, true);
	server_rekey(&t, 19);
	h_free(&t);
}

static void rekey_temporary_failure_retried(void **state)
{
	struct h t;
	(void)state;
	h_init(&t, false);
	t.rk.temp_failures = 1;
	connect_ok(&t);
	ike_rekey_child(t.sa, t.now);
	pump(&t);
	assert_int_equal(t.rk.n_create, 1);
	assert_int_equal(t.n_inst, 1);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	run_until(&t, 1500);
	assert_int_equal(t.rk.n_create, 1);       /* not at once */
	run_until(&t, 4000);
	assert_int_equal(t.rk.n_create, 2);
	assert_int_equal(t.n_inst, 2);
	check_keys(&t);
	h_free(&t);
}

static void rekey_collision_ours_wins(void **state)
{
	struct h t;
	uint8_t *req = NULL;
	size_t rl = 0;
	(void)state;
	h_init(&t, false);
	connect_ok(&t);
	t.deliver = false;
	ike_rekey_child(t.sa, t.now);
	pump(&t);
	size_t ours = t.n_sent - 1;
	assert_int_equal(t.sent[ours].data[18], IKE_CREATE_CHILD_SA);
	/* The server rekeys the same pair at the same moment. */
	struct fr_rekey srv = { 0 };
	srv.next_spi = 0xe0000001;
	assert_int_equal(frr_request_rekey(&t.fr, &srv, &req, &rl), 0);
	ike_receive(t.sa, req, rl, &t.sent[0].path, t.now);
	free(req);
	pump(&t);
	assert_int_equal(fr_open_response(&t.fr, t.sent[t.n_sent - 1].data,
					  t.sent[t.n_sent - 1].len), 0);
	assert_non_null(ike_message_find_notify(t.fr.inner, IKE_N_TEMPORARY_FAILURE));
	assert_int_equal(t.n_inst, 1);
	/* Our request reaches the server: exactly one new pair. */
	uint8_t *resp = NULL;
	size_t rlen = 0;
	assert_int_equal(frr_handle(&t.fr, &t.rk, t.sent[ours].data, t.sent[ours].len, &resp,
				    &rlen), 0);
	t.deliver = true;
	ike_receive(t.sa, resp, rlen, &t.sent[0].path, t.now);
	free(resp);
	pump(&t);
	frr_free(&srv);
	assert_int_equal(t.n_inst, 2);
	check_keys(&t);
	h_free(&t);
}

static void rekey_child_not_found(void **state)
{
	struct h t;
	(void)state;
	h_init(&t, false);
	t.rk.answer_notify = IKE_N_CHILD_SA_NOT_FOUND;
	connect_ok(&t);
	ike_rekey_child(t.sa, t.now);
	pump(&t);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_DISCONNECTED);
	/* Out of sync: an error pvpnd reconnects after (not serverDisconnected). */
	assert_int_equal(t.st[(t.n_st - 1) % MAX_REC].error, IKE_ERR_PROTOCOL_ERROR);
	assert_non_null(strstr(t.st[(t.n_st - 1) % MAX_REC].detail, "CHILD_SA_NOT_FOUND"));
	assert_true(t.n_rem >= 1);
	assert_false(t.rem[t.n_rem - 1].r.old_only);
	h_free(&t);
}

static void server_rekey_unknown_spi(void **state)
{
	struct h t;
	uint8_t *req = NULL;
	size_t rl = 0;
	(void)state;
	h_init(&t, false);
	connect_ok(&t);
	t.deliver = false;
	t.fr.spi_in = 0x0badbad0;   /* names a pair we do not have */
	assert_int_equal(frr_request_rekey(&t.fr, &t.rk, &req, &rl), 0);
	ike_receive(t.sa, req, rl, &t.sent[0].path, t.now);
	free(req);
	pump(&t);
	assert_int_equal(fr_open_response(&t.fr, t.sent[t.n_sent - 1].data,
					  t.sent[t.n_sent - 1].len), 0);
	assert_non_null(ike_message_find_notify(t.fr.inner, IKE_N_CHILD_SA_NOT_FOUND));
	assert_int_equal(t.n_inst, 1);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	h_free(&t);
}

static void rekey_unanswered_is_dead(void **state)
{
	struct h t;
	(void)state;
	h_init(&t, false);
	connect_ok(&t);
	t.deliver = false;
	ike_rekey_child(t.sa, t.now);
	pump(&t);
	run_until(&t, 120000);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_DISCONNECTED);
	assert_int_equal(t.st[(t.n_st - 1) % MAX_REC].error, IKE_ERR_SERVER_DEAD);
	h_free(&t);
}

static void ike_sa_rekey_by_us(void **state)
{
	struct h t;
	(void)state;
	h_init(&t, false);
	t.cfg.ike_lifetime_s = 600;
	t.cfg.child_lifetime_s = 3600;
	connect_ok(&t);
	uint8_t old_spi[8];
	memcpy(old_spi, t.fr.spi_i, 8);
	uint64_t up = t.now;
	/* A tenth of 600 s before the end, less up to a third of that. */
	run_until(&t, 519000);
	assert_int_equal(t.rk.n_ike_rekeyed, 0);
	run_until(&t, 22000);
	assert_int_equal(t.rk.n_ike_rekeyed, 1);
	(void)up;
	/* New SPIs on both sides; the old IKE SA was deleted (a message with
	 * the old SPI came after the rekey). */
	assert_memory_not_equal(t.fr.spi_i, old_spi, 8);
	assert_memory_equal(t.rk.old_ike_spi_i, old_spi, 8);
	bool deleted_old = false;
	for (size_t i = 0; i < t.n_sent; i++)
		if (t.sent[i].len > 18 && t.sent[i].data[18] == IKE_INFORMATIONAL &&
		    !memcmp(t.sent[i].data, old_spi, 8))
			deleted_old = true;
	assert_true(deleted_old);
	/* Still connected, the Child SA untouched, and the new IKE SA works:
	 * a Child rekey on it agrees on keys, a liveness check is answered. */
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	assert_int_equal(t.n_inst, 1);
	assert_int_equal(t.n_rem, 0);
	assert_int_equal(ike_rekey_child(t.sa, t.now), 0);
	pump(&t);
	assert_int_equal(t.n_inst, 2);
	check_keys(&t);
	unsigned info = t.fr.n_info;
	assert_int_equal(ike_check_liveness(t.sa, t.now), 1);
	pump(&t);
	assert_int_equal(t.fr.n_info, info + 1);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	h_free(&t);
}

static void ike_sa_rekey_temporary_failure(void **state)
{
	struct h t;
	(void)state;
	h_init(&t, false);
	t.cfg.ike_lifetime_s = 600;
	t.cfg.child_lifetime_s = 3600;
	t.rk.temp_failures = 1;
	connect_ok(&t);
	run_until(&t, 519000);
	assert_int_equal(t.rk.n_ike_rekeyed, 0);
	run_until(&t, 22000);
	run_until(&t, 6000);
	/* Refused once (TEMPORARY_FAILURE), retried a few seconds later. */
	assert_int_equal(t.rk.temp_failures, 0);
	assert_int_equal(t.rk.n_ike_rekeyed, 1);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	h_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rekey_by_us_on_timer),
		cmocka_unit_test(rekey_margin_honoured),
		cmocka_unit_test(rekey_by_us_with_pfs),
		cmocka_unit_test(rekey_pfs_with_ike_group),
		cmocka_unit_test(rekey_invalid_ke_retried),
		cmocka_unit_test(rekey_on_soft_expire),
		cmocka_unit_test(rekey_by_server),
		cmocka_unit_test(rekey_by_server_pfs),
		cmocka_unit_test(rekey_temporary_failure_retried),
		cmocka_unit_test(rekey_collision_ours_wins),
		cmocka_unit_test(rekey_child_not_found),
		cmocka_unit_test(server_rekey_unknown_spi),
		cmocka_unit_test(rekey_unanswered_is_dead),
		cmocka_unit_test(ike_sa_rekey_by_us),
		cmocka_unit_test(ike_sa_rekey_temporary_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
