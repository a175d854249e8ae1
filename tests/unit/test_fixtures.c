/* The golden fixtures (tests/fixtures/strongswan-5.9.8/): real strongSwan
 * 5.9.8 exchanges and the initiator's key schedule.
 *
 * - every IKE message of each capture parses;
 * - pvpn-ikedump --verify reproduces every key in keys.txt;
 * - the IKE_AUTH and INFORMATIONAL messages decrypt (with the suite the
 *   swanctl.conf files name, not the one ikedump reads from the capture)
 *   and hold the identities, traffic selectors, proposals and CP
 *   attributes of those configs;
 * - the default dump lists every exchange in capture order;
 * - a damaged key file gives MISMATCH and a non-zero exit;
 * - a truncated capture gives a clear error and no crash.
 * Run from the repository root (tests/run-unit does). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ike-lite/constants.h"
#include "ike-lite/crypto.h"
#include "ike-lite/message.h"
#include "tests/lib/pcap.h"
#include "tools/ikedump/ikedump.h"

#define FIX "tests/fixtures/strongswan-5.9.8/"

/* What each fixture's swanctl.conf files say. */
struct fixture {
	const char *dir;
	/* proposals = ... */
	uint16_t encr, encr_bits, integ, prf, dh;
	/* esp_proposals = ... (no PFS group applies to the IKE_AUTH Child SA) */
	uint16_t esp_encr, esp_bits, esp_integ;
};

static const struct fixture fixtures[] = {
	{ FIX "psk-aes128-sha256-modp2048",
	  IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_256_128, IKE_PRF_HMAC_SHA2_256, IKE_DH_MODP2048,
	  IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_256_128 },
	{ FIX "psk-aes256gcm16-prfsha256-x25519",
	  IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_256, IKE_DH_CURVE25519,
	  IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE },
};
#define NFIX (sizeof(fixtures) / sizeof(fixtures[0]))

/* ---- running the program in-process -------------------------------------- */

struct run {
	int rc;
	char *out, *err;
	size_t out_len, err_len;
};

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

static struct run run_ikedump(int argc, const char **argv)
{
	struct run r = { 0 };
	FILE *o = open_memstream(&r.out, &r.out_len);
	FILE *e = open_memstream(&r.err, &r.err_len);
	assert_non_null(o);
	assert_non_null(e);
	r.rc = ikedump_run(argc, (char **)argv, o, e);
	fclose(o);
	fclose(e);
	return r;
}

static char *path_of(const char *dir, const char *name)
{
	static char buf[4][512];
	static int n;
	char *p = buf[n++ % 4];
	snprintf(p, 512, "%s/%s", dir, name);
	return p;
}

/* ---- every message parses ------------------------------------------------ */

static void every_message_parses(void **state)
{
	for (size_t f = 0; f < NFIX; f++) {
		struct tpcap p;
		struct tpcap_udp u[32];
		assert_int_equal(tpcap_open(&p, path_of(fixtures[f].dir, "ike.pcap")), 0);
		int n = tpcap_ike_messages(&p, u, 32);
		/* IKE_SA_INIT, IKE_AUTH and INFORMATIONAL, request and response. */
		assert_true(n >= 6);
		for (int i = 0; i < n; i++) {
			struct ike_message *m = calloc(1, sizeof(*m));
			struct pvpn_err e = { 0 };
			assert_non_null(m);
			if (ike_message_parse(m, u[i].data, u[i].len, &e) != 0)
				fail_msg("%s message %d: %s", fixtures[f].dir, i, e.msg);
			assert_int_equal(m->hdr.length, u[i].len);
			free(m);
		}
		tpcap_close(&p);
	}
}

/* ---- --verify ------------------------------------------------------------ */

static void verify_matches_every_key(void **state)
{
	for (size_t f = 0; f < NFIX; f++) {
		const char *keys = path_of(fixtures[f].dir, "keys.txt");
		const char *argv[] = { "pvpn-ikedump", "--verify", "--keys", keys,
				       path_of(fixtures[f].dir, "ike.pcap"), NULL };
		struct run r = run_ikedump(5, argv);
		struct ikd_keyfile kf;
		struct pvpn_err e = { 0 };
		char want[64];
		unsigned checked = 0;

		if (r.rc != 0)
			fail_msg("%s: exit %d\n%s%s", fixtures[f].dir, r.rc, r.out, r.err);
		assert_null(strstr(r.out, "MISMATCH"));
		assert_null(strstr(r.out, "UNVERIFIED"));
		/* One "NAME match" line for every key in the file but the input. */
		assert_int_equal(ikd_keys_load(&kf, keys, &e), 0);
		for (size_t i = 0; i < kf.sets[0].n_keys; i++) {
			const char *name = kf.sets[0].keys[i].name;
			if (strcmp(name, "dh_shared") == 0)
				continue;
			snprintf(want, sizeof(want), "\n%s match\n", name);
			if (!strstr(r.out, want))
				fail_msg("%s: no \"%s match\" in\n%s", fixtures[f].dir, name, r.out);
			checked++;
		}
		/* AEAD: no sk_a*, no esp_integ_*. */
		assert_int_equal(checked, fixtures[f].integ ? 12 : 8);
		ikd_keys_free(&kf);
		run_free(&r);
	}
}

/* Write keys.txt with one key's first byte flipped to a temp file. */
static void write_damaged_keys(const char *src, const char *which, char *tmp)
{
	FILE *in = fopen(src, "r");
	strcpy(tmp, "/tmp/pvpn-test-keys-XXXXXX");
	int fd = mkstemp(tmp);
	assert_non_null(in);
	assert_true(fd >= 0);
	FILE *out = fdopen(fd, "w");
	char line[2048];
	bool done = false;
	while (fgets(line, sizeof(line), in)) {
		size_t n = strlen(which);
		if (strncmp(line, which, n) == 0 && line[n] == '=') {
			/* Flip the lowest bit of the first hex digit. */
			char *h = line + n + 1;
			*h = *h == '0' ? '1' : *h == '1' ? '0' : *h == 'a' ? 'b' : 'a';
			done = true;
		}
		fputs(line, out);
	}
	assert_true(done);
	fclose(in);
	fclose(out);
}

static void damaged_key_file_mismatches(void **state)
{
	for (size_t f = 0; f < NFIX; f++) {
		char tmp[64];
		const char *pcap = path_of(fixtures[f].dir, "ike.pcap");

		/* One derived key wrong: that key, and only that one, mismatches. */
		write_damaged_keys(path_of(fixtures[f].dir, "keys.txt"), "sk_pr", tmp);
		const char *argv[] = { "pvpn-ikedump", "--verify", "--keys", tmp, pcap, NULL };
		struct run r = run_ikedump(5, argv);
		assert_int_equal(r.rc, 1);
		assert_non_null(strstr(r.out, "\nsk_pr MISMATCH\n"));
		assert_non_null(strstr(r.out, "\nsk_pi match\n"));
		assert_non_null(strstr(r.out, "\nesp_enc_r match\n"));
		run_free(&r);
		unlink(tmp);

		/* dh_shared wrong: everything derived from it mismatches. */
		write_damaged_keys(path_of(fixtures[f].dir, "keys.txt"), "dh_shared", tmp);
		r = run_ikedump(5, argv);
		assert_int_equal(r.rc, 1);
		assert_non_null(strstr(r.out, "\nskeyseed MISMATCH\n"));
		assert_non_null(strstr(r.out, "\nsk_d MISMATCH\n"));
		assert_non_null(strstr(r.out, "\nsk_er MISMATCH\n"));
		assert_null(strstr(r.out, " match\n"));
		run_free(&r);

		/* The same damaged file still decrypts in --keys mode, since
		 * sk_e* are untouched; a damaged sk_er does not. */
		unlink(tmp);
		write_damaged_keys(path_of(fixtures[f].dir, "keys.txt"), "sk_er", tmp);
		const char *argv2[] = { "pvpn-ikedump", "--keys", tmp, pcap, NULL };
		r = run_ikedump(4, argv2);
		assert_int_equal(r.rc, 1);
		assert_non_null(strstr(r.out, "! not decrypted"));
		/* The initiator's messages still decrypt. */
		assert_non_null(strstr(r.out, "IDi: ID_FQDN client.example"));
		run_free(&r);
		unlink(tmp);
	}
}

/* ---- decryption and the inner payloads ----------------------------------- */

struct decrypted {
	uint8_t buf[4096];
	struct ike_message hdr;         /* the outer message */
	struct ike_message in;          /* the inner payloads */
};

static void decrypt(const struct fixture *fx, const struct ikd_keyset *ks,
		    const struct tpcap_udp *u, struct decrypted *d)
{
	struct ike_suite s;
	struct pvpn_err e = { 0 };
	const uint8_t *plain;
	size_t plain_len;

	assert_true(u->len <= sizeof(d->buf));
	memcpy(d->buf, u->data, u->len);
	assert_int_equal(ike_message_parse(&d->hdr, d->buf, u->len, &e), 0);
	const struct ike_payload *sk = ike_message_find(&d->hdr, IKE_PT_SK, NULL);
	assert_non_null(sk);
	/* The suite the configs name. */
	assert_int_equal(ike_suite_init(&s, fx->encr, fx->encr_bits, fx->integ, fx->prf, fx->dh, &e), 0);
	bool from_i = d->hdr.hdr.flags & IKE_FLAG_I;
	const struct secret *ek = ikd_keyset_get(ks, from_i ? "sk_ei" : "sk_er");
	const struct secret *ak = ikd_keyset_get(ks, from_i ? "sk_ai" : "sk_ar");
	struct secret none = { 0 };
	assert_non_null(ek);
	if (ike_sk_open(&s, ek, ak ? ak : &none, d->buf, u->len, sk->offset, &plain, &plain_len, &e) != 0)
		fail_msg("%s: SK open: %s", fx->dir, e.msg);
	if (ike_payloads_parse(&d->in, sk->u.sk.first, plain, plain_len, &e) != 0)
		fail_msg("%s: inner payloads: %s", fx->dir, e.msg);
}

static void assert_id(const struct ike_message *m, uint8_t type, const char *fqdn)
{
	const struct ike_payload *p = ike_message_find(m, type, NULL);
	assert_non_null(p);
	assert_int_equal(p->u.id.type, IKE_ID_FQDN);
	assert_int_equal(p->u.id.len, strlen(fqdn));
	assert_memory_equal(p->u.id.data, fqdn, strlen(fqdn));
}

static void assert_ts4(const struct ike_message *m, uint8_t type, const char *start, const char *end)
{
	const struct ike_payload *p = ike_message_find(m, type, NULL);
	uint8_t a[4], b[4];
	assert_non_null(p);
	assert_int_equal(p->u.ts.nts, 1);
	assert_int_equal(p->u.ts.ts[0].type, IKE_TS_IPV4_ADDR_RANGE);
	assert_int_equal(inet_pton(AF_INET, start, a), 1);
	assert_int_equal(inet_pton(AF_INET, end, b), 1);
	assert_memory_equal(p->u.ts.ts[0].start, a, 4);
	assert_memory_equal(p->u.ts.ts[0].end, b, 4);
	assert_int_equal(p->u.ts.ts[0].start_port, 0);
	assert_int_equal(p->u.ts.ts[0].end_port, 65535);
}

static void assert_esp_proposal(const struct fixture *fx, const struct ike_message *m)
{
	const struct ike_payload *p = ike_message_find(m, IKE_PT_SA, NULL);
	bool encr = false, integ = false;
	assert_non_null(p);
	assert_true(p->u.sa.nprops >= 1);
	const struct ike_proposal *pr = &p->u.sa.props[0];
	assert_int_equal(pr->protocol, IKE_PROTO_ESP);
	assert_int_equal(pr->spi_size, 4);
	for (size_t i = 0; i < pr->nxforms; i++) {
		const struct ike_transform *t = &pr->xforms[i];
		if (t->type == IKE_TRANS_ENCR && t->id == fx->esp_encr && t->key_length == fx->esp_bits)
			encr = true;
		if (t->type == IKE_TRANS_INTEG && t->id == fx->esp_integ)
			integ = true;
	}
	assert_true(encr);
	assert_true(integ == (fx->esp_integ != IKE_INTEG_NONE));
}

static uint32_t cp_addr(const struct ike_message *m, uint16_t type)
{
	const struct ike_payload *p = ike_message_find(m, IKE_PT_CP, NULL);
	assert_non_null(p);
	for (size_t i = 0; i < p->u.cp.nattrs; i++) {
		const struct ike_cp_attr *a = &p->u.cp.attrs[i];
		if ((a->type & IKE_CP_ATTR_TYPE_MASK) == type && a->len == 4)
			return (uint32_t)a->data[0] << 24 | (uint32_t)a->data[1] << 16 |
			       (uint32_t)a->data[2] << 8 | a->data[3];
	}
	return 0;
}

static void inner_payloads_match_the_configs(void **state)
{
	for (size_t f = 0; f < NFIX; f++) {
		const struct fixture *fx = &fixtures[f];
		struct tpcap p;
		struct tpcap_udp u[32];
		struct ikd_keyfile kf;
		struct pvpn_err e = { 0 };
		struct decrypted *d = calloc(1, sizeof(*d));
		unsigned auth_req = 0, auth_resp = 0, info_req = 0, info_resp = 0;

		assert_non_null(d);
		assert_int_equal(ikd_keys_load(&kf, path_of(fx->dir, "keys.txt"), &e), 0);
		assert_int_equal(tpcap_open(&p, path_of(fx->dir, "ike.pcap")), 0);
		int n = tpcap_ike_messages(&p, u, 32);
		assert_true(n > 0);
		for (int i = 0; i < n; i++) {
			uint8_t xchg = u[i].data[18], flags = u[i].data[19];
			bool resp = flags & IKE_FLAG_R;
			if (xchg == IKE_SA_INIT) {
				/* The responder chose exactly the configured proposal. */
				struct ike_message *m = calloc(1, sizeof(*m));
				assert_int_equal(ike_message_parse(m, u[i].data, u[i].len, &e), 0);
				if (resp) {
					const struct ike_payload *sa = ike_message_find(m, IKE_PT_SA, NULL);
					const struct ike_payload *ke = ike_message_find(m, IKE_PT_KE, NULL);
					assert_non_null(sa);
					assert_int_equal(sa->u.sa.nprops, 1);
					assert_int_equal(sa->u.sa.props[0].protocol, IKE_PROTO_IKE);
					assert_non_null(ke);
					assert_int_equal(ke->u.ke.group, fx->dh);
				}
				free(m);
				continue;
			}
			memset(d, 0, sizeof(*d));
			decrypt(fx, &kf.sets[0], &u[i], d);
			if (xchg == IKE_AUTH && !resp) {
				auth_req++;
				assert_id(&d->in, IKE_PT_IDI, "client.example");
				assert_id(&d->in, IKE_PT_IDR, "server.example");
				const struct ike_payload *a = ike_message_find(&d->in, IKE_PT_AUTH, NULL);
				assert_non_null(a);
				assert_int_equal(a->u.auth.method, IKE_AUTH_PSK);
				assert_ts4(&d->in, IKE_PT_TSI, "0.0.0.0", "255.255.255.255");
				assert_ts4(&d->in, IKE_PT_TSR, "10.99.0.0", "10.99.0.255");
				assert_esp_proposal(fx, &d->in);
				const struct ike_payload *cp = ike_message_find(&d->in, IKE_PT_CP, NULL);
				assert_non_null(cp);
				assert_int_equal(cp->u.cp.cfg_type, IKE_CFG_REQUEST);
			} else if (xchg == IKE_AUTH) {
				auth_resp++;
				assert_id(&d->in, IKE_PT_IDR, "server.example");
				assert_null(ike_message_find(&d->in, IKE_PT_IDI, NULL));
				assert_ts4(&d->in, IKE_PT_TSI, "10.10.10.1", "10.10.10.1");
				assert_ts4(&d->in, IKE_PT_TSR, "10.99.0.0", "10.99.0.255");
				assert_esp_proposal(fx, &d->in);
				const struct ike_payload *cp = ike_message_find(&d->in, IKE_PT_CP, NULL);
				assert_non_null(cp);
				assert_int_equal(cp->u.cp.cfg_type, IKE_CFG_REPLY);
				assert_int_equal(cp_addr(&d->in, IKE_CP_INTERNAL_IP4_ADDRESS), 0x0a0a0a01);
				assert_int_equal(cp_addr(&d->in, IKE_CP_INTERNAL_IP4_DNS), 0x0a630035);
			} else if (xchg == IKE_INFORMATIONAL && !resp) {
				/* The IKE SA is deleted (§1.4.1: no SPIs for IKE). */
				info_req++;
				const struct ike_payload *del = ike_message_find(&d->in, IKE_PT_DELETE, NULL);
				assert_non_null(del);
				assert_int_equal(del->u.del.protocol, IKE_PROTO_IKE);
				assert_int_equal(del->u.del.nspis, 0);
			} else if (xchg == IKE_INFORMATIONAL) {
				info_resp++;
				assert_int_equal(d->in.npayloads, 0);
			} else {
				fail_msg("unexpected exchange %u", xchg);
			}
		}
		/* The x25519 capture holds a retransmitted IKE_AUTH request. */
		assert_true(auth_req >= 1);
		assert_int_equal(auth_resp, 1);
		assert_int_equal(info_req, 1);
		assert_int_equal(info_resp, 1);
		tpcap_close(&p);
		ikd_keys_free(&kf);
		free(d);
	}
}

/* The same facts as ikedump prints them with --keys. */
static void keys_output_shows_the_configs(void **state)
{
	static const char *const want[] = {
		"IDi: ID_FQDN client.example", "IDr: ID_FQDN server.example",
		"AUTH: SHARED_KEY_MIC", "      10.99.0.0/24\n", "INTERNAL_IP4_ADDRESS = 10.10.10.1",
		"INTERNAL_IP4_DNS = 10.99.0.53", "CP: CFG_REQUEST", "CP: CFG_REPLY", "D: IKE\n",
		"INFORMATIONAL #2 R resp [SK]\n    (no payloads)\n",
	};
	for (size_t f = 0; f < NFIX; f++) {
		const char *argv[] = { "pvpn-ikedump", "--keys", path_of(fixtures[f].dir, "keys.txt"),
				       path_of(fixtures[f].dir, "ike.pcap"), NULL };
		struct run r = run_ikedump(4, argv);
		if (r.rc != 0)
			fail_msg("%s: exit %d\n%s%s", fixtures[f].dir, r.rc, r.out, r.err);
		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
			if (!strstr(r.out, want[i]))
				fail_msg("%s: no \"%s\" in\n%s", fixtures[f].dir, want[i], r.out);
		/* The chosen ESP proposal, in both IKE_AUTH messages. */
		const char *prop = fixtures[f].esp_integ ? ": ENCR_AES_CBC/128 AUTH_HMAC_SHA2_256_128 NO_ESN\n"
							 : ": ENCR_AES_GCM_16/256 NO_ESN\n";
		const char *at = strstr(r.out, prop);
		assert_non_null(at);
		assert_non_null(strstr(at + 1, prop));
		assert_null(strstr(r.out, "not decrypted"));
		run_free(&r);
	}
}

/* ---- the default dump ---------------------------------------------------- */

static void dump_lists_every_exchange_in_order(void **state)
{
	for (size_t f = 0; f < NFIX; f++) {
		const char *argv[] = { "pvpn-ikedump", path_of(fixtures[f].dir, "ike.pcap"), NULL };
		struct run r = run_ikedump(2, argv);
		struct tpcap p;
		struct tpcap_udp u[32];

		assert_int_equal(r.rc, 0);
		assert_int_equal(r.err_len, 0);
		assert_int_equal(tpcap_open(&p, path_of(fixtures[f].dir, "ike.pcap")), 0);
		int n = tpcap_ike_messages(&p, u, 32);
		assert_true(n >= 6);
		/* One line per message, in capture order, each naming the exchange,
		 * Message ID and flags read independently from the header bytes. */
		char *line = r.out;
		for (int i = 0; i < n; i++) {
			char want[96];
			uint8_t flags = u[i].data[19];
			uint32_t mid = (uint32_t)u[i].data[20] << 24 | (uint32_t)u[i].data[21] << 16 |
				       (uint32_t)u[i].data[22] << 8 | u[i].data[23];
			snprintf(want, sizeof(want), " %s #%u %s %s [", ike_exchange_name(u[i].data[18]),
				 mid, (flags & IKE_FLAG_I) ? "I" : "R", (flags & IKE_FLAG_R) ? "resp" : "req");
			char *nl = strchr(line, '\n');
			assert_non_null(nl);
			*nl = '\0';
			if (!strstr(line, want))
				fail_msg("%s line %d: \"%s\" lacks \"%s\"", fixtures[f].dir, i, line, want);
			if (u[i].data[18] == IKE_SA_INIT)
				assert_non_null(strstr(line, "[SA KE No N(NAT_DETECTION_SOURCE_IP) "
						       "N(NAT_DETECTION_DESTINATION_IP)"));
			else
				assert_non_null(strstr(line, "[SK]"));
			line = nl + 1;
		}
		assert_string_equal(line, "");
		/* The order the README describes. */
		assert_int_equal(u[0].data[18], IKE_SA_INIT);
		assert_int_equal(u[1].data[18], IKE_SA_INIT);
		assert_int_equal(u[2].data[18], IKE_AUTH);
		assert_int_equal(u[n - 1].data[18], IKE_INFORMATIONAL);
		tpcap_close(&p);
		run_free(&r);
	}
}

/* ---- a truncated capture ------------------------------------------------- */

static void truncated_capture_is_a_clear_error(void **state)
{
	uint8_t *buf;
	size_t len;
	struct pvpn_err e = { 0 };
	char tmp[] = "/tmp/pvpn-test-pcap-XXXXXX";
	int fd = mkstemp(tmp);
	unsigned truncated_msgs = 0;

	assert_true(fd >= 0);
	assert_int_equal(ikd_read_file(path_of(fixtures[0].dir, "ike.pcap"), 1 << 20, &buf, &len, &e), 0);
	/* Every cut from the empty file to one byte short, in steps that hit
	 * headers and bodies alike. */
	for (size_t cut = 0; cut < len; cut += (cut < 64 ? 1 : 13)) {
		assert_int_equal(ftruncate(fd, 0), 0);
		assert_int_equal(pwrite(fd, buf, cut, 0), (ssize_t)cut);
		const char *argv[] = { "pvpn-ikedump", "--keys", path_of(fixtures[0].dir, "keys.txt"), tmp, NULL };
		struct run r = run_ikedump(4, argv);
		/* A pcap that stops at a record boundary is valid, just shorter. */
		if (r.rc == 0) {
			run_free(&r);
			continue;
		}
		assert_int_equal(r.rc, 1);
		assert_true(r.err_len > 0);
		assert_non_null(strstr(r.err, tmp));
		if (cut < 24)
			assert_non_null(strstr(r.err, "not a pcap file"));
		else if (strstr(r.err, "truncated pcap: record"))
			truncated_msgs++;
		else
			fail_msg("cut at %zu: %s", cut, r.err);
		run_free(&r);
	}
	assert_true(truncated_msgs > 100);
	free(buf);
	close(fd);
	unlink(tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_message_parses),
		cmocka_unit_test(verify_matches_every_key),
		cmocka_unit_test(damaged_key_file_mismatches),
		cmocka_unit_test(inner_payloads_match_the_configs),
		cmocka_unit_test(keys_output_shows_the_configs),
		cmocka_unit_test(dump_lists_every_exchange_in_order),
		cmocka_unit_test(truncated_capture_is_a_clear_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
