/* libFuzzer target for the IKEv2 message decoder (ike-lite/message.c,
 * payload.c).  Arbitrary bytes are parsed as a whole message and, with
 * the first byte as the first payload type, as the decrypted inner chain
 * of an SK payload.  Whatever parses must build back to the same bytes
 * (RFC 7296 codec round trip) and must not fit in one byte less. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike-lite/message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ike_message msg;
static uint8_t out[70000];

static void check_round_trip(const struct ike_message *m, const uint8_t *in, size_t len)
{
	struct pvpn_err err = { 0, "" };
	size_t olen = 0;
	if (ike_message_build(m, out, sizeof(out), &olen, &err) != 0) {
		fprintf(stderr, "re-build of a parsed message failed: %s\n", err.msg);
		abort();
	}
	if (olen != len || memcmp(out, in, len) != 0) {
		fprintf(stderr, "re-build differs: %zu bytes in, %zu out\n", len, olen);
		abort();
	}
	if (len > 0 && ike_message_build(m, out, len - 1, &olen, &err) == 0) {
		fprintf(stderr, "re-build fitted in one byte less than the message\n");
		abort();
	}
	/* The printer copes with whatever parsed, in any buffer size. */
	char line[64];
	int n = ike_message_format(m, line, (size_t)(len % sizeof(line)));
	if (n < 0 || (len % sizeof(line) && strlen(line) >= len % sizeof(line)))
		abort();
	/* The lookups must stay inside the message. */
	size_t from = 0;
	while (ike_message_find(m, IKE_PT_NOTIFY, &from))
		;
	(void)ike_message_find_notify(m, IKE_N_COOKIE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pvpn_err err = { 0, "" };
	if (size > 65535)
		return 0;
	if (ike_message_parse(&msg, data, size, &err) == 0)
		check_round_trip(&msg, data, size);
	else if (err.msg[0] == '\0')
		abort();  /* every rejection gives a reason */

	if (size >= 1) {
		err.msg[0] = '\0';
		if (ike_payloads_parse(&msg, data[0], data + 1, size - 1, &err) == 0) {
			if (msg.first_type != data[0] && msg.npayloads)
				abort();
			check_round_trip(&msg, data + 1, size - 1);
		} else if (err.msg[0] == '\0') {
			abort();
		}
	}
	return 0;
}
