/* fuzz_engine.c — the sans-I/O initiator engine fed hostile input at each
 * stage of its life.  The test-only fake responder supplies genuine keys, so
 * the hostile content is authenticated (sealed under SK_er/SK_ar) and reaches
 * the states behind the integrity check.
 *
 * Input: byte 0 = mode, byte 1 = first inner payload type, rest = the
 * payload chain (or, for mode 6/7, a whole IKE_SA_INIT response).
 *   mode & 7: 0 IKE_AUTH response after the genuine IDr + AUTH
 *             1 server INFORMATIONAL request   2 server CREATE_CHILD_SA request
 *             3 response to our liveness check 4 response to our Child SA rekey
 *             5 response to our DELETE         6,7 raw IKE_SA_INIT response
 *   mode & 0x08: IPv6 addresses
 *   mode >> 4:  config variants (bit 0 remote ID, bit 1 PFS, bit 2 IPv6 VIP,
 *               bit 3 = mode & 0x80: NAT in front of us, UDP 4500 + marker)
 *
 * tests/lib is not linked into fuzz targets (the Makefile links the room
 * sources only), so the fake responder is compiled in here. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "ike-lite/ike.h"
#include "lib/log.h"
#include "tests/lib/fake_responder.h"
#include "tests/lib/fake_responder.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng;
static void rnd(void *buf, size_t len)
{
	uint8_t *p = buf;
	for (size_t i = 0; i < len; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		p[i] = (uint8_t)(rng >> 24);
	}
}

static void setup_cfg(struct ike_config *c, int v, bool v6)
{
	ike_config_init(c);
	if (v6) {
		struct sockaddr_in6 *l = (struct sockaddr_in6 *)&c->local;
		struct sockaddr_in6 *r = (struct sockaddr_in6 *)&c->remote;
		l->sin6_family = r->sin6_family = AF_INET6;
		l->sin6_port = r->sin6_port = htons(500);
		inet_pton(AF_INET6, "2001:db8::1", &l->sin6_addr);
		inet_pton(AF_INET6, "2001:db8::2", &r->sin6_addr);
	} else {
		struct sockaddr_in *l = (struct sockaddr_in *)&c->local;
		struct sockaddr_in *r = (struct sockaddr_in *)&c->remote;
		l->sin_family = r->sin_family = AF_INET;
		l->sin_port = r->sin_port = htons(500);
		inet_pton(AF_INET, "192.0.2.1", &l->sin_addr);
		inet_pton(AF_INET, "192.0.2.2", &r->sin_addr);
	}
	c->local_id.type = 2;
	c->local_id.len = 1;
	c->local_id.data[0] = 'c';
	if (v & 1) {
		c->remote_id.type = 2;
		c->remote_id.len = 1;
		c->remote_id.data[0] = 's';
	}
	secret_set(&c->psk, "k", 1);
	c->n_ike_proposals = c->n_child_proposals = 1;
	c->ike_proposals[0].n_encr = 1;
	c->ike_proposals[0].encr[0].id = 20;
	c->ike_proposals[0].encr[0].key_bits = 128;
	c->ike_proposals[0].n_prf = 1;
	c->ike_proposals[0].prf[0] = 5;
	c->ike_proposals[0].n_dh = 2;
	c->ike_proposals[0].dh[0] = 31;
	c->ike_proposals[0].dh[1] = 19;
	c->child_proposals[0] = c->ike_proposals[0];
	c->child_proposals[0].n_dh = 0;
	if (v & 2) {
		c->child_proposals[0].n_dh = 1;
		c->child_proposals[0].dh[0] = 31;
	}
	c->rand = rnd;
	c->dpd_interval_ms = 10000;
	c->want_vip6 = (v & 4) != 0;
}

struct st {
	struct ike_sa *sa;
	struct fake_responder fr;
	struct ike_path path;
	uint8_t last[8192];
	size_t last_len;
	uint64_t now;
};

static void drain(struct st *s)
{
	struct ike_action a;
	for (int g = 0; g < 1000 && ike_next_action(s->sa, &a); g++) {
		if (a.type == IKE_ACT_SEND && !a.u.send.keepalive && a.u.send.len <= sizeof(s->last)) {
			const uint8_t *d = a.u.send.data;
			size_t l = a.u.send.len;
			if (s->fr.cfg.nat && l >= 4 && !d[0] && !d[1] && !d[2] && !d[3]) {
				d += 4;
				l -= 4;
			}
			memcpy(s->last, d, l);
			s->last_len = l;
		} else if (a.type == IKE_ACT_ALLOC_SPI) {
			ike_spi_allocated(s->sa, 0x11223344 + (uint32_t)s->now, s->now);
		}
	}
}

static void deliver(struct st *s, const uint8_t *m, size_t l)
{
	uint8_t buf[9000];
	if (eng_port(&s->path.local) == 4500 && l + 4 <= sizeof(buf)) {
		memset(buf, 0, 4);
		memcpy(buf + 4, m, l);
		ike_receive(s->sa, buf, l + 4, &s->path, s->now);
	} else {
		ike_receive(s->sa, m, l, &s->path, s->now);
	}
	drain(s);
}

/* Run the exchange until the IKE_AUTH request is out (auth=false) or the
 * SA is up. */
static int run_to(struct st *s, bool to_auth_req, uint8_t **auth_resp, size_t *auth_len)
{
	/* What the engine sends is caught by drain(), also the drain inside
	 * deliver(): the IKE_AUTH request goes out as the IKE_SA_INIT
	 * response is handled, so last is not cleared before a round. */
	s->last_len = 0;
	for (int round = 0; round < 4; round++) {
		uint8_t *r = NULL;
		size_t rl = 0;
		drain(s);
		if (s->last_len < 28)
			return -1;
		uint8_t hdr_exch = s->last[18];
		int rc = fr_handle(&s->fr, s->last, s->last_len, &r, &rl);
		s->last_len = 0;
		if (rc != 0)
			return -1;
		if (to_auth_req && hdr_exch == IKE_AUTH) {
			*auth_resp = r;
			*auth_len = rl;
			return 0;
		}
		if (hdr_exch == IKE_SA_INIT && s->fr.cfg.nat) {
			eng_set_port(&s->path.local, 4500);
			eng_set_port(&s->path.remote, 4500);
		}
		deliver(s, r, rl);
		free(r);
		if (ike_get_status(s->sa) == IKE_STATUS_CONNECTED)
			return 0;
	}
	return ike_get_status(s->sa) == IKE_STATUS_CONNECTED ? 0 : -1;
}

static void seal_and_send(struct st *s, uint8_t exch, uint8_t flags, uint32_t mid, uint8_t first,
			  const uint8_t *plain, size_t plen)
{
	struct ike_header h;
	uint8_t *out = NULL;
	size_t ol = 0;
	memset(&h, 0, sizeof(h));
	memcpy(h.spi_i, s->fr.spi_i, 8);
	memcpy(h.spi_r, s->fr.spi_r, 8);
	h.exchange = exch;
	h.flags = flags;
	h.message_id = mid;
	if (eng_seal(&s->fr.suite, &s->fr.keys.sk_er, &s->fr.keys.sk_ar, rnd, &h, first, plain,
		     plen, &out, &ol) == 0)
		deliver(s, out, ol);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ike_config c;
	struct fr_config fc;
	struct pvpn_err e;
	struct st *s;

	if (size < 3 || size > 6000)
		return 0;
	log_set_level(-1); /* the engine's notes would drown libFuzzer's output */
	uint8_t mode = data[0], first = data[1];
	const uint8_t *pl = data + 2;
	size_t plen = size - 2;

	s = calloc(1, sizeof(*s));
	rng = 7;
	setup_cfg(&c, mode >> 4, (mode & 0x08) != 0);
	memset(&fc, 0, sizeof(fc));
	fc.self = c.remote;
	fc.peer = c.local;
	fc.psk = "k";
	fc.id = "s";
	fc.rnd = rnd;
	fc.nat = (mode & 0x80) != 0;
	fr_init(&s->fr, &fc);
	s->sa = ike_sa_new(&c, &e);
	if (!s->sa)
		abort();
	s->path.local = c.local;
	s->path.remote = c.remote;
	s->now = 1000;
	ike_connect(s->sa, s->now);

	switch (mode & 7) {
	case 0: {
		/* IKE_AUTH response: the genuine IDr + AUTH, then fuzz. */
		uint8_t *r = NULL, *ptxt;
		size_t rl = 0;
		const uint8_t *p;
		size_t pn;
		if (run_to(s, true, &r, &rl) < 0)
			break;
		struct ike_message *m = calloc(1, sizeof(*m)), *in = calloc(1, sizeof(*in));
		if (ike_message_parse(m, r, rl, NULL) == 0 &&
		    ike_sk_open(&s->fr.suite, &s->fr.keys.sk_er, &s->fr.keys.sk_ar, r, rl,
				m->payloads[m->npayloads - 1].offset, &p, &pn, NULL) == 0 &&
		    ike_payloads_parse(in, m->payloads[m->npayloads - 1].u.sk.first, p, pn, NULL) == 0 &&
		    in->npayloads >= 2 && in->payloads[1].type == IKE_PT_AUTH) {
			size_t keep = in->payloads[1].offset + 4 + in->payloads[1].body_len;
			ptxt = malloc(keep + plen);
			memcpy(ptxt, p, keep);
			ptxt[in->payloads[1].offset] = first;
			memcpy(ptxt + keep, pl, plen);
			seal_and_send(s, IKE_AUTH, IKE_FLAG_R, m->hdr.message_id, in->first_type,
				      ptxt, keep + plen);
			free(ptxt);
		}
		free(m);
		free(in);
		free(r);
		break;
	}
	case 1: /* a server INFORMATIONAL request */
	case 2: /* a server CREATE_CHILD_SA request */
		if (run_to(s, false, NULL, NULL) < 0)
			break;
		s->now = 5000;
		seal_and_send(s, (mode & 7) == 1 ? IKE_INFORMATIONAL : IKE_CREATE_CHILD_SA, 0,
			      s->fr.next_mid++, first, pl, plen);
		/* and time passes */
		for (int i = 0; i < 8; i++) {
			s->now += 30000;
			ike_tick(s->sa, s->now);
			drain(s);
		}
		break;
	case 3: /* response to our DPD */
	case 4: /* response to our Child SA rekey */
	case 5: /* response to our DELETE */
		if (run_to(s, false, NULL, NULL) < 0)
			break;
		s->now = 50000;
		s->last_len = 0;
		if ((mode & 7) == 3)
			ike_check_liveness(s->sa, s->now);
		else if ((mode & 7) == 4)
			ike_rekey_child(s->sa, s->now);
		else
			ike_disconnect(s->sa, s->now);
		drain(s);
		if (s->last_len >= 28) {
			uint32_t mid = (uint32_t)s->last[20] << 24 | (uint32_t)s->last[21] << 16 |
				       (uint32_t)s->last[22] << 8 | s->last[23];
			seal_and_send(s, s->last[18], IKE_FLAG_R, mid, first, pl, plen);
		}
		for (int i = 0; i < 8; i++) {
			s->now += 30000;
			ike_tick(s->sa, s->now);
			drain(s);
		}
		break;
	default: {
		/* an unprotected IKE_SA_INIT response (whole message after a
		 * 28-byte header we patch) */
		drain(s);
		if (s->last_len < 28 || plen < 28)
			break;
		uint8_t *buf = malloc(plen);
		memcpy(buf, pl, plen);
		memcpy(buf, s->last, 8);
		buf[24] = (uint8_t)(plen >> 24); buf[25] = (uint8_t)(plen >> 16);
		buf[26] = (uint8_t)(plen >> 8); buf[27] = (uint8_t)plen;
		buf[19] = IKE_FLAG_R;
		buf[18] = IKE_SA_INIT;
		buf[17] = 0x20;
		memset(buf + 20, 0, 4);
		deliver(s, buf, plen);
		free(buf);
		break;
	}
	}
	ike_sa_free(s->sa);
	fr_free(&s->fr);
	ike_config_clear(&c);
	free(s);
	return 0;
}
