/* The server's rekey of the IKE SA (RFC 7296 §1.3.2, §2.18) and rekey
 * collisions (§2.8.1, §2.8.2) in the ike-lite engine against the fake
 * responder: roles swap (I flag, keys), Message IDs restart, the Child SA
 * moves, DPD / Child rekeys / our own later IKE rekey / DELETE work on the
 * new SA; INVALID_KE round; collisions won and lost; hostile variants. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike-lite/ike.h"
#include "tests/lib/engine_harness.h"

static char keylog[8192];

/* Like eh_pump, but nothing is carried to the responder, and key log
 * blocks are kept (the newest in keylog). */
static void drain(struct eh *t)
{
	struct ike_action a;
	while (ike_next_action(t->sa, &a)) {
		switch (a.type) {
		case IKE_ACT_SEND: {
			assert_true(t->n_sent < EH_MAX_REC);
			struct eh_sent *s = &t->sent[t->n_sent++];
			s->data = malloc(a.u.send.len);
			memcpy(s->data, a.u.send.data, a.u.send.len);
			s->len = a.u.send.len;
			s->path = a.u.send.path;
			break;
		}
		case IKE_ACT_ALLOC_SPI:
			t->n_alloc++;
			ike_spi_allocated(t->sa, t->next_spi++, t->now);
			break;
		case IKE_ACT_INSTALL_CHILD: {
			struct eh_inst *in = &t->inst[t->n_inst++];
			in->c = a.u.install;
			in->el = a.u.install.encr_in.len;
			in->il = a.u.install.integ_in.len;
			memcpy(in->ein, a.u.install.encr_in.data, in->el);
			memcpy(in->eout, a.u.install.encr_out.data, in->el);
			memset(&in->c.encr_in, 0, sizeof(struct secret) * 4);
			in->at = t->now;
			break;
		}
		case IKE_ACT_REMOVE_CHILD:
			t->rem[t->n_rem].r = a.u.remove;
			t->rem[t->n_rem++].at = t->now;
			break;
		case IKE_ACT_STATUS:
			t->st[t->n_st++ % EH_MAX_REC] = a.u.status;
			break;
		case IKE_ACT_KEYLOG:
			snprintf(keylog, sizeof(keylog), "%.*s", (int)a.u.keylog.len, a.u.keylog.text);
			break;
		default:
			break;
		}
	}
}

static const struct eh_sent *last(const struct eh *t)
{
	return &t->sent[t->n_sent - 1];
}

static uint8_t flags_of(const struct eh_sent *s)
{
	return s->data[19];
}

static uint32_t mid_of(const struct eh_sent *s)
{
	const uint8_t *p = s->data + 20;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Hand the engine a message of the responder's; drain what it does. */
static int give(struct eh *t, uint8_t *msg, size_t len)
{
	int rc = ike_receive(t->sa, msg, len, &t->sent[0].path, t->now);
	free(msg);
	drain(t);
	return rc;
}

static void hexs(char *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

/* The newest install's keys are the fake responder's current ones. */
static void check_keys(const struct eh *t)
{
	const struct eh_inst *in = &t->inst[t->n_inst - 1];
	assert_int_equal(in->el, t->fr.ck.encr_i.len);
	assert_memory_equal(in->eout, t->fr.ck.encr_i.data, in->el);
	assert_memory_equal(in->ein, t->fr.ck.encr_r.data, in->el);
	assert_int_equal(in->c.spi_in, t->fr.spi_out);
	assert_int_equal(in->c.spi_out, t->fr.spi_in);
}

/* The server rekeys the IKE SA; we answer; it takes the answer. */
static void server_rekeys_ike(struct eh *t)
{
	uint8_t *req = NULL;
	size_t rl = 0;
	t->deliver = false;
	assert_int_equal(frr_request_ike_rekey(&t->fr, &t->rk, &req, &rl), 0);
	assert_int_equal(give(t, req, rl), 0);
	assert_int_equal(frr_ike_rekey_answer(&t->fr, &t->rk, last(t)->data, last(t)->len), 0);
}

/* ------------------------------------------------------------------ */

static void peer_ike_rekey_accepted(void **state)
{
	struct eh t;
	uint8_t *req = NULL, old_i[8], old_r[8];
	size_t rl = 0, n0;
	char want[256];
	(void)state;
	eh_init(&t, false);
	t.cfg.ike_lifetime_s = 600;
	t.cfg.child_lifetime_s = 3600;
	eh_connect_ok(&t);
	memcpy(old_i, t.fr.spi_i, 8);
	memcpy(old_r, t.fr.spi_r, 8);
	keylog[0] = 0;
	server_rekeys_ike(&t);
	/* Our answer went on the old IKE SA, where we are still the original
	 * initiator: I and R set, old SPIs. */
	assert_int_equal(flags_of(last(&t)), IKE_FLAG_I | IKE_FLAG_R);
	assert_memory_equal(last(&t)->data, old_i, 8);
	assert_memory_equal(last(&t)->data + 8, old_r, 8);
	/* The key log block names the new SA with the server's SPI first. */
	assert_memory_equal(t.fr.spi_i, t.rk.ike_new_spi, 8);
	hexs(want, t.fr.spi_i, 8);
	assert_non_null(strstr(keylog, want));
	assert_true(strstr(keylog, "spi_i=") == keylog);
	assert_memory_equal(strstr(keylog, "spi_i=") + 6, want, 16);
	hexs(want, t.fr.spi_r, 8);
	assert_memory_equal(strstr(keylog, "spi_r=") + 6, want, 16);
	hexs(want, t.fr.keys.sk_ei.data, t.fr.keys.sk_ei.len);
	assert_memory_equal(strstr(keylog, "sk_ei=") + 6, want, 2 * t.fr.keys.sk_ei.len);

	/* It deletes the old IKE SA: answered there, nothing of ours ends. */
	assert_int_equal(frr_request_delete_old_ike(&t.fr, &t.rk, &req, &rl), 0);
	/* The daemon routes by SPI (ike_owns_datagram): the replaced IKE SA's
	 * messages still belong to this SA, a stranger's do not. */
	assert_true(ike_owns_datagram(t.sa, req, rl, NULL));
	req[0] ^= 0x80;
	assert_false(ike_owns_datagram(t.sa, req, rl, NULL));
	req[0] ^= 0x80;
	assert_int_equal(give(&t, req, rl), 0);
	assert_int_equal(flags_of(last(&t)), IKE_FLAG_I | IKE_FLAG_R);
	assert_memory_equal(last(&t)->data, old_i, 8);
	assert_int_equal(frr_open_ctx(&t.fr, &t.rk.old_ctx, last(&t)->data, last(&t)->len), 0);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	assert_int_equal(t.n_rem, 0);

	/* Our liveness check on the new SA: no I flag, Message ID 0, keys
	 * SK_er/SK_ar (the fake opens it with the roles swapped). */
	t.deliver = true;
	unsigned info = t.fr.n_info;
	n0 = t.n_sent;
	assert_int_equal(ike_check_liveness(t.sa, t.now), 1);
	eh_pump(&t);
	assert_int_equal(t.fr.n_info, info + 1);
	assert_int_equal(flags_of(&t.sent[n0]), 0);
	assert_int_equal(mid_of(&t.sent[n0]), 0);
	assert_memory_equal(t.sent[n0].data, t.fr.spi_i, 8);
	struct ike_stats st;
	ike_get_stats(t.sa, &st);
	uint64_t ok = st.rx_ok;

	/* The server's liveness check on the new SA: our answer has R only. */
	t.deliver = false;
	assert_int_equal(frr_request_empty(&t.fr, &t.rk, &req, &rl), 0);
	assert_int_equal(give(&t, req, rl), 0);
	assert_int_equal(flags_of(last(&t)), IKE_FLAG_R);
	assert_int_equal(mid_of(last(&t)), 0);
	assert_int_equal(frr_open(&t.fr, &t.rk, last(&t)->data, last(&t)->len), 0);
	ike_get_stats(t.sa, &st);
	assert_int_equal(st.rx_ok, ok + 1);

	/* A Child SA rekey by us and one by the server, keys from the new SK_d. */
	t.deliver = true;
	assert_int_equal(ike_rekey_child(t.sa, t.now), 0);
	eh_pump(&t);
	assert_int_equal(t.n_inst, 2);
	check_keys(&t);
	t.deliver = false;
	assert_int_equal(frr_request_rekey(&t.fr, &t.rk, &req, &rl), 0);
	assert_int_equal(give(&t, req, rl), 0);
	assert_int_equal(flags_of(last(&t)), IKE_FLAG_R);
	assert_int_equal(frr_rekey_answer(&t.fr, &t.rk, last(&t)->data, last(&t)->len), 0);
	assert_int_equal(t.n_inst, 3);
	check_keys(&t);
	t.deliver = true;
	eh_pump(&t);

	/* Our own IKE rekey later: we start it as the responder of record
	 * (no I flag, the server's SPI first) and are the initiator of the
	 * new one (I flag again). */
	unsigned before = t.rk.n_ike_rekeyed;
	n0 = t.n_sent;
	eh_run_until(&t, 600000);
	assert_int_equal(t.rk.n_ike_rekeyed, before + 1);
	assert_false(t.rk.fr_is_i);
	size_t k;
	for (k = n0; k < t.n_sent; k++)
		if (t.sent[k].data[18] == IKE_CREATE_CHILD_SA && !(flags_of(&t.sent[k]) & IKE_FLAG_R))
			break;
	assert_true(k < t.n_sent);
	assert_int_equal(flags_of(&t.sent[k]), 0);
	assert_memory_equal(t.sent[k].data, t.rk.old_ike_spi_i, 8);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	info = t.fr.n_info;
	n0 = t.n_sent;
	assert_int_equal(ike_check_liveness(t.sa, t.now), 1);
	eh_pump(&t);
	assert_int_equal(t.fr.n_info, info + 1);
	assert_int_equal(flags_of(&t.sent[n0]), IKE_FLAG_I);

	/* DELETE works on it and ends cleanly. */
	assert_int_equal(ike_disconnect(t.sa, t.now), 0);
	eh_pump(&t);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_DISCONNECTED);
	assert_int_equal(t.st[(t.n_st - 1) % EH_MAX_REC].error, IKE_ERR_NONE);
	eh_free(&t);
}

/* A message sealed with the old roles on the new SA (I flag clear, the
 * responder's keys) is dropped; the server's DELETE of the new, current
 * SA then ends the connection as a server disconnect. */
static void peer_ike_rekey_then_server_delete(void **state)
{
	struct eh t;
	uint8_t *req = NULL;
	size_t rl = 0;
	(void)state;
	eh_init(&t, false);
	eh_connect_ok(&t);
	server_rekeys_ike(&t);
	assert_int_equal(fr_request(&t.fr, FR_REQ_EMPTY, &req, &rl), 0);
	assert_true(give(&t, req, rl) < 0);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	assert_int_equal(fr_request(&t.fr, FR_REQ_DELETE_IKE, &req, &rl), 0);
	req[19] |= IKE_FLAG_I;   /* right flag, still the wrong keys: dropped */
	assert_true(give(&t, req, rl) < 0);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	eh_free(&t);
}

static void peer_ike_rekey_invalid_ke(void **state)
{
	struct eh t;
	uint8_t *req = NULL, old_i[8];
	size_t rl = 0;
	(void)state;
	eh_init(&t, false);
	eh_connect_ok(&t);
	memcpy(old_i, t.fr.spi_i, 8);
	/* It offers MODP-2048 (not ours) and ECP-256 (ours) with a KE for
	 * MODP-2048: we ask for ECP-256 (§1.2, INVALID_KE_PAYLOAD). */
	t.rk.ike_offer[0] = 14;
	t.rk.ike_offer[1] = 19;
	t.deliver = false;
	assert_int_equal(frr_request_ike_rekey(&t.fr, &t.rk, &req, &rl), 0);
	assert_int_equal(give(&t, req, rl), 0);
	assert_int_equal(frr_ike_rekey_answer(&t.fr, &t.rk, last(&t)->data, last(&t)->len), 1);
	assert_int_equal(t.rk.ike_answer_notify, IKE_N_INVALID_KE_PAYLOAD);
	const struct ike_payload *n = ike_message_find_notify(t.fr.inner, IKE_N_INVALID_KE_PAYLOAD);
	assert_non_null(n);
	assert_int_equal(n->u.notify.len, 2);
	assert_int_equal(n->u.notify.data[0] << 8 | n->u.notify.data[1], 19);
	assert_memory_equal(t.fr.spi_i, old_i, 8);
	/* Nothing changed: the old SA still answers on the old keys. */
	unsigned info = t.fr.n_info;
	t.deliver = true;
	assert_int_equal(ike_check_liveness(t.sa, t.now), 1);
	eh_pump(&t);
	assert_int_equal(t.fr.n_info, info + 1);
	assert_int_equal(flags_of(last(&t)) & IKE_FLAG_I, IKE_FLAG_I);
	/* The second round with the group asked for goes through. */
	t.rk.ike_ke_group = 19;
	server_rekeys_ike(&t);
	assert_memory_not_equal(t.fr.spi_i, old_i, 8);
	assert_true(t.rk.fr_is_i);
	assert_int_equal(t.fr.suite.dh, 19);
	t.deliver = true;
	info = t.fr.n_info;
	assert_int_equal(ike_check_liveness(t.sa, t.now), 1);
	eh_pump(&t);
	assert_int_equal(t.fr.n_info, info + 1);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	eh_free(&t);
}

static void peer_ike_rekey_no_proposal(void **state)
{
	struct eh t;
	uint8_t *req = NULL, old_i[8];
	size_t rl = 0;
	(void)state;
	eh_init(&t, false);
	eh_connect_ok(&t);
	memcpy(old_i, t.fr.spi_i, 8);
	t.rk.ike_offer[0] = 14;   /* only a group we do not use */
	t.deliver = false;
	assert_int_equal(frr_request_ike_rekey(&t.fr, &t.rk, &req, &rl), 0);
	assert_int_equal(give(&t, req, rl), 0);
	assert_int_equal(frr_ike_rekey_answer(&t.fr, &t.rk, last(&t)->data, last(&t)->len), 1);
	assert_int_equal(t.rk.ike_answer_notify, IKE_N_NO_PROPOSAL_CHOSEN);
	assert_memory_equal(t.fr.spi_i, old_i, 8);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	eh_free(&t);
}

/* Hostile: a retransmitted rekey request gets the same answer and no
 * second new SA; wrong I flags and replays after the old SA is gone are
 * dropped and change nothing. */
static void peer_ike_rekey_hostile(void **state)
{
	struct eh t;
	uint8_t *req = NULL, *copy;
	size_t rl = 0;
	(void)state;
	eh_init(&t, false);
	eh_connect_ok(&t);
	t.deliver = false;
	assert_int_equal(frr_request_ike_rekey(&t.fr, &t.rk, &req, &rl), 0);
	copy = malloc(rl);
	memcpy(copy, req, rl);
	assert_int_equal(give(&t, req, rl), 0);
	const struct eh_sent *ans = last(&t);
	uint8_t *ans_copy = malloc(ans->len);
	size_t ans_len = ans->len;
	memcpy(ans_copy, ans->data, ans_len);
	/* The same request again: the same bytes come back (§2.1). */
	uint8_t *again = malloc(rl);
	memcpy(again, copy, rl);
	assert_int_equal(give(&t, again, rl), 0);
	assert_int_equal(last(&t)->len, ans_len);
	assert_memory_equal(last(&t)->data, ans_copy, ans_len);
	assert_int_equal(frr_ike_rekey_answer(&t.fr, &t.rk, ans_copy, ans_len), 0);
	free(ans_copy);
	struct ike_stats st;
	ike_get_stats(t.sa, &st);
	uint64_t dropped = st.rx_dropped;
	/* A request on the new SA with the I flag clear: dropped. */
	uint8_t *dpd = NULL;
	size_t dl = 0;
	assert_int_equal(frr_request_empty(&t.fr, &t.rk, &dpd, &dl), 0);
	dpd[19] &= (uint8_t)~IKE_FLAG_I;
	size_t n0 = t.n_sent;
	assert_true(give(&t, dpd, dl) < 0);
	assert_int_equal(t.n_sent, n0);
	ike_get_stats(t.sa, &st);
	assert_int_equal(st.rx_dropped, dropped + 1);
	/* The old SA deleted, then the DELETE replayed: dropped, still up. */
	assert_int_equal(frr_request_delete_old_ike(&t.fr, &t.rk, &req, &rl), 0);
	uint8_t *del2 = malloc(rl);
	memcpy(del2, req, rl);
	assert_int_equal(give(&t, req, rl), 0);
	n0 = t.n_sent;
	assert_true(give(&t, del2, rl) < 0);
	assert_int_equal(t.n_sent, n0);
	/* The original rekey request replayed after the old SA is gone. */
	assert_true(give(&t, copy, rl) < 0);
	assert_int_equal(t.n_sent, n0);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	/* The new SA still works. */
	t.deliver = true;
	unsigned info = t.fr.n_info;
	assert_int_equal(ike_check_liveness(t.sa, t.now), 1);
	eh_pump(&t);
	assert_int_equal(t.fr.n_info, info + 1);
	eh_free(&t);
}

/* A Child SA rekey of the server while one of ours is outstanding and
 * the server is busy: its old pair changes nothing when garbage. */
static void peer_ike_rekey_while_child_rekey(void **state)
{
	struct eh t;
	uint8_t *req = NULL;
	size_t rl = 0;
	(void)state;
	eh_init(&t, false);
	eh_connect_ok(&t);
	t.deliver = false;
	assert_int_equal(ike_rekey_child(t.sa, t.now), 0);
	drain(&t);
	/* Our Child rekey is outstanding: the IKE rekey waits (§2.25). */
	assert_int_equal(frr_request_ike_rekey(&t.fr, &t.rk, &req, &rl), 0);
	assert_int_equal(give(&t, req, rl), 0);
	assert_int_equal(frr_ike_rekey_answer(&t.fr, &t.rk, last(&t)->data, last(&t)->len), 1);
	assert_int_equal(t.rk.ike_answer_notify, IKE_N_TEMPORARY_FAILURE);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	eh_free(&t);
}

/* ------------------------------------------------ Child SA collisions */

/* Both rekey the pair: ours is sent (not yet delivered), the server's
 * arrives and is answered (its pair installed), then ours is answered. */
static void child_collision(struct eh *t, bool we_win, uint32_t *o_in, uint32_t *p_in)
{
	uint8_t *req = NULL, *resp = NULL;
	size_t rl = 0, rlen = 0, ours;
	struct fr_rekey srv;

	t->deliver = false;
	assert_int_equal(ike_rekey_child(t->sa, t->now), 0);
	drain(t);
	ours = t->n_sent - 1;
	assert_int_equal(t->sent[ours].data[18], IKE_CREATE_CHILD_SA);
	*o_in = t->inst[0].c.spi_in + 1;   /* the next SPI the harness hands out */
	memset(&srv, 0, sizeof(srv));
	srv.next_spi = 0xe0000001;
	/* we_win: the server's own nonce is the lowest of the four, so its
	 * pair is redundant; else its answer to ours holds the lowest. */
	srv.fix_req_nonce = true;
	srv.req_nonce_fill = we_win ? 0x00 : 0xff;
	t->rk.fix_resp_nonce = true;
	t->rk.resp_nonce_fill = we_win ? 0xff : 0x00;
	assert_int_equal(frr_request_rekey(&t->fr, &srv, &req, &rl), 0);
	assert_int_equal(give(t, req, rl), 0);
	/* Answered as usual (§2.25.1), not refused. */
	assert_int_equal(flags_of(last(t)), IKE_FLAG_I | IKE_FLAG_R);
	assert_int_equal(t->inst[t->n_inst - 1].c.spi_out, srv.pending_spi_in);
	*p_in = t->inst[t->n_inst - 1].c.spi_in;
	assert_int_equal(t->n_inst, 2);
	/* Our request reaches the server; its answer reaches us. */
	assert_int_equal(frr_handle(&t->fr, &t->rk, t->sent[ours].data, t->sent[ours].len, &resp,
				    &rlen), 0);
	assert_int_equal(give(t, resp, rlen), 0);
	frr_free(&srv);
}

static uint32_t deleted_esp_spi(struct eh *t, const struct eh_sent *s)
{
	uint8_t *copy = malloc(s->len);
	memcpy(copy, s->data, s->len);
	assert_int_equal(frr_open(&t->fr, &t->rk, copy, s->len), 0);
	const struct ike_payload *d = ike_message_find(t->fr.inner, IKE_PT_DELETE, NULL);
	assert_non_null(d);
	assert_int_equal(d->u.del.protocol, IKE_PROTO_ESP);
	assert_int_equal(d->u.del.nspis, 1);
	uint32_t v = (uint32_t)d->u.del.spis[0] << 24 | (uint32_t)d->u.del.spis[1] << 16 |
		     (uint32_t)d->u.del.spis[2] << 8 | d->u.del.spis[3];
	free(copy);
	return v;
}

static void child_collision_we_win(void **state)
{
	struct eh t;
	uint32_t o_in, p_in, old_in;
	(void)state;
	eh_init(&t, false);
	eh_connect_ok(&t);
	old_in = t.inst[0].c.spi_in;
	child_collision(&t, true, &o_in, &p_in);
	/* Ours stays: installed, and we DELETE the old pair (§2.8.1). */
	assert_int_equal(t.n_inst, 3);
	assert_int_equal(t.inst[2].c.spi_in, o_in);
	check_keys(&t);
	assert_int_equal(last(&t)->data[18], IKE_INFORMATIONAL);
	assert_int_equal(deleted_esp_spi(&t, last(&t)), old_in);
	/* The server deletes its redundant pair: answered with our half of
	 * it, removed after the grace period; ours stays. */
	t.rk.old_spi_in = p_in;   /* the fake names its inbound = our outbound */
	t.rk.old_spi_in = t.inst[1].c.spi_out;
	uint8_t *req = NULL;
	size_t rl = 0;
	assert_int_equal(frr_request_delete_old(&t.fr, &t.rk, &req, &rl), 0);
	assert_int_equal(give(&t, req, rl), 0);
	assert_int_equal(deleted_esp_spi(&t, last(&t)), p_in);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	t.deliver = true;
	eh_run_until(&t, 20000);
	bool p_gone = false, o_gone = false;
	for (size_t i = 0; i < t.n_rem; i++) {
		assert_true(t.rem[i].r.old_only);
		if (t.rem[i].r.spi_in == p_in)
			p_gone = true;
		if (t.rem[i].r.spi_in == o_in)
			o_gone = true;
	}
	assert_true(p_gone);
	assert_false(o_gone);
	/* Exactly one pair is left: ours (the next rekey replaces it). */
	assert_int_equal(ike_rekey_child(t.sa, t.now), 0);
	eh_pump(&t);
	assert_int_equal(t.inst[t.n_inst - 1].c.rekey, true);
	check_keys(&t);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	eh_free(&t);
}

static void child_collision_we_lose(void **state)
{
	struct eh t;
	uint32_t o_in, p_in;
	(void)state;
	eh_init(&t, false);
	eh_connect_ok(&t);
	child_collision(&t, false, &o_in, &p_in);
	/* Ours is redundant: never installed, deleted by us; the server's
	 * pair is the current one (the server deletes the old). */
	assert_int_equal(t.n_inst, 2);
	assert_int_equal(t.inst[1].c.spi_in, p_in);
	assert_int_equal(last(&t)->data[18], IKE_INFORMATIONAL);
	assert_int_equal(deleted_esp_spi(&t, last(&t)), o_in);
	bool o_removed = false;
	for (size_t i = 0; i < t.n_rem; i++)
		if (t.rem[i].r.spi_in == o_in)
			o_removed = true;
	assert_true(o_removed);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	eh_free(&t);
}

/* ------------------------------------------------- IKE SA collisions */

static void ike_collision(struct eh *t, bool we_win, uint8_t old_i[8])
{
	uint8_t *req = NULL, *resp = NULL;
	size_t rl = 0, rlen = 0, ours;

	memcpy(old_i, t->fr.spi_i, 8);
	t->deliver = false;
	/* Our IKE rekey goes out (the timer, 80..90 % of 600 s). */
	size_t n0 = t->n_sent;
	for (int i = 0; i < 700 && !eh_count_exch(t, n0, IKE_CREATE_CHILD_SA); i++)
		eh_run_until(t, 1000);
	assert_int_equal(eh_count_exch(t, n0, IKE_CREATE_CHILD_SA), 1);
	ours = t->n_sent - 1;
	assert_int_equal(t->sent[ours].data[18], IKE_CREATE_CHILD_SA);
	assert_int_equal(t->rk.n_ike_rekeyed, 0);
	/* The server's IKE rekey was sent on the old SA at the same time. */
	t->rk.fix_req_nonce = true;
	t->rk.req_nonce_fill = we_win ? 0x00 : 0xff;
	t->rk.fix_resp_nonce = true;
	t->rk.resp_nonce_fill = we_win ? 0xff : 0x00;
	assert_int_equal(frr_request_ike_rekey(&t->fr, &t->rk, &req, &rl), 0);
	/* Ours reaches the server first there (it switches to our new SA). */
	assert_int_equal(frr_handle(&t->fr, &t->rk, t->sent[ours].data, t->sent[ours].len, &resp,
				    &rlen), 0);
	assert_int_equal(t->rk.n_ike_rekeyed, 1);
	/* Its request reaches us: answered as usual (§2.25.2). */
	assert_int_equal(give(t, req, rl), 0);
	assert_int_equal(flags_of(last(t)), IKE_FLAG_I | IKE_FLAG_R);
	assert_memory_equal(last(t)->data, old_i, 8);
	/* Then its answer to ours. */
	assert_int_equal(give(t, resp, rlen), 0);
}

static void ike_collision_we_win(void **state)
{
	struct eh t;
	uint8_t old_i[8];
	(void)state;
	eh_init(&t, false);
	t.cfg.ike_lifetime_s = 600;
	t.cfg.child_lifetime_s = 3600;
	eh_connect_ok(&t);
	ike_collision(&t, true, old_i);
	/* Ours survives: DELETE on the old SA (I flag, old SPIs). */
	assert_int_equal(last(&t)->data[18], IKE_INFORMATIONAL);
	assert_memory_equal(last(&t)->data, old_i, 8);
	assert_int_equal(flags_of(last(&t)), IKE_FLAG_I);
	/* Our answer to its request (its redundant SA) opens with the old
	 * SA's keys and roles. */
	size_t n0;
	for (size_t i = t.n_sent; i-- > 0;)
		if (t.sent[i].data[18] == IKE_CREATE_CHILD_SA && (flags_of(&t.sent[i]) & IKE_FLAG_R)) {
			uint8_t *copy = malloc(t.sent[i].len);
			memcpy(copy, t.sent[i].data, t.sent[i].len);
			assert_int_equal(frr_open_ctx(&t.fr, &t.rk.req_ctx, copy, t.sent[i].len), 0);
			assert_non_null(ike_message_find(t.fr.inner, IKE_PT_SA, NULL));
			free(copy);
			break;
		}
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	assert_int_equal(t.n_rem, 0);
	/* The fake is on our new SA: a liveness check agrees on keys and
	 * roles (we are its initiator). */
	t.deliver = true;
	unsigned info = t.fr.n_info;
	n0 = t.n_sent;
	assert_int_equal(ike_check_liveness(t.sa, t.now), 1);
	eh_pump(&t);
	assert_int_equal(t.fr.n_info, info + 1);
	assert_int_equal(flags_of(&t.sent[n0]), IKE_FLAG_I);
	assert_memory_equal(t.sent[n0].data, t.fr.spi_i, 8);
	/* The server's DELETE of its redundant SA: answered there, nothing
	 * ends (build it on that SA: the fake's request context made it). */
	eh_free(&t);
}

static void ike_collision_we_lose(void **state)
{
	struct eh t;
	uint8_t old_i[8], ours_i[8];
	(void)state;
	eh_init(&t, false);
	t.cfg.ike_lifetime_s = 600;
	t.cfg.child_lifetime_s = 3600;
	eh_connect_ok(&t);
	ike_collision(&t, false, old_i);
	memcpy(ours_i, t.fr.spi_i, 8);   /* the fake took ours: our new SA */
	/* Ours is redundant: we DELETE it (on it: our SPI first, I flag, ID 0). */
	assert_int_equal(last(&t)->data[18], IKE_INFORMATIONAL);
	assert_memory_equal(last(&t)->data, ours_i, 8);
	assert_int_equal(flags_of(last(&t)), IKE_FLAG_I);
	assert_int_equal(mid_of(last(&t)), 0);
	uint8_t *copy = malloc(last(&t)->len);
	memcpy(copy, last(&t)->data, last(&t)->len);
	assert_int_equal(frr_open(&t.fr, &t.rk, copy, last(&t)->len), 0);
	free(copy);
	const struct ike_payload *d = ike_message_find(t.fr.inner, IKE_PT_DELETE, NULL);
	assert_non_null(d);
	assert_int_equal(d->u.del.protocol, IKE_PROTO_IKE);
	/* The server's SA is current: the fake takes our answer to its
	 * request (now it is that SA's initiator) and a check agrees. */
	size_t k;
	for (k = t.n_sent; k-- > 0;)
		if (t.sent[k].data[18] == IKE_CREATE_CHILD_SA && (flags_of(&t.sent[k]) & IKE_FLAG_R))
			break;
	copy = malloc(t.sent[k].len);
	memcpy(copy, t.sent[k].data, t.sent[k].len);
	/* The request went out on the old SA: open with that context. */
	t.rk.fix_resp_nonce = false;
	assert_int_equal(frr_ike_rekey_answer(&t.fr, &t.rk, copy, t.sent[k].len), 0);
	free(copy);
	t.deliver = true;
	unsigned info = t.fr.n_info;
	size_t n0 = t.n_sent;
	assert_int_equal(ike_check_liveness(t.sa, t.now), 1);
	eh_pump(&t);
	assert_int_equal(t.fr.n_info, info + 1);
	assert_int_equal(flags_of(&t.sent[n0]), 0);
	assert_memory_equal(t.sent[n0].data, t.rk.ike_new_spi, 8);
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	eh_free(&t);
}

static void forget_sent(struct eh *t)
{
	for (size_t i = 0; i < t->n_sent; i++)
		free(t->sent[i].data);
	/* (the harness records at most EH_MAX_REC datagrams) */
	t->n_sent = 0;
}

/* §2.25: TEMPORARY_FAILURE for several minutes means out of sync: the
 * IKE SA is closed (as a protocol error pvpnd reconnects after), not
 * retried forever; a shorter run of them is retried. */
static void temporary_failure_gives_up(void **state)
{
	struct eh t;
	(void)state;
	eh_init(&t, false);
	t.rk.temp_failures = 100000;
	eh_connect_ok(&t);
	assert_int_equal(ike_rekey_child(t.sa, t.now), 0);
	eh_pump(&t);
	for (int i = 0; i < 4 * 6; i++) {
		forget_sent(&t);
		eh_run_until(&t, 10000);
	}
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_CONNECTED);
	assert_true(t.rk.n_create > 20);
	for (int i = 0; i < 2 * 6; i++) {
		forget_sent(&t);
		eh_run_until(&t, 10000);
	}
	assert_int_equal(ike_get_status(t.sa), IKE_STATUS_DISCONNECTED);
	assert_int_equal(t.st[(t.n_st - 1) % EH_MAX_REC].error, IKE_ERR_PROTOCOL_ERROR);
	assert_non_null(strstr(t.st[(t.n_st - 1) % EH_MAX_REC].detail, "TEMPORARY_FAILURE"));
	eh_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(peer_ike_rekey_accepted),
		cmocka_unit_test(peer_ike_rekey_then_server_delete),
		cmocka_unit_test(peer_ike_rekey_invalid_ke),
		cmocka_unit_test(peer_ike_rekey_no_proposal),
		cmocka_unit_test(peer_ike_rekey_hostile),
		cmocka_unit_test(peer_ike_rekey_while_child_rekey),
		cmocka_unit_test(child_collision_we_win),
		cmocka_unit_test(child_collision_we_lose),
		cmocka_unit_test(ike_collision_we_win),
		cmocka_unit_test(ike_collision_we_lose),
		cmocka_unit_test(temporary_failure_gives_up),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
