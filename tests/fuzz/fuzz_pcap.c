/* libFuzzer target: pvpn-ikedump's inputs that come from files a person
 * hands it — the pcap reader (every link type, IPv4/IPv6, UDP 500/4500
 * framing) followed by the message parser and the one-line printer, and
 * the name=hex key-file parser.
 *
 * Input: byte 0 even: the rest is a pcap file; odd: the rest is a key
 * file.  Must never crash, leak or read out of bounds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike-lite/message.h"
#include "tools/ikedump/ikedump.h"
#include "tools/ikedump/ikedump_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pvpn_err e = { 0 };

	if (!devnull && !(devnull = fopen("/dev/null", "w")))
		abort();
	if (size < 1)
		return 0;
	if (data[0] & 1) {
		struct ikd_keyfile kf;
		uint8_t zero[8] = { 0 };
		if (ikd_keys_parse(&kf, (const char *)data + 1, size - 1, &e) == 0) {
			const struct ikd_keyset *ks = ikd_keys_find(&kf, zero, zero);
			if (ks)
				(void)ikd_keyset_get(ks, "sk_d");
			ikd_keys_free(&kf);
		}
		return 0;
	}

	/* The reader borrows the buffer; give it an exact-size copy so ASan
	 * sees any read past the end. */
	uint8_t *buf = malloc(size - 1 ? size - 1 : 1);
	struct ike_message *m = calloc(1, sizeof(*m));
	struct ikd_pcap p;
	struct ikd_packet pkt;
	char ep[64];

	if (!buf || !m)
		abort();
	memcpy(buf, data + 1, size - 1);
	if (ikd_pcap_open(&p, buf, size - 1, &e) == 0) {
		while (ikd_pcap_next(&p, &pkt, &e) == 1) {
			if (pkt.ike < buf || pkt.ike + pkt.ike_len > buf + size - 1)
				abort();
			ikd_format_endpoint(ep, sizeof(ep), pkt.family, pkt.src, pkt.sport);
			if (ike_message_parse(m, pkt.ike, pkt.ike_len, &e) == 0)
				ikd_print_payload_list(devnull, m);
		}
	}
	free(m);
	free(buf);
	return 0;
}
