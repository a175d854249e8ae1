/* Unit tests for the control protocol codec (ctl/proto.c): request round
 * trips for every op, one test per rejection reason, every truncation and
 * every single-byte corruption of valid requests, reply/event round trips
 * with status information, and the error vocabulary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/proto.h"
#include "ike-lite/ike.h"

static uint8_t buf[4 + CTL_FRAME_MAX + 64];

static int enc(uint16_t op, uint32_t seq, const char *name, const char *text)
{
	struct ctl_request rq = { .op = op, .seq = seq };
	if (name) {
		rq.has_name = true;
		snprintf(rq.name, sizeof(rq.name), "%s", name);
	}
	if (text) {
		rq.text = text;
		rq.text_len = strlen(text);
	}
	return ctl_request_encode(&rq, buf, sizeof(buf));
}

static int dec(size_t frame_len, struct ctl_request *rq, uint32_t *seq, struct pvpn_err *e)
{
	return ctl_request_decode(buf + 4, frame_len - 4, rq, seq, e);
}

static void request_round_trip_all_ops(void **state)
{
	static const struct { uint16_t op; const char *name, *text; } cases[] = {
		{ CTL_OP_SAVE, "home", "[IKEv2]\nServer = a\n" },
		{ CTL_OP_LOAD, "home", NULL },
		{ CTL_OP_REMOVE, "a.b-c_d", NULL },
		{ CTL_OP_LIST, NULL, NULL },
		{ CTL_OP_CONNECT, "x", NULL },
		{ CTL_OP_DISCONNECT, "x", NULL },
		{ CTL_OP_STATUS, NULL, NULL },
		{ CTL_OP_STATUS, "x", NULL },
		{ CTL_OP_WATCH, NULL, NULL },
		{ CTL_OP_LAST_ERROR, "x", NULL },
		{ CTL_OP_SAVE, "empty", "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = enc(cases[i].op, 1000 + (uint32_t)i, cases[i].name, cases[i].text);
		assert_true(n > 0);
		/* The length prefix covers the rest exactly. */
		uint32_t fl = (uint32_t)buf[0] << 24 | buf[1] << 16 | buf[2] << 8 | buf[3];
		assert_int_equal(fl, (uint32_t)n - 4);
		struct ctl_request rq;
		struct pvpn_err e = { 0 };
		uint32_t seq = 0;
		assert_int_equal(dec((size_t)n, &rq, &seq, &e), 0);
		assert_int_equal(rq.op, cases[i].op);
		assert_int_equal(rq.seq, 1000 + i);
		assert_int_equal(seq, 1000 + i);
		assert_int_equal(rq.has_name, cases[i].name != NULL);
		if (cases[i].name)
			assert_string_equal(rq.name, cases[i].name);
		if (cases[i].text) {
			assert_int_equal(rq.text_len, strlen(cases[i].text));
			assert_memory_equal(rq.text, cases[i].text, rq.text_len);
		} else {
			assert_int_equal(rq.text_len, 0);
		}
	}
}

/* Hand-built frames for the rejections. */
static size_t raw(uint8_t version, uint8_t kind, uint16_t op, uint32_t seq, const uint8_t *attrs,
		  size_t alen)
{
	size_t n = 4 + CTL_HDR_LEN + alen;
	uint32_t fl = (uint32_t)(n - 4);
	buf[0] = (uint8_t)(fl >> 24); buf[1] = (uint8_t)(fl >> 16);
	buf[2] = (uint8_t)(fl >> 8); buf[3] = (uint8_t)fl;
	buf[4] = version; buf[5] = kind; buf[6] = (uint8_t)(op >> 8); buf[7] = (uint8_t)op;
	buf[8] = (uint8_t)(seq >> 24); buf[9] = (uint8_t)(seq >> 16);
	buf[10] = (uint8_t)(seq >> 8); buf[11] = (uint8_t)seq;
	if (alen)
		memcpy(buf + 12, attrs, alen);
	return n;
}

static size_t attr(uint8_t *p, uint16_t type, const void *v, uint32_t len)
{
	p[0] = (uint8_t)(type >> 8); p[1] = (uint8_t)type;
	p[2] = (uint8_t)(len >> 24); p[3] = (uint8_t)(len >> 16);
	p[4] = (uint8_t)(len >> 8); p[5] = (uint8_t)len;
	if (len && v)
		memcpy(p + 6, v, len);
	return 6 + len;
}

static void expect_reject(size_t n, int code, const char *words)
{
	struct ctl_request rq;
	struct pvpn_err e = { 0 };
	uint32_t seq = 0;
	int rc = dec(n, &rq, &seq, &e);
	assert_int_equal(rc, code);
	assert_true(e.msg[0] != '\0');
	if (words && !strstr(e.msg, words))
		fail_msg("expected '%s' in '%s'", words, e.msg);
}

static void request_rejections(void **state)
{
	uint8_t a[256];
	size_t l;
	struct ctl_request rq;
	struct pvpn_err e = { 0 };
	uint32_t seq = 0;

	/* Truncated header: fewer than 8 bytes. */
	for (size_t k = 0; k < CTL_HDR_LEN; k++) {
		raw(1, CTL_KIND_REQUEST, CTL_OP_LIST, 7, NULL, 0);
		assert_int_equal(ctl_request_decode(buf + 4, k, &rq, &seq, &e), -EINVAL);
		assert_int_equal(seq, 0);
	}
	expect_reject(raw(2, CTL_KIND_REQUEST, CTL_OP_LIST, 7, NULL, 0), -EPROTONOSUPPORT,
		      "version");
	expect_reject(raw(0, CTL_KIND_REQUEST, CTL_OP_LIST, 7, NULL, 0), -EPROTONOSUPPORT, NULL);
	expect_reject(raw(1, CTL_KIND_REPLY, CTL_OP_LIST, 7, NULL, 0), -EINVAL, "request");
	expect_reject(raw(1, CTL_KIND_EVENT, CTL_OP_LIST, 7, NULL, 0), -EINVAL, "request");
	expect_reject(raw(1, CTL_KIND_REQUEST, 0, 7, NULL, 0), -EOPNOTSUPP, "unknown");
	expect_reject(raw(1, CTL_KIND_REQUEST, CTL_OP_MAX_ + 1, 7, NULL, 0), -EOPNOTSUPP, NULL);
	expect_reject(raw(1, CTL_KIND_REQUEST, 0xffff, 7, NULL, 0), -EOPNOTSUPP, NULL);
	/* The seq is reported even for a bad request, for the error reply. */
	dec(raw(1, CTL_KIND_REQUEST, 0xffff, 0xabcdef01, NULL, 0), &rq, &seq, &e);
	assert_int_equal(seq, 0xabcdef01);

	/* Missing required attributes. */
	expect_reject(raw(1, CTL_KIND_REQUEST, CTL_OP_CONNECT, 1, NULL, 0), -EINVAL, "name");
	l = attr(a, CTL_A_NAME, "x", 1);
	expect_reject(raw(1, CTL_KIND_REQUEST, CTL_OP_SAVE, 1, a, l), -EINVAL, "text");
	/* Attributes an op does not take, unknown attributes. */
	expect_reject(raw(1, CTL_KIND_REQUEST, CTL_OP_LIST, 1, a, l), -EINVAL, "not allowed");
	l = attr(a, CTL_A_TEXT, "t", 1);
	expect_reject(raw(1, CTL_KIND_REQUEST, CTL_OP_LOAD, 1, a, l), -EINVAL, "not allowed");
	l = attr(a, 999, "t", 1);
	expect_reject(raw(1, CTL_KIND_REQUEST, CTL_OP_STATUS, 1, a, l), -EINVAL, "not allowed");
	l = attr(a, CTL_A_RESULT, "\0\0\0\0", 4);
	expect_reject(raw(1, CTL_KIND_REQUEST, CTL_OP_STATUS, 1, a, l), -EINVAL, "not allowed");
	/* Duplicates. */
	l = attr(a, CTL_A_NAME, "x", 1);
	l += attr(a + l, CTL_A_NAME, "y", 1);
	expect_reject(raw(1, CTL_KIND_REQUEST, CTL_OP_LOAD, 1, a, l), -EINVAL, "twice");
	/* Bad names: empty, too long, bad characters, NUL, leading dot/dash. */
	l = attr(a, CTL_A_NAME, "", 0);
	expect_reject(raw(1, CTL_KIND_REQUEST, CTL_OP_LOAD, 1, a, l), -EINVAL, NULL);
	char longname[PROF_NAME_MAX + 1];
	memset(longname, 'a', sizeof(longname));
	l = attr(a, CTL_A_NAME, longname, PROF_NAME_MAX);
	expect_reject(raw(1, CTL_KIND_REQUEST, CTL_OP_LOAD, 1, a, l), -EINVAL, NULL);
	static const char *const bad[] = { "../etc", "a/b", ".hidden", "-x", "a b", "x\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		l = attr(a, CTL_A_NAME, bad[i], (uint32_t)strlen(bad[i]));
		expect_reject(raw(1, CTL_KIND_REQUEST, CTL_OP_CONNECT, 1, a, l), -EINVAL, NULL);
	}
	l = attr(a, CTL_A_NAME, "a\0b", 3);
	expect_reject(raw(1, CTL_KIND_REQUEST, CTL_OP_CONNECT, 1, a, l), -EINVAL, "NUL");
	/* Text with a NUL byte. */
	l = attr(a, CTL_A_NAME, "x", 1);
	l += attr(a + l, CTL_A_TEXT, "ab\0cd", 5);
	expect_reject(raw(1, CTL_KIND_REQUEST, CTL_OP_SAVE, 1, a, l), -EINVAL, "NUL");
	/* Attribute length beyond the frame, truncated attribute header. */
	l = attr(a, CTL_A_NAME, "x", 1);
	a[5] = 200;
	expect_reject(raw(1, CTL_KIND_REQUEST, CTL_OP_LOAD, 1, a, l), -EINVAL, "claims");
	l = attr(a, CTL_A_NAME, "x", 1);
	a[2] = 0xff;
	expect_reject(raw(1, CTL_KIND_REQUEST, CTL_OP_LOAD, 1, a, l), -EINVAL, "claims");
	expect_reject(raw(1, CTL_KIND_REQUEST, CTL_OP_LOAD, 1, a, 3), -EINVAL, "truncated");
	/* A body larger than a frame may be. */
	assert_int_equal(ctl_request_decode(buf, CTL_FRAME_MAX + 1, &rq, &seq, &e), -EMSGSIZE);
}

static void request_text_too_large(void **state)
{
	static char big[CTL_TEXT_MAX + 2];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	/* One byte over the bound: the encoder still fits it in a frame, the
	 * decoder refuses it. */
	int n = enc(CTL_OP_SAVE, 1, "x", big);
	assert_true(n > 0);
	expect_reject((size_t)n, -EMSGSIZE, "too large");
	big[sizeof(big) - 2] = '\0';
	n = enc(CTL_OP_SAVE, 1, "x", big);
	struct ctl_request rq;
	struct pvpn_err e = { 0 };
	assert_int_equal(dec((size_t)n, &rq, NULL, &e), 0);
	assert_int_equal(rq.text_len, CTL_TEXT_MAX);
	/* Beyond a frame the encoder refuses. */
	static char huge[CTL_FRAME_MAX + 10];
	memset(huge, 'y', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	assert_int_equal(enc(CTL_OP_SAVE, 1, "x", huge), -EMSGSIZE);
}

/* Every prefix of a valid request and every single-byte change either
 * decodes to a valid request or is refused; none crashes (ASan in `make
 * san`), and a refusal always says why. */
static void request_truncations_and_flips(void **state)
{
	int n = enc(CTL_OP_SAVE, 42, "home", "[IKEv2]\nServer = vpn\n");
	assert_true(n > 0);
	uint8_t orig[256];
	memcpy(orig, buf, (size_t)n);
	struct ctl_request rq;
	struct pvpn_err e;
	for (int k = 0; k < n - 4; k++) {
		memset(&e, 0, sizeof(e));
		assert_true(ctl_request_decode(orig + 4, (size_t)k, &rq, NULL, &e) < 0);
		assert_true(e.msg[0] != '\0');
	}
	unsigned accepted = 0, refused = 0;
	for (int pos = 4; pos < n; pos++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(buf, orig, (size_t)n);
			buf[pos] ^= (uint8_t)(1 << bit);
			memset(&e, 0, sizeof(e));
			int rc = ctl_request_decode(buf + 4, (size_t)n - 4, &rq, NULL, &e);
			if (rc == 0) {
				accepted++;
				assert_true(rq.op >= 1 && rq.op <= CTL_OP_MAX_);
				if (rq.has_name)
					assert_true(strlen(rq.name) < PROF_NAME_MAX);
			} else {
				refused++;
				assert_true(e.msg[0] != '\0');
			}
		}
	}
	/* Flips in the seq or the text are fine; in the header mostly not. */
	assert_true(accepted > 0);
	assert_true(refused > 0);
}

static void reply_round_trip(void **state)
{
	static struct ctl_conn_info ci;
	memset(&ci, 0, sizeof(ci));
	snprintf(ci.name, sizeof(ci.name), "home");
	ci.status = CTL_ST_CONNECTED;
	ci.error = CTL_VE_NONE;
	snprintf(ci.server, sizeof(ci.server), "vpn.example.com");
	snprintf(ci.server_addr, sizeof(ci.server_addr), "192.0.2.1");
	snprintf(ci.local_addr, sizeof(ci.local_addr), "192.0.2.2");
	ci.since = 1790000000;
	ci.n_vip = 1;
	snprintf(ci.vip[0], CTL_ADDR_STR, "10.9.0.1");
	ci.n_dns = 2;
	snprintf(ci.dns[0], CTL_ADDR_STR, "10.9.0.53");
	snprintf(ci.dns[1], CTL_ADDR_STR, "fd00::53");
	ci.n_child = 1;
	struct ctl_child_info *c = &ci.child[0];
	c->spi_in = 0xc0ffee01;
	c->spi_out = 0xdeadbeef;
	snprintf(c->encr, sizeof(c->encr), "rfc4106(gcm(aes))");
	c->keybits = 256;
	c->encap = true;
	c->n_ts_local = 1;
	snprintf(c->ts_local[0], CTL_ADDR_STR, "10.9.0.1/32");
	c->n_ts_remote = 2;
	snprintf(c->ts_remote[0], CTL_ADDR_STR, "10.0.0.0/8");
	snprintf(c->ts_remote[1], CTL_ADDR_STR, "fd00::/8");
	c->bytes_in = 0x123456789ull;
	c->packets_in = 77;
	c->bytes_out = 5;
	c->packets_out = 1;
	c->has_rekey = true;
	c->rekey_s = 3240;
	c->added = 1790000001;

	struct ctl_msg m;
	ctl_msg_begin(&m, buf, sizeof(buf), CTL_KIND_REPLY, CTL_OP_STATUS, 9);
	ctl_msg_u32(&m, CTL_A_RESULT, CTL_RES_OK);
	ctl_msg_str(&m, CTL_A_MESSAGE, "fine");
	ctl_msg_conn(&m, &ci);
	ctl_msg_nest_begin(&m, CTL_A_PROFILE);
	ctl_msg_str(&m, CTL_A_NAME, "broken");
	ctl_msg_u8(&m, CTL_A_OK, 0);
	ctl_msg_str(&m, CTL_A_MESSAGE, "broken.conf:3: bad");
	ctl_msg_nest_end(&m);
	ctl_msg_u32(&m, 777, 1);       /* unknown attribute: skipped by the client */
	int n = ctl_msg_finish(&m);
	assert_true(n > 0);

	struct ctl_reply r = { 0 };
	struct pvpn_err e = { 0 };
	assert_int_equal(ctl_reply_decode(buf + 4, (size_t)n - 4, &r, &e), 0);
	assert_int_equal(r.kind, CTL_KIND_REPLY);
	assert_int_equal(r.op, CTL_OP_STATUS);
	assert_int_equal(r.seq, 9);
	assert_int_equal(r.result, CTL_RES_OK);
	assert_string_equal(r.message, "fine");
	assert_int_equal(r.n_conn, 1);
	assert_int_equal(r.n_list, 1);
	assert_string_equal(r.list[0].name, "broken");
	assert_false(r.list[0].ok);
	assert_string_equal(r.list[0].message, "broken.conf:3: bad");
	/* Everything survives the trip. */
	assert_memory_equal(&r.conn[0], &ci, sizeof(ci));

	/* A truncated reply is refused unless it ends exactly between two
	 * top-level attributes (then it is a shorter valid reply); inside the
	 * CONN attribute every cut is refused. */
	size_t conn_start = 4 + CTL_HDR_LEN + 6 + 4 + 6 + 4;   /* after RESULT, MESSAGE */
	size_t conn_end = conn_start + 6 + ((size_t)buf[conn_start + 4] << 8 | buf[conn_start + 5]);
	unsigned refused = 0;
	for (int k = 0; k < n - 4; k++) {
		struct ctl_reply r2 = { 0 };
		int rc = ctl_reply_decode(buf + 4, (size_t)k, &r2, &e);
		if (rc < 0)
			refused++;
		else
			assert_true(r2.n_conn <= 1 && r2.n_list <= 1);
		if ((size_t)k + 4 > conn_start && (size_t)k + 4 < conn_end)
			assert_true(rc < 0);
		if (k < CTL_HDR_LEN)
			assert_true(rc < 0);
		ctl_reply_free(&r2);
	}
	assert_true(refused > (unsigned)(n - 4) - 8);
	ctl_reply_free(&r);
}

static void error_reply_and_event(void **state)
{
	int n = ctl_error_encode(buf, sizeof(buf), CTL_OP_CONNECT, 5, CTL_RES_INVALID,
				 "configurationNotFound", "no profile 'x'");
	assert_true(n > 0);
	struct ctl_reply r = { 0 };
	struct pvpn_err e = { 0 };
	assert_int_equal(ctl_reply_decode(buf + 4, (size_t)n - 4, &r, &e), 0);
	assert_int_equal(r.result, CTL_RES_INVALID);
	assert_string_equal(r.error, "configurationNotFound");
	assert_string_equal(r.message, "no profile 'x'");
	assert_int_equal(r.seq, 5);

	/* A result the protocol does not define is refused. */
	struct ctl_msg m;
	ctl_msg_begin(&m, buf, sizeof(buf), CTL_KIND_REPLY, CTL_OP_LIST, 1);
	ctl_msg_u32(&m, CTL_A_RESULT, 99);
	n = ctl_msg_finish(&m);
	assert_true(ctl_reply_decode(buf + 4, (size_t)n - 4, &r, &e) < 0);

	/* An event. */
	static struct ctl_conn_info ci;
	memset(&ci, 0, sizeof(ci));
	snprintf(ci.name, sizeof(ci.name), "x");
	ci.status = CTL_ST_DISCONNECTED;
	ci.error = CTL_VE_AUTHENTICATION_FAILED;
	snprintf(ci.detail, sizeof(ci.detail), "server sent AUTHENTICATION_FAILED");
	ci.error_time = 12345;
	ctl_msg_begin(&m, buf, sizeof(buf), CTL_KIND_EVENT, CTL_EV_STATUS, 0);
	ctl_msg_conn(&m, &ci);
	n = ctl_msg_finish(&m);
	assert_int_equal(ctl_reply_decode(buf + 4, (size_t)n - 4, &r, &e), 0);
	assert_int_equal(r.kind, CTL_KIND_EVENT);
	assert_int_equal(r.n_conn, 1);
	assert_int_equal(r.conn[0].error, CTL_VE_AUTHENTICATION_FAILED);
	assert_string_equal(r.conn[0].detail, "server sent AUTHENTICATION_FAILED");
	assert_int_equal(r.conn[0].error_time, 12345);
	/* A request is not a reply. */
	n = enc(CTL_OP_LIST, 1, NULL, NULL);
	assert_true(ctl_reply_decode(buf + 4, (size_t)n - 4, &r, &e) < 0);
	ctl_reply_free(&r);
}

static void msg_overflow(void **state)
{
	uint8_t small[20];
	struct ctl_msg m;
	ctl_msg_begin(&m, small, sizeof(small), CTL_KIND_REPLY, 1, 1);
	ctl_msg_str(&m, CTL_A_MESSAGE, "this does not fit in twenty bytes");
	assert_int_equal(ctl_msg_finish(&m), -EMSGSIZE);
	/* Unbalanced nesting is refused. */
	ctl_msg_begin(&m, buf, sizeof(buf), CTL_KIND_REPLY, 1, 1);
	ctl_msg_nest_begin(&m, CTL_A_CONN);
	assert_int_equal(ctl_msg_finish(&m), -EMSGSIZE);
	ctl_msg_begin(&m, buf, sizeof(buf), CTL_KIND_REPLY, 1, 1);
	ctl_msg_nest_end(&m);
	assert_int_equal(ctl_msg_finish(&m), -EMSGSIZE);
}

static void names_and_errors(void **state)
{
	assert_string_equal(ctl_status_str(CTL_ST_INVALID), "invalid");
	assert_string_equal(ctl_status_str(CTL_ST_DISCONNECTED), "disconnected");
	assert_string_equal(ctl_status_str(CTL_ST_CONNECTING), "connecting");
	assert_string_equal(ctl_status_str(CTL_ST_CONNECTED), "connected");
	assert_string_equal(ctl_status_str(CTL_ST_REASSERTING), "reasserting");
	assert_string_equal(ctl_status_str(CTL_ST_DISCONNECTING), "disconnecting");
	/* Every error has a camelCase name and a sentence. */
	for (int k = 1; k <= CTL_VE_MAX_; k++) {
		const char *n = ctl_vpn_error_str((enum ctl_vpn_error)k);
		assert_true(n[0] >= 'a' && n[0] <= 'z');
		assert_null(strchr(n, '_'));
		assert_true(strlen(ctl_vpn_error_sentence((enum ctl_vpn_error)k)) > 10);
	}
	assert_string_equal(ctl_vpn_error_str(CTL_VE_MAX_ + 1), "unknown");
	/* The engine's errors and the manager's early failures. */
	assert_int_equal(ctl_vpn_error_from(IKE_ERR_AUTHENTICATION_FAILED, -ECONNABORTED, ""),
			 CTL_VE_AUTHENTICATION_FAILED);
	assert_int_equal(ctl_vpn_error_from(IKE_ERR_SERVER_NOT_RESPONDING, -ECONNABORTED, ""),
			 CTL_VE_SERVER_NOT_RESPONDING);
	assert_int_equal(ctl_vpn_error_from(IKE_ERR_NEGOTIATION_FAILED, -ECONNABORTED, ""),
			 CTL_VE_NEGOTIATION_FAILED);
	assert_int_equal(ctl_vpn_error_from(IKE_ERR_TS_UNACCEPTABLE, -ECONNABORTED, ""),
			 CTL_VE_NEGOTIATION_FAILED);
	assert_int_equal(ctl_vpn_error_from(IKE_ERR_SERVER_DISCONNECTED, -ECONNABORTED, ""),
			 CTL_VE_SERVER_DISCONNECTED);
	assert_int_equal(ctl_vpn_error_from(IKE_ERR_SERVER_DEAD, -ECONNABORTED, ""),
			 CTL_VE_SERVER_DEAD);
	assert_int_equal(ctl_vpn_error_from(IKE_ERR_SERVER_CERT_EXPIRED, -ECONNABORTED, ""),
			 CTL_VE_SERVER_CERT_EXPIRED);
	assert_int_equal(ctl_vpn_error_from(IKE_ERR_SERVER_CERT_NOT_YET_VALID, -ECONNABORTED, ""),
			 CTL_VE_SERVER_CERT_NOT_YET_VALID);
	assert_int_equal(ctl_vpn_error_from(IKE_ERR_SERVER_CERT_INVALID, -ECONNABORTED, ""),
			 CTL_VE_SERVER_CERT_INVALID);
	assert_int_equal(ctl_vpn_error_from(IKE_ERR_SERVER_IDENTITY_MISMATCH, -ECONNABORTED, ""),
			 CTL_VE_SERVER_CERT_INVALID);
	assert_int_equal(ctl_vpn_error_from(IKE_ERR_CLIENT_CERT_REJECTED, -ECONNABORTED, ""),
			 CTL_VE_CLIENT_CERT_INVALID);
	assert_int_equal(ctl_vpn_error_from(IKE_ERR_CONFIGURATION_FAILED, -EINVAL, ""),
			 CTL_VE_CONFIGURATION_FAILED);
	assert_int_equal(ctl_vpn_error_from(IKE_ERR_NONE, -EHOSTUNREACH,
					    "server address resolution failed: x"),
			 CTL_VE_SERVER_ADDRESS_RESOLUTION_FAILED);
	assert_int_equal(ctl_vpn_error_from(IKE_ERR_NONE, -ENETUNREACH,
					    "no network path to the server: x"),
			 CTL_VE_NO_NETWORK);
	assert_int_equal(ctl_vpn_error_from(IKE_ERR_NONE, 0, ""), CTL_VE_NONE);
	assert_int_equal(ctl_vpn_error_from(IKE_ERR_NONE, -EEXIST, "adding"),
			 CTL_VE_CONFIGURATION_FAILED);
	assert_string_equal(ctl_op_str(CTL_OP_LAST_ERROR), "last-error");
	assert_null(ctl_op_str(0));
	assert_null(ctl_op_str(CTL_OP_MAX_ + 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(request_round_trip_all_ops),
		cmocka_unit_test(request_rejections),
		cmocka_unit_test(request_text_too_large),
		cmocka_unit_test(request_truncations_and_flips),
		cmocka_unit_test(reply_round_trip),
		cmocka_unit_test(error_reply_and_event),
		cmocka_unit_test(msg_overflow),
		cmocka_unit_test(names_and_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
