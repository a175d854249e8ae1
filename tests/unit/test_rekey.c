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
#include "tests/lib/engine_harness.h"

/* The newest install's keys are the fake responder's current ones. */
static void check_keys(const struct eh *t)
{
	const struct eh_inst *in = &t->inst[t->n_inst - 1];
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

/* ---------------------------------------------------------------- tests */

static void rekey_by_us_on_timer(void **state)
{
	struct eh t;
	(void)state;
	eh_init(&t, false);
	eh_connect_ok(&t);
	uint64_t up = t.now;
	uint32_t old_in = t.inst[0].c.spi_in, old_out = t.inst[0].c.spi_out;
	/* Default margin: a tenth of the 100 s lifetime, less up to a third
	 * of it at random: nothing before 86.6 s. */
	eh_run_until(&t, 86000);
	assert_int_equal(t.n_inst, 1);
	assert_int_equal(eh_count_exch(&t, 0, IKE_CREATE_CHILD_SA), 0);
	/* Before the kernel's soft limit (90 %) it has happened. */
	eh_run_until(&t, 4000);
	assert_int_equal(eh_count_exch(&t, 0, IKE_CREATE_CHILD_SA), 1);
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
	eh_run_until(&t, 5000);
	assert_int_equal(t.n_rem, 1);
	assert_true(t.rem[0].r.old_only);
	assert_int_equal(t.rem[0].r.spi_in, old_in);
	assert_int_equal(t.rem[0].r.spi_out, old_out);
	assert_true(t.rem[0].at >= t.inst[1].at + 2000);
	assert_true(t.rem[0].at <= t.inst[1].at + 16000);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	/* And again for the new pair, 80..90 s later. */
	eh_run_until(&t, 95000);
	assert_int_equal(t.n_inst, 3);
	check_keys(&t);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	eh_free(&t);
}

static void rekey_margin_honoured(void **state)
{
	struct eh t;
	(void)state;
	eh_init(&t, false);
	t.cfg.child_lifetime_s = 60;
	t.cfg.rekey_margin_s = 30;
	eh_connect_ok(&t);
	uint64_t up = t.now;
	eh_run_until(&t, 19900);
	assert_int_equal(t.n_inst, 1);
	eh_run_until(&t, 10200);
	assert_int_equal(t.n_inst, 2);
	assert_true(t.inst[1].at >= up + 20000 && t.inst[1].at <= up + 30000);
	check_keys(&t);
	eh_free(&t);
}

static void rekey_by_us_with_pfs(void **state)
{
	struct eh t;
	(void)state;
	eh_init(&t, true);
	t.cfg.pfs = true;
	t.cfg.child_proposals[0].n_dh = 1;
	t.cfg.child_proposals[0].dh[0] = 19;
	eh_connect_ok(&t);
	assert_int_equal(ike_rekey_child(t.sa, t.now), 0);
	eh_pump(&t);
	assert_int_equal(t.n_inst, 2);
	assert_int_equal(t.rk.last_group, 19);
	assert_int_equal(t.inst[1].c.encr_id, 12);
	assert_int_equal(t.inst[1].c.integ_id, 12);
	check_keys(&t);
	eh_free(&t);
}

static void rekey_pfs_with_ike_group(void **state)
{
	struct eh t;
	(void)state;
	eh_init(&t, false);
	t.cfg.pfs = true;        /* no group of its own: the IKE SA's (31) */
	eh_connect_ok(&t);
	assert_int_equal(ike_rekey_child(t.sa, t.now), 0);
	eh_pump(&t);
	assert_int_equal(t.n_inst, 2);
	assert_int_equal(t.rk.last_group, 31);
	check_keys(&t);
	eh_free(&t);
}

static void rekey_invalid_ke_retried(void **state)
{
	struct eh t;
	(void)state;
	eh_init(&t, false);
	t.cfg.child_proposals[0].n_dh = 2;
	t.cfg.child_proposals[0].dh[0] = 31;
	t.cfg.child_proposals[0].dh[1] = 19;
	t.rk.want_group = 19;
	eh_connect_ok(&t);
	ike_rekey_child(t.sa, t.now);
	eh_pump(&t);
	assert_int_equal(t.rk.n_create, 2);
	assert_int_equal(t.n_inst, 2);
	assert_int_equal(t.rk.last_group, 19);
	check_keys(&t);
	eh_free(&t);
}

static void rekey_on_soft_expire(void **state)
{
	struct eh t;
	(void)state;
	eh_init(&t, false);
	eh_connect_ok(&t);
	assert_int_equal(ike_child_expired(t.sa, 0x12345678, false, t.now), -ENOENT);
	assert_int_equal(eh_count_exch(&t, 0, IKE_CREATE_CHILD_SA), 0);
	uint32_t old_out = t.inst[0].c.spi_out;
	t.now += 5000;
	assert_int_equal(ike_child_expired(t.sa, old_out, false, t.now), 0);
	eh_pump(&t);
	assert_int_equal(t.n_inst, 2);
	check_keys(&t);
	/* A late EXPIRE of the replaced pair changes nothing. */
	size_t before = t.n_sent;
	assert_int_equal(ike_child_expired(t.sa, old_out, true, t.now), 0);
	eh_pump(&t);
	assert_int_equal(t.n_sent, before);
	assert_int_equal(t.n_inst, 2);
	eh_free(&t);
}

static void server_rekey(struct eh *t, uint16_t group)
{
	uint8_t *req = NULL;
	size_t rl = 0;
	t->rk.group = group;
	eh_connect_ok(t);
	uint32_t old_in = t->inst[0].c.spi_in, old_out = t->inst[0].c.spi_out;
	t->deliver = false;
	size_t before = t->n_sent;
	assert_int_equal(frr_request_rekey(&t->fr, &t->rk, &req, &rl), 0);
	assert_int_equal(ike_receive(t->sa, req, rl, &t->sent[0].path, t->now), 0);
	free(req);
	eh_pump(t);
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
	eh_pump(t);
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
	eh_run_until(t, 5000);
	assert_int_equal(t->n_rem, 1);
	assert_true(t->rem[0].r.old_only);
	assert_int_equal(t->rem[0].r.spi_in, old_in);
	assert_int_equal(t->rem[0].r.spi_out, old_out);
	assert_int_equal(ike_get_status(t->sa), IKE_STATUS_CONNECTED);
}

static void rekey_by_server(void **state)
{
	struct eh t;
	(void)state;
	eh_init(&t, false);
	server_rekey(&t, 0);
	eh_free(&t);
}

static void rekey_by_server_pfs(void **state)
{
	struct eh t;
	(void)state;
	eh_init(&t, true);
	server_rekey(&t, 19);
	eh_free(&t);
}

static void rekey_temporary_failure_retried(void **state)
{
	struct eh t;
	(void)state;
	eh_init(&t, false);
	t.rk.temp_failures = 1;
	eh_connect_ok(&t);
	ike_rekey_child(t.sa, t.now);
	eh_pump(&t);
	assert_int_equal(t.rk.n_create, 1);
	assert_int_equal(t.n_inst, 1);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	eh_run_until(&t, 1500);
	assert_int_equal(t.rk.n_create, 1);       /* not at once */
	eh_run_until(&t, 4000);
	assert_int_equal(t.rk.n_create, 2);
	assert_int_equal(t.n_inst, 2);
	check_keys(&t);
	eh_free(&t);
}

static void rekey_collision_answered(void **state)
{
	struct eh t;
	uint8_t *req = NULL;
	size_t rl = 0;
	(void)state;
	eh_init(&t, false);
	eh_connect_ok(&t);
	t.deliver = false;
	ike_rekey_child(t.sa, t.now);
	eh_pump(&t);
	size_t ours = t.n_sent - 1;
	assert_int_equal(t.sent[ours].data[18], IKE_CREATE_CHILD_SA);
	/* The server rekeys the same pair at the same moment. */
	struct fr_rekey srv = { 0 };
	srv.next_spi = 0xe0000001;
	assert_int_equal(frr_request_rekey(&t.fr, &srv, &req, &rl), 0);
	ike_receive(t.sa, req, rl, &t.sent[0].path, t.now);
	free(req);
	eh_pump(&t);
	assert_int_equal(fr_open_response(&t.fr, t.sent[t.n_sent - 1].data,
					  t.sent[t.n_sent - 1].len), 0);
	/* §2.25.1: answered as usual (its pair installed beside), not
	 * refused; test_rekey_peer.c checks who wins by the nonces. */
	assert_null(ike_message_find_notify(t.fr.inner, IKE_N_TEMPORARY_FAILURE));
	assert_non_null(ike_message_find(t.fr.inner, IKE_PT_SA, NULL));
	assert_int_equal(t.n_inst, 2);
	/* Our request reaches the server: exactly one new pair stays. */
	uint8_t *resp = NULL;
	size_t rlen = 0;
	assert_int_equal(frr_handle(&t.fr, &t.rk, t.sent[ours].data, t.sent[ours].len, &resp,
				    &rlen), 0);
	t.deliver = true;
	ike_receive(t.sa, resp, rlen, &t.sent[0].path, t.now);
	free(resp);
	eh_pump(&t);
	frr_free(&srv);
	/* Ours installed (it won) or not (the server's stays): either way one
	 * DELETE of ours names a pair that is not the current one. */
	assert_true(t.n_inst == 2 || t.n_inst == 3);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	assert_true(t.rk.n_delete_child >= 1);
	eh_free(&t);
}

static void rekey_child_not_found(void **state)
{
	struct eh t;
	(void)state;
	eh_init(&t, false);
	t.rk.answer_notify = IKE_N_CHILD_SA_NOT_FOUND;
	eh_connect_ok(&t);
	ike_rekey_child(t.sa, t.now);
	eh_pump(&t);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_DISCONNECTED);
	/* Out of sync: an error pvpnd reconnects after (not serverDisconnected). */
	assert_int_equal(t.st[(t.n_st - 1) % EH_MAX_REC].error, IKE_ERR_PROTOCOL_ERROR);
	assert_non_null(strstr(t.st[(t.n_st - 1) % EH_MAX_REC].detail, "CHILD_SA_NOT_FOUND"));
	assert_true(t.n_rem >= 1);
	assert_false(t.rem[t.n_rem - 1].r.old_only);
	eh_free(&t);
}

static void server_rekey_unknown_spi(void **state)
{
	struct eh t;
	uint8_t *req = NULL;
	size_t rl = 0;
	(void)state;
	eh_init(&t, false);
	eh_connect_ok(&t);
	t.deliver = false;
	t.fr.spi_in = 0x0badbad0;   /* names a pair we do not have */
	assert_int_equal(frr_request_rekey(&t.fr, &t.rk, &req, &rl), 0);
	ike_receive(t.sa, req, rl, &t.sent[0].path, t.now);
	free(req);
	eh_pump(&t);
	assert_int_equal(fr_open_response(&t.fr, t.sent[t.n_sent - 1].data,
					  t.sent[t.n_sent - 1].len), 0);
	assert_non_null(ike_message_find_notify(t.fr.inner, IKE_N_CHILD_SA_NOT_FOUND));
	assert_int_equal(t.n_inst, 1);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	eh_free(&t);
}

static void rekey_unanswered_is_dead(void **state)
{
	struct eh t;
	(void)state;
	eh_init(&t, false);
	eh_connect_ok(&t);
	t.deliver = false;
	ike_rekey_child(t.sa, t.now);
	eh_pump(&t);
	eh_run_until(&t, 120000);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_DISCONNECTED);
	assert_int_equal(t.st[(t.n_st - 1) % EH_MAX_REC].error, IKE_ERR_SERVER_DEAD);
	eh_free(&t);
}

static void ike_sa_rekey_by_us(void **state)
{
	struct eh t;
	(void)state;
	eh_init(&t, false);
	t.cfg.ike_lifetime_s = 600;
	t.cfg.child_lifetime_s = 3600;
	eh_connect_ok(&t);
	uint8_t old_spi[8];
	memcpy(old_spi, t.fr.spi_i, 8);
	uint64_t up = t.now;
	/* A tenth of 600 s before the end, less up to a third of that. */
	eh_run_until(&t, 519000);
	assert_int_equal(t.rk.n_ike_rekeyed, 0);
	eh_run_until(&t, 22000);
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
	eh_pump(&t);
	assert_int_equal(t.n_inst, 2);
	check_keys(&t);
	unsigned info = t.fr.n_info;
	assert_int_equal(ike_check_liveness(t.sa, t.now), 1);
	eh_pump(&t);
	assert_int_equal(t.fr.n_info, info + 1);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	eh_free(&t);
}

static void ike_sa_rekey_temporary_failure(void **state)
{
	struct eh t;
	(void)state;
	eh_init(&t, false);
	t.cfg.ike_lifetime_s = 600;
	t.cfg.child_lifetime_s = 3600;
	t.rk.temp_failures = 1;
	eh_connect_ok(&t);
	eh_run_until(&t, 519000);
	assert_int_equal(t.rk.n_ike_rekeyed, 0);
	eh_run_until(&t, 22000);
	eh_run_until(&t, 6000);
	/* Refused once (TEMPORARY_FAILURE), retried a few seconds later. */
	assert_int_equal(t.rk.temp_failures, 0);
	assert_int_equal(t.rk.n_ike_rekeyed, 1);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	eh_free(&t);
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
		cmocka_unit_test(rekey_collision_answered),
		cmocka_unit_test(rekey_child_not_found),
		cmocka_unit_test(server_rekey_unknown_spi),
		cmocka_unit_test(rekey_unanswered_is_dead),
		cmocka_unit_test(ike_sa_rekey_by_us),
		cmocka_unit_test(ike_sa_rekey_temporary_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
