/* libFuzzer target: the EAP peer (eap.c, eap_mschapv2.c) on packets from
 * the server.  The input is a sequence of EAP packets, each preceded by a
 * 2-byte big-endian length; they are fed in order to one conversation,
 * as the engine would after each IKE_AUTH response.  To let the fuzzer
 * reach the Success path, a packet whose first byte is 0xFE is replaced by
 * the correct MSCHAPv2 Success request for the conversation so far.
 * Must never crash, leak, read out of bounds, or report DONE without a
 * verified authenticator response and an MSK. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike-lite/auth.h"
#include "ike-lite/constants.h"
#include "lib/secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fixed_rand(void *buf, size_t len)
{
	memset(buf, 0x5a, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char pw[] = "clientPass";
	struct secret s = { (uint8_t *)pw, sizeof(pw) - 1 };
	struct ike_eap eap;
	uint8_t out[512], pkt[600];
	size_t out_len, pos = 0;
	struct pvpn_err e;

	if (ike_eap_init(&eap, "User", &s) < 0)
		abort();
	while (pos + 2 <= size) {
		size_t n = (size_t)data[pos] << 8 | data[pos + 1];
		pos += 2;
		if (n > size - pos)
			n = size - pos;
		const uint8_t *p = data + pos;
		pos += n;
		if (n >= 2 && p[0] == 0xFE && eap.password.len) {
			/* The right Success request (id from byte 1). */
			char ar[43];
			if (ike_mschap_authenticator_response(eap.password.data, eap.password.len,
							      eap.nt_response, eap.peer_challenge,
							      eap.auth_challenge, eap.user,
							      eap.user_len, ar) < 0)
				abort();
			size_t len = 9 + 42;
			pkt[0] = IKE_EAP_REQUEST; pkt[1] = p[1]; pkt[2] = 0; pkt[3] = (uint8_t)len;
			pkt[4] = IKE_EAP_MSCHAPV2; pkt[5] = 3; pkt[6] = eap.ms_id;
			pkt[7] = 0; pkt[8] = (uint8_t)(len - 5);
			memcpy(pkt + 9, ar, 42);
			p = pkt;
			n = len;
		}
		int rc = ike_eap_step(&eap, p, n, fixed_rand, out, sizeof(out), &out_len, &e);
		if (rc == IKE_EAP_CONTINUE && (out_len < 4 || out_len > sizeof(out) ||
					       ((size_t)out[2] << 8 | out[3]) != out_len))
			abort();   /* every answer is a well-formed EAP packet */
		if (rc == IKE_EAP_DONE && (!eap.authenticated || eap.msk.len != 64))
			abort();   /* Success only after the server proved itself */
		if (rc == IKE_EAP_DONE || rc == IKE_EAP_FAILED)
			break;
	}
	ike_eap_free(&eap);
	return 0;
}
