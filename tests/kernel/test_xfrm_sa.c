/* Kernel tests for ESP SAs, run as root in a private network namespace of
 * a kernel with ESP (the VM): add in every algorithm, mode and family,
 * cross-checked against `ip xfrm state`; update of a reserved SPI; delete;
 * counters; and each error path with its message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "kernel-xfrm/xfrm.h"
#include "tests/lib/netns.h"

static char out[16384];

#define assert_has(hay, needle) do { const char *n_ = (needle); \
	if (!strstr((hay), n_)) fail_msg("missing \"%s\" in:\n%s", n_, (hay)); } while (0)
#define assert_lacks(hay, needle) do { const char *n_ = (needle); \
	if (strstr((hay), n_)) fail_msg("unexpected \"%s\" in:\n%s", n_, (hay)); } while (0)

static const uint8_t key36[36] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
	0xcc, 0xdd, 0xee, 0xff, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
	0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10, 0xde, 0xad, 0xbe, 0xef,
};
static const uint8_t key32b[32] = {
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,
	0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
	0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
};

static struct xfrm_addr A(const char *s)
{
	struct xfrm_addr a;
	assert_int_equal(xfrm_addr_parse(s, &a), 0);
	return a;
}

static void hex(char *buf, const uint8_t *p, size_t n)
{
	buf += sprintf(buf, "0x");
	for (size_t i = 0; i < n; i++)
		buf += sprintf(buf, "%02x", p[i]);
}

static int setup(void **state)
{
	struct xfrm_handle *h;
	struct pvpn_err e;
	netns_sh(NULL, 0, "ip xfrm policy flush; ip xfrm state flush");
	if (xfrm_open(&h, &e) < 0) {
		fprintf(stderr, "xfrm_open: %s\n", e.msg);
		return -1;
	}
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	xfrm_close(*state);
	netns_sh(NULL, 0, "ip xfrm policy flush; ip xfrm state flush");
	return 0;
}

static struct xfrm_sa gcm_sa(void)
{
	struct xfrm_sa sa;
	memset(&sa, 0, sizeof(sa));
	sa.src = A("192.0.2.1");
	sa.dst = A("192.0.2.2");
	sa.spi = 0xc1a0f001;
	sa.mode = XFRM_SA_TUNNEL;
	sa.reqid = XFRM_REQID_MIN + 1;
	snprintf(sa.aead.name, sizeof(sa.aead.name), "rfc4106(gcm(aes))");
	sa.aead.bits = 128;
	sa.aead.key = key36;
	sa.aead.key_len = 20;            /* AES-128 + 4-byte salt */
	sa.replay_window = 32;
	return sa;
}

static struct xfrm_sa_id id_of(const struct xfrm_sa *sa)
{
	struct xfrm_sa_id id;
	memset(&id, 0, sizeof(id));
	id.dst = sa->dst;
	id.spi = sa->spi;
	id.mark = sa->mark;
	return id;
}

/* On a kernel without ESP the add must fail with the message naming the
 * fix; anywhere else it must succeed.  Either way the assertion is real. */
static void sa_add_gcm128_tunnel_v4(void **state)
{
	struct xfrm_handle *h = *state;
	struct xfrm_sa sa = gcm_sa();
	struct pvpn_err e;
	char want[512], k[200];
	int rc;

	memset(&e, 0, sizeof(e));
	rc = xfrm_sa_add(h, &sa, &e);
	if (rc == -EPROTONOSUPPORT) {
		assert_has(e.msg, "esp4");
		assert_has(e.msg, "CONFIG_INET_ESP");
		fail_msg("this kernel has no ESP: %s", e.msg);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(netns_sh(out, sizeof(out), "ip xfrm state"), 0);
	snprintf(want, sizeof(want), "proto esp spi 0x%08x reqid %u mode tunnel", sa.spi, sa.reqid);
	assert_has(out, want);
	hex(k, key36, 20);
	snprintf(want, sizeof(want), "aead rfc4106(gcm(aes)) %s 128", k);
	assert_has(out, want);
	assert_has(out, "replay-window 32");
	assert_has(out, "src 192.0.2.1 dst 192.0.2.2");
}

static void sa_add_variants(void **state)
{
	struct xfrm_handle *h = *state;
	struct pvpn_err e;
	char want[512], k[200], k2[200];

	/* AES-256-GCM, IPv6 outer, transport, ESN with a 128-packet window,
	 * mark and if_id. */
	struct xfrm_sa a = gcm_sa();
	a.src = A("2001:db8::1");
	a.dst = A("2001:db8::2");
	a.spi = 0xc1a0f002;
	a.mode = XFRM_SA_TRANSPORT;
	a.aead.key_len = 36;
	a.esn = true;
	a.replay_window = 128;
	a.mark.value = 0x10;
	a.mark.mask = 0xff;
	a.if_id = 7;
	assert_int_equal(xfrm_sa_add(h, &a, &e), 0);

	/* ChaCha20-Poly1305, IPv4, NAT-T, lifetimes. */
	struct xfrm_sa c = gcm_sa();
	c.spi = 0xc1a0f003;
	memset(&c.aead, 0, sizeof(c.aead));
	snprintf(c.aead.name, sizeof(c.aead.name), "rfc7539esp(chacha20,poly1305)");
	c.aead.bits = 128;
	c.aead.key = key36;
	c.aead.key_len = 36;
	c.encap.sport = 4500;
	c.encap.dport = 4501;
	c.lifetime.soft_bytes = 1000;
	c.lifetime.hard_bytes = 2000;
	c.lifetime.soft_packets = 10;
	c.lifetime.hard_packets = 20;
	c.lifetime.soft_add_seconds = 100;
	c.lifetime.hard_add_seconds = 200;
	assert_int_equal(xfrm_sa_add(h, &c, &e), 0);

	/* AES-256-CBC + HMAC-SHA-256-128, and SHA-384/192, SHA-512/256. */
	static const char *auths[] = { "hmac(sha256)", "hmac(sha384)", "hmac(sha512)" };
	static const unsigned bits[] = { 128, 192, 256 };
	static const size_t klen[] = { 32, 48, 64 };
	uint8_t akey[64];
	for (size_t i = 0; i < sizeof(akey); i++)
		akey[i] = (uint8_t)(0x40 + i);
	for (int i = 0; i < 3; i++) {
		struct xfrm_sa b = gcm_sa();
		b.spi = 0xc1a0f010 + (uint32_t)i;
		memset(&b.aead, 0, sizeof(b.aead));
		snprintf(b.enc.name, sizeof(b.enc.name), "cbc(aes)");
		b.enc.key = key32b;
		b.enc.key_len = 32;
		snprintf(b.auth.name, sizeof(b.auth.name), "%s", auths[i]);
		b.auth.bits = bits[i];
		b.auth.key = akey;
		b.auth.key_len = klen[i];
		assert_int_equal(xfrm_sa_add(h, &b, &e), 0);
		assert_int_equal(netns_sh(out, sizeof(out), "ip xfrm state get src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x%08x", b.spi), 0);
		hex(k, key32b, 32);
		snprintf(want, sizeof(want), "enc cbc(aes) %s", k);
		assert_has(out, want);
		hex(k2, akey, klen[i]);
		snprintf(want, sizeof(want), "auth-trunc %s %s %u", auths[i], k2, bits[i]);
		assert_has(out, want);
	}

	assert_int_equal(netns_sh(out, sizeof(out), "ip -6 xfrm state"), 0);
	hex(k, key36, 36);
	snprintf(want, sizeof(want), "aead rfc4106(gcm(aes)) %s 128", k);
	assert_has(out, want);
	assert_has(out, "mode transport");
	assert_has(out, "esn");
	assert_has(out, "mark 0x10/0xff");
	assert_has(out, "if_id 0x7");

	assert_int_equal(netns_sh(out, sizeof(out), "ip -s xfrm state get src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x%08x", c.spi), 0);
	/* ip -s adds "(288 bits)" after the key. */
	snprintf(want, sizeof(want), "aead rfc7539esp(chacha20,poly1305) %s", k);
	assert_has(out, want);
	assert_has(out, "encap type espinudp sport 4500 dport 4501");
	assert_has(out, "soft 1000(bytes), hard 2000(bytes)");
	assert_has(out, "soft 10(packets), hard 20(packets)");
	assert_has(out, "expire add: soft 100(sec), hard 200(sec)");
}

static void sa_update_reserved_spi_and_delete(void **state)
{
	struct xfrm_handle *h = *state;
	struct xfrm_sa sa = gcm_sa();
	struct xfrm_sa_id id;
	struct pvpn_err e;
	char want[128];
	uint32_t spi;

	/* Inbound: reserve the SPI first, as an IKE responder/initiator does. */
	assert_int_equal(xfrm_alloc_spi(h, &sa.src, &sa.dst, XFRM_SA_TUNNEL, sa.reqid, 0, 0, &spi, &e), 0);
	sa.spi = spi;
	memset(&e, 0, sizeof(e));
	assert_int_equal(xfrm_sa_add(h, &sa, &e), -EEXIST);  /* the larval SA is there */
	assert_has(e.msg, "already exists");
	assert_int_equal(xfrm_sa_update(h, &sa, &e), 0);
	assert_int_equal(netns_sh(out, sizeof(out), "ip xfrm state"), 0);
	snprintf(want, sizeof(want), "spi 0x%08x reqid %u mode tunnel", spi, sa.reqid);
	assert_has(out, want);
	assert_has(out, "aead rfc4106(gcm(aes))");

	/* Update of a live SA: new lifetimes reach the kernel. */
	sa.lifetime.hard_add_seconds = 3600;
	assert_int_equal(xfrm_sa_update(h, &sa, &e), 0);
	assert_int_equal(netns_sh(out, sizeof(out), "ip -s xfrm state"), 0);
	assert_has(out, "hard 3600(sec)");

	id = id_of(&sa);
	assert_int_equal(xfrm_sa_delete(h, &id, &e), 0);
	assert_int_equal(netns_sh(out, sizeof(out), "ip xfrm state"), 0);
	assert_lacks(out, want);

	memset(&e, 0, sizeof(e));
	assert_int_equal(xfrm_sa_delete(h, &id, &e), -ENOENT);
	assert_has(e.msg, "does not exist");
	snprintf(want, sizeof(want), "SA 0x%08x to 192.0.2.2", spi);
	assert_has(e.msg, want);
	memset(&e, 0, sizeof(e));
	sa.spi = 0xc1a0ffff;
	assert_int_equal(xfrm_sa_update(h, &sa, &e), -ENOENT);
	assert_has(e.msg, "does not exist");
}

static void sa_counters_fresh(void **state)
{
	struct xfrm_handle *h = *state;
	struct xfrm_sa sa = gcm_sa();
	struct xfrm_sa_id id = id_of(&sa);
	struct xfrm_sa_counters c;
	struct pvpn_err e;
	time_t now = time(NULL);

	assert_int_equal(xfrm_sa_add(h, &sa, &e), 0);
	assert_int_equal(xfrm_sa_counters(h, &id, &c, &e), 0);
	assert_true(c.bytes == 0 && c.packets == 0 && c.use_time == 0);
	assert_true(c.add_time + 5 >= (uint64_t)now && c.add_time <= (uint64_t)now + 5);
	id.spi++;
	memset(&e, 0, sizeof(e));
	assert_int_equal(xfrm_sa_counters(h, &id, &c, &e), -ENOENT);
	assert_has(e.msg, "does not exist");
}

static void sa_errors(void **state)
{
	struct xfrm_handle *h = *state;
	struct xfrm_sa sa = gcm_sa();
	struct pvpn_err e;

	assert_int_equal(xfrm_sa_add(h, &sa, &e), 0);
	memset(&e, 0, sizeof(e));
	assert_int_equal(xfrm_sa_add(h, &sa, &e), -EEXIST);
	assert_has(e.msg, "SA 0xc1a0f001 to 192.0.2.2 already exists");

	/* Unknown AEAD: the message names it. */
	sa.spi++;
	snprintf(sa.aead.name, sizeof(sa.aead.name), "rfc4106(gcm(nosuchcipher))");
	memset(&e, 0, sizeof(e));
	assert_int_equal(xfrm_sa_add(h, &sa, &e), -ENOSYS);
	assert_has(e.msg, "\"rfc4106(gcm(nosuchcipher))\"");

	/* Unknown integrity algorithm in a CBC pair: that one is named. */
	memset(&sa.aead, 0, sizeof(sa.aead));
	snprintf(sa.enc.name, sizeof(sa.enc.name), "cbc(aes)");
	sa.enc.key = key32b;
	sa.enc.key_len = 16;
	snprintf(sa.auth.name, sizeof(sa.auth.name), "hmac(nosuchhash)");
	sa.auth.key = key32b;
	sa.auth.key_len = 32;
	sa.auth.bits = 128;
	memset(&e, 0, sizeof(e));
	assert_int_equal(xfrm_sa_add(h, &sa, &e), -ENOSYS);
	assert_has(e.msg, "\"hmac(nosuchhash)\"");

	/* A key of the wrong size for GCM: the kernel's reason is passed on. */
	sa = gcm_sa();
	sa.spi = 0xc1a0f0ee;
	sa.aead.key_len = 7;
	memset(&e, 0, sizeof(e));
	assert_true(xfrm_sa_add(h, &sa, &e) < 0);
	assert_true(strlen(e.msg) > 10);

	/* Both an AEAD and a cipher: refused before the kernel sees it. */
	sa = gcm_sa();
	snprintf(sa.enc.name, sizeof(sa.enc.name), "cbc(aes)");
	assert_int_equal(xfrm_sa_add(h, &sa, &e), -EINVAL);
	assert_has(e.msg, "either an AEAD");
}

static int count_owned(const struct xfrm_sa_info *sa, void *arg)
{
	int *n = arg;
	if (sa->owned)
		n[0]++;
	else
		n[1]++;
	return 0;
}

static void sa_flush_owned_leaves_foreign(void **state)
{
	struct xfrm_handle *h = *state;
	struct xfrm_sa sa = gcm_sa();
	struct pvpn_err e;
	unsigned nsa, npol;
	int n[2] = { 0, 0 };

	/* Ours uses a reqid outside the range too: the selector tag marks it. */
	sa.reqid = 3;
	assert_int_equal(xfrm_sa_add(h, &sa, &e), 0);
	assert_int_equal(netns_sh(out, sizeof(out),
		"ip xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0xf0f0f0f0 reqid 3 mode tunnel "
		"aead 'rfc4106(gcm(aes))' 0x000102030405060708090a0b0c0d0e0f10111213 128"), 0);
	assert_int_equal(xfrm_sa_dump(h, count_owned, n, &e), 0);
	assert_int_equal(n[0], 1);
	assert_int_equal(n[1], 1);
	assert_int_equal(xfrm_flush_owned(h, &nsa, &npol, &e), 0);
	assert_int_equal(nsa, 1);
	assert_int_equal(npol, 0);
	assert_int_equal(netns_sh(out, sizeof(out), "ip xfrm state"), 0);
	assert_has(out, "spi 0xf0f0f0f0");
	assert_lacks(out, "spi 0xc1a0f001");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(sa_add_gcm128_tunnel_v4, setup, teardown),
		cmocka_unit_test_setup_teardown(sa_add_variants, setup, teardown),
		cmocka_unit_test_setup_teardown(sa_update_reserved_spi_and_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(sa_counters_fresh, setup, teardown),
		cmocka_unit_test_setup_teardown(sa_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(sa_flush_owned_leaves_foreign, setup, teardown),
	};
	if (netns_isolate() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
