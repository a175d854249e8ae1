/* Unit tests for EAP-MSCHAPv2: RFC 2759 §9.2's worked example, RFC 3079
 * §3.5.3's key derivation example, MD4 (RFC 1320 §A.5), and the EAP peer
 * against hostile and out-of-turn packets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "ike-lite/auth.h"
#include "ike-lite/constants.h"
#include "lib/err.h"
#include "lib/hex.h"
#include "lib/secret.h"

static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
	int n = hex_decode(out, cap, hex, strlen(hex));
	assert_true(n >= 0);
	return (size_t)n;
}

static void assert_hex(const uint8_t *got, size_t len, const char *want_hex)
{
	uint8_t want[256];
	size_t n = unhex(want, sizeof(want), want_hex);
	assert_int_equal(len, n);
	assert_memory_equal(got, want, n);
}

/* RFC 2759 §9.2 */
#define USER "User"
#define PASSWORD "clientPass"
#define AUTH_CHAL "5B5D7C7D7B3F2F3E3C2C602132262628"
#define PEER_CHAL "21402324255E262A28295F2B3A337C7E"
#define NT_RESP "82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF"
#define AUTH_RESP "S=407A5589115FD0D6209F510FE9C04566932CDA56"

static void md4_rfc1320(void **state)
{
	(void)state;
	uint8_t d[16];
	/* RFC 1320 §A.5 test suite. */
	ike_md4((const uint8_t *)"", 0, d);
	assert_hex(d, 16, "31d6cfe0d16ae931b73c59d7e0c089c0");
	ike_md4((const uint8_t *)"abc", 3, d);
	assert_hex(d, 16, "a448017aaf21d8525fc10ae87aa6729d");
	ike_md4((const uint8_t *)"message digest", 14, d);
	assert_hex(d, 16, "d9130a8164549fe818874806e1c7014b");
	const char *l = "12345678901234567890123456789012345678901234567890123456789012345678901234567890";
	ike_md4((const uint8_t *)l, strlen(l), d);
	assert_hex(d, 16, "e33b4ddc9c38f2199c3e7b164fcc0536");
	const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	ike_md4((const uint8_t *)a, strlen(a), d);
	assert_hex(d, 16, "043f8582f241db351ce627e153e7f0e4");
}

static void rfc2759_example(void **state)
{
	(void)state;
	uint8_t ac[16], pc[16], h[16], hh[16], ch[8], resp[24];
	char ar[43];

	unhex(ac, 16, AUTH_CHAL);
	unhex(pc, 16, PEER_CHAL);
	assert_int_equal(ike_mschap_nt_hash((const uint8_t *)PASSWORD, 10, h), 0);
	assert_hex(h, 16, "44EBBA8D5312B8D611474411F56989AE");
	ike_md4(h, 16, hh);
	assert_hex(hh, 16, "41C00C584BD2D91C4017A2A12FA59F3F");
	assert_int_equal(ike_mschap_challenge_hash(pc, ac, USER, 4, ch), 0);
	assert_hex(ch, 8, "D02E4386BCE91226");
	assert_int_equal(ike_mschap_nt_response(ac, pc, USER, 4, (const uint8_t *)PASSWORD, 10, resp), 0);
	assert_hex(resp, 24, NT_RESP);
	assert_int_equal(ike_mschap_authenticator_response((const uint8_t *)PASSWORD, 10, resp, pc,
							   ac, USER, 4, ar), 0);
	assert_string_equal(ar, AUTH_RESP);
	/* A different password gives a different response. */
	assert_int_equal(ike_mschap_nt_response(ac, pc, USER, 4, (const uint8_t *)"clientPasS", 10, resp), 0);
	uint8_t want[24];
	unhex(want, 24, NT_RESP);
	assert_memory_not_equal(resp, want, 24);
	/* Non-ASCII passwords are refused rather than mis-encoded. */
	assert_int_equal(ike_mschap_nt_hash((const uint8_t *)"caf\xc3\xa9", 5, h), -EINVAL);
}

static void rfc3079_keys(void **state)
{
	(void)state;
	uint8_t hh[16], resp[24], master[16], k[16], msk[64];

	/* RFC 3079 §3.5.3 (128-bit keys), same inputs as RFC 2759 §9.2. */
	unhex(hh, 16, "41C00C584BD2D91C4017A2A12FA59F3F");
	unhex(resp, 24, NT_RESP);
	assert_int_equal(ike_mschap_master_key(hh, resp, master), 0);
	assert_hex(master, 16, "FDECE3717A8C838CB388E527AE3CDD31");
	/* The server's send key ... */
	assert_int_equal(ike_mschap_asym_key(master, 16, true, true, k), 0);
	assert_hex(k, 16, "8B7CDC149B993A1BA118CB153F56DCCB");
	/* ... is the client's receive key ... */
	assert_int_equal(ike_mschap_asym_key(master, 16, false, false, k), 0);
	assert_hex(k, 16, "8B7CDC149B993A1BA118CB153F56DCCB");
	/* ... and the second half of the MSK (MasterSendKey as the server
	 * names it); the first half is the server's receive key, which is
	 * the client's send key. */
	assert_int_equal(ike_mschap_msk((const uint8_t *)PASSWORD, 10, resp, msk), 0);
	assert_hex(msk + 16, 16, "8B7CDC149B993A1BA118CB153F56DCCB");
	assert_int_equal(ike_mschap_asym_key(master, 16, true, false, k), 0);
	assert_memory_equal(msk, k, 16);
	assert_int_equal(ike_mschap_asym_key(master, 16, false, true, k), 0);
	assert_memory_equal(msk, k, 16);
	assert_memory_not_equal(msk, msk + 16, 16);
	static const uint8_t zero[32];
	assert_memory_equal(msk + 32, zero, 32);
}

/* ------------------------------------------------------- the EAP peer */

static void fixed_rand(void *buf, size_t len)
{
	/* RFC 2759 §9.2's peer challenge, so the exchange matches the RFC. */
	uint8_t pc[16];
	unhex(pc, 16, PEER_CHAL);
	assert_int_equal(len, 16);
	memcpy(buf, pc, 16);
}

static struct ike_eap eap;
static uint8_t out[512];
static size_t out_len;
static struct pvpn_err err;

static int setup(void **state)
{
	(void)state;
	struct secret pw = { 0 };
	assert_int_equal(secret_set(&pw, PASSWORD, 10), 0);
	assert_int_equal(ike_eap_init(&eap, USER, &pw), 0);
	secret_free(&pw);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ike_eap_free(&eap);
	return 0;
}

static int step(const uint8_t *p, size_t len)
{
	return ike_eap_step(&eap, p, len, fixed_rand, out, sizeof(out), &out_len, &err);
}

/* An EAP-Request/MSCHAPv2 Challenge with the RFC's authenticator challenge. */
static size_t challenge(uint8_t *p, uint8_t id, uint8_t ms_id)
{
	const char *name = "srv";
	size_t n = 4 + 1 + 4 + 1 + 16 + strlen(name);
	p[0] = IKE_EAP_REQUEST; p[1] = id; p[2] = 0; p[3] = (uint8_t)n;
	p[4] = IKE_EAP_MSCHAPV2; p[5] = 1; p[6] = ms_id;
	p[7] = 0; p[8] = (uint8_t)(n - 5);
	p[9] = 16;
	unhex(p + 10, 16, AUTH_CHAL);
	memcpy(p + 26, name, strlen(name));
	return n;
}

static size_t success_req(uint8_t *p, uint8_t id, uint8_t ms_id, const char *msg)
{
	size_t ml = strlen(msg), n = 4 + 1 + 4 + ml;
	p[0] = IKE_EAP_REQUEST; p[1] = id; p[2] = 0; p[3] = (uint8_t)n;
	p[4] = IKE_EAP_MSCHAPV2; p[5] = 3; p[6] = ms_id;
	p[7] = 0; p[8] = (uint8_t)(n - 5);
	memcpy(p + 9, msg, ml);
	return n;
}

static const uint8_t eap_success[4] = { IKE_EAP_SUCCESS, 9, 0, 4 };
static const uint8_t eap_failure[4] = { IKE_EAP_FAILURE, 9, 0, 4 };

static void peer_full_exchange(void **state)
{
	(void)state;
	uint8_t p[128];
	/* Identity */
	const uint8_t ident[5] = { IKE_EAP_REQUEST, 1, 0, 5, IKE_EAP_IDENTITY };
	assert_int_equal(step(ident, 5), IKE_EAP_CONTINUE);
	assert_int_equal(out_len, 9);
	assert_int_equal(out[0], IKE_EAP_RESPONSE);
	assert_int_equal(out[1], 1);
	assert_memory_equal(out + 5, USER, 4);
	/* Challenge -> Response carrying the RFC's NT-Response. */
	size_t n = challenge(p, 2, 7);
	assert_int_equal(step(p, n), IKE_EAP_CONTINUE);
	assert_int_equal(out_len, 4 + 1 + 4 + 1 + 49 + 4);
	assert_int_equal(out[1], 2);
	assert_int_equal(out[4], IKE_EAP_MSCHAPV2);
	assert_int_equal(out[5], 2);     /* Response */
	assert_int_equal(out[6], 7);     /* MS-CHAPv2-ID echoed */
	assert_int_equal((out[7] << 8) | out[8], out_len - 5);
	assert_hex(out + 10, 16, PEER_CHAL);
	assert_hex(out + 34, 24, NT_RESP);
	assert_memory_equal(out + 59, USER, 4);
	/* EAP-Success before the authenticator response: refused. */
	assert_false(eap.authenticated);
	/* Success request with the right authenticator response. */
	n = success_req(p, 3, 7, AUTH_RESP " M=welcome");
	assert_int_equal(step(p, n), IKE_EAP_CONTINUE);
	assert_true(eap.authenticated);
	assert_int_equal(out_len, 6);
	assert_int_equal(out[5], 3);
	assert_int_equal(eap.msk.len, 64);
	assert_hex(eap.msk.data + 16, 16, "8B7CDC149B993A1BA118CB153F56DCCB");
	assert_int_equal(eap.password.len, 0);   /* wiped once used */
	assert_int_equal(step(eap_success, 4), IKE_EAP_DONE);
}

static void early_success_refused(void **state)
{
	(void)state;
	uint8_t p[128];
	assert_int_equal(step(eap_success, 4), IKE_EAP_FAILED);
	assert_non_null(strstr(eap.fail_msg, "before"));
	/* And nothing more is accepted afterwards. */
	size_t n = challenge(p, 2, 7);
	assert_true(step(p, n) < 0);

	/* After the challenge, still too early. */
	teardown(NULL);
	setup(NULL);
	n = challenge(p, 2, 7);
	assert_int_equal(step(p, n), IKE_EAP_CONTINUE);
	assert_int_equal(step(eap_success, 4), IKE_EAP_FAILED);
	assert_int_equal(eap.msk.len, 0);
}

static void wrong_authenticator_response(void **state)
{
	(void)state;
	uint8_t p[128];
	size_t n = challenge(p, 2, 7);
	assert_int_equal(step(p, n), IKE_EAP_CONTINUE);
	n = success_req(p, 3, 7, "S=407A5589115FD0D6209F510FE9C04566932CDA57");
	assert_int_equal(step(p, n), IKE_EAP_FAILED);
	assert_false(eap.authenticated);
	assert_int_equal(eap.msk.len, 0);
	assert_int_equal(step(eap_success, 4) < 0 || step(eap_success, 4) == IKE_EAP_FAILED, 1);
}

static void mschap_failure_parsed(void **state)
{
	(void)state;
	uint8_t p[160];
	size_t n = challenge(p, 2, 7);
	assert_int_equal(step(p, n), IKE_EAP_CONTINUE);
	const char *msg = "E=691 R=1 C=00112233445566778899AABBCCDDEEFF V=3 M=bad\x01pw";
	size_t ml = strlen(msg);
	n = 9 + ml;
	p[0] = IKE_EAP_REQUEST; p[1] = 3; p[2] = 0; p[3] = (uint8_t)n;
	p[4] = IKE_EAP_MSCHAPV2; p[5] = 4; p[6] = 7; p[7] = 0; p[8] = (uint8_t)(n - 5);
	memcpy(p + 9, msg, ml);
	assert_int_equal(step(p, n), IKE_EAP_FAILED);
	assert_non_null(strstr(eap.fail_msg, "wrong user name or password"));
	assert_non_null(strstr(eap.fail_msg, "bad?pw"));   /* control byte replaced */
}

static void failure_messages_without_underflow(void **state)
{
	(void)state;
	/* Failure packets whose text is empty, ends in "E=" / "M=", or
	 * has MS-Length claiming more/less than there is. */
	static const char *texts[] = { "", "E", "E=", "M=", "E=691", "x M=", "E=99999999999999" };
	for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
		uint8_t p[64];
		teardown(NULL);
		setup(NULL);
		size_t n = challenge(p, 2, 7);
		assert_int_equal(step(p, n), IKE_EAP_CONTINUE);
		size_t ml = strlen(texts[t]);
		n = 9 + ml;
		p[0] = IKE_EAP_REQUEST; p[1] = 3; p[2] = 0; p[3] = (uint8_t)n;
		p[4] = IKE_EAP_MSCHAPV2; p[5] = 4; p[6] = 7; p[7] = 0; p[8] = (uint8_t)(n - 5);
		memcpy(p + 9, texts[t], ml);
		/* MS-Length one too big, then one too small: malformed. */
		p[8] = (uint8_t)(n - 4);
		assert_int_equal(step(p, n), -EBADMSG);
		p[8] = (uint8_t)(n - 6);
		assert_int_equal(step(p, n), -EBADMSG);
		p[8] = (uint8_t)(n - 5);
		assert_int_equal(step(p, n), IKE_EAP_FAILED);
		assert_true(strlen(eap.fail_msg) > 0);
	}
}

static void hostile_packets(void **state)
{
	(void)state;
	uint8_t p[128] = { 0 };
	/* Shorter than the header, and every truncation of a challenge. */
	assert_int_equal(step(p, 0), -EBADMSG);
	size_t n = challenge(p, 2, 7);
	/* (Cutting into the Name still leaves a valid challenge: stop before.) */
	for (size_t k = 0; k < 26; k++) {
		uint8_t q[128];
		memcpy(q, p, k);
		if (k >= 4) {   /* keep Length consistent so deeper checks run */
			q[2] = 0;
			q[3] = (uint8_t)k;
			if (k >= 9)
				q[8] = (uint8_t)(k - 5);
		}
		assert_true(step(q, k) < 0);
		assert_int_equal(out_len, 0);
	}
	/* Length field disagreeing with the packet. */
	p[3] = (uint8_t)(n + 1);
	assert_int_equal(step(p, n), -EBADMSG);
	p[3] = (uint8_t)(n - 1);
	assert_int_equal(step(p, n), -EBADMSG);
	p[3] = (uint8_t)n;
	/* Value-Size other than 16. */
	p[9] = 15;
	assert_int_equal(step(p, n), -EBADMSG);
	p[9] = 16;
	/* A Response code from the server, unknown codes. */
	p[0] = IKE_EAP_RESPONSE;
	assert_int_equal(step(p, n), -EBADMSG);
	p[0] = 9;
	assert_int_equal(step(p, n), -EBADMSG);
	p[0] = IKE_EAP_REQUEST;
	/* Success/Failure with data. */
	const uint8_t s5[5] = { IKE_EAP_SUCCESS, 1, 0, 5, 0 };
	assert_int_equal(step(s5, 5), -EBADMSG);
	/* Unknown MSCHAPv2 OpCode. */
	p[5] = 9;
	assert_int_equal(step(p, n), -EBADMSG);
	p[5] = 1;
	/* A Success request before any challenge. */
	uint8_t q[128];
	size_t m = success_req(q, 3, 7, AUTH_RESP);
	assert_int_equal(step(q, m), -EPROTO);
	/* None of this changed the state: the real exchange still works. */
	assert_int_equal(step(p, n), IKE_EAP_CONTINUE);
	/* A second challenge is refused; a Success with the wrong ID too. */
	assert_int_equal(step(p, n), -EPROTO);
	m = success_req(q, 3, 8, AUTH_RESP);
	assert_int_equal(step(q, m), -EPROTO);
	/* A short success message. */
	m = success_req(q, 3, 7, "S=407A");
	assert_int_equal(step(q, m), -EBADMSG);
	m = success_req(q, 3, 7, AUTH_RESP);
	assert_int_equal(step(q, m), IKE_EAP_CONTINUE);
	assert_int_equal(step(eap_success, 4), IKE_EAP_DONE);
}

static void nak_and_notification(void **state)
{
	(void)state;
	/* EAP-MD5 offered first: Nak asking for MSCHAPv2 (RFC 3748 §5.3.1). */
	const uint8_t md5[6] = { IKE_EAP_REQUEST, 4, 0, 6, IKE_EAP_MD5, 0 };
	assert_int_equal(step(md5, 6), IKE_EAP_CONTINUE);
	assert_int_equal(out_len, 6);
	assert_int_equal(out[4], IKE_EAP_NAK);
	assert_int_equal(out[5], IKE_EAP_MSCHAPV2);
	const uint8_t note[8] = { IKE_EAP_REQUEST, 5, 0, 8, IKE_EAP_NOTIFICATION, 'h', 'i', '!' };
	assert_int_equal(step(note, 8), IKE_EAP_CONTINUE);
	assert_int_equal(out_len, 5);
	assert_int_equal(out[1], 5);
	assert_int_equal(out[4], IKE_EAP_NOTIFICATION);
	assert_int_equal(step(eap_failure, 4), IKE_EAP_FAILED);
	assert_non_null(strstr(eap.fail_msg, "rejected"));
}

static void domain_prefix_not_hashed(void **state)
{
	(void)state;
	/* RFC 2759 §8.2: "CORP\\User" hashes as "User" (so the RFC's NT-Response
	 * comes out) but is sent whole in the Name field. */
	struct secret pw = { 0 };
	struct ike_eap d;
	uint8_t p[128];
	assert_int_equal(secret_set(&pw, PASSWORD, 10), 0);
	assert_int_equal(ike_eap_init(&d, "CORP\\User", &pw), 0);
	secret_free(&pw);
	size_t n = challenge(p, 2, 7);
	assert_int_equal(ike_eap_step(&d, p, n, fixed_rand, out, sizeof(out), &out_len, &err),
			 IKE_EAP_CONTINUE);
	assert_hex(out + 34, 24, NT_RESP);
	assert_memory_equal(out + 59, "CORP\\User", 9);
	n = success_req(p, 3, 7, AUTH_RESP);
	assert_int_equal(ike_eap_step(&d, p, n, fixed_rand, out, sizeof(out), &out_len, &err),
			 IKE_EAP_CONTINUE);
	assert_true(d.authenticated);
	ike_eap_free(&d);
}

static void msk_auth_is_prf_of_msk(void **state)
{
	(void)state;
	uint8_t k[32], a[64], b[64], msg[40], nonce[16], idb[8] = { 2, 0, 0, 0, 'a', 'b', 'c', 'd' };
	struct secret skp = { k, 32 }, msk = { 0 };
	struct pvpn_err e;
	memset(k, 1, sizeof(k));
	memset(msg, 2, sizeof(msg));
	memset(nonce, 3, sizeof(nonce));
	struct ike_auth_input in = { .prf = 5, .real_msg = msg, .real_msg_len = sizeof(msg),
		.peer_nonce = nonce, .peer_nonce_len = sizeof(nonce), .sk_p = &skp,
		.id_body = idb, .id_body_len = sizeof(idb) };
	assert_true(ike_auth_msk(&in, &msk, a, sizeof(a), &e) < 0);   /* no MSK */
	uint8_t m[64];
	memset(m, 7, sizeof(m));
	assert_int_equal(secret_set(&msk, m, 64), 0);
	assert_int_equal(ike_auth_msk(&in, &msk, a, sizeof(a), &e), 32);
	/* RFC 7296 §2.16: exactly the PSK computation with the MSK as key. */
	assert_int_equal(ike_auth_psk(&in, &msk, b, sizeof(b), &e), 32);
	assert_memory_equal(a, b, 32);
	m[0] ^= 1;
	assert_int_equal(secret_set(&msk, m, 64), 0);
	assert_int_equal(ike_auth_msk(&in, &msk, b, sizeof(b), &e), 32);
	assert_memory_not_equal(a, b, 32);
	secret_free(&msk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(md4_rfc1320),
		cmocka_unit_test(rfc2759_example),
		cmocka_unit_test(rfc3079_keys),
		cmocka_unit_test_setup_teardown(peer_full_exchange, setup, teardown),
		cmocka_unit_test_setup_teardown(early_success_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(wrong_authenticator_response, setup, teardown),
		cmocka_unit_test_setup_teardown(mschap_failure_parsed, setup, teardown),
		cmocka_unit_test_setup_teardown(failure_messages_without_underflow, setup, teardown),
		cmocka_unit_test_setup_teardown(hostile_packets, setup, teardown),
		cmocka_unit_test_setup_teardown(nak_and_notification, setup, teardown),
		cmocka_unit_test(domain_prefix_not_hashed),
		cmocka_unit_test(msk_auth_is_prf_of_msk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
