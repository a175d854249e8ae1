/* libFuzzer target for the control protocol's decoders: any bytes as a
 * request body (what pvpnd reads from a client) and as a reply body (what
 * pvpn reads from the daemon).  A request that decodes must re-encode to
 * a frame that decodes to the same request; a refusal must say why. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t frame[4 + CTL_FRAME_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_request rq, rq2;
	struct pvpn_err e = { 0 };
	uint32_t seq = 0;
	if (ctl_request_decode(data, size, &rq, &seq, &e) < 0) {
		if (!e.msg[0])
			abort();
	} else {
		if (rq.op < 1 || rq.op > CTL_OP_MAX_ || seq != rq.seq)
			abort();
		if (rq.has_name && (strlen(rq.name) == 0 || strlen(rq.name) >= PROF_NAME_MAX))
			abort();
		if (rq.text_len > CTL_TEXT_MAX)
			abort();
		int n = ctl_request_encode(&rq, frame, sizeof(frame));
		if (n < 0)
			abort();
		memset(&e, 0, sizeof(e));
		if (ctl_request_decode(frame + 4, (size_t)n - 4, &rq2, NULL, &e) < 0)
			abort();
		if (rq2.op != rq.op || rq2.seq != rq.seq || rq2.has_name != rq.has_name ||
		    strcmp(rq2.name, rq.name) || rq2.text_len != rq.text_len ||
		    (rq.text_len && memcmp(rq2.text, rq.text, rq.text_len)))
			abort();
	}
	struct ctl_reply r = { 0 };
	if (ctl_reply_decode(data, size, &r, &e) == 0) {
		if (r.n_conn > CTL_MAX_CONN_INFO || r.n_list > CTL_MAX_LIST)
			abort();
		for (size_t i = 0; i < r.n_conn; i++)
			if (r.conn[i].n_child > CTL_MAX_CHILD || r.conn[i].n_vip > CTL_MAX_VIP ||
			    r.conn[i].n_dns > CTL_MAX_DNS_STR)
				abort();
	}
	ctl_reply_free(&r);
	return 0;
}
