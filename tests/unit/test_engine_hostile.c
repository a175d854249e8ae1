/* Hostile input for the engine: every single-byte corruption of a real
 * IKE_SA_INIT response, and of the (correctly protected) plaintext of an
 * IKE_AUTH response.  Nothing may crash (run it under `make san`), and the
 * engine must end in a state its API allows: still connecting (dropped),
 * connected, or disconnected with an error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "ike-lite/ike.h"
#include "tests/lib/engine_harness.h"
#include "tests/lib/fake_responder.h"

static void setup_cfg(struct ike_config *c)
{
	eh_small_cfg(c, 2);
}

static void fr_setup(struct fr_config *f, const struct ike_config *c)
{
	memset(f, 0, sizeof(*f));
	f->self = c->remote;
	f->peer = c->local;
	f->psk = "k";
	f->id = "s";
	f->rnd = eh_rand;
}

/* Run the exchange; the responder's messages go through fr's mutation.
 * Returns the final status. */
static enum ike_status run(struct ike_config *c, struct fr_config *fc, uint8_t *init_resp,
			   size_t init_len)
{
	struct fake_responder fr;
	struct ike_action a;
	struct ike_path p;
	struct pvpn_err e;
	struct ike_sa *sa;
	uint8_t m[4096];
	size_t ml = 0;
	bool have = false;

	eh_rng = 7;
	fr_init(&fr, fc);
	sa = ike_sa_new(c, &e);
	assert_non_null(sa);
	memset(&p, 0, sizeof(p));
	p.local = c->local;
	p.remote = c->remote;
	ike_connect(sa, 1);
	for (int round = 0; round < 6; round++) {
		have = false;
		while (ike_next_action(sa, &a)) {
			if (a.type == IKE_ACT_SEND && a.u.send.len <= sizeof(m)) {
				memcpy(m, a.u.send.data, a.u.send.len);
				ml = a.u.send.len;
				have = true;
			} else if (a.type == IKE_ACT_ALLOC_SPI) {
				ike_spi_allocated(sa, 0x11223344, 2);
			} else if (a.type == IKE_ACT_STATUS &&
				   a.u.status.status == IKE_STATUS_DISCONNECTED) {
				assert_int_not_equal(a.u.status.error, IKE_ERR_NONE);
			}
		}
		if (!have)
			break;
		uint8_t *r = NULL;
		size_t rl;
		/* Keep the responder's randomness apart from the engine's. */
		uint64_t keep = eh_rng;
		eh_rng = 99 + (uint64_t)round;
		int rc = fr_handle(&fr, m, ml, &r, &rl);
		eh_rng = keep;
		/* The responder keeps its genuine state; the engine may get a
		 * corrupted IKE_SA_INIT response instead of the real one. */
		if (round == 0 && init_resp)
			ike_receive(sa, init_resp, init_len, &p, 3);
		else if (rc == 0)
			ike_receive(sa, r, rl, &p, 3);
		free(r);
	}
	enum ike_status st = ike_get_status(sa);
	ike_sa_free(sa);
	fr_free(&fr);
	return st;
}

static void init_response_every_byte(void **state)
{
	struct ike_config c;
	struct fr_config fc;
	struct fake_responder fr;
	struct ike_action a;
	struct pvpn_err e;
	uint8_t req[4096], *resp = NULL;
	size_t rl = 0, ql = 0;
	unsigned connected = 0;

	setup_cfg(&c);
	fr_setup(&fc, &c);
	/* The genuine response to the (deterministic) request. */
	eh_rng = 7;
	struct ike_sa *sa = ike_sa_new(&c, &e);
	ike_connect(sa, 1);
	while (ike_next_action(sa, &a))
		if (a.type == IKE_ACT_SEND) {
			memcpy(req, a.u.send.data, a.u.send.len);
			ql = a.u.send.len;
		}
	ike_sa_free(sa);
	fr_init(&fr, &fc);
	eh_rng = 99;
	assert_int_equal(fr_handle(&fr, req, ql, &resp, &rl), 0);
	fr_free(&fr);
	assert_int_equal(run(&c, &fc, resp, rl), IKE_STATUS_CONNECTED);

	static const uint8_t masks[] = { 0x01, 0x80, 0xff };
	for (size_t i = 0; i < rl; i++)
		for (size_t k = 0; k < sizeof(masks); k++) {
			resp[i] ^= masks[k];
			enum ike_status st = run(&c, &fc, resp, rl);
			resp[i] ^= masks[k];
			assert_true(st == IKE_STATUS_CONNECTING || st == IKE_STATUS_CONNECTED ||
				    st == IKE_STATUS_DISCONNECTED);
			connected += st == IKE_STATUS_CONNECTED;
		}
	/* Flips in the SPI, KE or nonce must not all "work". */
	assert_true(connected < rl * sizeof(masks));
	free(resp);
	ike_config_clear(&c);
}

struct mut { size_t pos; uint8_t mask; bool only_auth; unsigned calls; };
static void mutate(uint8_t *plain, size_t len, void *ctx)
{
	struct mut *m = ctx;
	if (m->calls++ == 0 && m->pos < len)   /* the IKE_AUTH response only */
		plain[m->pos] ^= m->mask;
}

static void auth_plaintext_every_byte(void **state)
{
	struct ike_config c;
	struct fr_config fc;
	struct mut m;
	unsigned ok = 0, n = 0;

	setup_cfg(&c);
	fr_setup(&fc, &c);
	fc.mutate_plain = mutate;
	fc.mutate_ctx = &m;
	static const uint8_t masks[] = { 0x01, 0x10, 0xff };
	for (size_t pos = 0; pos < 200; pos++)
		for (size_t k = 0; k < sizeof(masks); k++) {
			memset(&m, 0, sizeof(m));
			m.pos = pos;
			m.mask = masks[k];
			enum ike_status st = run(&c, &fc, NULL, 0);
			assert_true(st == IKE_STATUS_CONNECTING || st == IKE_STATUS_CONNECTED ||
				    st == IKE_STATUS_DISCONNECTED);
			ok += st == IKE_STATUS_CONNECTED;
			n++;
			/* The plaintext starts IDr (4 + 4 + "s"), then AUTH (4 +
			 * 4 + 32 bytes of MAC): a changed identity or MAC, or
			 * the method, must never connect (RFC 7296 §2.15). */
			if (pos == 8 || (pos >= 13 && pos < 17 + 32 && (pos == 13 || pos >= 17)))
				assert_int_not_equal(st, IKE_STATUS_CONNECTED);
		}
	assert_true(ok > 0 && ok < n);
	ike_config_clear(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(init_response_every_byte),
		cmocka_unit_test(auth_plaintext_every_byte),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
