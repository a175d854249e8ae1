/* Unit tests for kernel-xfrm's decoders, on netlink messages recorded from
 * a real kernel (tests/fixtures/netlink, see its README): errors with
 * extended-ACK text and the sentences made of them, policy and SA dumps,
 * ACQUIRE and EXPIRE events, a MAPPING built with the kernel's layout, and
 * every recorded message cut short or corrupted, which must be rejected
 * without crashing. */
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
#include <sys/socket.h>

#include "kernel-xfrm/nl.h"

#define FIX "tests/fixtures/netlink/"

static uint8_t msg[8192] __attribute__((aligned(4)));

static size_t load(const char *name)
{
	FILE *f = fopen(name, "rb");
	size_t n;
	if (!f)
		fail_msg("cannot open %s (run from the repository root)", name);
	n = fread(msg, 1, sizeof(msg), f);
	fclose(f);
	assert_true(n >= NLMSG_HDRLEN);
	return n;
}

static const struct nlmsghdr *nth(size_t total, int k, size_t *len)
{
	size_t off = 0;
	for (int i = 0; off + NLMSG_HDRLEN <= total; i++) {
		const struct nlmsghdr *h = (const void *)(msg + off);
		assert_true(h->nlmsg_len >= NLMSG_HDRLEN && off + h->nlmsg_len <= total);
		if (i == k) {
			*len = h->nlmsg_len;
			return h;
		}
		off += NLMSG_ALIGN(h->nlmsg_len);
	}
	return NULL;
}

static struct xfrm_addr A(const char *s)
{
	struct xfrm_addr a;
	assert_int_equal(xfrm_addr_parse(s, &a), 0);
	return a;
}

static void error_no_esp(void **state)
{
	size_t n = load(FIX "err-noesp.bin");
	struct nl_ack ack;
	struct pvpn_err e;
	struct xfrm_sa sa;

	assert_true(nl_parse_error((const void *)msg, n, &ack));
	assert_int_equal(ack.code, -EPROTONOSUPPORT);
	assert_string_equal(ack.msg, "Requested type not found");
	memset(&sa, 0, sizeof(sa));
	sa.dst = A("192.0.2.2");
	sa.spi = 0x11223344;
	assert_int_equal(xfrm_err_kernel(&e, OP_SA_ADD, &ack, &sa), -EPROTONOSUPPORT);
	assert_string_equal(e.msg, "this kernel has no ESP support (load esp4/esp6, or enable "
			    "CONFIG_INET_ESP) (kernel: Requested type not found)");
	sa.dst = A("2001:db8::2");
	xfrm_err_kernel(&e, OP_SA_ADD, &ack, &sa);
	assert_non_null(strstr(e.msg, "CONFIG_INET6_ESP"));
}

static void error_no_algorithm(void **state)
{
	size_t n = load(FIX "err-noalg.bin");
	struct nl_ack ack;
	struct pvpn_err e;
	struct xfrm_sa sa;

	assert_true(nl_parse_error((const void *)msg, n, &ack));
	assert_int_equal(ack.code, -ENOSYS);
	assert_string_equal(ack.msg, "Requested AEAD algorithm not found");
	memset(&sa, 0, sizeof(sa));
	sa.dst = A("192.0.2.2");
	strcpy(sa.aead.name, "rfc4106(gcm(nosuch))");
	assert_int_equal(xfrm_err_kernel(&e, OP_SA_ADD, &ack, &sa), -ENOSYS);
	assert_non_null(strstr(e.msg, "no crypto algorithm \"rfc4106(gcm(nosuch))\""));
	/* With a cipher + integrity pair the kernel's text picks which. */
	memset(&sa.aead, 0, sizeof(sa.aead));
	strcpy(sa.enc.name, "cbc(aes)");
	strcpy(sa.auth.name, "hmac(sha999)");
	strcpy(ack.msg, "Requested AUTH_TRUNC algorithm not found");
	xfrm_err_kernel(&e, OP_SA_ADD, &ack, &sa);
	assert_non_null(strstr(e.msg, "\"hmac(sha999)\""));
	strcpy(ack.msg, "Requested CRYPT algorithm not found");
	xfrm_err_kernel(&e, OP_SA_ADD, &ack, &sa);
	assert_non_null(strstr(e.msg, "\"cbc(aes)\""));
}

static void ack_and_exist(void **state)
{
	size_t n = load(FIX "ack.bin");
	struct nl_ack ack;
	struct pvpn_err e;
	struct xfrm_policy p;

	assert_true(nl_parse_error((const void *)msg, n, &ack));
	assert_int_equal(ack.code, 0);
	assert_string_equal(ack.msg, "");
	n = load(FIX "err-exist.bin");
	assert_true(nl_parse_error((const void *)msg, n, &ack));
	assert_int_equal(ack.code, -EEXIST);
	memset(&p, 0, sizeof(p));
	p.sel.family = AF_INET;
	p.sel.dst = A("10.77.0.0");
	p.sel.dst_len = 24;
	p.dir = XFRM_DIR_OUT;
	assert_int_equal(xfrm_err_kernel(&e, OP_POLICY_ADD, &ack, &p), -EEXIST);
	assert_string_equal(e.msg, "out policy any/0 -> 10.77.0.0/24 already exists");
}

static void error_sentences(void **state)
{
	struct nl_ack ack = { .code = -EPERM };
	struct pvpn_err e;
	struct xfrm_sa_id id;

	memset(&id, 0, sizeof(id));
	id.dst = A("192.0.2.9");
	id.spi = 0xabcdef01;
	xfrm_err_kernel(&e, OP_SA_ADD, &ack, NULL);
	assert_non_null(strstr(e.msg, "CAP_NET_ADMIN"));
	ack.code = -ESRCH;                    /* the kernel's "no such SA" */
	assert_int_equal(xfrm_err_kernel(&e, OP_SA_DELETE, &ack, &id), -ENOENT);
	assert_int_equal(e.code, -ENOENT);
	assert_string_equal(e.msg, "SA 0xabcdef01 to 192.0.2.9 does not exist");
	ack.code = -ENOENT;
	xfrm_err_kernel(&e, OP_POLICY_DELETE, &ack, NULL);
	assert_non_null(strstr(e.msg, "does not exist"));
	ack.code = -EINVAL;
	strcpy(ack.msg, "Invalid key length");
	xfrm_err_kernel(&e, OP_SA_GET, &ack, &id);
	assert_string_equal(e.msg, "the kernel rejected SA 0xabcdef01 to 192.0.2.9 as invalid (kernel: Invalid key length)");
}

static void error_uncapped_with_echo(void **state)
{
	/* Without NETLINK_CAP_ACK the kernel echoes the request before the
	 * TLVs: build one like that from the recorded capped error. */
	uint8_t b[256] __attribute__((aligned(4)));
	size_t n = load(FIX "err-noesp.bin");
	struct nlmsghdr *h = (void *)b;
	struct nl_ack ack;
	size_t echo = 24;                 /* the request's payload */
	memcpy(b, msg, NLMSG_HDRLEN + 20);
	memset(b + NLMSG_HDRLEN + 20, 0xee, echo);
	memcpy(b + NLMSG_HDRLEN + 20 + echo, msg + NLMSG_HDRLEN + 20, n - NLMSG_HDRLEN - 20);
	h->nlmsg_len = (uint32_t)(n + echo);
	h->nlmsg_flags &= (uint16_t)~NLM_F_CAPPED;
	uint32_t olen = NLMSG_HDRLEN + (uint32_t)echo;
	memcpy(b + NLMSG_HDRLEN + 4, &olen, 4);
	assert_true(nl_parse_error(h, n + echo, &ack));
	assert_int_equal(ack.code, -EPROTONOSUPPORT);
	assert_string_equal(ack.msg, "Requested type not found");
}

static void policy_dump(void **state)
{
	size_t total = load(FIX "policy-dump.bin"), len = 0;
	const struct nlmsghdr *h;
	struct xfrm_policy_info p;
	char s[64];
	int pols = 0, done = 0;

	for (int k = 0; (h = nth(total, k, &len)); k++) {
		if (h->nlmsg_type == NLMSG_DONE) {
			done++;
			continue;
		}
		assert_int_equal(h->nlmsg_type, XFRM_MSG_NEWPOLICY);
		assert_int_equal(xfrm_decode_policy(h, len, &p), 0);
		pols++;
		if (p.sel.family == AF_INET) {
			assert_true(p.owned);
			assert_int_equal(p.dir, XFRM_DIR_OUT);
			assert_int_equal(p.priority, 1000);
			assert_string_equal(xfrm_addr_str(&p.sel.dst, s, sizeof(s)), "10.77.0.0");
			assert_int_equal(p.sel.dst_len, 24);
			assert_string_equal(xfrm_addr_str(&p.sel.src, s, sizeof(s)), "10.60.0.0");
			assert_true(p.has_tmpl);
			assert_int_equal(p.tmpl.reqid, XFRM_REQID_MIN + 42);
			assert_int_equal(p.tmpl.mode, XFRM_SA_TUNNEL);
			assert_string_equal(xfrm_addr_str(&p.tmpl.dst, s, sizeof(s)), "10.60.0.2");
			assert_string_equal(xfrm_addr_str(&p.tmpl.src, s, sizeof(s)), "10.60.0.1");
			assert_true(p.index != 0);
		} else {
			assert_int_equal(p.sel.family, AF_INET6);
			assert_false(p.owned);        /* installed by ip xfrm */
			assert_int_equal(p.dir, XFRM_DIR_FWD);
			assert_int_equal(p.action, XFRM_ACT_BLOCK);
			assert_int_equal(p.priority, 7);
			assert_int_equal(p.sel.proto, IPPROTO_TCP);
			assert_int_equal(p.sel.dport, 443);
			assert_int_equal(p.sel.sport, 0);
			assert_string_equal(xfrm_addr_str(&p.sel.src, s, sizeof(s)), "2001:db8:1::");
			assert_int_equal(p.sel.src_len, 64);
			assert_false(p.has_tmpl);
		}
	}
	assert_int_equal(pols, 2);
	assert_int_equal(done, 1);
}

static void sa_dump(void **state)
{
	size_t total = load(FIX "sa-dump.bin"), len = 0;
	const struct nlmsghdr *h = nth(total, 0, &len);
	struct xfrm_sa_info sa;
	char s[64];

	assert_non_null(h);
	assert_int_equal(h->nlmsg_type, XFRM_MSG_NEWSA);
	assert_int_equal(xfrm_decode_sa(h, len, &sa), 0);
	assert_int_equal(sa.id.spi, 0xabc0174f);
	assert_int_equal(sa.id.proto, IPPROTO_ESP);
	assert_string_equal(xfrm_addr_str(&sa.id.dst, s, sizeof(s)), "192.0.2.1");
	assert_string_equal(xfrm_addr_str(&sa.src, s, sizeof(s)), "192.0.2.2");
	assert_int_equal(sa.reqid, XFRM_REQID_MIN + 3);
	assert_int_equal(sa.mode, XFRM_SA_TUNNEL);
	assert_true(sa.owned);                /* by reqid: larval SAs carry no tag */
	assert_true(sa.counters.add_time > 1700000000u);
	assert_int_equal(sa.counters.packets, 0);
	h = nth(total, 1, &len);
	assert_non_null(h);
	assert_int_equal(h->nlmsg_type, NLMSG_DONE);
}

static void event_acquire(void **state)
{
	size_t n = load(FIX "ev-acquire.bin");
	struct xfrm_event ev;
	struct pvpn_err e;
	char s[64];

	assert_int_equal(xfrm_event_decode(msg, n, &ev, &e), 1);
	assert_int_equal(ev.type, XFRM_EV_ACQUIRE);
	assert_string_equal(xfrm_addr_str(&ev.acquire.dst, s, sizeof(s)), "10.60.0.2");
	assert_string_equal(xfrm_addr_str(&ev.acquire.src, s, sizeof(s)), "10.60.0.1");
	assert_int_equal(ev.acquire.proto, IPPROTO_ESP);
	assert_int_equal(ev.acquire.reqid, XFRM_REQID_MIN + 42);
	assert_int_equal(ev.acquire.dir, XFRM_DIR_OUT);
	assert_true(ev.acquire.owned);
	assert_string_equal(xfrm_addr_str(&ev.acquire.sel.dst, s, sizeof(s)), "10.77.0.5");
	assert_int_equal(ev.acquire.sel.dst_len, 32);
	assert_int_equal(ev.acquire.sel.proto, IPPROTO_UDP);
	assert_int_equal(ev.acquire.sel.dport, 9);
	assert_true(ev.acquire.policy_index != 0);

	/* The same bytes at an odd address decode the same (no aligned
	 * loads from the caller's buffer; UBSan checks in `make san`). */
	uint8_t *odd = malloc(n + 1);
	struct xfrm_event ev2;
	memcpy(odd + 1, msg, n);
	assert_int_equal(xfrm_event_decode(odd + 1, n, &ev2, &e), 1);
	assert_memory_equal(&ev2, &ev, sizeof(ev));
	free(odd);
}

static void event_expire(void **state)
{
	size_t n = load(FIX "ev-expire.bin");
	struct xfrm_event ev;
	struct pvpn_err e;
	char s[64];

	assert_int_equal(xfrm_event_decode(msg, n, &ev, &e), 1);
	assert_int_equal(ev.type, XFRM_EV_EXPIRE);
	assert_true(ev.expire.hard);
	assert_int_equal(ev.expire.id.spi, 0xabc0174f);
	assert_string_equal(xfrm_addr_str(&ev.expire.id.dst, s, sizeof(s)), "192.0.2.1");
	assert_int_equal(ev.expire.reqid, XFRM_REQID_MIN + 3);
	assert_true(ev.expire.owned);
	/* A soft expire differs only in the hard byte. */
	size_t hard_off = NLMSG_HDRLEN + offsetof(struct xfrm_user_expire, hard);
	msg[hard_off] = 0;
	assert_int_equal(xfrm_event_decode(msg, n, &ev, &e), 1);
	assert_false(ev.expire.hard);
}

static void event_mapping_built(void **state)
{
	uint8_t b[NLMSG_HDRLEN + sizeof(struct xfrm_user_mapping)] __attribute__((aligned(4)));
	struct nlmsghdr *h = (void *)b;
	struct xfrm_user_mapping m;
	struct xfrm_event ev;
	struct pvpn_err e;
	char s[64];

	memset(b, 0, sizeof(b));
	h->nlmsg_len = sizeof(b);
	h->nlmsg_type = XFRM_MSG_MAPPING;
	memset(&m, 0, sizeof(m));
	inet_pton(AF_INET, "192.0.2.1", &m.id.daddr.a4);
	m.id.spi = htonl(0x01020304);
	m.id.family = AF_INET;
	m.id.proto = IPPROTO_ESP;
	m.reqid = XFRM_REQID_MIN + 1;
	inet_pton(AF_INET, "198.51.100.1", &m.old_saddr.a4);
	inet_pton(AF_INET, "198.51.100.99", &m.new_saddr.a4);
	m.old_sport = htons(4500);
	m.new_sport = htons(61000);
	memcpy(b + NLMSG_HDRLEN, &m, sizeof(m));
	assert_int_equal(xfrm_event_decode(b, sizeof(b), &ev, &e), 1);
	assert_int_equal(ev.type, XFRM_EV_MAPPING);
	assert_int_equal(ev.mapping.id.spi, 0x01020304);
	assert_int_equal(ev.mapping.reqid, XFRM_REQID_MIN + 1);
	assert_string_equal(xfrm_addr_str(&ev.mapping.old_addr, s, sizeof(s)), "198.51.100.1");
	assert_string_equal(xfrm_addr_str(&ev.mapping.new_addr, s, sizeof(s)), "198.51.100.99");
	assert_int_equal(ev.mapping.old_port, 4500);
	assert_int_equal(ev.mapping.new_port, 61000);
	/* A bad family is refused. */
	((struct xfrm_user_mapping *)(b + NLMSG_HDRLEN))->id.family = 77;
	assert_true(xfrm_event_decode(b, sizeof(b), &ev, &e) < 0);
	assert_non_null(strstr(e.msg, "malformed"));
	/* Types that are no event of ours are skipped, not errors. */
	h->nlmsg_type = XFRM_MSG_NEWSA;
	assert_int_equal(xfrm_event_decode(b, sizeof(b), &ev, &e), 0);
}

/* Every prefix of every recorded message, and every length field bent:
 * the decoders answer with an error (or a clean result) and never read
 * past what they were given (ASan/UBSan check that in `make san`). */
static void malformed_rejected(void **state)
{
	static const char *files[] = {
		"err-noesp.bin", "err-noalg.bin", "ack.bin", "err-exist.bin",
		"policy-dump.bin", "sa-dump.bin", "ev-acquire.bin", "ev-expire.bin",
	};
	int rejected = 0;
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		char path[128];
		snprintf(path, sizeof(path), FIX "%s", files[f]);
		size_t total = load(path), len = 0;
		const struct nlmsghdr *h0 = nth(total, 0, &len);
		assert_non_null(h0);
		uint8_t *copy = malloc(len);
		for (size_t cut = 0; cut < len; cut++) {
			/* A heap block of exactly `cut` bytes: ASan sees overreads. */
			uint8_t *p = malloc(cut ? cut : 1);
			struct xfrm_event ev;
			struct xfrm_sa_info sa;
			struct xfrm_policy_info pi;
			struct nl_ack ack;
			struct pvpn_err e;
			memcpy(p, msg, cut);
			int r1 = xfrm_event_decode(p, cut, &ev, &e);
			assert_true(r1 <= 0);
			if (cut >= NLMSG_HDRLEN) {
				int r2 = xfrm_decode_sa((const void *)p, cut, &sa);
				int r3 = xfrm_decode_policy((const void *)p, cut, &pi);
				bool r4 = nl_parse_error((const void *)p, cut, &ack);
				assert_true(r2 < 0 && r3 < 0);   /* nlmsg_len > cut */
				assert_false(r4);
				rejected++;
			}
			free(p);
		}
		/* Lengths bent inside a whole message: attribute lengths of 0,
		 * 3 and 0xffff at every 4-byte boundary past the header. */
		static const uint16_t bad[] = { 0, 3, 0xffff };
		for (size_t off = NLMSG_HDRLEN; off + 2 <= len; off += 4) {
			for (size_t b = 0; b < 3; b++) {
				struct xfrm_event ev;
				struct xfrm_sa_info sa;
				struct xfrm_policy_info pi;
				struct nl_ack ack;
				struct pvpn_err e;
				memcpy(copy, msg, len);
				memcpy(copy + off, &bad[b], 2);
				(void)xfrm_event_decode(copy, len, &ev, &e);
				(void)xfrm_decode_sa((const void *)copy, len, &sa);
				(void)xfrm_decode_policy((const void *)copy, len, &pi);
				(void)nl_parse_error((const void *)copy, len, &ack);
				assert_true(ack.code <= 0 && ack.code >= -4095);
				assert_true(strlen(ack.msg) < sizeof(ack.msg));
			}
		}
		free(copy);
	}
	assert_true(rejected > 500);
}

static void malformed_attribute_in_policy(void **state)
{
	size_t total = load(FIX "policy-dump.bin"), len = 0;
	const struct nlmsghdr *h = nth(total, 0, &len);
	struct xfrm_policy_info p;
	/* The first attribute follows the fixed struct: make its length 2. */
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct xfrm_userpolicy_info));
	assert_true(off + 4 <= len);
	uint16_t two = 2;
	memcpy(msg + off, &two, 2);
	assert_int_equal(xfrm_decode_policy(h, len, &p), -EPROTO);
	/* An attribute running past the message end. */
	total = load(FIX "policy-dump.bin");
	h = nth(total, 0, &len);
	uint16_t big = (uint16_t)(len - off + 4);
	memcpy(msg + off, &big, 2);
	assert_int_equal(xfrm_decode_policy(h, len, &p), -EPROTO);
	/* A template attribute shorter than struct xfrm_user_tmpl. */
	total = load(FIX "policy-dump.bin");
	h = nth(total, 0, &len);
	uint16_t type, alen;
	memcpy(&alen, msg + off, 2);
	memcpy(&type, msg + off + 2, 2);
	if (type == XFRMA_TMPL) {
		alen = 8;
		memcpy(msg + off, &alen, 2);
		assert_int_equal(xfrm_decode_policy(h, len, &p), -EPROTO);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(error_no_esp),
		cmocka_unit_test(error_no_algorithm),
		cmocka_unit_test(ack_and_exist),
		cmocka_unit_test(error_sentences),
		cmocka_unit_test(error_uncapped_with_echo),
		cmocka_unit_test(policy_dump),
		cmocka_unit_test(sa_dump),
		cmocka_unit_test(event_acquire),
		cmocka_unit_test(event_expire),
		cmocka_unit_test(event_mapping_built),
		cmocka_unit_test(malformed_rejected),
		cmocka_unit_test(malformed_attribute_in_policy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
