/* Re-authentication (RFC 4478) in the ike-lite engine against the fake
 * responder: AUTH_LIFETIME in the IKE_AUTH response and in an INFORMATIONAL
 * request of the server's plans ike_reauth_deadline (a random margin before
 * the end, never sooner than 10 s); malformed ones change nothing; a
 * re-authenticating SA sends no INITIAL_CONTACT and asks for its virtual
 * IP; ike_owns_datagram tells two IKE SAs with one server apart. */
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

/* A request of the server's (INFORMATIONAL, Message ID fr.next_mid) with
 * one notify; delivered to the engine.  Returns ike_receive's result. */
static int server_info_notify(struct eh *t, uint16_t type, uint8_t spi_size, const uint8_t *data,
			      size_t len)
{
	struct ike_builder b;
	struct ike_header h;
	uint8_t plain[256], first = 0, *msg = NULL, spi[4] = { 1, 2, 3, 4 };
	size_t plain_len = 0, mlen = 0;
	int rc;

	ike_build_chain_begin(&b, plain, sizeof(plain));
	ike_build_notify(&b, spi_size ? IKE_PROTO_ESP : 0, spi_size ? spi : NULL, spi_size, type,
			 data, len);
	assert_int_equal(ike_build_finish(&b, &plain_len, &first, NULL), 0);
	memset(&h, 0, sizeof(h));
	memcpy(h.spi_i, t->fr.spi_i, 8);
	memcpy(h.spi_r, t->fr.spi_r, 8);
	h.version = IKE_VERSION_2_0;
	h.exchange = IKE_INFORMATIONAL;
	h.flags = 0;   /* the responder's request: neither I nor R (§3.1) */
	h.message_id = t->fr.next_mid++;
	assert_int_equal(eng_seal(&t->fr.suite, &t->fr.keys.sk_er, &t->fr.keys.sk_ar, eh_rand, &h,
				  first, plain, plain_len, &msg, &mlen), 0);
	rc = ike_receive(t->sa, msg, mlen, &t->sent[0].path, t->now);
	free(msg);
	eh_pump(t);
	return rc;
}

static const uint8_t *be32(uint32_t v, uint8_t out[4])
{
	out[0] = (uint8_t)(v >> 24);
	out[1] = (uint8_t)(v >> 16);
	out[2] = (uint8_t)(v >> 8);
	out[3] = (uint8_t)v;
	return out;
}

/* The IKE_AUTH request as sent, decrypted with the responder's view into
 * t->fr.inner; *keep holds the bytes the payloads point into. */
static void open_auth_request(struct eh *t, uint8_t **keep)
{
	for (size_t i = 0; i < t->n_sent; i++) {
		if (t->sent[i].len > 18 && t->sent[i].data[18] == IKE_AUTH) {
			*keep = malloc(t->sent[i].len);
			assert_non_null(*keep);
			memcpy(*keep, t->sent[i].data, t->sent[i].len);
			assert_int_equal(fr_open_response(&t->fr, *keep, t->sent[i].len), 0);
			return;
		}
	}
	fail_msg("no IKE_AUTH request was sent");
}

/* ---------------------------------------------------------------- tests */

static void no_auth_lifetime_no_deadline(void **state)
{
	struct eh t;
	(void)state;
	eh_init(&t, false);
	eh_connect_ok(&t);
	assert_int_equal(ike_reauth_deadline(t.sa), 0);
	eh_free(&t);
}

static void auth_lifetime_in_ike_auth(void **state)
{
	struct eh t;
	(void)state;
	eh_init(&t, false);
	t.frc.auth_lifetime_s = 600;
	uint64_t t0 = t.now;
	eh_connect_ok(&t);
	uint64_t dl = ike_reauth_deadline(t.sa);
	/* A tenth of 600 s before the end, less up to a third of that. */
	assert_true(dl <= t0 + 540000);
	assert_true(dl >= t0 + 540000 - 20000);
	/* The engine does nothing by itself at that time (the daemon does):
	 * the SA stays as it is and the deadline stays. */
	eh_run_until(&t, 560000);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	assert_int_equal(ike_reauth_deadline(t.sa), dl);
	eh_free(&t);
}

static void auth_lifetime_in_informational(void **state)
{
	struct eh t;
	uint8_t v[4];
	(void)state;
	eh_init(&t, false);
	eh_connect_ok(&t);
	assert_int_equal(ike_reauth_deadline(t.sa), 0);
	t.now += 5000;
	size_t sent = t.n_sent;
	assert_int_equal(server_info_notify(&t, IKE_N_AUTH_LIFETIME, 0, be32(3600, v), 4), 0);
	/* Answered (§1.4), and planned: 3240 s - up to 120 s from now. */
	assert_int_equal(eh_count_exch(&t, sent, IKE_INFORMATIONAL), 1);
	uint64_t dl = ike_reauth_deadline(t.sa);
	assert_true(dl <= t.now + 3240000 && dl >= t.now + 3240000 - 120000);

	/* Malformed: 3 bytes, 5 bytes, an SPI: answered, nothing changes. */
	t.now += 1000;
	assert_int_equal(server_info_notify(&t, IKE_N_AUTH_LIFETIME, 0, v, 3), 0);
	assert_int_equal(ike_reauth_deadline(t.sa), dl);
	uint8_t five[5] = { 0, 0, 0, 10, 0 };
	assert_int_equal(server_info_notify(&t, IKE_N_AUTH_LIFETIME, 0, five, 5), 0);
	assert_int_equal(ike_reauth_deadline(t.sa), dl);
	assert_int_equal(server_info_notify(&t, IKE_N_AUTH_LIFETIME, 4, be32(60, v), 4), 0);
	assert_int_equal(ike_reauth_deadline(t.sa), dl);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);

	/* A later word of the server's replaces the earlier one. */
	assert_int_equal(server_info_notify(&t, IKE_N_AUTH_LIFETIME, 0, be32(1000, v), 4), 0);
	uint64_t dl2 = ike_reauth_deadline(t.sa);
	assert_true(dl2 <= t.now + 900000 && dl2 >= t.now + 900000 - 33400);
	eh_free(&t);
}

static void auth_lifetime_too_short_is_clamped(void **state)
{
	struct eh t;
	uint8_t v[4];
	(void)state;
	eh_init(&t, false);
	eh_connect_ok(&t);
	assert_int_equal(server_info_notify(&t, IKE_N_AUTH_LIFETIME, 0, be32(0, v), 4), 0);
	assert_int_equal(ike_reauth_deadline(t.sa), t.now + 10000);
	assert_int_equal(server_info_notify(&t, IKE_N_AUTH_LIFETIME, 0, be32(5, v), 4), 0);
	assert_int_equal(ike_reauth_deadline(t.sa), t.now + 10000);
	eh_free(&t);
}

static void deadline_only_while_established(void **state)
{
	struct eh t;
	(void)state;
	eh_init(&t, false);
	t.frc.auth_lifetime_s = 600;
	eh_connect_ok(&t);
	assert_int_not_equal(ike_reauth_deadline(t.sa), 0);
	assert_int_equal(ike_disconnect(t.sa, t.now), 0);
	eh_pump(&t);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_DISCONNECTED);
	assert_int_equal(ike_reauth_deadline(t.sa), 0);
	assert_int_equal(ike_reauth_deadline(NULL), 0);
	eh_free(&t);
}

static void first_sa_sends_initial_contact(void **state)
{
	struct eh t;
	uint8_t *keep = NULL;
	(void)state;
	eh_init(&t, false);
	eh_connect_ok(&t);
	open_auth_request(&t, &keep);
	assert_non_null(ike_message_find_notify(t.fr.inner, IKE_N_INITIAL_CONTACT));
	const struct ike_payload *cp = ike_message_find(t.fr.inner, IKE_PT_CP, NULL);
	assert_non_null(cp);
	bool found = false;
	for (size_t i = 0; i < cp->u.cp.nattrs; i++)
		if ((cp->u.cp.attrs[i].type & IKE_CP_ATTR_TYPE_MASK) == IKE_CP_INTERNAL_IP4_ADDRESS) {
			assert_int_equal(cp->u.cp.attrs[i].len, 0);
			found = true;
		}
	assert_true(found);
	free(keep);
	eh_free(&t);
}

static void reauth_sa_asks_for_its_vip(void **state)
{
	struct eh t;
	uint8_t *keep = NULL;
	(void)state;
	eh_init(&t, false);
	t.cfg.reauth = true;
	inet_pton(AF_INET, "10.10.10.1", &t.cfg.reauth_vip4);
	eh_connect_ok(&t);
	open_auth_request(&t, &keep);
	/* RFC 7296 §2.4: the old IKE SA is still alive. */
	assert_null(ike_message_find_notify(t.fr.inner, IKE_N_INITIAL_CONTACT));
	const struct ike_payload *cp = ike_message_find(t.fr.inner, IKE_PT_CP, NULL);
	assert_non_null(cp);
	assert_int_equal(cp->u.cp.cfg_type, IKE_CFG_REQUEST);
	bool found = false;
	for (size_t i = 0; i < cp->u.cp.nattrs; i++)
		if ((cp->u.cp.attrs[i].type & IKE_CP_ATTR_TYPE_MASK) == IKE_CP_INTERNAL_IP4_ADDRESS) {
			static const uint8_t want[4] = { 10, 10, 10, 1 };
			assert_int_equal(cp->u.cp.attrs[i].len, 4);
			assert_memory_equal(cp->u.cp.attrs[i].data, want, 4);
			found = true;
		}
	assert_true(found);
	free(keep);
	eh_free(&t);
}

static void owns_datagram_by_initiator_spi(void **state)
{
	struct eh t;
	struct ike_path nat;
	uint8_t buf[64];
	(void)state;
	eh_init(&t, false);
	eh_connect_ok(&t);
	const struct eh_sent *s = &t.sent[0];
	assert_true(s->len >= 28);
	assert_true(ike_owns_datagram(t.sa, s->data, s->len, &s->path));
	memcpy(buf, s->data, 28);
	buf[3] ^= 0x40;
	assert_false(ike_owns_datagram(t.sa, buf, 28, &s->path));
	assert_false(ike_owns_datagram(t.sa, s->data, 27, &s->path));
	assert_false(ike_owns_datagram(NULL, s->data, s->len, &s->path));
	/* On the NAT-T port: after the 4-byte zero marker, and only then. */
	nat = s->path;
	eh_addr4(&nat.local, "192.0.2.1", 4500);
	memset(buf, 0, 4);
	memcpy(buf + 4, s->data, 28);
	assert_true(ike_owns_datagram(t.sa, buf, 32, &nat));
	assert_false(ike_owns_datagram(t.sa, buf + 4, 28, &nat));
	buf[2] = 1;
	assert_false(ike_owns_datagram(t.sa, buf, 32, &nat));
	eh_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_auth_lifetime_no_deadline),
		cmocka_unit_test(auth_lifetime_in_ike_auth),
		cmocka_unit_test(auth_lifetime_in_informational),
		cmocka_unit_test(auth_lifetime_too_short_is_clamped),
		cmocka_unit_test(deadline_only_while_established),
		cmocka_unit_test(first_sa_sends_initial_contact),
		cmocka_unit_test(reauth_sa_asks_for_its_vip),
		cmocka_unit_test(owns_datagram_by_initiator_spi),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
