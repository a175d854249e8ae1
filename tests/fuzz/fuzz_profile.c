/* libFuzzer target for the profile parser: any bytes, as profile text.
 * Files are never opened (PROF_PARSE_NO_FILES).  For inputs that parse,
 * the round trip must hold: serialise, parse again, equal profile, and
 * serialising again gives the same text.  Also feeds the rule and
 * proposal parsers directly. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct prof_profile a, b;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pvpn_err e;
	if (prof_parse_string("fuzz.conf", (const char *)data, size, NULL, PROF_PARSE_NO_FILES, &a, &e)) {
		/* A failed parse leaves nothing behind and says why. */
		if (a.shared_secret.data || a.password.data || !e.msg[0])
			abort();
		return 0;
	}
	char *t1 = NULL, *t2 = NULL;
	size_t n1 = 0, n2 = 0;
	if (prof_serialise(&a, false, &t1, &n1))
		abort();
	if (prof_parse_string("fuzz2.conf", t1, n1, NULL, PROF_PARSE_NO_FILES, &b, &e)) {
		fprintf(stderr, "serialised text does not parse: %s\n%s\n", e.msg, t1);
		abort();
	}
	if (!prof_equal(&a, &b)) {
		fprintf(stderr, "round trip changed the profile:\n%s\n", t1);
		abort();
	}
	if (prof_serialise(&b, false, &t2, &n2) || n1 != n2 || memcmp(t1, t2, n1)) {
		fprintf(stderr, "serialising twice differs:\n%s\n---\n%s\n", t1, t2 ? t2 : "");
		abort();
	}
	/* Routing decisions from whatever parsed must not fail. */
	struct prof_ts_proposal tp;
	if (prof_route_proposal(&a, &tp, &e))
		abort();
	/* Routing and On Demand decisions for whatever parsed: they must
	 * succeed and stay in bounds. */
	static struct prof_env env;
	static struct prof_assigned as;
	static struct prof_plan plan;
	memset(&env, 0, sizeof(env));
	memset(&as, 0, sizeof(as));
	env.server.family = AF_INET;
	memcpy(env.server.addr, "\xcb\x00\x71\x01", 4);
	env.n_local = 2;
	env.local[0].family = AF_INET;
	env.local[0].len = 24;
	memcpy(env.local[0].addr, "\xc0\xa8\x01\x00", 4);
	env.local[1].family = AF_INET6;
	env.local[1].len = 10;
	env.local[1].addr[0] = 0xfe;
	env.local[1].addr[1] = 0x80;
	as.vip4.family = AF_INET;
	memcpy(as.vip4.addr, "\x0a\x03\x00\x05", 4);
	as.vip6.family = AF_INET6;
	as.vip6.addr[0] = 0xfd;
	as.vip6.addr[15] = 5;
	as.n_tsr = 2;
	for (int i = 0; i < 2; i++) {
		as.tsr[i].family = i ? AF_INET6 : AF_INET;
		as.tsr[i].port_hi = 65535;
		memset(as.tsr[i].end, 0xff, 16);
	}
	if (prof_route_plan(&a, &env, &as, &plan, &e)) {
		fprintf(stderr, "routing plan failed: %s\n", e.msg);
		abort();
	}
	for (size_t i = 0; i < plan.n_routes; i++)
		if (plan.routes[i].kind == PROF_ROUTE_TUNNEL && plan.routes[i].dst.len == 32 &&
		    !memcmp(plan.routes[i].dst.addr, env.server.addr, 4))
			abort();   /* the server must never be routed into the tunnel */
	struct prof_od_env od = { .iface = PROF_OD_IFACE_WIFI, .ssid = "HomeNet",
				  .search_domain = "corp.example.com" };
	int m = prof_od_match(&a, &od, "www.corp.example.com");
	if (m < -1 || m >= (int)a.n_rules)
		abort();
	char *r = NULL;
	size_t rn = 0;
	if (prof_serialise(&a, true, &r, &rn))
		abort();
	prof_text_free(r, rn);
	prof_text_free(t1, n1);
	prof_text_free(t2, n2);
	prof_free(&a);
	prof_free(&b);
	return 0;
}
