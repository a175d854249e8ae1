/* The key schedule, SK payload protection and PSK AUTH against two real
 * strongSwan 5.9.8 exchanges (tests/fixtures/strongswan-5.9.8/): from
 * dh_shared and the nonces and SPIs in the capture, reproduce SKEYSEED,
 * every SK_* key and the ESP keys of keys.txt; open every SK payload with
 * them and seal it again to the same bytes; recompute both sides' AUTH
 * from the PSK and the identities of the swanctl.conf files.
 *
 * The captures are parsed with tests/lib/pcap.c and a minimal payload
 * walker here, so these tests do not depend on the codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike-lite/constants.h"
#include "ike-lite/crypto.h"
#include "lib/err.h"
#include "lib/hex.h"
#include "lib/secret.h"
#include "tests/lib/pcap.h"

#define FIXDIR "tests/fixtures/strongswan-5.9.8/"
#define PSK "fixture-secret-0123456789"

struct fixture {
	const char *dir;
	uint16_t encr, bits, integ, prf, dh;
	uint16_t esp_encr, esp_bits, esp_integ;
};

static const struct fixture fx_cbc = {
	FIXDIR "psk-aes128-sha256-modp2048",
	IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_256_128, IKE_PRF_HMAC_SHA2_256, IKE_DH_MODP2048,
	IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_256_128,
};
static const struct fixture fx_gcm = {
	FIXDIR "psk-aes256gcm16-prfsha256-x25519",
	IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_256, IKE_DH_CURVE25519,
	IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE,
};

/* ------------------------------------------------------------ keys.txt */

#define MAX_KEYS 24
struct keyfile {
	size_t n;
	char name[MAX_KEYS][32];
	struct secret val[MAX_KEYS];
};

static void keys_load(struct keyfile *kf, const char *dir)
{
	char path[512], line[2048];
	FILE *f;
	memset(kf, 0, sizeof(*kf));
	snprintf(path, sizeof(path), "%s/keys.txt", dir);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s (run from the repository root)", path);
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '=');
		size_t hl;
		uint8_t buf[1024];
		int n;
		if (!eq)
			continue;
		*eq = 0;
		hl = strcspn(eq + 1, "\r\n");
		n = hex_decode(buf, sizeof(buf), eq + 1, hl);
		assert_true(n >= 0);
		assert_true(kf->n < MAX_KEYS);
		assert_true(strlen(line) < sizeof(kf->name[0]));
		memcpy(kf->name[kf->n], line, strlen(line) + 1);
		assert_int_equal(secret_set(&kf->val[kf->n], buf, (size_t)n), 0);
		kf->n++;
	}
	fclose(f);
	assert_true(kf->n >= 9);
}

static const struct secret *key(const struct keyfile *kf, const char *name)
{
	for (size_t i = 0; i < kf->n; i++)
		if (strcmp(kf->name[i], name) == 0)
			return &kf->val[i];
	return NULL;
}

static void keys_free(struct keyfile *kf)
{
	for (size_t i = 0; i < kf->n; i++)
		secret_free(&kf->val[i]);
}

static void assert_key(const struct keyfile *kf, const char *name, const struct secret *got)
{
	const struct secret *want = key(kf, name);
	if (!want)
		fail_msg("keys.txt has no %s", name);
	if (got->len != want->len || memcmp(got->data, want->data, want->len) != 0)
		fail_msg("%s differs from keys.txt (%zu vs %zu bytes)", name, got->len, want->len);
}

/* --------------------------------------------------------- the capture */

#define MAX_MSGS 8
struct capture {
	struct tpcap pcap;
	size_t n;
	struct tpcap_udp msg[MAX_MSGS];
};

static void capture_load(struct capture *c, const char *dir)
{
	char path[512];
	int n;
	snprintf(path, sizeof(path), "%s/ike.pcap", dir);
	if (tpcap_open(&c->pcap, path) != 0)
		fail_msg("cannot open %s", path);
	n = tpcap_ike_messages(&c->pcap, c->msg, MAX_MSGS);
	assert_true(n >= 4);
	c->n = (size_t)n;
}

struct pl {
	uint8_t type;
	size_t off;            /* generic header, from the start of buf */
	const uint8_t *body;
	size_t len;
};

/* Walk a payload chain (RFC 7296 §3.2) starting at off; stops at the end
 * or at an SK payload, which is the last one. */
static size_t walk(const uint8_t *buf, size_t len, size_t off, uint8_t first,
		   struct pl *out, size_t max)
{
	size_t n = 0;
	uint8_t type = first;
	while (type != 0 && off + 4 <= len && n < max) {
		size_t plen = (size_t)buf[off + 2] << 8 | buf[off + 3];
		assert_true(plen >= 4 && off + plen <= len);
		out[n++] = (struct pl){ type, off, buf + off + 4, plen - 4 };
		if (type == IKE_PT_SK)
			break;
		type = buf[off];
		off += plen;
	}
	return n;
}

static const struct pl *find(const struct pl *p, size_t n, uint8_t type)
{
	for (size_t i = 0; i < n; i++)
		if (p[i].type == type)
			return &p[i];
	return NULL;
}

static size_t msg_payloads(const struct tpcap_udp *m, struct pl *out, size_t max)
{
	assert_true(m->len >= 28);
	return walk(m->data, m->len, 28, m->data[16], out, max);
}

/* Everything derived from one fixture. */
struct world {
	struct keyfile kf;
	struct capture cap;
	struct ike_suite suite, esp;
	const uint8_t *spi_i, *spi_r;
	const uint8_t *ni, *nr;
	size_t ni_len, nr_len;
	struct secret skeyseed;
	struct ike_sa_keys keys;
};

static void world_load(struct world *w, const struct fixture *fx)
{
	struct pl p[16];
	size_t n;
	const struct pl *no;
	struct pvpn_err e = { 0 };

	memset(w, 0, sizeof(*w));
	keys_load(&w->kf, fx->dir);
	capture_load(&w->cap, fx->dir);
	assert_int_equal(ike_suite_init(&w->suite, fx->encr, fx->bits, fx->integ, fx->prf,
					fx->dh, &e), 0);
	assert_int_equal(ike_suite_init_esp(&w->esp, fx->esp_encr, fx->esp_bits,
					    fx->esp_integ, 0, &e), 0);

	/* IKE_SA_INIT request and response. */
	assert_int_equal(w->cap.msg[0].data[18], IKE_SA_INIT);
	assert_int_equal(w->cap.msg[1].data[18], IKE_SA_INIT);
	w->spi_i = w->cap.msg[0].data;
	w->spi_r = w->cap.msg[1].data + 8;
	n = msg_payloads(&w->cap.msg[0], p, 16);
	assert_non_null(no = find(p, n, IKE_PT_NONCE));
	w->ni = no->body;
	w->ni_len = no->len;
	n = msg_payloads(&w->cap.msg[1], p, 16);
	assert_non_null(no = find(p, n, IKE_PT_NONCE));
	w->nr = no->body;
	w->nr_len = no->len;
	assert_true(w->ni_len >= 16 && w->nr_len >= 16);

	assert_int_equal(ike_skeyseed(fx->prf, w->ni, w->ni_len, w->nr, w->nr_len,
				      key(&w->kf, "dh_shared"), &w->skeyseed), 0);
	assert_int_equal(ike_sa_keys_derive(&w->suite, &w->skeyseed, w->ni, w->ni_len, w->nr,
					    w->nr_len, w->spi_i, w->spi_r, &w->keys), 0);
}

static void world_free(struct world *w)
{
	keys_free(&w->kf);
	tpcap_close(&w->cap.pcap);
	secret_free(&w->skeyseed);
	ike_sa_keys_free(&w->keys);
}

/* ---------------------------------------------------------------- tests */

static void check_key_schedule(const struct fixture *fx)
{
	struct world w;
	struct ike_child_keys ck = { 0 };
	world_load(&w, fx);

	assert_key(&w.kf, "skeyseed", &w.skeyseed);
	assert_key(&w.kf, "sk_d", &w.keys.sk_d);
	if (w.suite.aead) {
		assert_null(key(&w.kf, "sk_ai"));
		assert_int_equal(w.keys.sk_ai.len, 0);
		assert_int_equal(w.keys.sk_ar.len, 0);
	} else {
		assert_key(&w.kf, "sk_ai", &w.keys.sk_ai);
		assert_key(&w.kf, "sk_ar", &w.keys.sk_ar);
	}
	assert_key(&w.kf, "sk_ei", &w.keys.sk_ei);
	assert_key(&w.kf, "sk_er", &w.keys.sk_er);
	assert_key(&w.kf, "sk_pi", &w.keys.sk_pi);
	assert_key(&w.kf, "sk_pr", &w.keys.sk_pr);

	/* RFC 7296 §2.17: the IKE_AUTH Child SA (no PFS) from the
	 * IKE_SA_INIT nonces. */
	assert_int_equal(ike_child_keys_derive(fx->prf, &w.keys.sk_d, &w.esp, NULL, w.ni,
					       w.ni_len, w.nr, w.nr_len, &ck), 0);
	assert_key(&w.kf, "esp_enc_i", &ck.encr_i);
	assert_key(&w.kf, "esp_enc_r", &ck.encr_r);
	if (w.esp.aead) {
		assert_null(key(&w.kf, "esp_integ_i"));
		assert_int_equal(ck.integ_i.len, 0);
	} else {
		assert_key(&w.kf, "esp_integ_i", &ck.integ_i);
		assert_key(&w.kf, "esp_integ_r", &ck.integ_r);
	}
	/* A wrong nonce order gives different keys (the test can fail). */
	{
		struct ike_child_keys sw = { 0 };
		assert_int_equal(ike_child_keys_derive(fx->prf, &w.keys.sk_d, &w.esp, NULL, w.nr,
						       w.nr_len, w.ni, w.ni_len, &sw), 0);
		assert_memory_not_equal(sw.encr_i.data, ck.encr_i.data, ck.encr_i.len);
		ike_child_keys_free(&sw);
	}
	ike_child_keys_free(&ck);
	world_free(&w);
}

static void key_schedule_cbc_modp2048(void **state) { check_key_schedule(&fx_cbc); }
static void key_schedule_gcm_x25519(void **state) { check_key_schedule(&fx_gcm); }

/* The peers' KE values are well-formed for our peer checks. */
static void check_ke_values(const struct fixture *fx)
{
	struct world w;
	world_load(&w, fx);
	for (int i = 0; i < 2; i++) {
		struct pl p[16];
		size_t n = msg_payloads(&w.cap.msg[i], p, 16);
		const struct pl *ke = find(p, n, IKE_PT_KE);
		struct ike_dh_ctx *d;
		struct secret s = { 0 };
		struct pvpn_err e = { 0 };
		assert_non_null(ke);
		assert_int_equal((size_t)ke->body[0] << 8 | ke->body[1], fx->dh);
		assert_int_equal(ke->len - 4, ike_dh_public_len(fx->dh));
		d = ike_dh_new(fx->dh, NULL, &e);
		assert_non_null(d);
		assert_int_equal(ike_dh_shared(d, ke->body + 4, ke->len - 4, &s, &e), 0);
		assert_int_equal(s.len, key(&w.kf, "dh_shared")->len);
		secret_free(&s);
		ike_dh_free(d);
	}
	world_free(&w);
}

static void ke_values_cbc_modp2048(void **state) { check_ke_values(&fx_cbc); }
static void ke_values_gcm_x25519(void **state) { check_ke_values(&fx_gcm); }

/* The first message of an exchange in one direction (the GCM capture
 * holds a retransmitted IKE_AUTH request). */
static const struct tpcap_udp *find_msg(const struct world *w, uint8_t exchange, bool response)
{
	for (size_t i = 0; i < w->cap.n; i++) {
		const uint8_t *d = w->cap.msg[i].data;
		if (d[18] == exchange && !!(d[19] & IKE_FLAG_R) == response)
			return &w->cap.msg[i];
	}
	fail_msg("no %s of exchange %u in the capture", response ? "response" : "request",
		 (unsigned)exchange);
	return NULL;
}

/* Keys for a message: the original initiator's (I flag) or the responder's. */
static void msg_keys(const struct world *w, const uint8_t *msg, const struct secret **ek,
		     const struct secret **ik)
{
	bool from_i = msg[19] & IKE_FLAG_I;
	*ek = from_i ? &w->keys.sk_ei : &w->keys.sk_er;
	*ik = from_i ? &w->keys.sk_ai : &w->keys.sk_ar;
}

static void check_sk_round_trip(const struct fixture *fx)
{
	struct world w;
	size_t opened = 0;
	world_load(&w, fx);
	for (size_t i = 2; i < w.cap.n; i++) {
		const struct tpcap_udp *m = &w.cap.msg[i];
		struct pl p[16];
		size_t n = msg_payloads(m, p, 16), plain_len, out_len, ct_len, pad_len;
		const struct pl *sk = find(p, n, IKE_PT_SK);
		const struct secret *ek, *ik;
		const uint8_t *plain;
		uint8_t *buf;
		struct pvpn_err e = { 0 };

		assert_non_null(sk);
		msg_keys(&w, m->data, &ek, &ik);
		buf = malloc(m->len);
		assert_non_null(buf);
		memcpy(buf, m->data, m->len);
		assert_int_equal(ike_sk_open(&w.suite, ek, ik, buf, m->len, sk->off, &plain,
					     &plain_len, &e), 0);
		assert_ptr_equal(plain, buf + sk->off + 4 + w.suite.iv_len);
		/* The plaintext is a well-formed payload chain (empty in
		 * an INFORMATIONAL response). */
		if (buf[sk->off] == IKE_PT_NONE) {
			assert_int_equal(plain_len, 0);
		} else {
			struct pl inner[16];
			size_t k = walk(plain, plain_len, 0, buf[sk->off], inner, 16), end = 0;
			assert_true(k >= 1);
			end = inner[k - 1].off + 4 + inner[k - 1].len;
			assert_int_equal(end, plain_len);
		}
		/* Seal again with the captured IV and padding: same bytes. */
		ct_len = sk->len - w.suite.iv_len - w.suite.icv_len;
		pad_len = ct_len - 1 - plain_len;
		assert_int_equal(buf[sk->off + 4 + w.suite.iv_len + ct_len - 1], pad_len);
		assert_int_equal(ike_sk_seal_raw(&w.suite, ek, ik, m->data + sk->off + 4, buf,
						 m->len, sk->off, plain_len, pad_len, &out_len, &e), 0);
		assert_int_equal(out_len, m->len);
		assert_memory_equal(buf, m->data, m->len);

		/* With the other direction's keys the ICV fails and the
		 * message is left as it was. */
		{
			const struct secret *oek = ek == &w.keys.sk_ei ? &w.keys.sk_er : &w.keys.sk_ei;
			const struct secret *oik = ik == &w.keys.sk_ai ? &w.keys.sk_ar : &w.keys.sk_ai;
			assert_int_equal(ike_sk_open(&w.suite, oek, oik, buf, m->len, sk->off, &plain,
						     &plain_len, &e), -EBADMSG);
			assert_memory_equal(buf, m->data, m->len);
		}
		free(buf);
		opened++;
	}
	/* IKE_AUTH request (and a retransmission) and response,
	 * INFORMATIONAL request and response. */
	assert_int_equal(opened, w.cap.n - 2);
	assert_true(opened >= 4);
	world_free(&w);
}

static void sk_cbc_modp2048(void **state) { check_sk_round_trip(&fx_cbc); }
static void sk_gcm_x25519(void **state) { check_sk_round_trip(&fx_gcm); }

/* Every single-byte change anywhere in a protected message is caught, and
 * the buffer is left as it was. */
static void check_sk_tamper(const struct fixture *fx)
{
	struct world w;
	const struct tpcap_udp *m;
	struct pl p[16];
	size_t n;
	const struct pl *sk;
	const struct secret *ek, *ik;
	uint8_t *buf;

	world_load(&w, fx);
	m = find_msg(&w, IKE_AUTH, true);
	n = msg_payloads(m, p, 16);
	assert_non_null(sk = find(p, n, IKE_PT_SK));
	msg_keys(&w, m->data, &ek, &ik);
	buf = malloc(m->len);
	assert_non_null(buf);
	for (size_t i = 0; i < m->len; i++) {
		const uint8_t *plain = NULL;
		size_t plain_len = 0;
		struct pvpn_err e = { 0 };
		int rc;
		memcpy(buf, m->data, m->len);
		buf[i] ^= 0x01;
		rc = ike_sk_open(&w.suite, ek, ik, buf, m->len, sk->off, &plain, &plain_len, &e);
		if (rc != -EBADMSG)
			fail_msg("flipping byte %zu: open returned %d", i, rc);
		assert_true(strlen(e.msg) > 0);
		assert_int_equal(buf[i], m->data[i] ^ 0x01);
		buf[i] ^= 0x01;
		assert_memory_equal(buf, m->data, m->len);
	}
	/* Truncated, and the SK payload not last. */
	{
		const uint8_t *plain;
		size_t plain_len;
		memcpy(buf, m->data, m->len);
		assert_int_equal(ike_sk_open(&w.suite, ek, ik, buf, m->len - 1, sk->off, &plain,
					     &plain_len, NULL), -EBADMSG);
		assert_int_equal(ike_sk_open(&w.suite, ek, ik, buf, m->len, m->len - 2, &plain,
					     &plain_len, NULL), -EBADMSG);
		assert_int_equal(ike_sk_open(&w.suite, ek, ik, buf, m->len, 8, &plain,
					     &plain_len, NULL), -EBADMSG);
		assert_int_equal(ike_sk_open(&w.suite, ik, ek, buf, m->len, sk->off, &plain,
					     &plain_len, NULL), -EINVAL);
	}
	free(buf);
	world_free(&w);
}

static void sk_tamper_cbc(void **state) { check_sk_tamper(&fx_cbc); }
static void sk_tamper_gcm(void **state) { check_sk_tamper(&fx_gcm); }

/* Seal with a fresh IV, then open: the plaintext comes back. */
static void check_sk_seal_fresh(const struct fixture *fx)
{
	struct world w;
	const struct tpcap_udp *m;
	struct pl p[16];
	size_t n, plain_len, out_len, iv_len, pad_len, icv_len;
	const struct pl *sk;
	const struct secret *ek, *ik;
	const uint8_t *plain;
	uint8_t saved[2048], buf[2048 + 64], again[2048 + 64];

	world_load(&w, fx);
	m = find_msg(&w, IKE_AUTH, false);
	n = msg_payloads(m, p, 16);
	assert_non_null(sk = find(p, n, IKE_PT_SK));
	msg_keys(&w, m->data, &ek, &ik);
	assert_true(m->len <= sizeof(saved));
	memcpy(buf, m->data, m->len);
	assert_int_equal(ike_sk_open(&w.suite, ek, ik, buf, m->len, sk->off, &plain, &plain_len,
				     NULL), 0);
	memcpy(saved, plain, plain_len);
	assert_int_equal(ike_sk_overhead(&w.suite, plain_len, &iv_len, &pad_len, &icv_len), 0);
	assert_int_equal(iv_len, w.suite.iv_len);
	assert_int_equal((plain_len + pad_len + 1) % w.suite.block_len, 0);
	assert_true(pad_len < w.suite.block_len);

	/* Builder's layout: header and SK header in place, plaintext after
	 * the IV room. */
	memcpy(again, buf, sk->off + 4);
	memcpy(again + sk->off + 4 + iv_len, saved, plain_len);
	assert_int_equal(ike_sk_seal(&w.suite, ek, ik, NULL, again, sizeof(again), sk->off,
				     plain_len, &out_len, NULL), 0);
	assert_int_equal(out_len, sk->off + 4 + iv_len + plain_len + pad_len + 1 + icv_len);
	assert_int_equal(((size_t)again[24] << 24 | (size_t)again[25] << 16 |
			  (size_t)again[26] << 8 | again[27]), out_len);
	/* A fresh IV: different bytes from the capture. */
	assert_memory_not_equal(again + sk->off + 4, m->data + sk->off + 4, iv_len);
	assert_int_equal(ike_sk_open(&w.suite, ek, ik, again, out_len, sk->off, &plain,
				     &plain_len, NULL), 0);
	assert_memory_equal(plain, saved, plain_len);
	/* No room: refused. */
	assert_int_equal(ike_sk_seal(&w.suite, ek, ik, NULL, again, out_len - 1, sk->off,
				     plain_len, &out_len, NULL), -ENOBUFS);
	world_free(&w);
}

static void sk_seal_fresh_cbc(void **state) { check_sk_seal_fresh(&fx_cbc); }
static void sk_seal_fresh_gcm(void **state) { check_sk_seal_fresh(&fx_gcm); }

/* RFC 7296 §2.15 against both sides' AUTH payloads. */
static void check_psk_auth(const struct fixture *fx)
{
	struct world w;
	struct secret psk = { 0 };
	world_load(&w, fx);
	assert_int_equal(secret_set(&psk, PSK, strlen(PSK)), 0);

	for (int side = 0; side < 2; side++) {
		const struct tpcap_udp *m = find_msg(&w, IKE_AUTH, side == 1);
		const char *id = side == 0 ? "client.example" : "server.example";
		uint8_t idb[64], *buf, mac[64];
		size_t idl = 4 + strlen(id), n, plain_len;
		struct pl p[16], inner[16];
		const struct pl *sk, *idp, *auth;
		const struct secret *ek, *ik;
		const uint8_t *plain;
		struct pvpn_err e = { 0 };
		int len;

		assert_int_equal(m->data[18], IKE_AUTH);
		/* ID payload body: ID_FQDN, RESERVED, the name. */
		idb[0] = IKE_ID_FQDN;
		idb[1] = idb[2] = idb[3] = 0;
		memcpy(idb + 4, id, strlen(id));

		n = msg_payloads(m, p, 16);
		assert_non_null(sk = find(p, n, IKE_PT_SK));
		msg_keys(&w, m->data, &ek, &ik);
		buf = malloc(m->len);
		assert_non_null(buf);
		memcpy(buf, m->data, m->len);
		assert_int_equal(ike_sk_open(&w.suite, ek, ik, buf, m->len, sk->off, &plain,
					     &plain_len, &e), 0);
		n = walk(plain, plain_len, 0, buf[sk->off], inner, 16);
		assert_non_null(idp = find(inner, n, side == 0 ? IKE_PT_IDI : IKE_PT_IDR));
		assert_int_equal(idp->len, idl);
		assert_memory_equal(idp->body, idb, idl);
		assert_non_null(auth = find(inner, n, IKE_PT_AUTH));
		assert_int_equal(auth->body[0], IKE_AUTH_PSK);

		struct ike_auth_input in = {
			.prf = fx->prf,
			/* The sender's IKE_SA_INIT message, the peer's nonce. */
			.real_msg = w.cap.msg[side].data,
			.real_msg_len = w.cap.msg[side].len,
			.peer_nonce = side == 0 ? w.nr : w.ni,
			.peer_nonce_len = side == 0 ? w.nr_len : w.ni_len,
			.sk_p = side == 0 ? &w.keys.sk_pi : &w.keys.sk_pr,
			.id_body = idb,
			.id_body_len = idl,
		};
		len = ike_auth_psk(&in, &psk, mac, sizeof(mac), &e);
		assert_int_equal(len, 32);
		assert_int_equal(auth->len - 4, (size_t)len);
		assert_memory_equal(mac, auth->body + 4, (size_t)len);

		/* The dispatch seam. */
		struct ike_auth_cred cred = { .psk = &psk };
		assert_int_equal(ike_auth_verify(IKE_AUTH_PSK, &in, &cred, auth->body + 4,
						 auth->len - 4, &e), 0);
		{
			struct secret wrong = { 0 };
			struct ike_auth_cred wc = { .psk = &wrong };
			assert_int_equal(secret_set(&wrong, PSK "x", strlen(PSK) + 1), 0);
			assert_int_equal(ike_auth_verify(IKE_AUTH_PSK, &in, &wc, auth->body + 4,
							 auth->len - 4, &e), -EBADMSG);
			secret_free(&wrong);
		}
		assert_int_equal(ike_auth_verify(IKE_AUTH_PSK, &in, &cred, auth->body + 4,
						 auth->len - 5, &e), -EBADMSG);
		/* The wrong first message (the other side's) does not verify. */
		in.real_msg = w.cap.msg[1 - side].data;
		in.real_msg_len = w.cap.msg[1 - side].len;
		assert_int_equal(ike_auth_verify(IKE_AUTH_PSK, &in, &cred, auth->body + 4,
						 auth->len - 4, &e), -EBADMSG);
		/* Signature methods (auth_sig.c, tests/unit/test_auth_sig.c) need
		 * a key, which a PSK credential does not have; DSS is not done. */
		assert_int_equal(ike_auth_compute(IKE_AUTH_RSA_SIG, &in, &cred, mac, sizeof(mac), &e),
				 -EINVAL);
		assert_int_equal(ike_auth_compute(IKE_AUTH_DIGITAL_SIGNATURE, &in, &cred, mac,
						  sizeof(mac), &e), -EINVAL);
		assert_int_equal(ike_auth_verify(IKE_AUTH_ECDSA_256, &in, &cred, mac, 32, &e),
				 -EINVAL);
		assert_int_equal(ike_auth_compute(IKE_AUTH_DSS_SIG, &in, &cred, mac, sizeof(mac), &e),
				 -ENOTSUP);
		free(buf);
	}
	secret_free(&psk);
	world_free(&w);
}

static void auth_cbc_modp2048(void **state) { check_psk_auth(&fx_cbc); }
static void auth_gcm_x25519(void **state) { check_psk_auth(&fx_gcm); }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(key_schedule_cbc_modp2048),
		cmocka_unit_test(key_schedule_gcm_x25519),
		cmocka_unit_test(ke_values_cbc_modp2048),
		cmocka_unit_test(ke_values_gcm_x25519),
		cmocka_unit_test(sk_cbc_modp2048),
		cmocka_unit_test(sk_gcm_x25519),
		cmocka_unit_test(sk_tamper_cbc),
		cmocka_unit_test(sk_tamper_gcm),
		cmocka_unit_test(sk_seal_fresh_cbc),
		cmocka_unit_test(sk_seal_fresh_gcm),
		cmocka_unit_test(auth_cbc_modp2048),
		cmocka_unit_test(auth_gcm_x25519),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
