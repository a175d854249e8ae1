/* Shared harness for the ike-lite engine's unit tests (engine_harness.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "tests/lib/engine_harness.h"

uint64_t eh_rng;

void eh_rand(void *buf, size_t len)
{
	uint8_t *p = buf;
	for (size_t i = 0; i < len; i++) {
		eh_rng ^= eh_rng << 13;
		eh_rng ^= eh_rng >> 7;
		eh_rng ^= eh_rng << 17;
		p[i] = (uint8_t)(eh_rng >> 24);
	}
}

void eh_addr4(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in *s = (struct sockaddr_in *)ss;
	memset(ss, 0, sizeof(*ss));
	s->sin_family = AF_INET;
	s->sin_port = htons(port);
	inet_pton(AF_INET, ip, &s->sin_addr);
}

void eh_client_cfg(struct ike_config *cfg, struct fr_config *frc)
{
	eh_rng = 0x0123456789abcdefULL;
	ike_config_init(cfg);
	eh_addr4(&cfg->local, "192.0.2.1", 500);
	eh_addr4(&cfg->remote, "192.0.2.2", 500);
	cfg->local_id.type = 2;
	cfg->local_id.len = 11;
	memcpy(cfg->local_id.data, "client.test", 11);
	secret_set(&cfg->psk, "correct horse", 13);
	cfg->n_ike_proposals = cfg->n_child_proposals = 1;
	cfg->rand = eh_rand;
	cfg->reqid = 7;
	frc->self = cfg->remote;
	frc->peer = cfg->local;
	frc->psk = "correct horse";
	frc->id = "server.test";
	frc->rnd = eh_rand;
}

void eh_small_cfg(struct ike_config *c, uint8_t n_dh)
{
	static const uint16_t groups[] = { 31, 19 };
	struct sockaddr_in *l = (struct sockaddr_in *)&c->local, *r = (struct sockaddr_in *)&c->remote;
	assert_true(n_dh <= sizeof(groups) / sizeof(groups[0]));
	ike_config_init(c);
	l->sin_family = r->sin_family = AF_INET;
	l->sin_port = r->sin_port = htons(500);
	inet_pton(AF_INET, "192.0.2.1", &l->sin_addr);
	inet_pton(AF_INET, "192.0.2.2", &r->sin_addr);
	c->local_id.type = 2;
	c->local_id.len = 1;
	c->local_id.data[0] = 'c';
	secret_set(&c->psk, "k", 1);
	c->n_ike_proposals = c->n_child_proposals = 1;
	c->ike_proposals[0].n_encr = 1;
	c->ike_proposals[0].encr[0].id = 20;
	c->ike_proposals[0].encr[0].key_bits = 128;
	c->ike_proposals[0].n_prf = 1;
	c->ike_proposals[0].prf[0] = 5;
	c->ike_proposals[0].n_dh = n_dh;
	for (uint8_t i = 0; i < n_dh; i++)
		c->ike_proposals[0].dh[i] = groups[i];
	c->child_proposals[0] = c->ike_proposals[0];
	c->child_proposals[0].n_dh = 0;
	c->rand = eh_rand;
}

void eh_init(struct eh *t, bool cbc)
{
	memset(t, 0, sizeof(*t));
	eh_client_cfg(&t->cfg, &t->frc);
	struct ike_cfg_proposal *p = &t->cfg.ike_proposals[0], *c = &t->cfg.child_proposals[0];
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
	t->cfg.child_lifetime_s = 100;
	t->deliver = true;
	t->now = 1000000;
	t->next_spi = 0xa1b2c3d4;
}

void eh_free(struct eh *t)
{
	ike_sa_free(t->sa);
	frr_free(&t->rk);
	fr_free(&t->fr);
	ike_config_clear(&t->cfg);
	for (size_t i = 0; i < t->n_sent && i < EH_MAX_REC; i++)
		free(t->sent[i].data);
}

/* The answer comes back on the path the request took: on port 4500 with
 * the non-ESP marker (RFC 3948 §2.2), as the daemon's socket hands it over. */
static void eh_receive(struct eh *t, const uint8_t *msg, size_t len, const struct ike_path *p)
{
	uint8_t *buf;
	if (eng_port(&p->local) != 4500) {
		ike_receive(t->sa, msg, len, p, t->now);
		return;
	}
	buf = malloc(len + 4);
	assert_non_null(buf);
	memset(buf, 0, 4);
	memcpy(buf + 4, msg, len);
	ike_receive(t->sa, buf, len + 4, p, t->now);
	free(buf);
}

void eh_pump(struct eh *t)
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
				assert_true(t->n_sent < EH_MAX_REC);
				struct eh_sent *s = &t->sent[t->n_sent++];
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
				struct eh_inst *in = &t->inst[t->n_inst++];
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
				t->st[t->n_st++ % EH_MAX_REC] = a.u.status;
				break;
			default:
				break;
			}
		}
		for (size_t i = 0; i < nt; i++) {
			uint8_t *resp = NULL;
			size_t rlen = 0;
			if (frr_handle(&t->fr, &t->rk, todo[i].d, todo[i].l, &resp, &rlen) == 0) {
				eh_receive(t, resp, rlen, &todo[i].p);
				any = true;
			}
			free(resp);
			free(todo[i].d);
		}
		if (!any)
			return;
	}
}

void eh_run_until(struct eh *t, uint64_t ms)
{
	uint64_t end = t->now + ms, d;
	while ((d = ike_next_deadline(t->sa)) && d <= end) {
		if (d > t->now)
			t->now = d;
		ike_tick(t->sa, t->now);
		eh_pump(t);
	}
	t->now = end;
}

void eh_connect_ok(struct eh *t)
{
	struct pvpn_err err;
	fr_init(&t->fr, &t->frc);
	t->sa = ike_sa_new(&t->cfg, &err);
	assert_non_null(t->sa);
	assert_int_equal(ike_connect(t->sa, t->now), 0);
	eh_pump(t);
	assert_int_equal(t->n_inst, 1);
	assert_false(t->inst[0].c.rekey);
	assert_int_equal(ike_get_status(t->sa), IKE_STATUS_CONNECTED);
}

size_t eh_count_exch(const struct eh *t, size_t from, uint8_t exch)
{
	size_t n = 0;
	for (size_t i = from; i < t->n_sent; i++)
		if (t->sent[i].len > 18 && t->sent[i].data[18] == exch)
			n++;
	return n;
}
