/* Review findings for the engine (hostile peer): each test fails on the
 * code as it was before the fix named in its comment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "ike-lite/ike.h"
#include "tests/lib/engine_harness.h"
#include "tests/lib/fake_responder.h"

static void setup_cfg(struct ike_config *c)
{
	eh_small_cfg(c, 1);
	c->dpd_interval_ms = 10000;
}

struct run {
	struct ike_sa *sa;
	struct fake_responder fr;
	struct ike_path path;
	unsigned sends, disconnects;
	uint8_t last[4096];
	size_t last_len;
	bool alloc;
};

/* Drain the engine; remember the last datagram it sent. */
static void drain(struct run *r, uint64_t now)
{
	struct ike_action a;
	while (ike_next_action(r->sa, &a)) {
		if (a.type == IKE_ACT_SEND && !a.u.send.keepalive) {
			r->sends++;
			assert_true(a.u.send.len <= sizeof(r->last));
			memcpy(r->last, a.u.send.data, a.u.send.len);
			r->last_len = a.u.send.len;
		} else if (a.type == IKE_ACT_ALLOC_SPI) {
			r->alloc = true;
			ike_spi_allocated(r->sa, 0x11223344, now);
		} else if (a.type == IKE_ACT_STATUS &&
			   a.u.status.status == IKE_STATUS_DISCONNECTED) {
			r->disconnects++;
		}
	}
}

static void connect_ok(struct run *r, struct ike_config *c)
{
	struct fr_config fc;
	struct pvpn_err e;

	memset(r, 0, sizeof(*r));
	memset(&fc, 0, sizeof(fc));
	fc.self = c->remote;
	fc.peer = c->local;
	fc.psk = "k";
	fc.id = "s";
	fc.rnd = eh_rand;
	eh_rng = 7;
	fr_init(&r->fr, &fc);
	r->sa = ike_sa_new(c, &e);
	assert_non_null(r->sa);
	r->path.local = c->local;
	r->path.remote = c->remote;
	assert_int_equal(ike_connect(r->sa, 1000), 0);
	for (int round = 0; round < 4 && ike_get_status(r->sa) != IKE_STATUS_CONNECTED; round++) {
		uint8_t *resp = NULL;
		size_t rl = 0;
		r->last_len = 0;
		drain(r, 1000);
		if (!r->last_len)
			break;
		if (fr_handle(&r->fr, r->last, r->last_len, &resp, &rl) == 0)
			ike_receive(r->sa, resp, rl, &r->path, 1000);
		free(resp);
	}
	drain(r, 1000);
	assert_int_equal(ike_get_status(r->sa), IKE_STATUS_CONNECTED);
}

static void run_free(struct run *r)
{
	ike_sa_free(r->sa);
	fr_free(&r->fr);
}

/* Bug: eng_info_request re-sent its cached response to any datagram that
 * carried the Message ID of the last peer request, before checking the
 * ICV; a forged datagram so counted as "heard from the peer" (it pushed
 * the liveness check back, RFC 7296 §2.4) and made us transmit.  A
 * retransmission must be the peer's own (authenticated) message. */
static void forged_retransmission_gets_no_cached_response(void **state)
{
	struct ike_config c;
	struct run r;
	struct ike_stats st;
	uint8_t *req = NULL, forged[1024];
	size_t rl = 0;

	(void)state;
	setup_cfg(&c);
	connect_ok(&r, &c);
	/* A genuine request from the server at t=5 s, answered. */
	assert_int_equal(fr_request(&r.fr, FR_REQ_EMPTY, &req, &rl), 0);
	assert_true(rl <= sizeof(forged));
	memcpy(forged, req, rl);
	unsigned before = r.sends;
	assert_int_equal(ike_receive(r.sa, req, rl, &r.path, 5000), 0);
	drain(&r, 5000);
	assert_int_equal(r.sends, before + 1);
	uint64_t dpd_due = ike_next_deadline(r.sa);

	/* The same header with a broken ICV at t=9 s: nothing sent, and
	 * the liveness check stays due when it was. */
	forged[rl - 1] ^= 0x55;
	int rc = ike_receive(r.sa, forged, rl, &r.path, 9000);
	drain(&r, 9000);
	assert_true(rc < 0);
	assert_int_equal(r.sends, before + 1);
	ike_get_stats(r.sa, &st);
	assert_int_equal(st.cached_responses, 0);
	assert_int_equal(ike_next_deadline(r.sa), dpd_due);

	/* The genuine retransmission still gets the cached answer. */
	memcpy(forged, req, rl);
	assert_int_equal(ike_receive(r.sa, forged, rl, &r.path, 9500), 0);
	drain(&r, 9500);
	assert_int_equal(r.sends, before + 2);
	ike_get_stats(r.sa, &st);
	assert_int_equal(st.cached_responses, 1);
	free(req);
	run_free(&r);
	ike_config_clear(&c);
}

/* An IKE_SA_INIT response of our own making (unprotected, so anybody on
 * the path can send one, RFC 7296 §2.4). */
static size_t forge_init_response(const uint8_t *req, size_t req_len, uint16_t encr, uint16_t bits,
				  uint16_t integ, uint8_t *out, size_t cap)
{
	struct ike_message *m = calloc(1, sizeof(*m));
	struct ike_builder b;
	struct ike_header h;
	struct ike_proposal prop;
	struct ike_transform xf[4];
	struct ike_dh_ctx *dh;
	uint8_t ke[32], nonce[32];
	size_t n = 0, len = 0;

	assert_non_null(m);
	assert_int_equal(ike_message_parse(m, req, req_len, NULL), 0);
	memset(&h, 0, sizeof(h));
	memcpy(h.spi_i, m->hdr.spi_i, 8);
	memset(h.spi_r, 0xab, 8);
	h.exchange = IKE_SA_INIT;
	h.flags = IKE_FLAG_R;
	memset(&prop, 0, sizeof(prop));
	memset(xf, 0, sizeof(xf));
	prop.num = 1;
	prop.protocol = IKE_PROTO_IKE;
	xf[n].type = IKE_TRANS_ENCR; xf[n].id = encr; xf[n++].key_length = bits;
	xf[n].type = IKE_TRANS_PRF; xf[n++].id = IKE_PRF_HMAC_SHA2_256;
	if (integ) {
		xf[n].type = IKE_TRANS_INTEG;
		xf[n++].id = integ;
	}
	xf[n].type = IKE_TRANS_DH; xf[n++].id = IKE_DH_CURVE25519;
	prop.nxforms = (uint8_t)n;
	prop.xforms = xf;
	dh = ike_dh_new(IKE_DH_CURVE25519, eh_rand, NULL);
	assert_non_null(dh);
	assert_int_equal(ike_dh_public(dh, ke, sizeof(ke)), 32);
	ike_dh_free(dh);
	memset(nonce, 0x42, sizeof(nonce));
	ike_build_begin(&b, out, cap, &h);
	ike_build_sa(&b, &prop, 1);
	ike_build_ke(&b, IKE_DH_CURVE25519, ke, sizeof(ke));
	ike_build_nonce(&b, nonce, sizeof(nonce));
	assert_int_equal(ike_build_finish(&b, &len, NULL, NULL), 0);
	free(m);
	return len;
}

/* Bug: a response choosing transforms we each offered but that make no
 * usable suite together (AES-GCM with an integrity algorithm, offered for
 * AES-CBC in the same proposal) passed the offer check and then closed
 * the SA from derive().  The response is unprotected and may be forged
 * (§2.4): it must be refused and the wait go on. */
static void forged_init_response_with_unusable_suite_does_not_end_attempt(void **state)
{
	struct ike_config c;
	struct run r;
	struct pvpn_err e;
	uint8_t req[4096], resp[2048];
	size_t ql, rl;

	(void)state;
	setup_cfg(&c);
	c.ike_proposals[0].n_encr = 2;
	c.ike_proposals[0].encr[1].id = IKE_ENCR_AES_CBC;
	c.ike_proposals[0].encr[1].key_bits = 128;
	c.ike_proposals[0].n_integ = 1;
	c.ike_proposals[0].integ[0] = IKE_INTEG_HMAC_SHA2_256_128;
	memset(&r, 0, sizeof(r));
	eh_rng = 7;
	r.sa = ike_sa_new(&c, &e);
	assert_non_null(r.sa);
	r.path.local = c.local;
	r.path.remote = c.remote;
	assert_int_equal(ike_connect(r.sa, 1000), 0);
	drain(&r, 1000);
	assert_true(r.last_len > 0);
	ql = r.last_len;
	memcpy(req, r.last, ql);

	rl = forge_init_response(req, ql, IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_HMAC_SHA2_256_128,
				 resp, sizeof(resp));
	assert_true(ike_receive(r.sa, resp, rl, &r.path, 1100) < 0);
	drain(&r, 1100);
	assert_int_equal(r.disconnects, 0);
	assert_int_equal(ike_get_status(r.sa), IKE_STATUS_CONNECTING);
	assert_false(r.alloc);

	/* AES-CBC without the integrity algorithm: refused the same way. */
	rl = forge_init_response(req, ql, IKE_ENCR_AES_CBC, 128, 0, resp, sizeof(resp));
	assert_true(ike_receive(r.sa, resp, rl, &r.path, 1200) < 0);
	drain(&r, 1200);
	assert_int_equal(r.disconnects, 0);
	assert_int_equal(ike_get_status(r.sa), IKE_STATUS_CONNECTING);

	/* A usable choice is still taken. */
	rl = forge_init_response(req, ql, IKE_ENCR_AES_GCM_16, 128, 0, resp, sizeof(resp));
	assert_int_equal(ike_receive(r.sa, resp, rl, &r.path, 1300), 0);
	drain(&r, 1300);
	assert_true(r.alloc);
	assert_int_equal(r.disconnects, 0);
	ike_sa_free(r.sa);
	ike_config_clear(&c);
}

/* Zero the responder's ESP SPI (c1d2e3f4 in the fake responder) in the
 * plaintext of its IKE_AUTH response. */
static uint32_t spi_value;
static void set_spi(uint8_t *plain, size_t len, void *ctx)
{
	static const uint8_t want[4] = { 0xc1, 0xd2, 0xe3, 0xf4 };
	(void)ctx;
	for (size_t i = 0; i + 4 <= len; i++)
		if (!memcmp(plain + i, want, 4)) {
			plain[i] = (uint8_t)(spi_value >> 24);
			plain[i + 1] = (uint8_t)(spi_value >> 16);
			plain[i + 2] = (uint8_t)(spi_value >> 8);
			plain[i + 3] = (uint8_t)spi_value;
		}
}

/* Bug: the responder's ESP SPI from the IKE_AUTH response was installed
 * whatever it was; SPI 0 must never be sent (RFC 4303 §2.1, the kernel
 * uses it for larval ACQUIRE states) and 1..255 are reserved. */
static void reserved_esp_spi_from_server_refused(void **state)
{
	static const uint32_t bad[] = { 0, 1, 255 };
	(void)state;
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]) + 1; k++) {
		struct ike_config c;
		struct fr_config fc;
		struct fake_responder fr;
		struct ike_sa *sa;
		struct ike_action a;
		struct ike_path path;
		struct pvpn_err e;
		bool installed = false, disconnected = false;
		uint8_t last[4096];
		size_t last_len;

		spi_value = k < sizeof(bad) / sizeof(bad[0]) ? bad[k] : 0x100;
		setup_cfg(&c);
		memset(&fc, 0, sizeof(fc));
		fc.self = c.remote;
		fc.peer = c.local;
		fc.psk = "k";
		fc.id = "s";
		fc.rnd = eh_rand;
		fc.mutate_plain = set_spi;
		eh_rng = 7;
		fr_init(&fr, &fc);
		sa = ike_sa_new(&c, &e);
		assert_non_null(sa);
		path.local = c.local;
		path.remote = c.remote;
		ike_connect(sa, 1000);
		for (int round = 0; round < 4; round++) {
			uint8_t *resp = NULL;
			size_t rl = 0;
			last_len = 0;
			while (ike_next_action(sa, &a)) {
				if (a.type == IKE_ACT_SEND && a.u.send.len <= sizeof(last)) {
					memcpy(last, a.u.send.data, a.u.send.len);
					last_len = a.u.send.len;
				} else if (a.type == IKE_ACT_ALLOC_SPI) {
					ike_spi_allocated(sa, 0x11223344, 1000);
				} else if (a.type == IKE_ACT_INSTALL_CHILD) {
					installed = true;
					assert_true(a.u.install.spi_out >= 256);
				} else if (a.type == IKE_ACT_STATUS &&
					   a.u.status.status == IKE_STATUS_DISCONNECTED) {
					disconnected = true;
					assert_int_equal(a.u.status.error, IKE_ERR_NEGOTIATION_FAILED);
				}
			}
			if (!last_len)
				break;
			if (fr_handle(&fr, last, last_len, &resp, &rl) == 0)
				ike_receive(sa, resp, rl, &path, 1000);
			free(resp);
		}
		if (spi_value < 256) {
			assert_false(installed);
			assert_true(disconnected);
		} else {
			assert_true(installed);
			assert_false(disconnected);
		}
		ike_sa_free(sa);
		fr_free(&fr);
		ike_config_clear(&c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(forged_retransmission_gets_no_cached_response),
		cmocka_unit_test(forged_init_response_with_unusable_suite_does_not_end_attempt),
		cmocka_unit_test(reserved_esp_spi_from_server_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
