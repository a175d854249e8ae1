/* pcap.h — a tiny classic-pcap reader for tests: UDP datagrams over
 * Ethernet or Linux cooked capture, IPv4 or IPv6 (no extension headers).
 * Test helper only; the capture is trusted test data but is still read
 * through lib/reader.h so a truncated file fails instead of crashing. */
#ifndef PVPN_TESTS_PCAP_H
#define PVPN_TESTS_PCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tpcap {
	uint8_t *file;          /* the whole file, malloc'd */
	size_t len;
	size_t pos;             /* next record */
	bool swap;              /* file written in the other byte order */
	uint32_t linktype;      /* 1 Ethernet, 113 Linux cooked */
	size_t nrecords;        /* records read so far */
};

struct tpcap_udp {
	const uint8_t *data;    /* UDP payload (points into tpcap.file) */
	size_t len;
	uint16_t sport, dport;
	int family;             /* AF_INET or AF_INET6 */
	uint8_t src[16], dst[16];
	size_t record;          /* 0-based record number in the file */
};

/* Open and read the whole file; 0 or -errno. */
int tpcap_open(struct tpcap *p, const char *path);
void tpcap_close(struct tpcap *p);
/* Next UDP datagram: 1, 0 at the end, -EBADMSG on a malformed file.
 * Non-UDP records are skipped. */
int tpcap_next_udp(struct tpcap *p, struct tpcap_udp *u);

/* The IKE messages of a capture: UDP port 500, or 4500 with the 4-byte
 * non-ESP marker (which is stripped; ESP-in-UDP and keepalives skipped).
 * Fills up to max entries; returns how many, or -errno. */
int tpcap_ike_messages(struct tpcap *p, struct tpcap_udp *out, size_t max);

#endif
