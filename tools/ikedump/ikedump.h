/* ikedump.h — pvpn-ikedump: read IKEv2 messages out of a pcap, print them,
 * decrypt their SK payloads with a key file and check a key schedule.
 *
 * The program's logic lives in libpvpn.a so tests can call it directly;
 * main-pvpn-ikedump.c only forwards to ikedump_run(). */
#ifndef PVPN_IKEDUMP_H
#define PVPN_IKEDUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/err.h"
#include "lib/reader.h"
#include "lib/secret.h"

/* Exit codes of the program. */
enum {
	IKD_EXIT_OK = 0,
	IKD_EXIT_FAIL = 1,      /* verify mismatch, decrypt failure, bad input */
	IKD_EXIT_USAGE = 2,
};

/* Run the program: argv as main() gets it; results to out, complaints to
 * errout.  Returns the exit code. */
int ikedump_run(int argc, char **argv, FILE *out, FILE *errout);

/* ---- pcap reader (pcap.c) ---------------------------------------------- */

/* Link types we understand (tcpdump's LINKTYPE_* numbers). */
#define IKD_LINK_NULL     0
#define IKD_LINK_ETHERNET 1
#define IKD_LINK_RAW      101
#define IKD_LINK_SLL      113
#define IKD_LINK_IPV4     228
#define IKD_LINK_IPV6     229
#define IKD_LINK_SLL2     276

struct ikd_pcap {
	struct reader r;        /* over the whole file */
	bool swapped;           /* file written on the other endianness */
	bool nanos;             /* nanosecond timestamps */
	uint32_t linktype;
	uint32_t snaplen;
	uint64_t records;       /* records read so far */
	/* Packets passed over, for a summary line. */
	uint64_t skipped_esp, skipped_keepalive, skipped_fragment,
		 skipped_truncated, skipped_other;
};

struct ikd_packet {
	uint64_t record;        /* 1-based record number in the file */
	uint64_t ts_ns;         /* capture time, ns since the epoch */
	int family;             /* AF_INET or AF_INET6 */
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	bool natt;              /* UDP 4500 with the non-ESP marker (RFC 3948 §2.2) */
	const uint8_t *ike;     /* the IKE message (points into the file buffer) */
	size_t ike_len;
};

/* Check the file header.  buf must outlive p and every packet read. */
int ikd_pcap_open(struct ikd_pcap *p, const uint8_t *buf, size_t len, struct pvpn_err *e);
/* Next IKE packet: 1 and *pkt filled, 0 at the end of the file, or a
 * negative code with e filled when the file is damaged.  Packets that are
 * not IKE (ESP, keepalives, other traffic, fragments) are counted and
 * skipped. */
int ikd_pcap_next(struct ikd_pcap *p, struct ikd_packet *pkt, struct pvpn_err *e);
/* "192.0.2.1:500" or "[2001:db8::1]:4500". */
void ikd_format_endpoint(char *out, size_t outsz, int family, const uint8_t *addr, uint16_t port);

/* ---- key files (keys.c) ------------------------------------------------- */

#define IKD_KEY_NAME_MAX 32
#define IKD_KEYS_PER_SET 24
#define IKD_KEY_MAX_BYTES 1024  /* dh_shared of MODP-8192 */

struct ikd_key {
	char name[IKD_KEY_NAME_MAX];
	struct secret value;
	unsigned line;
};

/* The keys of one IKE SA.  has_spi is false for a file without spi lines. */
struct ikd_keyset {
	bool has_spi, has_spi_r;
	uint8_t spi_i[8], spi_r[8];
	unsigned line;          /* where the block starts */
	struct ikd_key keys[IKD_KEYS_PER_SET];
	size_t n_keys;
};

struct ikd_keyfile {
	struct ikd_keyset *sets;
	size_t n_sets;
};

/* Parse the text of a key file.  0 or negative with e naming the line. */
int ikd_keys_parse(struct ikd_keyfile *kf, const char *text, size_t len, struct pvpn_err *e);
int ikd_keys_load(struct ikd_keyfile *kf, const char *path, struct pvpn_err *e);
void ikd_keys_free(struct ikd_keyfile *kf);
/* The key set for the IKE SA with these SPIs: the block with the same SPIs,
 * or the only block when the file has no spi lines.  NULL when none. */
const struct ikd_keyset *ikd_keys_find(const struct ikd_keyfile *kf,
				       const uint8_t spi_i[8], const uint8_t spi_r[8]);
const struct secret *ikd_keyset_get(const struct ikd_keyset *ks, const char *name);
/* True when name is one of the keys ikedump knows how to use or check. */
bool ikd_key_name_known(const char *name);

/* ---- whole files -------------------------------------------------------- */

/* Read a whole file (at most max bytes) into a malloc'd buffer. */
int ikd_read_file(const char *path, size_t max, uint8_t **buf, size_t *len, struct pvpn_err *e);

#endif
