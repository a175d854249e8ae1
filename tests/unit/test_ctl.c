/* Unit tests for ctl/: option parsing, the event loop, the key log, the
 * ESP algorithm names and the engine -> kernel translation. */
#define _GNU_SOURCE 1 /* pipe2 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "lib/clock.h"

/* --- options ----------------------------------------------------------- */

static int parse(struct ctl_opts *o, struct pvpn_err *e, const char *const *args)
{
	char *argv[16];
	int argc = 0;
	argv[argc++] = (char *)"pvpnd";
	for (; args[argc - 1]; argc++)
		argv[argc] = (char *)args[argc - 1];
	argv[argc] = NULL;
	return ctl_opts_parse(o, argc, argv, e);
}

static void opts_oneshot(void **state)
{
	struct ctl_opts o;
	struct pvpn_err e = { 0 };
	const char *a[] = { "--foreground", "--profile", "x.conf", "--keylog", "k", "-v", "-v",
			    NULL };
	assert_int_equal(parse(&o, &e, a), 0);
	assert_int_equal(o.mode, CTL_MODE_ONESHOT);
	assert_string_equal(o.profile, "x.conf");
	assert_string_equal(o.keylog, "k");
	assert_int_equal(o.verbose, 2);
	assert_true(o.foreground);
}

static void opts_daemon_defaults_and_errors(void **state)
{
	struct ctl_opts o;
	struct pvpn_err e = { 0 };
	const char *a[] = { "--socket", "/tmp/s", "--prefs", "/tmp/p", NULL };
	assert_int_equal(parse(&o, &e, a), 0);
	assert_int_equal(o.mode, CTL_MODE_DAEMON);
	assert_string_equal(o.socket, "/tmp/s");
	assert_string_equal(o.prefs, "/tmp/p");
	const char *b[] = { NULL };
	assert_int_equal(parse(&o, &e, b), 0);
	assert_string_equal(o.socket, CTL_SOCKET_DEFAULT);

	const char *c[] = { "--bogus", NULL };
	assert_int_equal(parse(&o, &e, c), -EINVAL);
	assert_non_null(strstr(e.msg, "--bogus"));
	const char *d[] = { "--profile", NULL };
	assert_int_equal(parse(&o, &e, d), -EINVAL);
	assert_non_null(strstr(e.msg, "argument"));
	const char *f[] = { "--profile", "a", "--socket", "s", NULL };
	assert_int_equal(parse(&o, &e, f), -EINVAL);
	const char *g[] = { "stray", NULL };
	assert_int_equal(parse(&o, &e, g), -EINVAL);
}

/* --- loop ----------------------------------------------------------------- */

struct hits {
	struct ctl_loop *l;
	int n;
	int other_fd;       /* removed by the first callback */
};

static void on_readable(void *ctx, int fd, uint32_t ev)
{
	struct hits *h = ctx;
	char c;
	while (read(fd, &c, 1) == 1)
		;
	h->n++;
	if (h->other_fd >= 0) {
		ctl_loop_del(h->l, h->other_fd);
		h->other_fd = -1;
	}
}

static void loop_dispatch_and_delete_inside_callback(void **state)
{
	struct ctl_loop l;
	struct pvpn_err e = { 0 };
	int p1[2], p2[2];
	assert_int_equal(pipe2(p1, O_NONBLOCK), 0);
	assert_int_equal(pipe2(p2, O_NONBLOCK), 0);
	assert_int_equal(ctl_loop_init(&l, &e), 0);
	struct hits h = { .l = &l, .other_fd = -1 };
	struct hits h2 = { .l = &l, .other_fd = -1 };
	h.other_fd = p2[0];
	h2.other_fd = p1[0];
	assert_int_equal(ctl_loop_add(&l, p1[0], EPOLLIN, on_readable, &h, &e), 0);
	assert_int_equal(ctl_loop_add(&l, p2[0], EPOLLIN, on_readable, &h2, &e), 0);
	assert_int_equal(ctl_loop_add(&l, p2[0], EPOLLIN, on_readable, &h2, &e), -EEXIST);
	/* Both ready in one batch: whichever runs first removes the other, which
	 * must then not be called. */
	assert_int_equal(write(p1[1], "x", 1), 1);
	assert_int_equal(write(p2[1], "x", 1), 1);
	assert_true(ctl_loop_run_once(&l, 1000, &e) >= 1);
	assert_int_equal(h.n + h2.n, 1);
	/* Nothing ready: times out with 0 events. */
	assert_int_equal(ctl_loop_run_once(&l, 10, &e), 0);
	ctl_loop_free(&l);
	close(p1[0]); close(p1[1]); close(p2[0]); close(p2[1]);
}

static void on_timer_cb(void *ctx, int fd, uint32_t ev)
{
	ctl_timer_drain(fd);
	(*(int *)ctx)++;
}

static void loop_timer_fires_at_deadline(void **state)
{
	struct ctl_loop l;
	struct pvpn_err e = { 0 };
	int fired = 0;
	assert_int_equal(ctl_loop_init(&l, &e), 0);
	int tfd = ctl_timer_open(&e);
	assert_true(tfd >= 0);
	assert_int_equal(ctl_loop_add(&l, tfd, EPOLLIN, on_timer_cb, &fired, &e), 0);
	uint64_t t0 = clock_mono_ms();
	assert_int_equal(ctl_timer_arm(tfd, t0 + 50), 0);
	assert_int_equal(ctl_loop_run_once(&l, 20, &e), 0);
	assert_int_equal(fired, 0);
	while (!fired && clock_mono_ms() < t0 + 2000)
		ctl_loop_run_once(&l, 100, &e);
	assert_int_equal(fired, 1);
	assert_true(clock_mono_ms() >= t0 + 50);
	/* Disarmed: nothing more. */
	assert_int_equal(ctl_timer_arm(tfd, 0), 0);
	assert_int_equal(ctl_loop_run_once(&l, 80, &e), 0);
	assert_int_equal(fired, 1);
	ctl_loop_free(&l);
	close(tfd);
}

/* --- key log ---------------------------------------------------------- */

static void keylog_is_0600_and_appends_blocks(void **state)
{
	char path[] = "/tmp/pvpn-test-keylog-XXXXXX";
	int tmp = mkstemp(path);
	assert_true(tmp >= 0);
	close(tmp);
	unlink(path);
	struct ctl_keylog k;
	struct pvpn_err e = { 0 };
	assert_int_equal(ctl_keylog_open(&k, path, &e), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	const uint8_t spi[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, key[4] = { 0xde, 0xad, 0xbe, 0xef };
	struct ctl_keylog_item it[] = { { "ike_spi_i", spi, 8 }, { "sk_d", key, 4 } };
	assert_int_equal(ctl_keylog_block(&k, "ike-sa test", it, 2), 0);
	const char *t = "esp_spi_i=0a0b0c0d\n\n";
	assert_int_equal(ctl_keylog_write_text(&k, t, strlen(t)), 0);
	const char *eng = "ike_spi_i=0011223344556677\nike_spi_r=8899aabbccddeeff\nsk_d=ab\n"
			  "xike_spi_i=01\n\n";
	assert_int_equal(ctl_keylog_write_engine(&k, eng, strlen(eng)), 0);
	ctl_keylog_close(&k);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char buf[512] = { 0 };
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	assert_true(n > 0);
	assert_string_equal(buf, "# ike-sa test\nike_spi_i=0102030405060708\nsk_d=deadbeef\n\n"
				 "esp_spi_i=0a0b0c0d\n\n"
				 "spi_i=0011223344556677\nspi_r=8899aabbccddeeff\nsk_d=ab\n"
				 "xike_spi_i=01\n\n");
	/* A group-readable file is narrowed when reopened. */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(ctl_keylog_open(&k, path, &e), 0);
	ctl_keylog_close(&k);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	unlink(path);
}

/* --- algorithms and translation --------------------------------------- */

static void alg_names(void **state)
{
	const struct ctl_esp_encr *g = ctl_esp_encr_lookup(20);
	assert_non_null(g);
	assert_string_equal(g->kernel, "rfc4106(gcm(aes))");
	assert_true(g->aead);
	assert_int_equal(g->icv_bits, 128);
	const struct ctl_esp_encr *c = ctl_esp_encr_lookup(28);
	assert_string_equal(c->kernel, "rfc7539esp(chacha20,poly1305)");
	assert_string_equal(ctl_esp_encr_lookup(12)->kernel, "cbc(aes)");
	assert_false(ctl_esp_encr_lookup(12)->aead);
	assert_null(ctl_esp_encr_lookup(9999));
	assert_string_equal(ctl_esp_integ_lookup(12)->kernel, "hmac(sha256)");
	assert_int_equal(ctl_esp_integ_lookup(12)->trunc_bits, 128);
	assert_int_equal(ctl_esp_integ_lookup(14)->trunc_bits, 256);
	assert_null(ctl_esp_integ_lookup(0));
}

static void sin4(struct sockaddr_storage *ss, const char *a, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *s = (struct sockaddr_in *)ss;
	s->sin_family = AF_INET;
	s->sin_port = htons(port);
	inet_pton(AF_INET, a, &s->sin_addr);
}

static void ts4(struct ike_cfg_ts *t, const char *lo, const char *hi)
{
	memset(t, 0, sizeof(*t));
	t->type = IKE_TS_IPV4;
	t->end_port = 65535;
	inet_pton(AF_INET, lo, t->start);
	inet_pton(AF_INET, hi, t->end);
}

static void make_child(struct ike_act_child *c, uint16_t encr, uint16_t integ, size_t klen)
{
	memset(c, 0, sizeof(*c));
	c->spi_in = 0xc1000001;
	c->spi_out = 0xc2000002;
	sin4(&c->local, "192.0.2.1", 0);
	sin4(&c->remote, "192.0.2.2", 0);
	c->proto = IPPROTO_ESP;
	c->tunnel = true;
	c->encr_id = encr;
	c->integ_id = integ;
	uint8_t k[64];
	for (size_t i = 0; i < sizeof(k); i++)
		k[i] = (uint8_t)i;
	secret_set(&c->encr_in, k, klen);
	secret_set(&c->encr_out, k + 1, klen);
	if (integ) {
		secret_set(&c->integ_in, k + 2, 32);
		secret_set(&c->integ_out, k + 3, 32);
	}
	ts4(&c->ts_local[0], "10.10.10.1", "10.10.10.1");
	c->n_ts_local = 1;
	ts4(&c->ts_remote[0], "10.99.0.0", "10.99.0.255");
	c->n_ts_remote = 1;
	c->reqid = XFRM_REQID_MIN + 1;
	c->hard_lifetime_s = 3600;
	c->soft_lifetime_s = 3300;
}

static void free_child(struct ike_act_child *c)
{
	secret_free(&c->encr_in);
	secret_free(&c->encr_out);
	secret_free(&c->integ_in);
	secret_free(&c->integ_out);
}

static void translate_gcm_sa(void **state)
{
	struct ike_act_child c;
	struct xfrm_sa sa;
	struct pvpn_err e = { 0 };
	make_child(&c, 20, 0, 36);
	assert_int_equal(ctl_translate_sa(&c, true, &sa, &e), 0);
	assert_string_equal(sa.aead.name, "rfc4106(gcm(aes))");
	assert_int_equal(sa.aead.bits, 128);
	assert_int_equal(sa.aead.key_len, 36);
	assert_ptr_equal(sa.aead.key, c.encr_in.data);
	assert_string_equal(sa.enc.name, "");
	assert_int_equal(sa.spi, 0xc1000001);
	char b[64];
	assert_string_equal(xfrm_addr_str(&sa.src, b, sizeof(b)), "192.0.2.2");
	assert_string_equal(xfrm_addr_str(&sa.dst, b, sizeof(b)), "192.0.2.1");
	assert_int_equal(sa.mode, XFRM_SA_TUNNEL);
	assert_int_equal(sa.reqid, XFRM_REQID_MIN + 1);
	assert_true(sa.replay_window > 0);
	assert_int_equal(sa.encap.sport, 0);
	assert_int_equal(sa.lifetime.hard_add_seconds, 3600);

	/* Outbound, NAT-T: the encap ports from the sender's point of view. */
	c.encap = true;
	c.encap_local_port = 4500;
	c.encap_remote_port = 31337;
	assert_int_equal(ctl_translate_sa(&c, false, &sa, &e), 0);
	assert_int_equal(sa.spi, 0xc2000002);
	assert_ptr_equal(sa.aead.key, c.encr_out.data);
	assert_string_equal(xfrm_addr_str(&sa.src, b, sizeof(b)), "192.0.2.1");
	assert_int_equal(sa.encap.sport, 4500);
	assert_int_equal(sa.encap.dport, 31337);
	assert_int_equal(ctl_translate_sa(&c, true, &sa, &e), 0);
	assert_int_equal(sa.encap.sport, 31337);
	assert_int_equal(sa.encap.dport, 4500);
	free_child(&c);
}

static void translate_cbc_sha256_sa(void **state)
{
	struct ike_act_child c;
	struct xfrm_sa sa;
	struct pvpn_err e = { 0 };
	make_child(&c, 12, 12, 16);
	c.encr_key_bits = 128;
	assert_int_equal(ctl_translate_sa(&c, false, &sa, &e), 0);
	assert_string_equal(sa.enc.name, "cbc(aes)");
	assert_int_equal(sa.enc.key_len, 16);
	assert_string_equal(sa.auth.name, "hmac(sha256)");
	assert_int_equal(sa.auth.bits, 128);
	assert_int_equal(sa.auth.key_len, 32);
	assert_ptr_equal(sa.auth.key, c.integ_out.data);
	assert_string_equal(sa.aead.name, "");
	/* An integrity algorithm pvpn cannot name is an error, not a guess. */
	c.integ_id = 77;
	assert_int_equal(ctl_translate_sa(&c, false, &sa, &e), -ENOTSUP);
	assert_non_null(strstr(e.msg, "77"));
	free_child(&c);
}

static void translate_tunnel_policies(void **state)
{
	struct ike_act_child c;
	struct pvpn_err e = { 0 };
	struct xfrm_policy p[CTL_MAX_POLICIES];
	size_t n = 0;
	make_child(&c, 20, 0, 20);
	assert_int_equal(ctl_translate_policies(&c, 1000, p, CTL_MAX_POLICIES, &n, &e), 0);
	assert_int_equal(n, 3);
	char a[64];
	int seen = 0;
	for (size_t i = 0; i < n; i++) {
		assert_true(p[i].has_tmpl);
		assert_int_equal(p[i].tmpl.mode, XFRM_SA_TUNNEL);
		assert_int_equal(p[i].tmpl.reqid, XFRM_REQID_MIN + 1);
		assert_int_equal(p[i].priority, 1000);
		seen |= 1 << p[i].dir;
		if (p[i].dir == XFRM_DIR_OUT) {
			assert_string_equal(xfrm_addr_str(&p[i].sel.src, a, sizeof(a)), "10.10.10.1");
			assert_int_equal(p[i].sel.src_len, 32);
			assert_string_equal(xfrm_addr_str(&p[i].sel.dst, a, sizeof(a)), "10.99.0.0");
			assert_int_equal(p[i].sel.dst_len, 24);
			assert_string_equal(xfrm_addr_str(&p[i].tmpl.src, a, sizeof(a)), "192.0.2.1");
			assert_string_equal(xfrm_addr_str(&p[i].tmpl.dst, a, sizeof(a)), "192.0.2.2");
		} else {
			assert_string_equal(xfrm_addr_str(&p[i].sel.src, a, sizeof(a)), "10.99.0.0");
			assert_string_equal(xfrm_addr_str(&p[i].sel.dst, a, sizeof(a)), "10.10.10.1");
			assert_string_equal(xfrm_addr_str(&p[i].tmpl.src, a, sizeof(a)), "192.0.2.2");
		}
	}
	assert_int_equal(seen, 7);
	/* A range that is not a prefix becomes several policies per direction. */
	ts4(&c.ts_remote[0], "10.99.0.1", "10.99.0.2");
	assert_int_equal(ctl_translate_policies(&c, 1000, p, CTL_MAX_POLICIES, &n, &e), 0);
	assert_int_equal(n, 6);
	/* Too small an output array is an error. */
	assert_int_equal(ctl_translate_policies(&c, 1000, p, 4, &n, &e), -E2BIG);
	free_child(&c);
}

/* --- crash-recovery state file ------------------------------------------ */

static void state_file_records_and_forgets(void **state)
{
	char dir[] = "/tmp/pvpn-test-state-XXXXXX";
	assert_non_null(mkdtemp(dir));
	ctl_state_set_dir(dir);
	static struct ctl_installed in;
	memset(&in, 0, sizeof(in));
	in.addrs[0].ifindex = 987654;
	assert_int_equal(xfrm_addr_parse("10.10.10.1", &in.addrs[0].addr), 0);
	in.addrs[0].prefix_len = 32;
	in.n_addrs = 1;
	assert_int_equal(xfrm_addr_parse("10.99.0.0", &in.routes[0].dst), 0);
	in.routes[0].dst_len = 24;
	in.routes[0].ifindex = 987654;
	assert_int_equal(xfrm_addr_parse("10.10.10.1", &in.routes[0].src), 0);
	in.n_routes = 1;
	assert_int_equal(ctl_state_save("unit", &in), 0);

	struct stat st;
	char path[600];
	assert_int_equal(stat("/proc/self/ns/net", &st), 0);
	snprintf(path, sizeof(path), "%s/net-%lu-unit.state", dir, (unsigned long)st.st_ino);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char buf[256] = { 0 };
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	assert_true(n > 0);
	assert_string_equal(buf, "addr 987654 10.10.10.1 32\n"
				 "route 10.99.0.0 24 987654 10.10.10.1 -\n");
	/* Nothing outside XFRM installed: no file. */
	in.n_addrs = in.n_routes = 0;
	assert_int_equal(ctl_state_save("unit", &in), 0);
	assert_int_equal(stat(path, &st), -1);
	in.n_addrs = 1;
	assert_int_equal(ctl_state_save("unit", &in), 0);
	assert_int_equal(stat(path, &st), 0);
	ctl_state_forget("unit");
	assert_int_equal(stat(path, &st), -1);
	ctl_state_set_dir(NULL);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(opts_oneshot),
		cmocka_unit_test(opts_daemon_defaults_and_errors),
		cmocka_unit_test(loop_dispatch_and_delete_inside_callback),
		cmocka_unit_test(loop_timer_fires_at_deadline),
		cmocka_unit_test(keylog_is_0600_and_appends_blocks),
		cmocka_unit_test(alg_names),
		cmocka_unit_test(translate_gcm_sa),
		cmocka_unit_test(translate_cbc_sha256_sa),
		cmocka_unit_test(translate_tunnel_policies),
		cmocka_unit_test(state_file_records_and_forgets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
