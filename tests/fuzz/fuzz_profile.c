/* libFuzzer target for the profile parser: any bytes, as profile text.
 * Files are never opened (PROF_PARSE_NO_FILES).  For inputs that parse,
 * the round trip must hold: serialise, parse again, equal profile, and
 * serialising again gives the same text.  Also feeds the rule and
 * proposal parsers directly. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
