/* Unit tests for the ike-lite engine against the test-only fake responder:
 * fixed randomness, a fake clock, every datagram carried by hand. */
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
#include "lib/hex.h"
#include "tests/lib/engine_harness.h"
#include "tests/lib/fake_responder.h"

/* ------------------------------------------------------------ harness */

#define MAX_REC 64
struct sent { uint8_t *data; size_t len; struct ike_path path; bool retx, keepalive; uint64_t at; };

struct h {
	struct ike_config cfg;
	struct ike_sa *sa;
	struct fake_responder fr;
	struct fr_config frc;
	uint64_t now;
	bool deliver;                 /* carry SENDs to the responder */
	struct sent sent[MAX_REC];
	size_t n_sent;
	struct ike_act_status st[MAX_REC];
	size_t n_st;
	bool installed, removed, got_config, got_alloc;
	struct ike_act_child child;   /* keys copied */
	uint8_t k_ein[64], k_eout[64], k_iin[64], k_iout[64];
	size_t k_elen, k_ilen;
	struct ike_act_config config;
	char keylog[4096];
};

static void h_init(struct h *t, int suite)
{
	memset(t, 0, sizeof(*t));
	eh_client_cfg(&t->cfg, &t->frc);
	struct ike_cfg_proposal *p = &t->cfg.ike_proposals[0], *c = &t->cfg.child_proposals[0];
	if (suite == 0) {
		p->n_encr = 1; p->encr[0].id = 20; p->encr[0].key_bits = 256;
		p->n_prf = 1; p->prf[0] = 5;
		p->n_dh = 2; p->dh[0] = 31; p->dh[1] = 19;
		c->n_encr = 1; c->encr[0].id = 20; c->encr[0].key_bits = 256;
	} else {
		p->n_encr = 1; p->encr[0].id = 12; p->encr[0].key_bits = 128;
		p->n_integ = 1; p->integ[0] = 12;
		p->n_prf = 1; p->prf[0] = 5;
		p->n_dh = 1; p->dh[0] = 14;
		c->n_encr = 1; c->encr[0].id = 12; c->encr[0].key_bits = 128;
		c->n_integ = 1; c->integ[0] = 12;
	}
	t->cfg.retx_first_ms = 1000;
	t->cfg.retx_max_tries = 5;
	t->cfg.retx_budget_ms = 60000;
	t->deliver = true;
	t->now = 1000000;
}

static void h_start(struct h *t)
{
	struct pvpn_err err;
	fr_init(&t->fr, &t->frc);
	t->sa = ike_sa_new(&t->cfg, &err);
	assert_non_null(t->sa);
}

static void h_free(struct h *t)
{
	ike_sa_free(t->sa);
	fr_free(&t->fr);
	ike_config_clear(&t->cfg);
	for (size_t i = 0; i < t->n_sent; i++)
		free(t->sent[i].data);
}

static void feed(struct h *t, const uint8_t *msg, size_t len, const struct ike_path *sendpath)
{
	struct ike_path back = *sendpath;   /* the answer comes back on the same path */
	uint8_t buf[4096];
	if (eng_port(&back.local) == 4500) {
		memset(buf, 0, 4);
		memcpy(buf + 4, msg, len);
		ike_receive(t->sa, buf, len + 4, &back, t->now);
	} else {
		ike_receive(t->sa, msg, len, &back, t->now);
	}
}

/* Drain the engine's actions; carry SENDs to the responder and its answers
 * back, until nothing moves. */
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
				struct sent *s = &t->sent[t->n_sent++ % MAX_REC];
				s->data = malloc(a.u.send.len);
				memcpy(s->data, a.u.send.data, a.u.send.len);
				s->len = a.u.send.len;
				s->path = a.u.send.path;
				s->retx = a.u.send.retransmit;
				s->keepalive = a.u.send.keepalive;
				s->at = t->now;
				if (t->deliver && !a.u.send.keepalive && nt < 8) {
					size_t off = eng_port(&a.u.send.path.local) == 4500 ? 4 : 0;
					todo[nt].d = malloc(a.u.send.len);
					memcpy(todo[nt].d, a.u.send.data + off, a.u.send.len - off);
					todo[nt].l = a.u.send.len - off;
					todo[nt++].p = a.u.send.path;
				}
				break;
			}
			case IKE_ACT_ALLOC_SPI:
				t->got_alloc = true;
				ike_spi_allocated(t->sa, 0xa1b2c3d4, t->now);
				break;
			case IKE_ACT_INSTALL_CHILD:
				t->installed = true;
				t->child = a.u.install;
				t->k_elen = a.u.install.encr_in.len;
				t->k_ilen = a.u.install.integ_in.len;
				memcpy(t->k_ein, a.u.install.encr_in.data, t->k_elen);
				memcpy(t->k_eout, a.u.install.encr_out.data, t->k_elen);
				if (t->k_ilen) {
					memcpy(t->k_iin, a.u.install.integ_in.data, t->k_ilen);
					memcpy(t->k_iout, a.u.install.integ_out.data, t->k_ilen);
				}
				memset(&t->child.encr_in, 0, sizeof(struct secret) * 4);
				break;
			case IKE_ACT_REMOVE_CHILD:
				t->removed = true;
				break;
			case IKE_ACT_STATUS:
				t->st[t->n_st++ % MAX_REC] = a.u.status;
				break;
			case IKE_ACT_CONFIG:
				t->got_config = true;
				t->config = a.u.config;
				break;
			case IKE_ACT_KEYLOG:
				snprintf(t->keylog, sizeof(t->keylog), "%s", a.u.keylog.text);
				break;
			default:
				break;
			}
		}
		for (size_t i = 0; i < nt; i++) {
			uint8_t *resp = NULL;
			size_t rlen = 0;
			if (fr_handle(&t->fr, todo[i].d, todo[i].l, &resp, &rlen) == 0) {
				feed(t, resp, rlen, &todo[i].p);
				any = true;
			}
			free(resp);
			free(todo[i].d);
		}
		if (!any)
			return;
	}
}

static const struct ike_act_status *last_status(const struct h *t)
{
	assert_true(t->n_st > 0);
	return &t->st[(t->n_st - 1) % MAX_REC];
}

/* Tick through deadlines until the engine stops wanting time. */
static void run_timers(struct h *t, uint64_t limit_ms)
{
	uint64_t end = t->now + limit_ms, d;
	while ((d = ike_next_deadline(t->sa)) && d <= end) {
		if (d > t->now)
			t->now = d;
		ike_tick(t->sa, t->now);
		pump(t);
	}
}

static void connect_ok(struct h *t)
{
	h_start(t);
	assert_int_equal(ike_connect(t->sa, t->now), 0);
	pump(t);
	assert_true(t->installed);
	assert_int_equal(ike_get_status(t->sa), IKE_STATUS_CONNECTED);
}

/* -------------------------------------------------------------- tests */

static void check_keys_match(struct h *t)
{
	/* The responder derived the same Child keys: ours out = its "i". */
	assert_int_equal(t->k_elen, t->fr.ck.encr_i.len);
	assert_memory_equal(t->k_eout, t->fr.ck.encr_i.data, t->k_elen);
	assert_memory_equal(t->k_ein, t->fr.ck.encr_r.data, t->k_elen);
	assert_int_equal(t->k_ilen, t->fr.ck.integ_i.len);
	if (t->k_ilen) {
		assert_memory_equal(t->k_iout, t->fr.ck.integ_i.data, t->k_ilen);
		assert_memory_equal(t->k_iin, t->fr.ck.integ_r.data, t->k_ilen);
	}
	assert_memory_not_equal(t->k_ein, t->k_eout, t->k_elen);
}

static void psk_connect_gcm_x25519(void **state)
{
	struct h t;
	h_init(&t, 0);
	connect_ok(&t);
	assert_true(t.fr.auth_ok);
	assert_true(t.got_alloc);
	assert_int_equal(t.child.spi_in, 0xa1b2c3d4);
	assert_int_equal(t.child.spi_out, 0xc1d2e3f4);
	assert_int_equal(t.fr.spi_out, 0xa1b2c3d4);
	assert_int_equal(t.child.encr_id, 20);
	assert_int_equal(t.child.encr_key_bits, 256);
	assert_int_equal(t.child.integ_id, 0);
	assert_int_equal(t.k_elen, 36);      /* 32-byte key + 4-byte salt */
	assert_false(t.child.encap);
	assert_int_equal(t.child.reqid, 7);
	assert_int_equal(t.child.n_ts_local, 1);
	assert_int_equal(t.child.ts_local[0].start[3], 1);
	assert_int_equal(t.child.ts_remote[0].start[1], 99);
	check_keys_match(&t);
	/* CP */
	assert_true(t.got_config);
	assert_true(t.config.has_vip4);
	assert_int_equal(ntohl(t.config.vip4.s_addr), 0x0a0a0a01);
	assert_int_equal(t.config.n_dns4, 1);
	assert_int_equal(ntohl(t.config.dns4[0].s_addr), 0x0a630035);
	assert_int_equal(t.config.n_domains, 1);
	assert_string_equal(t.config.domains[0], "example.test");
	/* Status went connecting -> connected. */
	assert_int_equal(t.st[0].status, IKE_STATUS_CONNECTING);
	assert_int_equal(last_status(&t)->status, IKE_STATUS_CONNECTED);
	/* Key log: ikedump's format, with the IKE SA's SK_ei. */
	assert_non_null(strstr(t.keylog, "spi_i="));
	assert_non_null(strstr(t.keylog, "\nsk_ei="));
	assert_non_null(strstr(t.keylog, "\nesp_enc_i="));
	char hex[200];
	hex_encode(hex, sizeof(hex), t.fr.keys.sk_ei.data, t.fr.keys.sk_ei.len);
	assert_non_null(strstr(t.keylog, hex));
	assert_int_equal(eng_port(&t.sent[0].path.remote), 500);
	h_free(&t);
}

static void psk_connect_cbc_modp(void **state)
{
	struct h t;
	h_init(&t, 1);
	connect_ok(&t);
	assert_int_equal(t.child.integ_id, 12);
	assert_int_equal(t.k_elen, 16);
	assert_int_equal(t.k_ilen, 32);
	check_keys_match(&t);
	h_free(&t);
}

static void invalid_ke_round(void **state)
{
	struct h t;
	h_init(&t, 0);
	t.frc.want_group = 19;       /* offered second */
	connect_ok(&t);
	assert_int_equal(t.fr.n_init, 2);
	check_keys_match(&t);
	h_free(&t);
}

static void invalid_ke_not_offered_ignored(void **state)
{
	struct h t;
	h_init(&t, 0);
	t.frc.want_group = 14;       /* never offered */
	h_start(&t);
	ike_connect(t.sa, t.now);
	pump(&t);
	assert_int_equal(t.fr.n_init, 1);
	assert_false(t.installed);
	run_timers(&t, 120000);
	assert_int_equal(last_status(&t)->status, IKE_STATUS_DISCONNECTED);
	assert_int_equal(last_status(&t)->error, IKE_ERR_NEGOTIATION_FAILED);
	assert_int_equal(t.fr.n_init, 5);
	h_free(&t);
}

static void cookie_round(void **state)
{
	struct h t;
	h_init(&t, 0);
	t.frc.require_cookie = true;
	connect_ok(&t);
	assert_int_equal(t.fr.n_init, 2);
	/* The second IKE_SA_INIT starts with the cookie (RFC 7296 §2.6). */
	const uint8_t *m2 = t.sent[1].data;
	assert_int_equal(m2[16], IKE_PT_NOTIFY);
	assert_int_equal(m2[28 + 6] << 8 | m2[28 + 7], IKE_N_COOKIE);
	check_keys_match(&t);
	h_free(&t);
}

static void wrong_psk(void **state)
{
	struct h t;
	h_init(&t, 0);
	t.frc.psk = "wrong horse";
	h_start(&t);
	ike_connect(t.sa, t.now);
	pump(&t);
	assert_false(t.installed);
	assert_int_equal(last_status(&t)->status, IKE_STATUS_DISCONNECTED);
	assert_int_equal(last_status(&t)->error, IKE_ERR_AUTHENTICATION_FAILED);
	assert_non_null(strstr(last_status(&t)->detail, "AUTHENTICATION_FAILED"));
	assert_int_equal(ike_next_deadline(t.sa), 0);
	h_free(&t);
}

static void no_proposal_chosen(void **state)
{
	struct h t;
	struct ike_stats st;
	h_init(&t, 0);
	t.frc.no_proposal = true;
	h_start(&t);
	ike_connect(t.sa, t.now);
	pump(&t);
	/* §2.4: the unprotected notify does not end the attempt. */
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTING);
	assert_true(ike_next_deadline(t.sa) > t.now);
	run_timers(&t, 120000);
	assert_int_equal(last_status(&t)->error, IKE_ERR_NEGOTIATION_FAILED);
	assert_non_null(strstr(last_status(&t)->detail, "NO_PROPOSAL_CHOSEN"));
	ike_get_stats(t.sa, &st);
	assert_true(st.ignored_notifies >= 2);
	h_free(&t);
}

static void unprotected_notify_then_valid_response(void **state)
{
	struct h t;
	struct fake_responder liar;
	struct fr_config lc;
	uint8_t *r = NULL;
	size_t rl;
	h_init(&t, 0);
	h_start(&t);
	t.deliver = false;
	ike_connect(t.sa, t.now);
	pump(&t);
	lc = t.frc;
	lc.no_proposal = true;
	fr_init(&liar, &lc);
	assert_int_equal(fr_handle(&liar, t.sent[0].data, t.sent[0].len, &r, &rl), 0);
	feed(&t, r, rl, &t.sent[0].path);
	free(r);
	pump(&t);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTING);
	/* The real answer still works. */
	assert_int_equal(fr_handle(&t.fr, t.sent[0].data, t.sent[0].len, &r, &rl), 0);
	t.deliver = true;
	feed(&t, r, rl, &t.sent[0].path);
	free(r);
	pump(&t);
	assert_true(t.installed);
	fr_free(&liar);
	h_free(&t);
}

static void no_response_backoff(void **state)
{
	struct h t;
	h_init(&t, 0);
	t.deliver = false;
	h_start(&t);
	uint64_t t0 = t.now;
	ike_connect(t.sa, t.now);
	pump(&t);
	run_timers(&t, 120000);
	assert_int_equal(t.n_sent, 5);
	static const uint64_t at[] = { 0, 1000, 3000, 7000, 15000 };
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(t.sent[i].at - t0, at[i]);
		assert_int_equal(t.sent[i].len, t.sent[0].len);
		assert_memory_equal(t.sent[i].data, t.sent[0].data, t.sent[0].len);
		assert_int_equal(t.sent[i].retx, i > 0);
	}
	assert_int_equal(last_status(&t)->error, IKE_ERR_SERVER_NOT_RESPONDING);
	assert_int_equal(ike_next_deadline(t.sa), 0);
	h_free(&t);
}

static void auth_retransmitted(void **state)
{
	struct h t;
	h_init(&t, 0);
	h_start(&t);
	ike_connect(t.sa, t.now);
	/* Lose the first IKE_AUTH: deliver only IKE_SA_INIT. */
	struct ike_action a;
	uint8_t *r;
	size_t rl;
	while (ike_next_action(t.sa, &a))
		if (a.type == IKE_ACT_SEND) {
			uint8_t m[2048];
			memcpy(m, a.u.send.data, a.u.send.len);
			size_t l = a.u.send.len;
			struct ike_path p = a.u.send.path;
			assert_int_equal(fr_handle(&t.fr, m, l, &r, &rl), 0);
			feed(&t, r, rl, &p);
			free(r);
			break;
		}
	t.deliver = false;
	pump(&t);             /* ALLOC_SPI answered, IKE_AUTH sent and lost */
	assert_int_equal(t.n_sent, 1);
	t.deliver = true;
	run_timers(&t, 1000);
	assert_true(t.installed);
	assert_true(t.sent[1].retx);
	assert_memory_equal(t.sent[0].data, t.sent[1].data, t.sent[0].len);
	h_free(&t);
}

static void cached_response_for_retransmitted_request(void **state)
{
	struct h t;
	struct ike_stats st;
	uint8_t *req, copy[512];
	size_t rl;
	h_init(&t, 0);
	connect_ok(&t);
	t.deliver = false;
	size_t before = t.n_sent;
	assert_int_equal(fr_request(&t.fr, FR_REQ_EMPTY, &req, &rl), 0);
	memcpy(copy, req, rl);
	feed(&t, req, rl, &t.sent[0].path);
	pump(&t);
	assert_int_equal(t.n_sent, before + 1);
	memcpy(req, copy, rl);
	feed(&t, req, rl, &t.sent[0].path);
	pump(&t);
	assert_int_equal(t.n_sent, before + 2);
	assert_int_equal(t.sent[before].len, t.sent[before + 1].len);
	assert_memory_equal(t.sent[before].data, t.sent[before + 1].data, t.sent[before].len);
	ike_get_stats(t.sa, &st);
	assert_int_equal(st.cached_responses, 1);
	/* The response is a valid one for the responder. */
	assert_int_equal(fr_open_response(&t.fr, t.sent[before].data, t.sent[before].len), 0);
	assert_true(t.sent[before].data[19] & IKE_FLAG_R);
	free(req);
	h_free(&t);
}

static void response_never_answered_and_junk_ignored(void **state)
{
	struct h t;
	struct ike_stats st0, st1;
	uint8_t *req, junk[64];
	size_t rl;
	h_init(&t, 0);
	connect_ok(&t);
	t.deliver = false;
	ike_get_stats(t.sa, &st0);
	size_t before = t.n_sent, nst = t.n_st;

	/* A message flagged as a response, with no request outstanding. */
	assert_int_equal(fr_request(&t.fr, FR_REQ_EMPTY, &req, &rl), 0);
	req[19] |= IKE_FLAG_R;
	assert_true(ike_receive(t.sa, req, rl, &t.sent[0].path, t.now) < 0);
	free(req);
	/* Wrong Message ID (the responder's next is 1, we expect 0). */
	assert_int_equal(fr_request(&t.fr, FR_REQ_DELETE_IKE, &req, &rl), 0);
	assert_true(ike_receive(t.sa, req, rl, &t.sent[0].path, t.now) < 0);
	free(req);
	t.fr.next_mid = 0;
	/* Wrong SPI. */
	assert_int_equal(fr_request(&t.fr, FR_REQ_DELETE_IKE, &req, &rl), 0);
	req[0] ^= 1;
	assert_true(ike_receive(t.sa, req, rl, &t.sent[0].path, t.now) < 0);
	req[0] ^= 1;
	/* A flipped ciphertext byte: the ICV fails. */
	req[rl - 1] ^= 0x80;
	assert_true(ike_receive(t.sa, req, rl, &t.sent[0].path, t.now) < 0);
	req[rl - 1] ^= 0x80;
	/* Garbage. */
	eh_rand(junk, sizeof(junk));
	assert_true(ike_receive(t.sa, junk, sizeof(junk), &t.sent[0].path, t.now) < 0);
	assert_true(ike_receive(t.sa, junk, 3, &t.sent[0].path, t.now) < 0);
	pump(&t);
	assert_int_equal(t.n_sent, before);
	assert_int_equal(t.n_st, nst);
	assert_false(t.removed);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	ike_get_stats(t.sa, &st1);
	assert_int_equal(st1.rx_dropped - st0.rx_dropped, 6);
	/* Nothing changed: the real request (Message ID 0) still works. */
	assert_int_equal(ike_receive(t.sa, req, rl, &t.sent[0].path, t.now), 0);
	pump(&t);
	assert_true(t.removed);
	assert_int_equal(last_status(&t)->error, IKE_ERR_SERVER_DISCONNECTED);
	free(req);
	h_free(&t);
}

static void peer_delete_child(void **state)
{
	struct h t;
	uint8_t *req;
	size_t rl;
	h_init(&t, 0);
	connect_ok(&t);
	t.deliver = false;
	size_t before = t.n_sent;
	assert_int_equal(fr_request(&t.fr, FR_REQ_DELETE_CHILD, &req, &rl), 0);
	feed(&t, req, rl, &t.sent[0].path);
	free(req);
	pump(&t);
	assert_true(t.removed);
	assert_int_equal(last_status(&t)->status, IKE_STATUS_DISCONNECTED);
	assert_int_equal(last_status(&t)->error, IKE_ERR_SERVER_DISCONNECTED);
	/* The answer deletes our inbound half (§1.4.1). */
	assert_int_equal(fr_open_response(&t.fr, t.sent[before].data, t.sent[before].len), 0);
	const struct ike_payload *d = ike_message_find(t.fr.inner, IKE_PT_DELETE, NULL);
	assert_non_null(d);
	assert_int_equal(d->u.del.protocol, IKE_PROTO_ESP);
	assert_int_equal(d->u.del.nspis, 1);
	assert_int_equal(d->u.del.spis[0], 0xa1);
	h_free(&t);
}

static void our_disconnect(void **state)
{
	struct h t;
	h_init(&t, 0);
	connect_ok(&t);
	assert_false(t.removed);
	assert_int_equal(ike_disconnect(t.sa, t.now), 0);
	pump(&t);
	assert_int_equal(t.fr.n_info, 1);
	const struct ike_payload *d = ike_message_find(t.fr.inner, IKE_PT_DELETE, NULL);
	assert_non_null(d);
	assert_int_equal(d->u.del.protocol, IKE_PROTO_IKE);
	assert_true(t.removed);
	assert_int_equal(t.st[t.n_st - 2].status, IKE_STATUS_DISCONNECTING);
	assert_int_equal(last_status(&t)->status, IKE_STATUS_DISCONNECTED);
	assert_int_equal(last_status(&t)->error, IKE_ERR_NONE);
	assert_int_equal(ike_next_deadline(t.sa), 0);
	h_free(&t);
}

static void disconnect_unanswered_is_bounded(void **state)
{
	struct h t;
	h_init(&t, 0);
	connect_ok(&t);
	t.deliver = false;
	ike_disconnect(t.sa, t.now);
	pump(&t);
	assert_false(t.removed);
	run_timers(&t, 120000);
	assert_true(t.removed);
	assert_int_equal(last_status(&t)->status, IKE_STATUS_DISCONNECTED);
	h_free(&t);
}

static void disconnect_waits_for_liveness_check(void **state)
{
	struct h t;
	h_init(&t, 0);
	t.cfg.dpd_interval_ms = 10000;
	connect_ok(&t);
	t.deliver = false;
	t.now += 10000;
	ike_tick(t.sa, t.now);
	pump(&t);
	size_t dpd = t.n_sent - 1;
	uint32_t dpd_mid = ntohl(*(uint32_t *)(t.sent[dpd].data + 20));
	ike_disconnect(t.sa, t.now);
	pump(&t);
	/* §2.3: nothing new while the liveness check is outstanding. */
	assert_int_equal(t.n_sent, dpd + 1);
	/* Its answer arrives: now the DELETE, with the next Message ID. */
	uint8_t *r;
	size_t rl;
	assert_int_equal(fr_handle(&t.fr, t.sent[dpd].data, t.sent[dpd].len, &r, &rl), 0);
	feed(&t, r, rl, &t.sent[dpd].path);
	free(r);
	t.deliver = true;
	pump(&t);
	assert_int_equal(t.n_sent, dpd + 2);
	assert_int_equal(ntohl(*(uint32_t *)(t.sent[dpd + 1].data + 20)), dpd_mid + 1);
	assert_non_null(ike_message_find(t.fr.inner, IKE_PT_DELETE, NULL));
	assert_true(t.removed);
	assert_int_equal(last_status(&t)->error, IKE_ERR_NONE);
	h_free(&t);
}

static void delete_collision(void **state)
{
	struct h t;
	uint8_t *req;
	size_t rl;
	h_init(&t, 0);
	connect_ok(&t);
	t.deliver = false;
	ike_disconnect(t.sa, t.now);
	pump(&t);
	assert_int_equal(fr_request(&t.fr, FR_REQ_DELETE_IKE, &req, &rl), 0);
	feed(&t, req, rl, &t.sent[0].path);
	free(req);
	pump(&t);
	assert_true(t.removed);
	assert_int_equal(last_status(&t)->status, IKE_STATUS_DISCONNECTED);
	assert_int_equal(last_status(&t)->error, IKE_ERR_NONE);
	h_free(&t);
}

static void peer_create_child_refused(void **state)
{
	struct h t;
	uint8_t *req;
	size_t rl;
	h_init(&t, 0);
	connect_ok(&t);
	t.deliver = false;
	size_t before = t.n_sent;
	assert_int_equal(fr_request(&t.fr, FR_REQ_CREATE_CHILD, &req, &rl), 0);
	feed(&t, req, rl, &t.sent[0].path);
	free(req);
	pump(&t);
	assert_int_equal(t.n_sent, before + 1);
	assert_int_equal(t.sent[before].data[18], IKE_CREATE_CHILD_SA);
	assert_int_equal(fr_open_response(&t.fr, t.sent[before].data, t.sent[before].len), 0);
	/* A rekey request without SA and TS payloads is malformed (RFC 7296
	 * §1.3.3); real rekeys are tested in test_rekey.c. */
	assert_non_null(ike_message_find_notify(t.fr.inner, IKE_N_INVALID_SYNTAX));
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	h_free(&t);
}

static void bogus_choice_rejected(void **state)
{
	struct h t;
	h_init(&t, 0);
	t.frc.bogus_transform = true;
	h_start(&t);
	ike_connect(t.sa, t.now);
	pump(&t);
	assert_false(t.got_alloc);
	run_timers(&t, 120000);
	assert_int_equal(last_status(&t)->error, IKE_ERR_NEGOTIATION_FAILED);
	assert_non_null(strstr(last_status(&t)->detail, "did not offer"));
	h_free(&t);
}

static void nat_moves_to_4500(void **state)
{
	struct h t;
	h_init(&t, 0);
	t.frc.nat = true;
	connect_ok(&t);
	/* IKE_SA_INIT on 500, IKE_AUTH on 4500 with the marker. */
	assert_int_equal(eng_port(&t.sent[0].path.local), 500);
	assert_int_equal(eng_port(&t.sent[1].path.local), 4500);
	assert_int_equal(eng_port(&t.sent[1].path.remote), 4500);
	assert_memory_equal(t.sent[1].data, "\0\0\0\0", 4);
	assert_true(t.child.encap);
	assert_int_equal(t.child.encap_local_port, 4500);
	assert_int_equal(t.child.encap_remote_port, 4500);
	check_keys_match(&t);
	/* Keepalives while idle (RFC 3948 §4). */
	t.deliver = false;
	size_t before = t.n_sent;
	uint64_t d = ike_next_deadline(t.sa);
	assert_int_equal(d, t.now + 20000);
	t.now = d;
	ike_tick(t.sa, t.now);
	pump(&t);
	assert_int_equal(t.n_sent, before + 1);
	assert_true(t.sent[before].keepalive);
	assert_int_equal(t.sent[before].len, 1);
	assert_int_equal(t.sent[before].data[0], 0xff);
	h_free(&t);
}

static void config_rejected(void **state)
{
	struct h t;
	struct pvpn_err err;
	h_init(&t, 0);
	t.cfg.ike_proposals[0].dh[0] = 9999;
	assert_null(ike_sa_new(&t.cfg, &err));
	assert_int_equal(err.code, -ENOTSUP);
	t.cfg.ike_proposals[0].dh[0] = 31;
	secret_free(&t.cfg.psk);
	assert_null(ike_sa_new(&t.cfg, &err));
	h_free(&t);
}

static void child_error_after_auth(void **state)
{
	struct h t;
	h_init(&t, 0);
	t.frc.auth_child_error = IKE_N_TS_UNACCEPTABLE;
	h_start(&t);
	ike_connect(t.sa, t.now);
	pump(&t);
	assert_false(t.installed);
	assert_int_equal(last_status(&t)->error, IKE_ERR_TS_UNACCEPTABLE);
	assert_non_null(strstr(last_status(&t)->detail, "TS_UNACCEPTABLE"));
	h_free(&t);
}

static void server_auth_checked(void **state)
{
	struct h t;
	h_init(&t, 0);
	t.frc.bad_own_auth = true;
	h_start(&t);
	ike_connect(t.sa, t.now);
	pump(&t);
	assert_true(t.fr.auth_ok);          /* the server accepted us ... */
	assert_false(t.installed);          /* ... but we do not accept it */
	assert_int_equal(last_status(&t)->error, IKE_ERR_AUTHENTICATION_FAILED);
	/* and told it so with a DELETE of the IKE SA (§2.21.2). */
	assert_int_equal(t.fr.n_info, 1);
	assert_non_null(ike_message_find(t.fr.inner, IKE_PT_DELETE, NULL));
	h_free(&t);
}

static void remote_id_checked(void **state)
{
	struct h t;
	h_init(&t, 0);
	t.cfg.remote_id.type = IKE_ID_FQDN;
	t.cfg.remote_id.len = 11;
	memcpy(t.cfg.remote_id.data, "server.evil", 11);
	h_start(&t);
	ike_connect(t.sa, t.now);
	pump(&t);
	assert_false(t.installed);
	assert_int_equal(last_status(&t)->error, IKE_ERR_AUTHENTICATION_FAILED);
	assert_non_null(strstr(last_status(&t)->detail, "identity"));
	h_free(&t);
	/* The right one connects, and IDr was sent in the request. */
	h_init(&t, 0);
	t.cfg.remote_id.type = IKE_ID_FQDN;
	t.cfg.remote_id.len = 11;
	memcpy(t.cfg.remote_id.data, "server.test", 11);
	connect_ok(&t);
	h_free(&t);
}

static void addr6(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	memset(ss, 0, sizeof(*ss));
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	inet_pton(AF_INET6, ip, &s6->sin6_addr);
}

static void ipv6_path(void **state)
{
	struct h t;
	h_init(&t, 0);
	addr6(&t.cfg.local, "2001:db8::1", 500);
	addr6(&t.cfg.remote, "2001:db8::2", 500);
	t.frc.self = t.cfg.remote;
	t.frc.peer = t.cfg.local;
	connect_ok(&t);
	assert_false(t.child.encap);
	assert_int_equal(t.child.local.ss_family, AF_INET6);
	check_keys_match(&t);
	h_free(&t);
	/* And a NAT seen over IPv6. */
	h_init(&t, 0);
	addr6(&t.cfg.local, "2001:db8::1", 500);
	addr6(&t.cfg.remote, "2001:db8::2", 500);
	t.frc.self = t.cfg.remote;
	t.frc.peer = t.cfg.local;
	t.frc.nat = true;
	connect_ok(&t);
	assert_true(t.child.encap);
	h_free(&t);
}

static void spi_allocation_failure(void **state)
{
	struct h t;
	struct ike_action a;
	uint8_t *r;
	size_t rl;
	h_init(&t, 0);
	h_start(&t);
	t.deliver = false;
	ike_connect(t.sa, t.now);
	pump(&t);
	assert_int_equal(fr_handle(&t.fr, t.sent[0].data, t.sent[0].len, &r, &rl), 0);
	ike_receive(t.sa, r, rl, &t.sent[0].path, t.now);
	free(r);
	bool alloc = false;
	while (ike_next_action(t.sa, &a))
		if (a.type == IKE_ACT_ALLOC_SPI) {
			alloc = true;
			assert_int_equal(a.u.alloc_spi.proto, IPPROTO_ESP);
			assert_int_equal(eng_port(&a.u.alloc_spi.remote), 0);
		}
	assert_true(alloc);
	assert_true(ike_spi_allocated(t.sa, 0, t.now) < 0);
	pump(&t);
	assert_int_equal(last_status(&t)->error, IKE_ERR_CONFIGURATION_FAILED);
	assert_int_equal(t.n_sent, 1);      /* no IKE_AUTH went out */
	h_free(&t);
}

static void foreign_source_and_cancel(void **state)
{
	struct h t;
	struct ike_path other;
	uint8_t *r;
	size_t rl;
	h_init(&t, 0);
	h_start(&t);
	t.deliver = false;
	ike_connect(t.sa, t.now);
	pump(&t);
	assert_int_equal(fr_handle(&t.fr, t.sent[0].data, t.sent[0].len, &r, &rl), 0);
	/* The right bytes from another address are not the server's. */
	other = t.sent[0].path;
	eh_addr4(&other.remote, "198.51.100.9", 500);
	assert_true(ike_receive(t.sa, r, rl, &other, t.now) < 0);
	pump(&t);
	assert_false(t.got_alloc);
	free(r);
	/* Cancelling before the IKE SA exists: no DELETE, just stop. */
	assert_int_equal(ike_disconnect(t.sa, t.now), 0);
	pump(&t);
	assert_int_equal(t.n_sent, 1);
	assert_int_equal(last_status(&t)->status, IKE_STATUS_DISCONNECTED);
	assert_int_equal(last_status(&t)->error, IKE_ERR_NONE);
	assert_int_equal(ike_next_deadline(t.sa), 0);
	assert_true(ike_connect(t.sa, t.now) < 0);
	h_free(&t);
}

static void narrowed_ts_accepted_widened_refused(void **state)
{
	struct h t;
	struct ike_cfg_ts *r;
	/* We ask for 10.99.0.0/16; the server narrows to 10.99.0.0/24. */
	h_init(&t, 0);
	r = &t.cfg.ts_remote[0];
	t.cfg.n_ts_remote = 1;
	r->type = IKE_TS_IPV4;
	r->end_port = 65535;
	r->start[0] = r->end[0] = 10;
	r->start[1] = r->end[1] = 99;
	r->end[2] = r->end[3] = 255;
	connect_ok(&t);
	h_free(&t);
	/* We ask for 10.99.0.0/25 only; 10.99.0.0/24 is wider. */
	h_init(&t, 0);
	r = &t.cfg.ts_remote[0];
	t.cfg.n_ts_remote = 1;
	r->type = IKE_TS_IPV4;
	r->end_port = 65535;
	r->start[0] = r->end[0] = 10;
	r->start[1] = r->end[1] = 99;
	r->end[3] = 127;
	h_start(&t);
	ike_connect(t.sa, t.now);
	pump(&t);
	assert_false(t.installed);
	assert_int_equal(last_status(&t)->error, IKE_ERR_TS_UNACCEPTABLE);
	assert_non_null(strstr(last_status(&t)->detail, "wider"));
	h_free(&t);
}

static void fragmented_auth_explained(void **state)
{
	struct h t;
	h_init(&t, 0);
	t.frc.skf_auth = true;
	h_start(&t);
	ike_connect(t.sa, t.now);
	pump(&t);
	assert_false(t.installed);
	run_timers(&t, 120000);
	assert_int_equal(last_status(&t)->error, IKE_ERR_PROTOCOL_ERROR);
	assert_non_null(strstr(last_status(&t)->detail, "RFC 7383"));
	h_free(&t);
}

static void liveness_check_answered(void **state)
{
	struct h t;
	h_init(&t, 0);
	t.cfg.dpd_interval_ms = 30000;
	connect_ok(&t);
	unsigned n = t.fr.n_info;
	t.now += 30000;
	ike_tick(t.sa, t.now);
	pump(&t);
	assert_int_equal(t.fr.n_info, n + 1);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	/* Unanswered: server dead. */
	t.deliver = false;
	t.now += 30000;
	run_timers(&t, 200000);
	assert_int_equal(last_status(&t)->error, IKE_ERR_SERVER_DEAD);
	assert_true(t.removed);
	h_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(psk_connect_gcm_x25519),
		cmocka_unit_test(psk_connect_cbc_modp),
		cmocka_unit_test(invalid_ke_round),
		cmocka_unit_test(invalid_ke_not_offered_ignored),
		cmocka_unit_test(cookie_round),
		cmocka_unit_test(wrong_psk),
		cmocka_unit_test(no_proposal_chosen),
		cmocka_unit_test(unprotected_notify_then_valid_response),
		cmocka_unit_test(no_response_backoff),
		cmocka_unit_test(auth_retransmitted),
		cmocka_unit_test(cached_response_for_retransmitted_request),
		cmocka_unit_test(response_never_answered_and_junk_ignored),
		cmocka_unit_test(peer_delete_child),
		cmocka_unit_test(our_disconnect),
		cmocka_unit_test(disconnect_unanswered_is_bounded),
		cmocka_unit_test(disconnect_waits_for_liveness_check),
		cmocka_unit_test(delete_collision),
		cmocka_unit_test(peer_create_child_refused),
		cmocka_unit_test(bogus_choice_rejected),
		cmocka_unit_test(nat_moves_to_4500),
		cmocka_unit_test(config_rejected),
		cmocka_unit_test(child_error_after_auth),
		cmocka_unit_test(server_auth_checked),
		cmocka_unit_test(remote_id_checked),
		cmocka_unit_test(liveness_check_answered),
		cmocka_unit_test(ipv6_path),
		cmocka_unit_test(fragmented_auth_explained),
		cmocka_unit_test(narrowed_ts_accepted_widened_refused),
		cmocka_unit_test(spi_allocation_failure),
		cmocka_unit_test(foreign_source_and_cancel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
