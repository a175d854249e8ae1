/* Unit tests for the preferences store against the real filesystem (a
 * mkdtemp folder): save/load/remove/list, mode 0600, names, concurrent
 * writers, and saves killed with SIGKILL at random moments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "policy/profile.h"

static char dir[64];

static int setup(void **state)
{
	strcpy(dir, "/tmp/pvpn-store-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void make_profile(struct prof_profile *p, unsigned version, unsigned n_rules)
{
	char text[PROF_LINE_MAX * 4];
	size_t n = (size_t)snprintf(text, sizeof(text),
		"[IKEv2]\nServer = vpn%u.example.com\nSharedSecret = secret-%u\nMTU = %u\n[OnDemand]\n",
		version, version, 1280 + version);
	for (unsigned i = 0; i < n_rules && n < sizeof(text) - 200; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "Rule = Disconnect InterfaceType=WiFi SSID=net-%u-%u-aaaaaaaaaaaaaaaa,other-%u-%u-bbbbbbbbbbbbbbbbb\n",
				      version, i, version, i);
	struct pvpn_err e;
	assert_int_equal(prof_parse_string("gen", text, n, NULL, 0, p, &e), 0);
}

static void save_load_remove(void **state)
{
	struct prof_profile p, q;
	struct pvpn_err e;
	char path[256];
	struct stat st;
	make_profile(&p, 1, 2);
	mode_t old = umask(0);   /* the store must not depend on the umask */
	assert_int_equal(prof_store_save(dir, "home", &p, &e), 0);
	umask(old);
	snprintf(path, sizeof(path), "%s/home.conf", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(prof_store_load(dir, "home", 0, &q, &e), 0);
	assert_string_equal(q.name, "home");
	assert_true(prof_equal(&p, &q));
	prof_free(&q);
	/* Overwrite with another version. */
	prof_free(&p);
	make_profile(&p, 2, 0);
	assert_int_equal(prof_store_save(dir, "home", &p, &e), 0);
	assert_int_equal(prof_store_load(dir, "home", 0, &q, &e), 0);
	assert_int_equal(q.mtu, 1282);
	prof_free(&q);
	/* An invalid profile text is refused and the old file is kept. */
	const char *bad = "[IKEv2]\nServer = x.example\nSharedSecret = s\nMTU = 5\n";
	assert_int_equal(prof_store_save_text(dir, "home", bad, strlen(bad), &e), -EINVAL);
	assert_non_null(strstr(e.msg, "home.conf:4: MTU: bad value '5'"));
	assert_int_equal(prof_store_load(dir, "home", 0, &q, &e), 0);
	assert_int_equal(q.mtu, 1282);
	prof_free(&q);
	/* save_text keeps comments. */
	const char *good = "# mine\n[IKEv2]\nServer = x.example\nSharedSecret = s\n";
	assert_int_equal(prof_store_save_text(dir, "text", good, strlen(good), &e), 0);
	FILE *f = fopen((snprintf(path, sizeof(path), "%s/text.conf", dir), path), "r");
	assert_non_null(f);
	char line[64];
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "# mine\n");
	fclose(f);
	assert_int_equal(prof_store_remove(dir, "home", &e), 0);
	assert_int_equal(prof_store_load(dir, "home", 0, &q, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "no profile 'home' in"));
	assert_int_equal(prof_store_remove(dir, "home", &e), -ENOENT);
	assert_int_equal(prof_store_remove(dir, "text", &e), 0);
	prof_free(&p);
	/* A store folder that does not exist. */
	make_profile(&p, 3, 0);
	assert_true(prof_store_save("/nonexistent-pvpn/store", "a", &p, &e) < 0);
	assert_non_null(strstr(e.msg, "cannot create a file in /nonexistent-pvpn/store"));
	/* A missing store folder (but existing parent) is created, 0700. */
	char sub[128];
	snprintf(sub, sizeof(sub), "%s/new-store", dir);
	assert_int_equal(prof_store_save(sub, "a", &p, &e), 0);
	assert_int_equal(stat(sub, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(prof_store_load(sub, "a", 0, &q, &e), 0);
	prof_free(&q);
	assert_int_equal(prof_store_remove(sub, "a", &e), 0);
	assert_int_equal(rmdir(sub), 0);
	prof_free(&p);
}

static void names(void **state)
{
	struct pvpn_err e;
	assert_int_equal(prof_name_check("home-office_2.v6", &e), 0);
	static const struct { const char *n, *want; } bad[] = {
		{ "", "empty profile name" },
		{ "a/b", "has '/'" },
		{ "../etc", "must not start with '.'" },
		{ ".hidden", "must not start with '.'" },
		{ "-rf", "must not start with '-'" },
		{ "sp ace", "has ' '" },
		{ "uni\xc3\xa9", "has '?'" },
		{ "0123456789012345678901234567890123456789012345678901234567890123", "longer than 63" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(prof_name_check(bad[i].n, &e), -EINVAL);
		if (!strstr(e.msg, bad[i].want))
			fail_msg("%s: %s", bad[i].n, e.msg);
	}
	struct prof_profile p;
	make_profile(&p, 1, 0);
	assert_int_equal(prof_store_save(dir, "../escape", &p, &e), -EINVAL);
	struct prof_profile q;
	assert_int_equal(prof_store_load(dir, "a/b", 0, &q, &e), -EINVAL);
	assert_int_equal(prof_store_remove(dir, ".x", &e), -EINVAL);
	prof_free(&p);
}

static void list_reports_broken(void **state)
{
	struct prof_profile p;
	struct pvpn_err e;
	char path[256];
	make_profile(&p, 1, 0);
	assert_int_equal(prof_store_save(dir, "b-good", &p, &e), 0);
	assert_int_equal(prof_store_save(dir, "a-good", &p, &e), 0);
	prof_free(&p);
	/* Broken by hand, behind the store's back. */
	snprintf(path, sizeof(path), "%s/c-broken.conf", dir);
	FILE *f = fopen(path, "w");
	fputs("[IKEv2]\nServer = x.example\nSharedSecret = s\nIKEProposals = aes256gcm17-prfsha256-x25519\n", f);
	fclose(f);
	/* Not profiles: a leftover temporary and another file. */
	snprintf(path, sizeof(path), "%s/.a-good.conf.AbCdEf", dir);
	fclose(fopen(path, "w"));
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	fclose(fopen(path, "w"));
	struct prof_list_entry *v;
	size_t n;
	assert_int_equal(prof_store_list(dir, 0, &v, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].name, "a-good");
	assert_true(v[0].ok);
	assert_string_equal(v[1].name, "b-good");
	assert_true(v[1].ok);
	assert_string_equal(v[2].name, "c-broken");
	assert_false(v[2].ok);
	assert_non_null(strstr(v[2].err.msg, "c-broken.conf:4: IKEProposals: unknown transform 'aes256gcm17'"));
	free(v);
	assert_int_equal(prof_store_list("/nonexistent-pvpn", 0, &v, &n, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "cannot read /nonexistent-pvpn"));
}

/* Several processes save different versions at once; every load in
 * between and the final file are always one whole version. */
static void concurrent_saves(void **state)
{
	enum { WRITERS = 5, ROUNDS = 15 };
	struct prof_profile p;
	struct pvpn_err e;
	make_profile(&p, 100, 8);
	assert_int_equal(prof_store_save(dir, "shared", &p, &e), 0);
	prof_free(&p);
	pid_t pids[WRITERS];
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		assert_true(pids[w] >= 0);
		if (pids[w] == 0) {
			struct prof_profile c;
			struct pvpn_err ce;
			make_profile(&c, (unsigned)w, 20);
			for (int r = 0; r < ROUNDS; r++)
				if (prof_store_save(dir, "shared", &c, &ce))
					_exit(1);
			prof_free(&c);
			_exit(0);
		}
	}
	int loads = 0;
	for (int i = 0; i < 60; i++, loads++) {
		struct prof_profile q;
		if (prof_store_load(dir, "shared", 0, &q, &e))
			fail_msg("load during concurrent saves failed: %s", e.msg);
		unsigned v = q.mtu - 1280;
		assert_true(v < WRITERS || v == 100);
		/* Whole version: the server and secret agree with the MTU. */
		char want[64];
		snprintf(want, sizeof(want), "vpn%u.example.com", v);
		assert_string_equal(q.server_host, want);
		assert_int_equal(q.n_rules, v == 100 ? 8 : 20);
		prof_free(&q);
	}
	for (int w = 0; w < WRITERS; w++) {
		int st;
		assert_int_equal(waitpid(pids[w], &st, 0), pids[w]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	struct prof_profile q;
	assert_int_equal(prof_store_load(dir, "shared", 0, &q, &e), 0);
	assert_true(q.mtu - 1280u < WRITERS);
	prof_free(&q);
	assert_true(loads > 0);
}

/* A save killed with SIGKILL at a random moment leaves the old or the new
 * file, never a torn one. */
static void killed_saves(void **state)
{
	struct prof_profile p;
	struct pvpn_err e;
	char path[512];
	make_profile(&p, 7, 30);
	assert_int_equal(prof_store_save(dir, "victim", &p, &e), 0);
	prof_free(&p);
	srand(12345);  /* deterministic sequence of delays */
	int killed_mid = 0;
	for (int i = 0; i < 50; i++) {
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct prof_profile c;
			struct pvpn_err ce;
			make_profile(&c, (unsigned)(i % 5), 30);
			for (;;)
				prof_store_save(dir, "victim", &c, &ce);
		}
		usleep((useconds_t)(rand() % 3000));
		assert_int_equal(kill(pid, SIGKILL), 0);
		int st;
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
		struct prof_profile q;
		if (prof_store_load(dir, "victim", 0, &q, &e))
			fail_msg("round %d: profile does not parse after SIGKILL: %s", i, e.msg);
		unsigned v = q.mtu - 1280;
		assert_true(v < 5 || v == 7);
		assert_int_equal(q.n_rules, 30);
		struct stat st2;
		snprintf(path, sizeof(path), "%s/victim.conf", dir);
		assert_int_equal(stat(path, &st2), 0);
		assert_int_equal(st2.st_mode & 07777, 0600);
		prof_free(&q);
	}
	/* Killed saves may leave temporaries; list ignores them and they are
	 * 0600 too, so no secret is ever readable by others. */
	DIR *d = opendir(dir);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' && strncmp(de->d_name, ".victim.conf.", 13) == 0) {
			killed_mid++;
			struct stat st3;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			assert_int_equal(stat(path, &st3), 0);
			assert_int_equal(st3.st_mode & 077, 0);
		}
	}
	closedir(d);
	struct prof_list_entry *v;
	size_t n;
	assert_int_equal(prof_store_list(dir, 0, &v, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_true(v[0].ok);
	free(v);
	print_message("killed_saves: %d temporaries left by killed saves\n", killed_mid);
	/* Age them: the next save removes stale temporaries, but keeps a
	 * fresh one (another save may be writing it). */
	d = opendir(dir);
	int aged = 0;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, ".victim.conf.", 13) == 0) {
			struct timespec ts[2] = { { .tv_sec = time(NULL) - 3600 }, { .tv_sec = time(NULL) - 3600 } };
			assert_int_equal(utimensat(dirfd(d), de->d_name, ts, 0), 0);
			aged++;
		}
	}
	closedir(d);
	snprintf(path, sizeof(path), "%s/.victim.conf.Fresh1", dir);
	fclose(fopen(path, "w"));
	make_profile(&p, 8, 1);
	assert_int_equal(prof_store_save(dir, "victim", &p, &e), 0);
	prof_free(&p);
	d = opendir(dir);
	int left = 0;
	bool fresh = false;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, ".victim.conf.", 13) == 0)
			left++;
		fresh |= strcmp(de->d_name, ".victim.conf.Fresh1") == 0;
	}
	closedir(d);
	assert_int_equal(aged, killed_mid);
	assert_int_equal(left, 1);
	assert_true(fresh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(save_load_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(names, setup, teardown),
		cmocka_unit_test_setup_teardown(list_reports_broken, setup, teardown),
		cmocka_unit_test_setup_teardown(concurrent_saves, setup, teardown),
		cmocka_unit_test_setup_teardown(killed_saves, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
