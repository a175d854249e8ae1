/* Liveness checks only when the peer is quiet (RFC 7296 §2.4): the daemon
 * reports inbound ESP with ike_peer_traffic; a dead peer after the
 * retransmission budget.  Harness: tests/lib/engine_harness.c. */
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

/* ---------------------------------------------------------------- tests */

static void dpd_only_when_quiet(void **state)
{
	struct eh t;
	(void)state;
	eh_init(&t, false);
	t.cfg.dpd_interval_ms = 10000;
	t.cfg.child_lifetime_s = 3600;
	eh_connect_ok(&t);
	uint32_t in = 0, out = 0;
	assert_int_equal(ike_child_spis(t.sa, &in, &out), 0);
	assert_int_equal(in, t.inst[0].c.spi_in);
	assert_int_equal(out, t.inst[0].c.spi_out);
	/* ESP keeps arriving every 5 s: no liveness check for a minute. */
	for (int i = 0; i < 12; i++) {
		eh_run_until(&t, 5000);
		ike_peer_traffic(t.sa, t.now);
	}
	assert_int_equal(eh_count_exch(&t, 0, IKE_INFORMATIONAL), 0);
	assert_int_equal(t.fr.n_info, 0);
	/* Quiet: one check after the interval, answered; the SA stays. */
	eh_run_until(&t, 9000);
	assert_int_equal(eh_count_exch(&t, 0, IKE_INFORMATIONAL), 0);
	eh_run_until(&t, 1500);
	assert_int_equal(eh_count_exch(&t, 0, IKE_INFORMATIONAL), 1);
	assert_int_equal(t.fr.n_info, 1);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	eh_free(&t);
}

static void dead_peer_after_budget(void **state)
{
	struct eh t;
	(void)state;
	eh_init(&t, false);
	t.cfg.dpd_interval_ms = 10000;
	t.cfg.retx_first_ms = 1000;
	t.cfg.retx_max_tries = 4;
	t.cfg.retx_budget_ms = 20000;
	eh_connect_ok(&t);
	t.deliver = false;     /* the server is gone */
	uint64_t quiet = t.now;
	eh_run_until(&t, 60000);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_DISCONNECTED);
	assert_int_equal(t.st[(t.n_st - 1) % EH_MAX_REC].error, IKE_ERR_SERVER_DEAD);
	/* 4 tries of the check, then given up within the budget. */
	assert_int_equal(eh_count_exch(&t, 0, IKE_INFORMATIONAL), 4);
	assert_true(t.rem[t.n_rem - 1].at <= quiet + 10000 + 20000 + 1000);
	assert_false(t.rem[t.n_rem - 1].r.old_only);
	assert_int_equal(ike_child_spis(t.sa, &(uint32_t){ 0 }, &(uint32_t){ 0 }), -ENOTCONN);
	eh_free(&t);
}

static void liveness_check_on_demand(void **state)
{
	struct eh t;
	(void)state;
	eh_init(&t, false);
	t.cfg.dpd_interval_ms = 60000;
	eh_connect_ok(&t);
	t.deliver = false;
	assert_int_equal(ike_check_liveness(t.sa, t.now), 1);
	eh_pump(&t);
	assert_int_equal(eh_count_exch(&t, 0, IKE_INFORMATIONAL), 1);
	/* One at a time (§2.3): a second call adds nothing. */
	assert_int_equal(ike_check_liveness(t.sa, t.now), 0);
	eh_pump(&t);
	assert_int_equal(eh_count_exch(&t, 0, IKE_INFORMATIONAL), 1);
	/* Unanswered: the server is dead within the retransmission budget,
	 * long before the 60 s rate. */
	eh_run_until(&t, 45000);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_DISCONNECTED);
	assert_int_equal(t.st[(t.n_st - 1) % EH_MAX_REC].error, IKE_ERR_SERVER_DEAD);
	assert_int_equal(ike_check_liveness(t.sa, t.now), -ENOTCONN);
	eh_free(&t);
}

static void path_change_ends_the_sa(void **state)
{
	struct eh t;
	struct sockaddr_storage same, other;
	(void)state;
	eh_init(&t, false);
	eh_connect_ok(&t);
	eh_addr4(&same, "192.0.2.1", 500);
	eh_addr4(&other, "198.51.100.7", 500);
	assert_int_equal(ike_path_changed(t.sa, &same, t.now), 0);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	unsigned before = t.fr.n_info;
	assert_int_equal(ike_path_changed(t.sa, &other, t.now), 1);
	eh_pump(&t);
	/* A DELETE on the old path, then a clean end (no error: the daemon
	 * reconnects from the new address). */
	assert_int_equal(t.fr.n_info, before + 1);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_DISCONNECTED);
	assert_int_equal(t.st[(t.n_st - 1) % EH_MAX_REC].error, IKE_ERR_NONE);
	assert_non_null(strstr(t.st[(t.n_st - 1) % EH_MAX_REC].detail, "path"));
	assert_true(t.n_rem >= 1);
	assert_int_equal(ike_path_changed(t.sa, NULL, t.now), -ENOTCONN);
	eh_free(&t);
}

static void traffic_ignored_when_not_up(void **state)
{
	struct eh t;
	struct pvpn_err err;
	(void)state;
	eh_init(&t, false);
	fr_init(&t.fr, &t.frc);
	t.sa = ike_sa_new(&t.cfg, &err);
	assert_non_null(t.sa);
	uint32_t a, b;
	assert_int_equal(ike_child_spis(t.sa, &a, &b), -ENOTCONN);
	ike_peer_traffic(t.sa, t.now);   /* before connecting: nothing happens */
	assert_int_equal(ike_next_deadline(t.sa), 0);
	eh_free(&t);
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
