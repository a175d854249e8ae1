/* Unit tests for the pvpn CLI (ctl/cli.c): argument parsing and its usage
 * errors, the JSON writer (escaping, UTF-8, nesting), and the human and
 * JSON output of status, list and durations. */
#define _GNU_SOURCE 1 /* open_memstream, setenv */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "ctl/proto.h"

static int parse(struct ctl_cli_args *a, struct pvpn_err *e, const char *const *args)
{
	char *argv[16];
	int argc = 0;
	argv[argc++] = (char *)"pvpn";
	for (; args[argc - 1]; argc++)
		argv[argc] = (char *)args[argc - 1];
	argv[argc] = NULL;
	memset(e, 0, sizeof(*e));
	return ctl_cli_parse(argc, argv, a, e);
}

static void parse_verbs(void **state)
{
	struct ctl_cli_args a;
	struct pvpn_err e;
	unsetenv("PVPN_SOCKET");
	const char *s1[] = { "save", "home", "home.conf", NULL };
	assert_int_equal(parse(&a, &e, s1), 0);
	assert_int_equal(a.verb, CLI_SAVE);
	assert_string_equal(a.name, "home");
	assert_string_equal(a.file, "home.conf");
	assert_string_equal(a.socket, CTL_SOCKET_DEFAULT);
	assert_false(a.json);

	const char *s2[] = { "save", "home", "-", NULL };
	assert_int_equal(parse(&a, &e, s2), 0);
	assert_string_equal(a.file, "-");

	const char *s3[] = { "--socket", "/tmp/x.sock", "--json", "connect", "home", "--wait",
			     NULL };
	assert_int_equal(parse(&a, &e, s3), 0);
	assert_int_equal(a.verb, CLI_CONNECT);
	assert_true(a.wait);
	assert_true(a.json);
	assert_string_equal(a.socket, "/tmp/x.sock");

	const char *s4[] = { "status", NULL };
	assert_int_equal(parse(&a, &e, s4), 0);
	assert_int_equal(a.verb, CLI_STATUS);
	assert_null(a.name);
	const char *s5[] = { "status", "home", "-j", NULL };
	assert_int_equal(parse(&a, &e, s5), 0);
	assert_string_equal(a.name, "home");
	assert_true(a.json);

	const char *s6[] = { "last-error", "x", NULL };
	assert_int_equal(parse(&a, &e, s6), 0);
	assert_int_equal(a.verb, CLI_LAST_ERROR);
	const char *s7[] = { "watch", NULL };
	assert_int_equal(parse(&a, &e, s7), 0);
	assert_int_equal(a.verb, CLI_WATCH);
	const char *s8[] = { "--socket=/run/y", "list", NULL };
	assert_int_equal(parse(&a, &e, s8), 0);
	assert_string_equal(a.socket, "/run/y");

	/* PVPN_SOCKET when --socket is absent. */
	setenv("PVPN_SOCKET", "/tmp/env.sock", 1);
	assert_int_equal(parse(&a, &e, s7), 0);
	assert_string_equal(a.socket, "/tmp/env.sock");
	assert_int_equal(parse(&a, &e, s8), 0);
	assert_string_equal(a.socket, "/run/y");
	unsetenv("PVPN_SOCKET");

	const char *h[] = { "--help", NULL };
	assert_int_equal(parse(&a, &e, h), 0);
	assert_int_equal(a.verb, CLI_HELP);
	const char *v[] = { "list", "--version", NULL };
	assert_int_equal(parse(&a, &e, v), 0);
	assert_int_equal(a.verb, CLI_VERSION);
}

static void parse_errors(void **state)
{
	static const struct { const char *args[6]; const char *words; } bad[] = {
		{ { NULL }, "no command" },
		{ { "frobnicate", NULL }, "unknown command" },
		{ { "save", "home", NULL }, "FILE" },
		{ { "save", NULL }, "NAME" },
		{ { "connect", NULL }, "NAME" },
		{ { "load", "a", "b", NULL }, "too many" },
		{ { "list", "x", NULL }, "too many" },
		{ { "status", "--wait", NULL }, "--wait" },
		{ { "--bogus", "list", NULL }, "unknown option" },
		{ { "list", "--socket", NULL }, "needs a path" },
		{ { "connect", "../etc/passwd", NULL }, NULL },
		{ { "connect", ".hidden", NULL }, NULL },
		{ { "load", "a b", NULL }, NULL },
		/* A secret on the command line is not a thing pvpn accepts. */
		{ { "save", "home", "file", "secret", NULL }, "too many" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ctl_cli_args a;
		struct pvpn_err e;
		assert_int_equal(parse(&a, &e, bad[i].args), -EINVAL);
		assert_true(e.msg[0] != '\0');
		if (bad[i].words && !strstr(e.msg, bad[i].words))
			fail_msg("case %zu: expected '%s' in '%s'", i, bad[i].words, e.msg);
	}
}

static char *capture_json(void (*fn)(struct ctl_json *j, const void *arg), const void *arg,
			  bool pretty)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	assert_non_null(f);
	struct ctl_json j;
	ctl_json_init(&j, f, pretty);
	fn(&j, arg);
	fclose(f);
	return out;
}

static void json_doc(struct ctl_json *j, const void *arg)
{
	ctl_json_obj_begin(j, NULL);
	ctl_json_u64(j, "version", 1);
	ctl_json_str(j, "s", "a\"b\\c\nd\te\x01" "f");
	ctl_json_bool(j, "t", true);
	ctl_json_bool(j, "f", false);
	ctl_json_null(j, "n");
	ctl_json_u64(j, "big", UINT64_MAX);
	ctl_json_arr_begin(j, "arr");
	ctl_json_u64(j, NULL, 1);
	ctl_json_str(j, NULL, "x");
	ctl_json_obj_begin(j, NULL);
	ctl_json_obj_end(j);
	ctl_json_arr_begin(j, NULL);
	ctl_json_arr_end(j);
	ctl_json_arr_end(j);
	ctl_json_str(j, "utf8", "caf\xc3\xa9 \xe2\x82\xac");
	ctl_json_str(j, "bad", "a\xff" "b\xc3" "c\xed\xa0\x80" "d\xc0\xaf");
	ctl_json_strn(j, "nul", "a\0b", 3);
	ctl_json_obj_end(j);
}

static void json_writer(void **state)
{
	char *s = capture_json(json_doc, NULL, false);
	assert_string_equal(s,
		"{\"version\":1,\"s\":\"a\\\"b\\\\c\\nd\\te\\u0001f\",\"t\":true,\"f\":false,"
		"\"n\":null,\"big\":18446744073709551615,\"arr\":[1,\"x\",{},[]],"
		"\"utf8\":\"caf\xc3\xa9 \xe2\x82\xac\","
		"\"bad\":\"a\\ufffdb\\ufffdc\\ufffd\\ufffd\\ufffdd\\ufffd\\ufffd\","
		"\"nul\":\"a\\u0000b\"}");
	free(s);
	/* Pretty output is the same document with whitespace. */
	s = capture_json(json_doc, NULL, true);
	assert_non_null(strstr(s, "\n  \"version\": 1,\n"));
	assert_non_null(strstr(s, "\"arr\": [\n    1,\n    \"x\",\n    {},\n    []\n  ]"));
	free(s);
}

static void sample_conn(struct ctl_conn_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	snprintf(ci->name, sizeof(ci->name), "office");
	ci->status = CTL_ST_CONNECTED;
	snprintf(ci->server, sizeof(ci->server), "vpn.example.com");
	snprintf(ci->server_addr, sizeof(ci->server_addr), "192.0.2.1");
	snprintf(ci->local_addr, sizeof(ci->local_addr), "192.0.2.2");
	ci->since = 1000000;
	ci->n_vip = 1;
	snprintf(ci->vip[0], CTL_ADDR_STR, "10.9.0.1");
	ci->n_dns = 1;
	snprintf(ci->dns[0], CTL_ADDR_STR, "10.9.0.53");
	ci->n_child = 1;
	struct ctl_child_info *c = &ci->child[0];
	c->spi_in = 0xc1234567;
	c->spi_out = 0x00abcdef;
	snprintf(c->encr, sizeof(c->encr), "rfc4106(gcm(aes))");
	c->keybits = 256;
	c->n_ts_local = 1;
	snprintf(c->ts_local[0], CTL_ADDR_STR, "10.9.0.1/32");
	c->n_ts_remote = 1;
	snprintf(c->ts_remote[0], CTL_ADDR_STR, "10.0.0.0/8");
	c->bytes_in = 84;
	c->packets_in = 1;
	c->bytes_out = 20480;
	c->packets_out = 2;
	c->has_rekey = true;
	c->rekey_s = 3125;
}

static void human_status(void **state)
{
	static struct ctl_conn_info ci;
	sample_conn(&ci);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	ctl_cli_print_conn(f, &ci, 1000000 + 3723);
	fclose(f);
	assert_non_null(strstr(out, "office: connected\n"));
	assert_non_null(strstr(out, "  server      vpn.example.com (192.0.2.1)\n"));
	assert_non_null(strstr(out, "(1h 2m 3s)"));
	assert_non_null(strstr(out, "  virtual IP  10.9.0.1\n"));
	assert_non_null(strstr(out, "SPIs in c1234567 out 00abcdef"));
	assert_non_null(strstr(out, "rfc4106(gcm(aes)) (256-bit key)"));
	assert_non_null(strstr(out, "10.0.0.0/8"));
	assert_non_null(strstr(out, "    in        84 B, 1 packets\n"));
	assert_non_null(strstr(out, "    out       20 KiB, 2 packets\n"));
	assert_non_null(strstr(out, "    rekey in  52m 5s\n"));
	assert_null(strstr(out, "last error"));
	free(out);

	/* A failed connection says why, in Apple's words and the detail. */
	ci.status = CTL_ST_DISCONNECTED;
	ci.since = 0;
	ci.n_child = 0;
	ci.n_vip = 0;
	ci.error = CTL_VE_AUTHENTICATION_FAILED;
	snprintf(ci.detail, sizeof(ci.detail), "authentication failed: server sent AUTHENTICATION_FAILED");
	f = open_memstream(&out, &len);
	ctl_cli_print_conn(f, &ci, 0);
	fclose(f);
	assert_non_null(strstr(out, "office: disconnected\n"));
	assert_non_null(strstr(out, "last error  authenticationFailed: Authentication failed"));
	assert_non_null(strstr(out, "detail      authentication failed: server sent"));
	free(out);
}

static void status_table_and_list(void **state)
{
	static struct ctl_conn_info ci[2];
	sample_conn(&ci[0]);
	sample_conn(&ci[1]);
	snprintf(ci[1].name, sizeof(ci[1].name), "a-much-longer-name");
	ci[1].status = CTL_ST_DISCONNECTED;
	ci[1].n_vip = 0;
	ci[1].error = CTL_VE_SERVER_NOT_RESPONDING;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	ctl_cli_print_status_table(f, ci, 2);
	fclose(f);
	/* Columns aligned on the longest name. */
	assert_non_null(strstr(out, "NAME                STATUS"));
	assert_non_null(strstr(out, "office              connected      vpn.example.com"));
	assert_non_null(strstr(out, "a-much-longer-name  disconnected"));
	assert_non_null(strstr(out, "(last error: serverNotResponding)"));
	free(out);

	struct ctl_list_entry l[2] = { { "good", true, "" }, { "bad", false, "bad.conf:2: x" } };
	f = open_memstream(&out, &len);
	ctl_cli_print_list(f, l, 2);
	fclose(f);
	assert_string_equal(out, "good\nbad  (invalid: bad.conf:2: x)\n");
	free(out);
}

static void json_conn_doc(struct ctl_json *j, const void *arg)
{
	ctl_cli_json_conn(j, NULL, arg);
}

static void json_status(void **state)
{
	static struct ctl_conn_info ci;
	sample_conn(&ci);
	char *s = capture_json(json_conn_doc, &ci, false);
	/* snake_case keys, numbers as numbers, no error when none. */
	assert_non_null(strstr(s, "\"name\":\"office\""));
	assert_non_null(strstr(s, "\"status\":\"connected\""));
	assert_non_null(strstr(s, "\"error\":null"));
	assert_non_null(strstr(s, "\"connected_since\":1000000"));
	assert_non_null(strstr(s, "\"virtual_ips\":[\"10.9.0.1\"]"));
	assert_non_null(strstr(s, "\"spi_in\":3240314215"));
	assert_non_null(strstr(s, "\"bytes_out\":20480"));
	assert_non_null(strstr(s, "\"rekey_in_seconds\":3125"));
	assert_non_null(strstr(s, "\"remote_ts\":[\"10.0.0.0/8\"]"));
	assert_null(strstr(s, "secret"));
	free(s);
	ci.status = CTL_ST_DISCONNECTED;
	ci.error = CTL_VE_NEGOTIATION_FAILED;
	snprintf(ci.detail, sizeof(ci.detail), "server sent NO_PROPOSAL_CHOSEN");
	ci.error_time = 42;
	ci.since = 0;
	s = capture_json(json_conn_doc, &ci, false);
	assert_non_null(strstr(s, "\"error\":\"negotiationFailed\""));
	assert_non_null(strstr(s, "\"error_detail\":\"server sent NO_PROPOSAL_CHOSEN\""));
	assert_non_null(strstr(s, "\"error_time\":42"));
	assert_non_null(strstr(s, "\"connected_since\":null"));
	free(s);
}

static void durations(void **state)
{
	char b[32];
	ctl_cli_duration(b, sizeof(b), 0);
	assert_string_equal(b, "0s");
	ctl_cli_duration(b, sizeof(b), 59);
	assert_string_equal(b, "59s");
	ctl_cli_duration(b, sizeof(b), 61);
	assert_string_equal(b, "1m 1s");
	ctl_cli_duration(b, sizeof(b), 3600);
	assert_string_equal(b, "1h 0m 0s");
	ctl_cli_duration(b, sizeof(b), 90061);
	assert_string_equal(b, "1d 1h 1m");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_verbs),
		cmocka_unit_test(parse_errors),
		cmocka_unit_test(json_writer),
		cmocka_unit_test(human_status),
		cmocka_unit_test(status_table_and_list),
		cmocka_unit_test(json_status),
		cmocka_unit_test(durations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
