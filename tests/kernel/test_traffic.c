/* Traffic through kernel ESP set up only with kernel-xfrm: two network
 * namespaces joined by a veth pair, matching SAs and in/out/fwd policies
 * on both sides, a ping across, and the SA counters read back through the
 * API in both directions.  Tunnel and transport mode, IPv4 and IPv6
 * (also IPv4 inside IPv6 and the reverse),
 * AES-GCM-128/256, ChaCha20-Poly1305, AES-CBC-256 + HMAC-SHA-256-128, and
 * once with NAT-T (ESP in UDP 4500, RFC 3948).  Needs ESP (the VM). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kernel-xfrm/xfrm.h"
#include "tests/lib/netns.h"

struct side {
	char ns[32];
	struct xfrm_handle *h;
	int ike;                        /* UDP 4500 with ESP-in-UDP (NAT-T case) */
	struct xfrm_events *ev;         /* NAT-T case: MAPPING events */
	int veth;                       /* ifindex of its veth end */
	struct xfrm_addr outer, inner;
	uint8_t inner_len;              /* prefix of its protected subnet */
};

struct net {
	struct side a, b;
};

struct suite {
	const char *name;
	bool tunnel, v6, natt;
	bool mix46, mix64;              /* tunnel: v4 inside v6, v6 inside v4 */
	const char *aead;               /* or NULL: cbc(aes) + hmac(sha256) */
	size_t key_len;                 /* AEAD key incl. salt, or cipher key */
	unsigned bits;
};

static char out[8192];

static struct xfrm_addr A(const char *s)
{
	struct xfrm_addr a;
	assert_int_equal(xfrm_addr_parse(s, &a), 0);
	return a;
}

static void side_teardown(struct side *s)
{
	if (s->ike >= 0)
		close(s->ike);
	s->ike = -1;
	xfrm_events_close(s->ev);
	s->ev = NULL;
	xfrm_close(s->h);
	s->h = NULL;
	if (s->ns[0])
		netns_del(s->ns);
	s->ns[0] = '\0';
}

static int teardown(void **state)
{
	struct net *n = *state;
	side_teardown(&n->a);
	side_teardown(&n->b);
	return 0;
}

/* Open the handle (and the NAT-T socket) inside the side's namespace. */
static void side_open(struct side *s, const char *veth, bool natt)
{
	struct pvpn_err e;
	int saved;

	assert_int_equal(netns_enter(s->ns, &saved), 0);
	int rc = xfrm_open(&s->h, &e);
	s->veth = (int)if_nametoindex(veth);
	if (rc == 0 && natt)
		rc = xfrm_ike_socket_open(s->outer.family, NULL, 4500, true, &s->ike, &e);
	if (rc == 0 && natt)
		rc = xfrm_events_open(&s->ev, &e);
	assert_int_equal(netns_return(saved), 0);
	if (rc < 0)
		fail_msg("in %s: %s", s->ns, e.msg);
	assert_true(s->veth > 0);
}

static void build_net(struct net *n, const struct suite *t)
{
	static unsigned serial;
	char o[512];
	unsigned id = (unsigned)getpid() * 16 + serial++;

	memset(n, 0, sizeof(*n));
	n->a.ike = n->b.ike = -1;
	snprintf(n->a.ns, sizeof(n->a.ns), "pvpnt-%x-a", id);
	snprintf(n->b.ns, sizeof(n->b.ns), "pvpnt-%x-b", id);
	if (netns_add(n->a.ns) < 0 || netns_add(n->b.ns) < 0)
		fail_msg("cannot create namespaces");
	if (netns_sh(o, sizeof(o),
		     "for s in %s %s; do ip -n $s link set lo up && "
		     "ip netns exec $s sysctl -qw net.ipv6.conf.all.accept_dad=0 "
		     "net.ipv6.conf.default.accept_dad=0 || exit 1; done && "
		     "ip link add pva netns %s type veth peer name pvb netns %s && "
		     "ip -n %s link set pva up && ip -n %s link set pvb up",
		     n->a.ns, n->b.ns, n->a.ns, n->b.ns, n->a.ns, n->b.ns) != 0)
		fail_msg("cannot build the veth link: %s", o);
	bool outer6 = t->v6 || t->mix46, inner6 = t->v6 || t->mix64;
	n->a.outer = A(outer6 ? "2001:db8:77::1" : "192.168.77.1");
	n->b.outer = A(outer6 ? "2001:db8:77::2" : "192.168.77.2");
	n->a.inner = A(inner6 ? "2001:db8:a::1" : "10.1.0.1");
	n->b.inner = A(inner6 ? "2001:db8:b::1" : "10.2.0.1");
	n->a.inner_len = n->b.inner_len = inner6 ? 64 : 24;
	side_open(&n->a, "pva", t->natt);
	side_open(&n->b, "pvb", t->natt);
}

/* Addresses and routes through the API: the outer address on the veth,
 * in tunnel mode the inner address on lo and a route to the peer's
 * subnet with the inner address as source. */
static void side_addresses(struct side *me, const struct side *peer, bool tunnel)
{
	struct pvpn_err e;
	unsigned full = me->outer.family == AF_INET ? 32 : 128;
	struct xfrm_ifaddr o = { .ifindex = me->veth, .addr = me->outer,
				 .prefix_len = (uint8_t)(full == 32 ? 24 : 64) };
	if (xfrm_addr_add(me->h, &o, &e) < 0)
		fail_msg("%s: %s", me->ns, e.msg);
	if (!tunnel)
		return;
	unsigned ifull = me->inner.family == AF_INET ? 32 : 128;
	struct xfrm_ifaddr i = { .ifindex = 1 /* lo */, .addr = me->inner, .prefix_len = (uint8_t)ifull };
	struct xfrm_route r = { .dst = peer->inner, .dst_len = peer->inner_len, .ifindex = me->veth,
				.src = me->inner };
	/* Same family: via the peer; otherwise an on-link route suffices,
	 * the tunnel SA decides where the packet really goes. */
	if (peer->outer.family == peer->inner.family)
		r.gw = peer->outer;
	/* The route's prefix must be the network address. */
	if (r.dst.family == AF_INET)
		r.dst.v4.s_addr &= htonl(0xffffff00u);
	else
		memset(&r.dst.v6.s6_addr[8], 0, 8);
	if (xfrm_addr_add(me->h, &i, &e) < 0 || xfrm_route_add(me->h, &r, &e) < 0)
		fail_msg("%s: %s", me->ns, e.msg);
}

static void fill_keys(uint8_t *k, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		k[i] = (uint8_t)(seed + i * 7);
}

static struct xfrm_sa make_sa(const struct suite *t, const struct side *from, const struct side *to,
			      uint32_t spi, const uint8_t *k, const uint8_t *ak, uint32_t reqid)
{
	struct xfrm_sa sa;
	memset(&sa, 0, sizeof(sa));
	sa.src = from->outer;
	sa.dst = to->outer;
	sa.spi = spi;
	sa.mode = t->tunnel ? XFRM_SA_TUNNEL : XFRM_SA_TRANSPORT;
	sa.reqid = reqid;
	sa.replay_window = 64;
	if (t->aead) {
		snprintf(sa.aead.name, sizeof(sa.aead.name), "%s", t->aead);
		sa.aead.bits = t->bits;
		sa.aead.key = k;
		sa.aead.key_len = t->key_len;
	} else {
		snprintf(sa.enc.name, sizeof(sa.enc.name), "cbc(aes)");
		sa.enc.key = k;
		sa.enc.key_len = t->key_len;
		snprintf(sa.auth.name, sizeof(sa.auth.name), "hmac(sha256)");
		sa.auth.bits = 128;
		sa.auth.key = ak;
		sa.auth.key_len = 32;
	}
	if (t->natt) {
		sa.encap.sport = 4500;
		sa.encap.dport = 4500;
	}
	return sa;
}

static void side_policies(const struct suite *t, struct side *me, const struct side *peer, uint32_t reqid)
{
	struct pvpn_err e;
	unsigned full = me->outer.family == AF_INET ? 32 : 128;
	for (int d = 0; d < 3; d++) {
		struct xfrm_policy p;
		bool outbound = d == XFRM_DIR_OUT;
		memset(&p, 0, sizeof(p));
		p.sel.family = t->tunnel ? me->inner.family : me->outer.family;
		if (t->tunnel) {
			p.sel.src = outbound ? me->inner : peer->inner;
			p.sel.dst = outbound ? peer->inner : me->inner;
			p.sel.src_len = outbound ? me->inner_len : peer->inner_len;
			p.sel.dst_len = outbound ? peer->inner_len : me->inner_len;
		} else {
			p.sel.src = outbound ? me->outer : peer->outer;
			p.sel.dst = outbound ? peer->outer : me->outer;
			p.sel.src_len = p.sel.dst_len = (uint8_t)full;
		}
		if (t->tunnel) {
			/* Selectors must name the subnet, not the host. */
			struct xfrm_addr *as[2] = { &p.sel.src, &p.sel.dst };
			for (int i = 0; i < 2; i++) {
				if (as[i]->family == AF_INET)
					as[i]->v4.s_addr &= htonl(0xffffff00u);
				else
					memset(&as[i]->v6.s6_addr[8], 0, 8);
			}
		}
		/* Transport mode needs no fwd policy (nothing is forwarded). */
		if (!t->tunnel && d == XFRM_DIR_FWD)
			continue;
		p.dir = (enum xfrm_dir)d;
		p.action = XFRM_ACT_ALLOW;
		p.priority = 1000;
		p.has_tmpl = true;
		p.tmpl.mode = t->tunnel ? XFRM_SA_TUNNEL : XFRM_SA_TRANSPORT;
		p.tmpl.reqid = reqid;
		if (t->tunnel) {
			p.tmpl.src = outbound ? me->outer : peer->outer;
			p.tmpl.dst = outbound ? peer->outer : me->outer;
		}
		if (xfrm_policy_add(me->h, &p, &e) < 0)
			fail_msg("%s: %s", me->ns, e.msg);
	}
}

static void check_counters(struct side *s, const struct xfrm_sa *sa, const char *what)
{
	struct xfrm_sa_id id = { .dst = sa->dst, .spi = sa->spi };
	struct xfrm_sa_counters c;
	struct pvpn_err e;
	if (xfrm_sa_counters(s->h, &id, &c, &e) < 0)
		fail_msg("%s: %s", s->ns, e.msg);
	printf("    %s %s SA 0x%08x: %llu packets, %llu bytes\n", s->ns, what, sa->spi,
	       (unsigned long long)c.packets, (unsigned long long)c.bytes);
	if (c.packets < 2 || c.bytes == 0 || c.use_time == 0)
		fail_msg("%s: %s SA 0x%08x saw %llu packets, %llu bytes", s->ns, what, sa->spi,
			 (unsigned long long)c.packets, (unsigned long long)c.bytes);
}

static void run_suite(void **state, const struct suite *t)
{
	struct net *n = *state;
	uint8_t k_ab[36], k_ba[36], a_ab[32], a_ba[32];
	uint32_t reqid = XFRM_REQID_MIN + 100;
	struct pvpn_err e;
	char dst[64];

	build_net(n, t);
	side_addresses(&n->a, &n->b, t->tunnel);
	side_addresses(&n->b, &n->a, t->tunnel);
	fill_keys(k_ab, sizeof(k_ab), 0x11);
	fill_keys(k_ba, sizeof(k_ba), 0x55);
	fill_keys(a_ab, sizeof(a_ab), 0x99);
	fill_keys(a_ba, sizeof(a_ba), 0xcc);
	struct xfrm_sa ab = make_sa(t, &n->a, &n->b, 0x0a0b0001, k_ab, a_ab, reqid);
	struct xfrm_sa ba = make_sa(t, &n->b, &n->a, 0x0b0a0001, k_ba, a_ba, reqid);
	/* Each side holds both SAs: its outbound one and its inbound one. */
	/* NAT-T: A expects B on another port than B really uses, as if a
	 * NAT had rebound; the kernel must tell A with a MAPPING event. */
	struct xfrm_sa ba_at_a = ba;
	if (t->natt)
		ba_at_a.encap.sport = 4999;
	if (xfrm_sa_add(n->a.h, &ab, &e) < 0 || xfrm_sa_add(n->a.h, &ba_at_a, &e) < 0 ||
	    xfrm_sa_add(n->b.h, &ab, &e) < 0 || xfrm_sa_add(n->b.h, &ba, &e) < 0)
		fail_msg("%s: adding SAs: %s", t->name, e.msg);
	side_policies(t, &n->a, &n->b, reqid);
	side_policies(t, &n->b, &n->a, reqid);

	xfrm_addr_str(t->tunnel ? &n->b.inner : &n->b.outer, dst, sizeof(dst));
	const struct xfrm_addr *target = t->tunnel ? &n->b.inner : &n->b.outer;
	int rc = netns_sh(out, sizeof(out), "ip netns exec %s ping -%c -c 2 -i 0.3 -W 3 %s",
			  n->a.ns, target->family == AF_INET6 ? '6' : '4', dst);
	if (rc != 0) {
		char st[4096];
		/* What each side's SAs counted and why the kernel dropped. */
		netns_sh(st, sizeof(st), "for s in %s %s; do echo \"== $s\"; "
			 "ip -n $s -s xfrm state | grep -E '^src|proto esp|[0-9]\\(bytes\\), '; "
			 "ip netns exec $s grep -v ' 0$' /proc/net/xfrm_stat; ip -n $s route; done",
			 n->a.ns, n->b.ns);
		fail_msg("%s: ping %s failed:\n%s\n%s", t->name, dst, out, st);
	}
	printf("    %s: ping through ESP ok\n", t->name);
	check_counters(&n->a, &ab, "out");
	check_counters(&n->a, &ba, "in");
	check_counters(&n->b, &ab, "in");
	check_counters(&n->b, &ba, "out");
	if (t->natt) {
		/* The ESP went in UDP: the encap socket's peer saw no IKE. */
		assert_int_equal(netns_sh(out, sizeof(out), "ip -n %s xfrm state", n->a.ns), 0);
		if (!strstr(out, "encap type espinudp sport 4500 dport 4500"))
			fail_msg("no encap on the SA:\n%s", out);
		struct xfrm_event ev;
		int got = 0;
		for (int i = 0; i < 50 && got != 1; i++) {
			got = xfrm_events_read(n->a.ev, &ev, &e);
			if (got < 0)
				fail_msg("reading events: %s", e.msg);
			if (got == 1 && ev.type != XFRM_EV_MAPPING)
				got = 0;
			if (got != 1)
				usleep(100000);
		}
		if (got != 1)
			fail_msg("no MAPPING event after B's port differed from A's SA");
		char na[64];
		printf("    MAPPING: SA 0x%08x peer port %u -> %s:%u\n", ev.mapping.id.spi,
		       ev.mapping.old_port, xfrm_addr_str(&ev.mapping.new_addr, na, sizeof(na)),
		       ev.mapping.new_port);
		assert_int_equal(ev.mapping.id.spi, ba.spi);
		assert_int_equal(ev.mapping.reqid, reqid);
		assert_int_equal(ev.mapping.old_port, 4999);
		assert_int_equal(ev.mapping.new_port, 4500);
		assert_memory_equal(&ev.mapping.new_addr, &n->b.outer, sizeof(n->b.outer));
	}

	/* Everything pvpn installed comes out again. */
	unsigned nsa, npol;
	assert_int_equal(xfrm_flush_owned(n->a.h, &nsa, &npol, &e), 0);
	assert_int_equal(nsa, 2);
	assert_int_equal(npol, t->tunnel ? 3 : 2);
}

#define SUITE(fn, ...) \
	static void fn(void **state) { static const struct suite t = { #fn, __VA_ARGS__ }; run_suite(state, &t); }

SUITE(tunnel_aes128gcm, .tunnel = true, .aead = "rfc4106(gcm(aes))", .key_len = 20, .bits = 128)
SUITE(tunnel_aes256gcm, .tunnel = true, .aead = "rfc4106(gcm(aes))", .key_len = 36, .bits = 128)
SUITE(tunnel_chacha20poly1305, .tunnel = true, .aead = "rfc7539esp(chacha20,poly1305)", .key_len = 36, .bits = 128)
SUITE(tunnel_aes256cbc_sha256, .tunnel = true, .key_len = 32)
SUITE(transport_aes128gcm, .tunnel = false, .aead = "rfc4106(gcm(aes))", .key_len = 20, .bits = 128)
SUITE(transport_aes256cbc_sha256_v6, .tunnel = false, .v6 = true, .key_len = 32)
SUITE(tunnel_chacha20poly1305_v6, .tunnel = true, .v6 = true, .aead = "rfc7539esp(chacha20,poly1305)", .key_len = 36, .bits = 128)
SUITE(tunnel_aes128gcm_4in6, .tunnel = true, .mix46 = true, .aead = "rfc4106(gcm(aes))", .key_len = 20, .bits = 128)
SUITE(tunnel_aes256cbc_sha256_6in4, .tunnel = true, .mix64 = true, .key_len = 32)
SUITE(tunnel_aes256gcm_natt, .tunnel = true, .natt = true, .aead = "rfc4106(gcm(aes))", .key_len = 36, .bits = 128)

int main(void)
{
	static struct net n;
	void *st = &n;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_prestate_setup_teardown(tunnel_aes128gcm, NULL, teardown, st),
		cmocka_unit_test_prestate_setup_teardown(tunnel_aes256gcm, NULL, teardown, st),
		cmocka_unit_test_prestate_setup_teardown(tunnel_chacha20poly1305, NULL, teardown, st),
		cmocka_unit_test_prestate_setup_teardown(tunnel_aes256cbc_sha256, NULL, teardown, st),
		cmocka_unit_test_prestate_setup_teardown(transport_aes128gcm, NULL, teardown, st),
		cmocka_unit_test_prestate_setup_teardown(transport_aes256cbc_sha256_v6, NULL, teardown, st),
		cmocka_unit_test_prestate_setup_teardown(tunnel_chacha20poly1305_v6, NULL, teardown, st),
		cmocka_unit_test_prestate_setup_teardown(tunnel_aes128gcm_4in6, NULL, teardown, st),
		cmocka_unit_test_prestate_setup_teardown(tunnel_aes256cbc_sha256_6in4, NULL, teardown, st),
		cmocka_unit_test_prestate_setup_teardown(tunnel_aes256gcm_natt, NULL, teardown, st),
	};
	setvbuf(stdout, NULL, _IONBF, 0);
	/* PVPN_TEST_FILTER=tunnel_* runs a subset (cmocka pattern). */
	if (getenv("PVPN_TEST_FILTER"))
		cmocka_set_test_filter(getenv("PVPN_TEST_FILTER"));
	/* The veth pair is born here before moving into A and B: a private
	 * namespace keeps even a failed move away from the host's. */
	if (netns_isolate() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
