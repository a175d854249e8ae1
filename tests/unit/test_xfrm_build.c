/* Unit tests for kernel-xfrm's message building: each request is checked
 * byte by byte against what linux/xfrm.h's structs say it must hold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/udp.h>
#include <string.h>
#include <sys/socket.h>

#include "kernel-xfrm/nl.h"

static uint8_t buf[NL_BUF_SIZE] __attribute__((aligned(4)));

static const uint8_t key[64] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
	0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
	0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
};

static struct xfrm_addr A(const char *s)
{
	struct xfrm_addr a;
	assert_int_equal(xfrm_addr_parse(s, &a), 0);
	return a;
}

static size_t al4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* Walk the attributes after the fixed header: find type, return its
 * payload and length; count how many of that type there are. */
static const uint8_t *attr(const struct nlmsghdr *nlh, size_t fixed, uint16_t type, size_t *len,
			   int *count)
{
	const uint8_t *p = (const uint8_t *)nlh + NLMSG_HDRLEN + al4(fixed);
	const uint8_t *end = (const uint8_t *)nlh + nlh->nlmsg_len;
	const uint8_t *found = NULL;
	*count = 0;
	while (p + 4 <= end) {
		uint16_t l, t;
		memcpy(&l, p, 2);
		memcpy(&t, p + 2, 2);
		assert_true(l >= 4 && p + l <= end);
		if (t == type) {
			if (!found) {
				found = p + 4;
				*len = l - 4u;
			}
			++*count;
		}
		p += al4(l);
	}
	assert_true(p == end);            /* attributes fill the message exactly */
	return found;
}

static struct xfrm_sa gcm(void)
{
	struct xfrm_sa sa;
	memset(&sa, 0, sizeof(sa));
	sa.src = A("192.0.2.1");
	sa.dst = A("198.51.100.7");
	sa.spi = 0xc0ffee01;
	sa.mode = XFRM_SA_TUNNEL;
	sa.reqid = XFRM_REQID_MIN + 5;
	strcpy(sa.aead.name, "rfc4106(gcm(aes))");
	sa.aead.bits = 128;
	sa.aead.key = key;
	sa.aead.key_len = 36;
	sa.replay_window = 32;
	sa.lifetime.soft_bytes = 1000;
	sa.lifetime.hard_add_seconds = 3600;
	return sa;
}

static void sa_add_aead_bytes(void **state)
{
	struct xfrm_sa sa = gcm();
	struct pvpn_err e;
	struct nlmsghdr *nlh = xfrm_build_sa(buf, sizeof(buf), XFRM_MSG_NEWSA, &sa, &e);
	struct xfrm_usersa_info want;
	const uint8_t *a;
	size_t len;
	int n;

	assert_non_null(nlh);
	assert_int_equal(nlh->nlmsg_type, XFRM_MSG_NEWSA);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);

	/* The fixed part, field by field from linux/xfrm.h. */
	memset(&want, 0, sizeof(want));
	want.sel.user = XFRM_OWNER_TAG;   /* family 0: any inner family */
	inet_pton(AF_INET, "198.51.100.7", &want.id.daddr.a4);
	want.id.spi = htonl(0xc0ffee01);
	want.id.proto = IPPROTO_ESP;
	inet_pton(AF_INET, "192.0.2.1", &want.saddr.a4);
	want.lft.soft_byte_limit = 1000;
	want.lft.hard_byte_limit = XFRM_INF;
	want.lft.soft_packet_limit = XFRM_INF;
	want.lft.hard_packet_limit = XFRM_INF;
	want.lft.hard_add_expires_seconds = 3600;
	want.reqid = XFRM_REQID_MIN + 5;
	want.family = AF_INET;
	want.mode = XFRM_MODE_TUNNEL;
	want.replay_window = 32;
	want.flags = XFRM_STATE_AF_UNSPEC;    /* keep the selector any-family */
	assert_memory_equal((uint8_t *)nlh + NLMSG_HDRLEN, &want, sizeof(want));

	/* XFRMA_ALG_AEAD: name[64], key bits, ICV bits, then the key. */
	a = attr(nlh, sizeof(want), XFRMA_ALG_AEAD, &len, &n);
	assert_int_equal(n, 1);
	assert_int_equal(len, sizeof(struct xfrm_algo_aead) + 36);
	assert_string_equal((const char *)a, "rfc4106(gcm(aes))");
	for (size_t i = strlen("rfc4106(gcm(aes))"); i < 64; i++)
		assert_int_equal(a[i], 0);
	struct xfrm_algo_aead h;
	memcpy(&h, a, sizeof(h));
	assert_int_equal(h.alg_key_len, 288);
	assert_int_equal(h.alg_icv_len, 128);
	assert_memory_equal(a + sizeof(h), key, 36);
	/* Nothing else: no cipher, no auth, no encap, no ESN. */
	assert_null(attr(nlh, sizeof(want), XFRMA_ALG_CRYPT, &len, &n));
	assert_null(attr(nlh, sizeof(want), XFRMA_ALG_AUTH, &len, &n));
	assert_null(attr(nlh, sizeof(want), XFRMA_ENCAP, &len, &n));
	assert_null(attr(nlh, sizeof(want), XFRMA_REPLAY_ESN_VAL, &len, &n));
	assert_int_equal(nlh->nlmsg_len, NLMSG_HDRLEN + al4(sizeof(want)) + al4(4 + sizeof(h) + 36));
}

static void sa_cbc_hmac_truncation(void **state)
{
	static const char *names[] = { "hmac(sha256)", "hmac(sha384)", "hmac(sha512)" };
	static const unsigned bits[] = { 128, 192, 256 };
	for (int i = 0; i < 3; i++) {
		struct xfrm_sa sa = gcm();
		struct pvpn_err e;
		const uint8_t *a;
		size_t len;
		int n;
		memset(&sa.aead, 0, sizeof(sa.aead));
		strcpy(sa.enc.name, "cbc(aes)");
		sa.enc.key = key;
		sa.enc.key_len = 32;
		strcpy(sa.auth.name, names[i]);
		sa.auth.key = key + 32;
		sa.auth.key_len = 16 * (size_t)(i + 2);
		if (sa.auth.key_len > 32)
			sa.auth.key = key;
		sa.auth.bits = bits[i];
		struct nlmsghdr *nlh = xfrm_build_sa(buf, sizeof(buf), XFRM_MSG_UPDSA, &sa, &e);
		assert_non_null(nlh);
		assert_int_equal(nlh->nlmsg_type, XFRM_MSG_UPDSA);
		assert_int_equal(nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL), 0);

		a = attr(nlh, sizeof(struct xfrm_usersa_info), XFRMA_ALG_CRYPT, &len, &n);
		assert_non_null(a);
		struct xfrm_algo c;
		memcpy(&c, a, sizeof(c));
		assert_string_equal(c.alg_name, "cbc(aes)");
		assert_int_equal(c.alg_key_len, 256);
		assert_int_equal(len, sizeof(c) + 32);
		assert_memory_equal(a + sizeof(c), key, 32);

		/* RFC 4868 §2.3: SHA-2 truncates to half, so AUTH_TRUNC, never
		 * XFRMA_ALG_AUTH with its implied 96 bits. */
		assert_null(attr(nlh, sizeof(struct xfrm_usersa_info), XFRMA_ALG_AUTH, &len, &n));
		a = attr(nlh, sizeof(struct xfrm_usersa_info), XFRMA_ALG_AUTH_TRUNC, &len, &n);
		assert_non_null(a);
		struct xfrm_algo_auth t;
		memcpy(&t, a, sizeof(t));
		assert_string_equal(t.alg_name, names[i]);
		assert_int_equal(t.alg_key_len, sa.auth.key_len * 8);
		assert_int_equal(t.alg_trunc_len, bits[i]);
		assert_int_equal(len, sizeof(t) + sa.auth.key_len);
		assert_memory_equal(a + sizeof(t), sa.auth.key, sa.auth.key_len);
	}
}

static void sa_esn_encap_mark_ifid(void **state)
{
	struct xfrm_sa sa = gcm();
	struct pvpn_err e;
	const uint8_t *a;
	size_t len;
	int n;

	sa.src = A("2001:db8::1");
	sa.dst = A("2001:db8::2");
	sa.mode = XFRM_SA_TRANSPORT;
	sa.esn = true;
	sa.replay_window = 128;
	sa.encap.sport = 4500;
	sa.encap.dport = 41234;
	sa.mark.value = 0x42;
	sa.mark.mask = 0xff;
	sa.if_id = 9;
	sa.sel.family = AF_INET6;
	sa.sel.src = sa.src;
	sa.sel.dst = sa.dst;
	sa.sel.src_len = sa.sel.dst_len = 128;
	struct nlmsghdr *nlh = xfrm_build_sa(buf, sizeof(buf), XFRM_MSG_NEWSA, &sa, &e);
	assert_non_null(nlh);
	struct xfrm_usersa_info p;
	memcpy(&p, (uint8_t *)nlh + NLMSG_HDRLEN, sizeof(p));
	assert_int_equal(p.family, AF_INET6);
	assert_int_equal(p.mode, XFRM_MODE_TRANSPORT);
	assert_int_equal(p.flags & XFRM_STATE_ESN, XFRM_STATE_ESN);
	assert_int_equal(p.replay_window, 0);          /* the kernel insists with ESN_VAL */
	assert_memory_equal(&p.saddr.in6, &sa.src.v6, 16);
	assert_int_equal(p.sel.family, AF_INET6);
	assert_int_equal(p.sel.prefixlen_d, 128);
	assert_int_equal(p.sel.user, XFRM_OWNER_TAG);
	assert_int_equal(p.flags & XFRM_STATE_AF_UNSPEC, 0);  /* it has a selector */

	a = attr(nlh, sizeof(p), XFRMA_REPLAY_ESN_VAL, &len, &n);
	assert_non_null(a);
	struct xfrm_replay_state_esn rs;
	memcpy(&rs, a, sizeof(rs));
	assert_int_equal(rs.replay_window, 128);
	assert_int_equal(rs.bmp_len, 4);
	assert_int_equal(len, sizeof(rs) + 16);

	a = attr(nlh, sizeof(p), XFRMA_ENCAP, &len, &n);
	assert_non_null(a);
	struct xfrm_encap_tmpl et;
	assert_int_equal(len, sizeof(et));
	memcpy(&et, a, sizeof(et));
	assert_int_equal(et.encap_type, UDP_ENCAP_ESPINUDP);
	assert_int_equal(ntohs(et.encap_sport), 4500);
	assert_int_equal(ntohs(et.encap_dport), 41234);

	a = attr(nlh, sizeof(p), XFRMA_MARK, &len, &n);
	assert_non_null(a);
	struct xfrm_mark m;
	memcpy(&m, a, sizeof(m));
	assert_int_equal(m.v, 0x42);
	assert_int_equal(m.m, 0xff);
	a = attr(nlh, sizeof(p), XFRMA_IF_ID, &len, &n);
	assert_non_null(a);
	uint32_t ifid;
	memcpy(&ifid, a, 4);
	assert_int_equal(ifid, 9);
}

static void sa_rejects_bad_input(void **state)
{
	struct pvpn_err e;
	struct xfrm_sa sa = gcm();

	strcpy(sa.enc.name, "cbc(aes)");
	assert_null(xfrm_build_sa(buf, sizeof(buf), XFRM_MSG_NEWSA, &sa, &e));
	assert_int_equal(e.code, -EINVAL);
	sa = gcm();
	memset(&sa.aead, 0, sizeof(sa.aead));
	assert_null(xfrm_build_sa(buf, sizeof(buf), XFRM_MSG_NEWSA, &sa, &e));
	assert_non_null(strstr(e.msg, "no encryption"));
	sa = gcm();
	sa.dst = A("2001:db8::1");
	assert_null(xfrm_build_sa(buf, sizeof(buf), XFRM_MSG_NEWSA, &sa, &e));
	assert_non_null(strstr(e.msg, "different families"));
	sa = gcm();
	memset(sa.aead.name, 'a', sizeof(sa.aead.name));
	assert_null(xfrm_build_sa(buf, sizeof(buf), XFRM_MSG_NEWSA, &sa, &e));
	assert_non_null(strstr(e.msg, "too long"));
	sa = gcm();
	sa.aead.key_len = 4000;
	assert_null(xfrm_build_sa(buf, sizeof(buf), XFRM_MSG_NEWSA, &sa, &e));
	sa = gcm();
	sa.aead.key = NULL;
	assert_null(xfrm_build_sa(buf, sizeof(buf), XFRM_MSG_NEWSA, &sa, &e));
	/* A buffer that is too small is refused, never overrun. */
	sa = gcm();
	assert_null(xfrm_build_sa(buf, 100, XFRM_MSG_NEWSA, &sa, &e));
	assert_int_equal(e.code, -ENOBUFS);
}

static void sa_id_bytes(void **state)
{
	struct xfrm_sa_id id;
	struct pvpn_err e;
	memset(&id, 0, sizeof(id));
	id.dst = A("2001:db8::9");
	id.spi = 0x01020304;
	struct nlmsghdr *nlh = xfrm_build_sa_id(buf, sizeof(buf), XFRM_MSG_DELSA, &id, &e);
	assert_non_null(nlh);
	struct xfrm_usersa_id want;
	memset(&want, 0, sizeof(want));
	memcpy(&want.daddr.in6, &id.dst.v6, 16);
	want.spi = htonl(0x01020304);
	want.family = AF_INET6;
	want.proto = IPPROTO_ESP;
	assert_int_equal(nlh->nlmsg_len, NLMSG_HDRLEN + al4(sizeof(want)));
	assert_memory_equal((uint8_t *)nlh + NLMSG_HDRLEN, &want, sizeof(want));
	id.dst.family = 0;
	assert_null(xfrm_build_sa_id(buf, sizeof(buf), XFRM_MSG_DELSA, &id, &e));
}

static struct xfrm_policy pol(void)
{
	struct xfrm_policy p;
	memset(&p, 0, sizeof(p));
	p.sel.family = AF_INET;
	p.sel.src = A("10.1.0.0");
	p.sel.src_len = 16;
	p.sel.dst = A("10.2.0.0");
	p.sel.dst_len = 24;
	p.sel.proto = IPPROTO_UDP;
	p.sel.dport = 53;
	p.dir = XFRM_DIR_OUT;
	p.priority = 2000;
	p.has_tmpl = true;
	p.tmpl.mode = XFRM_SA_TUNNEL;
	p.tmpl.reqid = XFRM_REQID_MIN + 9;
	p.tmpl.src = A("192.0.2.1");
	p.tmpl.dst = A("192.0.2.2");
	return p;
}

static void policy_bytes(void **state)
{
	struct xfrm_policy p = pol();
	struct pvpn_err e;
	const uint8_t *a;
	size_t len;
	int n;
	struct nlmsghdr *nlh = xfrm_build_policy(buf, sizeof(buf), XFRM_MSG_NEWPOLICY, &p, &e);
	assert_non_null(nlh);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);

	struct xfrm_userpolicy_info want;
	memset(&want, 0, sizeof(want));
	inet_pton(AF_INET, "10.1.0.0", &want.sel.saddr.a4);
	inet_pton(AF_INET, "10.2.0.0", &want.sel.daddr.a4);
	want.sel.prefixlen_s = 16;
	want.sel.prefixlen_d = 24;
	want.sel.proto = IPPROTO_UDP;
	want.sel.dport = htons(53);
	want.sel.dport_mask = 0xffff;
	want.sel.family = AF_INET;
	want.sel.user = XFRM_OWNER_TAG;
	want.lft.soft_byte_limit = want.lft.hard_byte_limit = XFRM_INF;
	want.lft.soft_packet_limit = want.lft.hard_packet_limit = XFRM_INF;
	want.priority = 2000;
	want.dir = XFRM_POLICY_OUT;
	want.action = XFRM_POLICY_ALLOW;
	want.share = XFRM_SHARE_ANY;
	assert_memory_equal((uint8_t *)nlh + NLMSG_HDRLEN, &want, sizeof(want));

	a = attr(nlh, sizeof(want), XFRMA_TMPL, &len, &n);
	assert_int_equal(n, 1);
	struct xfrm_user_tmpl t, wt;
	assert_int_equal(len, sizeof(t));
	memcpy(&t, a, sizeof(t));
	memset(&wt, 0, sizeof(wt));
	inet_pton(AF_INET, "192.0.2.2", &wt.id.daddr.a4);
	wt.id.proto = IPPROTO_ESP;
	wt.family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", &wt.saddr.a4);
	wt.reqid = XFRM_REQID_MIN + 9;
	wt.mode = XFRM_MODE_TUNNEL;
	wt.share = XFRM_SHARE_UNIQUE;
	wt.aalgos = wt.ealgos = wt.calgos = ~0u;
	assert_memory_equal(&t, &wt, sizeof(t));

	/* Delete: xfrm_userpolicy_id with the same selector and direction. */
	nlh = xfrm_build_policy(buf, sizeof(buf), XFRM_MSG_DELPOLICY, &p, &e);
	assert_non_null(nlh);
	struct xfrm_userpolicy_id id;
	assert_int_equal(nlh->nlmsg_len, NLMSG_HDRLEN + al4(sizeof(id)));
	memcpy(&id, (uint8_t *)nlh + NLMSG_HDRLEN, sizeof(id));
	assert_memory_equal(&id.sel, &want.sel, sizeof(id.sel));
	assert_int_equal(id.dir, XFRM_POLICY_OUT);
	assert_int_equal(id.index, 0);
}

static void policy_block_and_rejects(void **state)
{
	struct xfrm_policy p = pol();
	struct pvpn_err e;
	size_t len;
	int n;
	p.has_tmpl = false;
	p.action = XFRM_ACT_BLOCK;
	p.dir = XFRM_DIR_FWD;
	struct nlmsghdr *nlh = xfrm_build_policy(buf, sizeof(buf), XFRM_MSG_NEWPOLICY, &p, &e);
	assert_non_null(nlh);
	struct xfrm_userpolicy_info pi;
	memcpy(&pi, (uint8_t *)nlh + NLMSG_HDRLEN, sizeof(pi));
	assert_int_equal(pi.action, XFRM_POLICY_BLOCK);
	assert_int_equal(pi.dir, XFRM_POLICY_FWD);
	assert_null(attr(nlh, sizeof(pi), XFRMA_TMPL, &len, &n));

	p = pol();
	p.tmpl.reqid = 1;
	assert_null(xfrm_build_policy(buf, sizeof(buf), XFRM_MSG_NEWPOLICY, &p, &e));
	assert_int_equal(e.code, -EINVAL);
	p = pol();
	p.tmpl.dst = A("2001:db8::1");
	assert_null(xfrm_build_policy(buf, sizeof(buf), XFRM_MSG_NEWPOLICY, &p, &e));
	p = pol();
	p.sel.family = 0;
	assert_null(xfrm_build_policy(buf, sizeof(buf), XFRM_MSG_NEWPOLICY, &p, &e));
	p = pol();
	p.sel.src = A("2001:db8::");
	assert_null(xfrm_build_policy(buf, sizeof(buf), XFRM_MSG_NEWPOLICY, &p, &e));
	p = pol();
	p.dir = (enum xfrm_dir)7;
	assert_null(xfrm_build_policy(buf, sizeof(buf), XFRM_MSG_NEWPOLICY, &p, &e));
}

static void addr_parse_and_print(void **state)
{
	struct xfrm_addr a;
	char s[64];
	assert_int_equal(xfrm_addr_parse("192.0.2.33", &a), 0);
	assert_int_equal(a.family, AF_INET);
	assert_string_equal(xfrm_addr_str(&a, s, sizeof(s)), "192.0.2.33");
	assert_int_equal(xfrm_addr_parse("2001:db8::5", &a), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_string_equal(xfrm_addr_str(&a, s, sizeof(s)), "2001:db8::5");
	assert_int_equal(xfrm_addr_parse("300.1.1.1", &a), -EINVAL);
	assert_int_equal(xfrm_addr_parse("", &a), -EINVAL);
	a.family = 0;
	assert_string_equal(xfrm_addr_str(&a, s, sizeof(s)), "(none)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sa_add_aead_bytes),
		cmocka_unit_test(sa_cbc_hmac_truncation),
		cmocka_unit_test(sa_esn_encap_mark_ifid),
		cmocka_unit_test(sa_rejects_bad_input),
		cmocka_unit_test(sa_id_bytes),
		cmocka_unit_test(policy_bytes),
		cmocka_unit_test(policy_block_and_rejects),
		cmocka_unit_test(addr_parse_and_print),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
