/* fuzz_xfrm_event.c — kernel-xfrm's decoders of what comes back over
 * netlink: events (xfrm_event_decode), SA and policy dump entries
 * (xfrm_decode_sa / xfrm_decode_policy, with the attribute walker under
 * them) and NLMSG_ERROR parsing (nl_parse_error, then the sentence
 * xfrm_err_kernel makes of it).  The kernel is trusted in production, but a
 * confused peer on the bus or a kernel of another version must not crash
 * pvpnd.
 *
 * Input: byte 0 picks the operation the error is reported for (and whether
 * a context struct is passed); the rest is a netlink byte stream, walked
 * message by message as the readers in kernel-xfrm do.  Every decoder sees
 * every message with the true number of bytes left, in a heap copy of
 * exactly that size so an overread is caught. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "kernel-xfrm/nl.h"
#include "kernel-xfrm/xfrm.h"
#include "lib/err.h"
#include "lib/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fill_ctx(struct xfrm_sa *sa, struct xfrm_sa_id *id, struct xfrm_policy *p)
{
	memset(sa, 0, sizeof(*sa));
	memset(id, 0, sizeof(*id));
	memset(p, 0, sizeof(*p));
	xfrm_addr_parse("192.0.2.1", &sa->src);
	xfrm_addr_parse("2001:db8::2", &sa->dst);
	sa->spi = 0xc0ffee01;
	strcpy(sa->enc.name, "cbc(aes)");
	strcpy(sa->auth.name, "hmac(sha256)");
	id->dst = sa->dst;
	id->spi = sa->spi;
	xfrm_addr_parse("10.0.0.0", &p->sel.src);
	p->sel.src_len = 24;
	p->dir = XFRM_DIR_OUT;
}

static void one(const struct nlmsghdr *nlh, size_t left, uint8_t sel)
{
	struct xfrm_event ev;
	struct xfrm_sa_info sa;
	struct xfrm_policy_info pol;
	struct nl_ack ack;
	struct pvpn_err e = { 0 };

	(void)xfrm_event_decode(nlh, left, &ev, &e);
	if (left >= sizeof(*nlh)) {
		/* The dump walkers hand these a message whose length is
		 * already checked against what was received. */
		(void)xfrm_decode_sa(nlh, left, &sa);
		(void)xfrm_decode_policy(nlh, left, &pol);
	}
	if (nl_parse_error(nlh, left, &ack)) {
		struct xfrm_sa xsa;
		struct xfrm_sa_id id;
		struct xfrm_policy p;
		enum nl_op op = (enum nl_op)((sel & 0x7f) % (OP_ROUTE_DEL + 1));
		const void *ctx = NULL;

		fill_ctx(&xsa, &id, &p);
		if (sel & 0x80) {
			if (op == OP_SA_ADD || op == OP_SA_UPDATE)
				ctx = &xsa;
			else if (op == OP_SA_DELETE || op == OP_SA_GET || op == OP_ALLOCSPI)
				ctx = &id;
			else if (op == OP_POLICY_ADD || op == OP_POLICY_DELETE)
				ctx = &p;
		}
		(void)xfrm_err_kernel(&e, op, &ack, ctx);
		/* The sentence must be a terminated string. */
		if (strnlen(e.msg, sizeof(e.msg)) == sizeof(e.msg))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;
	uint8_t sel;

	if (size < 1 || size > 65536)
		return 0;
	log_set_level(-1);
	sel = data[0];
	data++;
	size--;
	/* At most 64 messages, as one recv of a dump would hold. */
	for (int n = 0; n < 64 && off <= size; n++) {
		size_t left = size - off;
		/* malloc(0) may return NULL; keep one byte so it never does. */
		uint8_t *copy = malloc(left ? left : 1);
		struct nlmsghdr hdr;

		if (!copy)
			return 0;
		memcpy(copy, data + off, left);
		one((const struct nlmsghdr *)copy, left, sel);
		free(copy);
		if (left < sizeof(hdr))
			break;
		memcpy(&hdr, data + off, sizeof(hdr));
		if (hdr.nlmsg_len < sizeof(hdr) || hdr.nlmsg_len > left)
			break;
		off += NLMSG_ALIGN(hdr.nlmsg_len);
	}
	return 0;
}
