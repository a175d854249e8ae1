/* Moving live ESP SAs and their policies' templates to a new path with
 * kernel-xfrm (xfrm_sa_move, xfrm_policy_move), as pvpnd does for MOBIKE
 * (RFC 4555) and NAT mapping changes: two namespaces joined by a veth pair,
 * a tunnel-mode SA pair and in/out/fwd policies on both sides, a ping,
 * then the client's outer address moves (192.168.77.1 -> .3) on both
 * sides, and the ping goes on through the SAME SPIs with the counters and
 * the sequence numbers continuing.  Variants: legacy 32-packet replay
 * window, a 64-packet window (ESN replay state), ESN, UDP encapsulation
 * starting and stopping, a replaced pair still in its rekey grace period,
 * and refusals that leave the SA alone.  Needs ESP (the VM). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kernel-xfrm/xfrm.h"
#include "tests/lib/netns.h"

#define REQID (XFRM_REQID_MIN + 200)

struct side {
	char ns[32];
	struct xfrm_handle *h;
	int ike;                        /* UDP 4500, ESP-in-UDP */
	int veth;
	struct xfrm_addr outer, inner;
	struct xfrm_sa_id ids[4];       /* in, out (+ the replaced pair) */
	size_t n_ids;
	struct xfrm_policy pol[3];
};

struct net {
	struct side a, b;               /* a = the client that moves */
};

struct variant {
	const char *name;
	uint32_t window;
	bool esn;
	bool encap_before, encap_after;
	bool grace_pair;                /* a second (older) pair of the same reqid */
};

static char out[16384];

static struct xfrm_addr A(const char *s)
{
	struct xfrm_addr a;
	assert_int_equal(xfrm_addr_parse(s, &a), 0);
	return a;
}

static bool xa_is(const struct xfrm_addr *a, const char *s)
{
	char b[64];
	return !strcmp(xfrm_addr_str(a, b, sizeof(b)), s);
}

static void side_teardown(struct side *s)
{
	if (s->ike >= 0)
		close(s->ike);
	s->ike = -1;
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

static void side_open(struct side *s, const char *veth)
{
	struct pvpn_err e;
	int saved;

	assert_int_equal(netns_enter(s->ns, &saved), 0);
	int rc = xfrm_open(&s->h, &e);
	s->veth = (int)if_nametoindex(veth);
	/* Bound to any address: it keeps working after the move. */
	if (rc == 0)
		rc = xfrm_ike_socket_open(AF_INET, NULL, 4500, true, &s->ike, &e);
	assert_int_equal(netns_return(saved), 0);
	if (rc < 0)
		fail_msg("in %s: %s", s->ns, e.msg);
	assert_true(s->veth > 0);
}

static void build_net(struct net *n)
{
	static unsigned serial;
	unsigned id = (unsigned)getpid() * 16 + serial++;

	memset(n, 0, sizeof(*n));
	n->a.ike = n->b.ike = -1;
	snprintf(n->a.ns, sizeof(n->a.ns), "pvpnm-%x-a", id);
	snprintf(n->b.ns, sizeof(n->b.ns), "pvpnm-%x-b", id);
	if (netns_add(n->a.ns) < 0 || netns_add(n->b.ns) < 0)
		fail_msg("cannot create namespaces");
	/* A holds both of its outer addresses from the start (as a laptop
	 * holding an address on two networks); the move is the SAs'. */
	if (netns_sh(out, sizeof(out),
		     "ip -n %s link set lo up && ip -n %s link set lo up && "
		     "ip link add pma netns %s type veth peer name pmb netns %s && "
		     "ip -n %s link set pma up && ip -n %s link set pmb up && "
		     "ip -n %s addr add 192.168.77.1/24 dev pma && "
		     "ip -n %s addr add 192.168.77.3/24 dev pma && "
		     "ip -n %s addr add 192.168.77.2/24 dev pmb && "
		     "ip -n %s addr add 10.1.0.1/32 dev lo && ip -n %s addr add 10.2.0.1/32 dev lo && "
		     "ip -n %s route add 10.2.0.0/24 via 192.168.77.2 src 10.1.0.1 && "
		     "ip -n %s route add 10.1.0.0/24 via 192.168.77.1 src 10.2.0.1",
		     n->a.ns, n->b.ns, n->a.ns, n->b.ns, n->a.ns, n->b.ns, n->a.ns, n->a.ns,
		     n->b.ns, n->a.ns, n->b.ns, n->a.ns, n->b.ns) != 0)
		fail_msg("cannot build the network: %s", out);
	n->a.outer = A("192.168.77.1");
	n->b.outer = A("192.168.77.2");
	n->a.inner = A("10.1.0.0");
	n->b.inner = A("10.2.0.0");
	side_open(&n->a, "pma");
	side_open(&n->b, "pmb");
}

static struct xfrm_sa make_sa(const struct variant *v, const struct xfrm_addr *src,
			      const struct xfrm_addr *dst, uint32_t spi, const uint8_t *k)
{
	struct xfrm_sa sa;
	memset(&sa, 0, sizeof(sa));
	sa.src = *src;
	sa.dst = *dst;
	sa.spi = spi;
	sa.mode = XFRM_SA_TUNNEL;
	sa.reqid = REQID;
	sa.replay_window = v->window;
	sa.esn = v->esn;
	snprintf(sa.aead.name, sizeof(sa.aead.name), "rfc4106(gcm(aes))");
	sa.aead.bits = 128;
	sa.aead.key = k;
	sa.aead.key_len = 20;
	sa.lifetime.hard_add_seconds = 3600;
	sa.lifetime.soft_add_seconds = 3000;
	if (v->encap_before) {
		sa.encap.sport = 4500;
		sa.encap.dport = 4500;
	}
	return sa;
}

/* One pair of SAs on both sides: a->b spi_ab, b->a spi_ba. */
static void add_pair(struct net *n, const struct variant *v, uint32_t spi_ab, uint32_t spi_ba)
{
	uint8_t k1[20], k2[20];
	struct pvpn_err e;
	for (size_t i = 0; i < 20; i++) {
		k1[i] = (uint8_t)(spi_ab + i * 3);
		k2[i] = (uint8_t)(spi_ba + i * 5);
	}
	struct xfrm_sa ab = make_sa(v, &n->a.outer, &n->b.outer, spi_ab, k1);
	struct xfrm_sa ba = make_sa(v, &n->b.outer, &n->a.outer, spi_ba, k2);
	if (xfrm_sa_add(n->a.h, &ab, &e) < 0 || xfrm_sa_add(n->a.h, &ba, &e) < 0 ||
	    xfrm_sa_add(n->b.h, &ab, &e) < 0 || xfrm_sa_add(n->b.h, &ba, &e) < 0)
		fail_msg("adding SAs: %s", e.msg);
	n->a.ids[n->a.n_ids++] = (struct xfrm_sa_id){ .dst = n->b.outer, .spi = spi_ab };
	n->a.ids[n->a.n_ids++] = (struct xfrm_sa_id){ .dst = n->a.outer, .spi = spi_ba };
	n->b.ids[n->b.n_ids++] = (struct xfrm_sa_id){ .dst = n->b.outer, .spi = spi_ab };
	n->b.ids[n->b.n_ids++] = (struct xfrm_sa_id){ .dst = n->a.outer, .spi = spi_ba };
}

static void add_policies(struct side *me, const struct side *peer)
{
	struct pvpn_err e;
	for (int d = 0; d < 3; d++) {
		struct xfrm_policy *p = &me->pol[d];
		bool outbound = d == XFRM_DIR_OUT;
		memset(p, 0, sizeof(*p));
		p->sel.family = AF_INET;
		p->sel.src = outbound ? me->inner : peer->inner;
		p->sel.dst = outbound ? peer->inner : me->inner;
		p->sel.src_len = p->sel.dst_len = 24;
		p->dir = (enum xfrm_dir)d;
		p->action = XFRM_ACT_ALLOW;
		p->priority = 1000;
		p->has_tmpl = true;
		p->tmpl.mode = XFRM_SA_TUNNEL;
		p->tmpl.reqid = REQID;
		p->tmpl.src = outbound ? me->outer : peer->outer;
		p->tmpl.dst = outbound ? peer->outer : me->outer;
		if (xfrm_policy_add(me->h, p, &e) < 0)
			fail_msg("%s: %s", me->ns, e.msg);
	}
}

static void ping(struct net *n, const char *when)
{
	int rc = netns_sh(out, sizeof(out), "ip netns exec %s ping -4 -c 3 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1",
			  n->a.ns);
	if (rc != 0) {
		char st[8192];
		netns_sh(st, sizeof(st), "for s in %s %s; do echo \"== $s\"; ip -n $s -s xfrm state; "
			 "ip -n $s xfrm policy; ip netns exec $s grep -v ' 0$' /proc/net/xfrm_stat; done",
			 n->a.ns, n->b.ns);
		fail_msg("ping %s the move failed:\n%s\n%s", when, out, st);
	}
}

/* Packets counted by the SA, and its outbound sequence number as
 * `ip -s xfrm state` shows it ("oseq 0x..."). */
static uint64_t packets(struct side *s, const struct xfrm_sa_id *id)
{
	struct xfrm_sa_counters c;
	struct pvpn_err e;
	if (xfrm_sa_counters(s->h, id, &c, &e) < 0)
		fail_msg("%s: %s", s->ns, e.msg);
	return c.packets;
}

static unsigned long oseq(struct side *s, const struct xfrm_sa_id *id)
{
	char a[64];
	if (netns_sh(out, sizeof(out), "ip -n %s -s xfrm state get dst %s proto esp spi 0x%08x",
		     s->ns, xfrm_addr_str(&id->dst, a, sizeof(a)), id->spi) != 0)
		fail_msg("ip xfrm state get: %s", out);
	const char *p = strstr(out, "oseq 0x");
	if (!p)
		fail_msg("no oseq for SA 0x%08x in:\n%s", id->spi, out);
	return strtoul(p + 5, NULL, 16);
}

/* Sums over A's outbound (even) or inbound (odd) SAs: with a replaced
 * pair, either outbound SA may carry the ping (both were added in the
 * same second). */
static uint64_t sum_packets(struct side *s, int odd)
{
	uint64_t t = 0;
	for (size_t i = (size_t)odd; i < s->n_ids; i += 2)
		t += packets(s, &s->ids[i]);
	return t;
}

static unsigned long max_oseq(struct side *s)
{
	unsigned long m = 0;
	for (size_t i = 0; i < s->n_ids; i += 2) {
		unsigned long q = oseq(s, &s->ids[i]);
		if (q > m)
			m = q;
	}
	return m;
}

static struct xfrm_move move_for(const struct side *me, const struct net *n, bool is_a,
				 const struct variant *v)
{
	struct xfrm_move m;
	memset(&m, 0, sizeof(m));
	m.old_local = is_a ? n->a.outer : n->b.outer;
	m.old_remote = is_a ? n->b.outer : n->a.outer;
	m.new_local = is_a ? A("192.168.77.3") : n->b.outer;
	m.new_remote = is_a ? n->b.outer : A("192.168.77.3");
	if (v->encap_after) {
		m.new_encap.sport = 4500;
		m.new_encap.dport = 4500;
	}
	(void)me;
	return m;
}

static void move_side(struct side *s, const struct xfrm_move *m)
{
	struct pvpn_err e;
	for (size_t i = 0; i < s->n_ids; i++) {
		uint32_t spi = s->ids[i].spi;
		if (xfrm_sa_move(s->h, &s->ids[i], m, &e) < 0)
			fail_msg("%s: moving SA 0x%08x: %s", s->ns, spi, e.msg);
		assert_int_equal(s->ids[i].spi, spi);
	}
	for (int d = 0; d < 3; d++) {
		int rc = xfrm_policy_move(s->h, &s->pol[d], m, &e);
		if (rc < 0)
			fail_msg("%s: moving a policy: %s", s->ns, e.msg);
		assert_int_equal(rc, 1);
	}
}

static void run_variant(void **state, const struct variant *v)
{
	struct net *n = *state;
	struct pvpn_err e;

	build_net(n);
	if (v->grace_pair)
		add_pair(n, v, 0x0a0b0001, 0x0b0a0001);    /* the older pair */
	add_pair(n, v, 0x0a0b0002, 0x0b0a0002);
	add_policies(&n->a, &n->b);
	add_policies(&n->b, &n->a);
	ping(n, "before");
	uint64_t out_before = sum_packets(&n->a, 0), in_before = sum_packets(&n->a, 1);
	unsigned long seq_before = max_oseq(&n->a);
	printf("    %s: before: out %llu packets oseq %lu, in %llu packets\n", v->name,
	       (unsigned long long)out_before, seq_before, (unsigned long long)in_before);
	assert_true(out_before >= 3 && in_before >= 3);

	struct xfrm_move ma = move_for(&n->a, n, true, v);
	struct xfrm_move mb = move_for(&n->b, n, false, v);
	move_side(&n->a, &ma);
	move_side(&n->b, &mb);

	/* The kernel now shows the new address with the same SPIs. */
	assert_int_equal(netns_sh(out, sizeof(out), "ip -n %s xfrm state", n->a.ns), 0);
	if (strstr(out, "192.168.77.1 "))
		fail_msg("the old address is still in A's SAs:\n%s", out);
	for (size_t i = 0; i < n->a.n_ids; i++) {
		char spi[32];
		snprintf(spi, sizeof(spi), "spi 0x%08x", n->a.ids[i].spi);
		if (!strstr(out, spi))
			fail_msg("SA %s is gone:\n%s", spi, out);
	}
	if (!strstr(out, "src 192.168.77.3 dst 192.168.77.2") ||
	    !strstr(out, "src 192.168.77.2 dst 192.168.77.3"))
		fail_msg("A's SAs did not move to 192.168.77.3:\n%s", out);
	bool has_encap = strstr(out, "encap type espinudp sport 4500 dport 4500") != NULL;
	if (has_encap != v->encap_after)
		fail_msg("UDP encapsulation should be %s after the move:\n%s",
			 v->encap_after ? "on" : "off", out);
	if (v->esn && !strstr(out, "esn"))
		fail_msg("the ESN flag was lost:\n%s", out);
	assert_int_equal(netns_sh(out, sizeof(out), "ip -n %s xfrm policy", n->a.ns), 0);
	if (strstr(out, "192.168.77.1 ") || !strstr(out, "tmpl src 192.168.77.3 dst 192.168.77.2") ||
	    !strstr(out, "tmpl src 192.168.77.2 dst 192.168.77.3"))
		fail_msg("A's policy templates did not move:\n%s", out);
	/* Counters and the sequence number went along. */
	uint64_t out_moved = sum_packets(&n->a, 0);
	unsigned long seq_moved = max_oseq(&n->a);
	assert_true(out_moved >= out_before);
	assert_true(seq_moved > seq_before);

	ping(n, "after");
	uint64_t out_after = sum_packets(&n->a, 0), in_after = sum_packets(&n->a, 1);
	unsigned long seq_after = max_oseq(&n->a);
	printf("    %s: after: out %llu packets oseq %lu, in %llu packets\n", v->name,
	       (unsigned long long)out_after, seq_after, (unsigned long long)in_after);
	assert_true(out_after >= out_before + 3);
	assert_true(in_after >= in_before + 3);
	assert_true(seq_after >= seq_moved + 3);
	/* B's replay check accepted every packet on the moved SA. */
	assert_int_equal(netns_sh(out, sizeof(out), "ip netns exec %s cat /proc/net/xfrm_stat",
				  n->b.ns), 0);
	const char *rw = strstr(out, "XfrmInStateSeqError");
	assert_non_null(rw);
	assert_int_equal(strtoul(rw + strlen("XfrmInStateSeqError"), NULL, 10), 0);

	unsigned nsa, npol;
	assert_int_equal(xfrm_flush_owned(n->a.h, &nsa, &npol, &e), 0);
	assert_int_equal(nsa, n->a.n_ids);
	assert_int_equal(npol, 3);
}

#define VARIANT(fn, ...) \
	static void fn(void **state) { static const struct variant v = { #fn, __VA_ARGS__ }; run_variant(state, &v); }

VARIANT(move_window32, .window = 32)
VARIANT(move_window64, .window = 64)
VARIANT(move_esn, .window = 128, .esn = true)
VARIANT(move_start_encap, .window = 64, .encap_after = true)
VARIANT(move_stop_encap, .window = 64, .encap_before = true)
VARIANT(move_keep_encap, .window = 32, .encap_before = true, .encap_after = true)
VARIANT(move_with_grace_pair, .window = 64, .grace_pair = true)

/* Refusals leave the SA where it was: an SA that is not there, and one
 * that does not run between the addresses the move names. */
static void move_refused(void **state)
{
	struct net *n = *state;
	static const struct variant v = { "move_refused", .window = 32 };
	struct pvpn_err e;

	build_net(n);
	add_pair(n, &v, 0x0a0b0009, 0x0b0a0009);
	add_policies(&n->a, &n->b);
	add_policies(&n->b, &n->a);
	struct xfrm_move m = move_for(&n->a, n, true, &v);

	struct xfrm_sa_id ghost = { .dst = n->b.outer, .spi = 0x0a0b7777 };
	assert_int_equal(xfrm_sa_move(n->a.h, &ghost, &m, &e), -ENOENT);
	assert_int_equal(ghost.spi, 0x0a0b7777);
	printf("    missing SA: %s\n", e.msg);

	struct xfrm_move wrong = m;
	wrong.old_local = A("192.168.77.9");
	struct xfrm_sa_id id = n->a.ids[0];
	assert_int_equal(xfrm_sa_move(n->a.h, &id, &wrong, &e), -EINVAL);
	printf("    wrong path: %s\n", e.msg);
	assert_memory_equal(&id, &n->a.ids[0], sizeof(id));
	struct xfrm_policy p = n->a.pol[XFRM_DIR_OUT];
	assert_int_equal(xfrm_policy_move(n->a.h, &p, &wrong, &e), 0);
	assert_memory_equal(&p, &n->a.pol[XFRM_DIR_OUT], sizeof(p));
	/* Nothing moved: the tunnel still works on the old path. */
	ping(n, "after the refused");
	assert_int_equal(netns_sh(out, sizeof(out), "ip -n %s xfrm state", n->a.ns), 0);
	if (strstr(out, "192.168.77.3"))
		fail_msg("a refused move changed something:\n%s", out);
}

/* The network watcher and the route lookup pvpnd's path check uses: an
 * address move is seen as a change, and the route source follows it; no
 * route is -ENETUNREACH. */
static void rtmon_and_route_lookup(void **state)
{
	struct net *n = *state;
	struct xfrm_rtmon *m = NULL;
	struct xfrm_route_info ri;
	struct pvpn_err e;
	char b[64];
	int saved, rc;

	build_net(n);
	assert_int_equal(netns_enter(n->a.ns, &saved), 0);
	rc = xfrm_rtmon_open(&m, &e);
	assert_int_equal(netns_return(saved), 0);
	if (rc < 0)
		fail_msg("xfrm_rtmon_open: %s", e.msg);
	assert_int_equal(xfrm_rtmon_read(m, &e), 0);     /* nothing yet */

	/* The server's route leaves from .1 (the first address) now. */
	assert_int_equal(xfrm_route_lookup(n->a.h, &n->b.outer, &ri, &e), 0);
	char g[64];
	printf("    route to 192.168.77.2: src %s gw %s ifindex %d\n",
	       xfrm_addr_str(&ri.src, b, sizeof(b)), xfrm_addr_str(&ri.gw, g, sizeof(g)),
	       ri.ifindex);
	assert_int_equal(ri.ifindex, n->a.veth);
	assert_true(xa_is(&ri.src, "192.168.77.1"));
	assert_int_equal(ri.gw.family, 0);

	/* (Deleting the primary takes the secondary .3 along: add it back.) */
	if (netns_sh(out, sizeof(out), "ip -n %s addr del 192.168.77.1/24 dev pma && "
		     "ip -n %s addr add 192.168.77.3/24 dev pma", n->a.ns, n->a.ns) != 0)
		fail_msg("moving the address: %s", out);
	int changes = 0;
	for (int i = 0; i < 20 && changes == 0; i++) {
		changes = xfrm_rtmon_read(m, &e);
		if (changes == 0)
			usleep(50000);
	}
	if (changes <= 0)
		fail_msg("the watcher saw no change (%d): %s", changes, changes < 0 ? e.msg : "");
	printf("    watcher: %d change messages\n", changes);
	assert_int_equal(xfrm_route_lookup(n->a.h, &n->b.outer, &ri, &e), 0);
	assert_true(xa_is(&ri.src, "192.168.77.3"));

	/* A gateway is reported, and no route at all is an error. */
	assert_int_equal(netns_sh(out, sizeof(out), "ip -n %s route add 198.18.0.0/16 via 192.168.77.2",
				  n->a.ns), 0);
	struct xfrm_addr far = A("198.18.1.1"), nowhere = A("203.0.113.77");
	assert_int_equal(xfrm_route_lookup(n->a.h, &far, &ri, &e), 0);
	assert_true(xa_is(&ri.gw, "192.168.77.2"));
	rc = xfrm_route_lookup(n->a.h, &nowhere, &ri, &e);
	printf("    no route: %s\n", e.msg);
	assert_true(rc == -ENETUNREACH || rc == -EHOSTUNREACH);
	xfrm_rtmon_close(m);
}

int main(void)
{
	static struct net n;
	void *st = &n;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_prestate_setup_teardown(move_window32, NULL, teardown, st),
		cmocka_unit_test_prestate_setup_teardown(move_window64, NULL, teardown, st),
		cmocka_unit_test_prestate_setup_teardown(move_esn, NULL, teardown, st),
		cmocka_unit_test_prestate_setup_teardown(move_start_encap, NULL, teardown, st),
		cmocka_unit_test_prestate_setup_teardown(move_stop_encap, NULL, teardown, st),
		cmocka_unit_test_prestate_setup_teardown(move_keep_encap, NULL, teardown, st),
		cmocka_unit_test_prestate_setup_teardown(move_with_grace_pair, NULL, teardown, st),
		cmocka_unit_test_prestate_setup_teardown(move_refused, NULL, teardown, st),
		cmocka_unit_test_prestate_setup_teardown(rtmon_and_route_lookup, NULL, teardown, st),
	};
	setvbuf(stdout, NULL, _IONBF, 0);
	if (getenv("PVPN_TEST_FILTER"))
		cmocka_set_test_filter(getenv("PVPN_TEST_FILTER"));
	if (netns_isolate() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
