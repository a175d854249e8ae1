/* Unit tests for VPN On Demand rule evaluation (prof_od_match): first
 * matching rule wins, every set condition must hold, EvaluateConnection
 * matches by domain, probes go through the daemon's callback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "policy/profile.h"

static struct prof_profile P;

static void load(const char *rules)
{
	char text[2048];
	struct pvpn_err e;
	snprintf(text, sizeof(text), "[IKEv2]\nServer = vpn.example.com\nSharedSecret = s\n[OnDemand]\n%s", rules);
	if (prof_parse_string("od.conf", text, strlen(text), NULL, PROF_PARSE_NO_FILES, &P, &e))
		fail_msg("%s", e.msg);
}

static struct prof_od_env wifi(const char *ssid)
{
	struct prof_od_env env = { .iface = PROF_OD_IFACE_WIFI };
	snprintf(env.ssid, sizeof(env.ssid), "%s", ssid);
	return env;
}

static const char *probed_url;
static bool probe_answer;

static bool fake_probe(const char *url, void *ctx)
{
	probed_url = url;
	*(int *)ctx += 1;
	return probe_answer;
}

static const char *RULES =
	"Enabled = yes\n"
	"Rule = Disconnect InterfaceType=WiFi SSID=HomeNet,\"Home 5G\"\n"
	"Rule = EvaluateConnection InterfaceType=WiFi Domains=secret.corp.example DomainAction=NeverConnect\n"
	"Rule = EvaluateConnection InterfaceType=WiFi Domains=corp.example\n"
	"Rule = Ignore InterfaceType=Cellular\n"
	"Rule = Connect\n";

static void first_match_wins(void **state)
{
	load(RULES);
	struct prof_od_env env = wifi("Home 5G");
	assert_int_equal(prof_od_match(&P, &env, "www.corp.example"), 0);
	assert_int_equal(P.rules[0].action, PROF_OD_DISCONNECT);
	/* Another Wi-Fi: the domain decides between the connection rules. */
	env = wifi("Cafe");
	int i = prof_od_match(&P, &env, "db.secret.corp.example");
	assert_int_equal(i, 1);
	assert_int_equal(P.rules[i].domain_action, PROF_OD_NEVER_CONNECT);
	i = prof_od_match(&P, &env, "WWW.Corp.Example.");
	assert_int_equal(i, 2);
	assert_int_equal(P.rules[i].domain_action, PROF_OD_CONNECT_IF_NEEDED);
	/* Not a subdomain, only a suffix: no match; falls to Connect. */
	assert_int_equal(prof_od_match(&P, &env, "notcorp.example"), 4);
	assert_int_equal(prof_od_match(&P, &env, NULL), 4);
	struct prof_od_env cell = { .iface = PROF_OD_IFACE_CELLULAR };
	assert_int_equal(prof_od_match(&P, &cell, "x.example"), 3);
	struct prof_od_env eth = { .iface = PROF_OD_IFACE_ETHERNET, .ssid = "HomeNet" };
	assert_int_equal(prof_od_match(&P, &eth, NULL), 4);
	/* On Demand off: nothing matches. */
	P.on_demand = false;
	assert_int_equal(prof_od_match(&P, &env, NULL), -1);
	prof_free(&P);
	/* No rule matching at all. */
	load("Enabled = yes\nRule = Connect InterfaceType=Ethernet\n");
	assert_int_equal(prof_od_match(&P, &env, NULL), -1);
	prof_free(&P);
}

static void dns_conditions(void **state)
{
	load("Enabled = yes\n"
	     "Rule = Disconnect DNSServer=192.0.2.53,2001:db8::53\n"
	     "Rule = Ignore DNSSearchDomain=*.office.example\n"
	     "Rule = EvaluateConnection DNSSearchDomain=lab.example Domains=lab.example\n"
	     "Rule = Connect\n");
	struct prof_od_env env = { .iface = PROF_OD_IFACE_ETHERNET, .n_dns = 2 };
	inet_pton(AF_INET, "192.0.2.53", env.dns[0].addr);
	env.dns[0].family = AF_INET;
	inet_pton(AF_INET6, "2001:db8::53", env.dns[1].addr);
	env.dns[1].family = AF_INET6;
	/* Each current server is listed. */
	assert_int_equal(prof_od_match(&P, &env, NULL), 0);
	/* One server not listed: no match. */
	inet_pton(AF_INET, "192.0.2.54", env.dns[0].addr);
	assert_int_equal(prof_od_match(&P, &env, NULL), 3);
	env.n_dns = 0;
	assert_int_equal(prof_od_match(&P, &env, NULL), 3);
	/* Wildcard search domain: subdomains only. */
	strcpy(env.search_domain, "berlin.office.example");
	assert_int_equal(prof_od_match(&P, &env, NULL), 1);
	strcpy(env.search_domain, "office.example");
	assert_int_equal(prof_od_match(&P, &env, NULL), 3);
	/* Plain search domain: equal (case and trailing dot aside). */
	strcpy(env.search_domain, "LAB.example.");
	assert_int_equal(prof_od_match(&P, &env, "git.lab.example"), 2);
	strcpy(env.search_domain, "x.lab.example");
	assert_int_equal(prof_od_match(&P, &env, "git.lab.example"), 3);
	prof_free(&P);
}

static void probe_conditions(void **state)
{
	load("Enabled = yes\n"
	     "Rule = Disconnect InterfaceType=WiFi ProbeURL=https://intranet.example/ok\n"
	     "Rule = Connect\n");
	int calls = 0;
	struct prof_od_env env = wifi("Office");
	/* Without a probe function every probe fails. */
	assert_int_equal(prof_od_match(&P, &env, NULL), 1);
	env.probe = fake_probe;
	env.probe_ctx = &calls;
	probe_answer = true;
	assert_int_equal(prof_od_match(&P, &env, NULL), 0);
	assert_string_equal(probed_url, "https://intranet.example/ok");
	probe_answer = false;
	assert_int_equal(prof_od_match(&P, &env, NULL), 1);
	assert_int_equal(calls, 2);
	/* Other conditions are checked first: no probe on cellular. */
	env.iface = PROF_OD_IFACE_CELLULAR;
	assert_int_equal(prof_od_match(&P, &env, NULL), 1);
	assert_int_equal(calls, 2);
	prof_free(&P);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(first_match_wins),
		cmocka_unit_test(dns_conditions),
		cmocka_unit_test(probe_conditions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
