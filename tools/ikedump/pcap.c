/* pcap.c — pick IKE messages out of a classic pcap file.
 *
 * The file is untrusted: every field goes through lib/reader.h, a record
 * that claims more bytes than the file holds is an error, and anything
 * inside a packet that does not look like IKE over UDP 500/4500 is counted
 * and skipped.  Only the classic format (not pcapng) is read. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "tools/ikedump/ikedump.h"

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_HDR_LEN 24
#define PCAP_REC_LEN 16
/* A record larger than this is not a packet but a damaged file. */
#define PCAP_MAX_RECORD (256u * 1024u)

#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8

#define IKE_PORT 500
#define NATT_PORT 4500

static uint32_t swap32(uint32_t v)
{
	return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}

static bool rd_u32_file(struct ikd_pcap *p, struct reader *r, uint32_t *v)
{
	/* The header is in the writer's byte order; read as big-endian and swap
	 * unless the magic said the file is big-endian. */
	if (!rd_u32(r, v))
		return false;
	if (p->swapped)
		*v = swap32(*v);
	return true;
}

int ikd_pcap_open(struct ikd_pcap *p, const uint8_t *buf, size_t len, struct pvpn_err *e)
{
	uint32_t magic, snaplen, linktype;
	uint16_t major;

	memset(p, 0, sizeof(*p));
	rd_init(&p->r, buf, len);
	if (len < PCAP_HDR_LEN)
		return err_set(e, -EINVAL, "not a pcap file: %zu bytes, shorter than the 24-byte file header", len);
	rd_u32(&p->r, &magic);
	if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS) {
		p->swapped = false;
	} else if (swap32(magic) == PCAP_MAGIC_US || swap32(magic) == PCAP_MAGIC_NS) {
		p->swapped = true;
		magic = swap32(magic);
	} else if (magic == 0x0a0d0d0au) {
		return err_set(e, -EINVAL, "this is a pcapng file; convert it with "
			       "`editcap -F pcap IN OUT` or capture with `tcpdump -w` (classic pcap)");
	} else {
		return err_set(e, -EINVAL, "not a pcap file (magic 0x%08x)", magic);
	}
	p->nanos = magic == PCAP_MAGIC_NS;
	rd_u16(&p->r, &major);
	if (p->swapped)
		major = (uint16_t)(major >> 8 | major << 8);
	rd_skip(&p->r, 2 + 4 + 4);      /* minor, thiszone, sigfigs */
	rd_u32_file(p, &p->r, &snaplen);
	rd_u32_file(p, &p->r, &linktype);
	if (!rd_ok(&p->r))
		return err_set(e, -EINVAL, "pcap file header is cut short");
	if (major != 2)
		return err_set(e, -EINVAL, "pcap version %u is not supported (only 2.x)", major);
	/* The upper bits of the link-type field carry FCS information. */
	linktype &= 0x0fffffffu;
	switch (linktype) {
	case IKD_LINK_NULL:
	case IKD_LINK_ETHERNET:
	case IKD_LINK_RAW:
	case IKD_LINK_SLL:
	case IKD_LINK_IPV4:
	case IKD_LINK_IPV6:
	case IKD_LINK_SLL2:
		break;
	default:
		return err_set(e, -EINVAL, "pcap link type %u is not supported "
			       "(Ethernet, Linux cooked SLL/SLL2 and raw IP are)", linktype);
	}
	p->snaplen = snaplen;
	p->linktype = linktype;
	return 0;
}

/* Strip the link layer; on success *ethertype says what follows. */
static bool strip_link(struct ikd_pcap *p, struct reader *r, uint16_t *ethertype)
{
	uint16_t type = 0;
	uint32_t family;
	uint8_t ver;
	const uint8_t *peek;

	switch (p->linktype) {
	case IKD_LINK_ETHERNET:
		rd_skip(r, 12);
		rd_u16(r, &type);
		/* Up to two VLAN tags (802.1Q, QinQ). */
		for (int i = 0; i < 2 && (type == ETH_P_8021Q || type == ETH_P_8021AD); i++) {
			rd_skip(r, 2);
			rd_u16(r, &type);
		}
		break;
	case IKD_LINK_SLL:
		/* packet type, ARPHRD, address length, 8-byte address, protocol */
		rd_skip(r, 14);
		rd_u16(r, &type);
		break;
	case IKD_LINK_SLL2:
		/* protocol, reserved, ifindex, ARPHRD, packet type, addr len, addr */
		rd_u16(r, &type);
		rd_skip(r, 18);
		break;
	case IKD_LINK_NULL:
		/* A 4-byte address family in the capturing host's byte order. */
		if (!rd_u32_host(r, &family))
			return false;
		if (family == 2 || swap32(family) == 2)
			type = ETH_P_IPV4;
		else if (family == 10 || family == 24 || family == 28 || family == 30 ||
			 swap32(family) == 10 || swap32(family) == 24 ||
			 swap32(family) == 28 || swap32(family) == 30)
			type = ETH_P_IPV6;
		break;
	case IKD_LINK_IPV4:
		type = ETH_P_IPV4;
		break;
	case IKD_LINK_IPV6:
		type = ETH_P_IPV6;
		break;
	case IKD_LINK_RAW:
		if (!rd_peek(r, 1, &peek))
			return false;
		ver = peek[0] >> 4;
		type = ver == 4 ? ETH_P_IPV4 : ver == 6 ? ETH_P_IPV6 : 0;
		break;
	default:
		return false;
	}
	*ethertype = type;
	return rd_ok(r);
}

enum pkt_verdict { PKT_IKE, PKT_SKIP_OTHER, PKT_SKIP_FRAG, PKT_SKIP_ESP,
		   PKT_SKIP_KEEPALIVE, PKT_SKIP_TRUNC };

static enum pkt_verdict ipv4(struct reader *r, struct ikd_packet *pkt, struct reader *l4)
{
	uint8_t vihl, proto;
	uint16_t total, frag;
	size_t hdrlen;

	if (!rd_u8(r, &vihl) || (vihl >> 4) != 4)
		return PKT_SKIP_OTHER;
	hdrlen = (size_t)(vihl & 15) * 4;
	rd_skip(r, 1);
	rd_u16(r, &total);
	rd_skip(r, 2);
	rd_u16(r, &frag);
	rd_skip(r, 1);
	rd_u8(r, &proto);
	rd_skip(r, 2);
	rd_bytes(r, pkt->src, 4);
	rd_bytes(r, pkt->dst, 4);
	if (!rd_ok(r))
		return PKT_SKIP_TRUNC;
	if (hdrlen < 20 || total < hdrlen)
		return PKT_SKIP_OTHER;
	if (proto != 17)
		return PKT_SKIP_OTHER;
	/* Reassembly is not done: a fragmented IKE message is reported as
	 * skipped rather than shown half (RFC 7383 fragments are fine). */
	if (frag & 0x3fff)
		return PKT_SKIP_FRAG;
	if (!rd_skip(r, hdrlen - 20))
		return PKT_SKIP_TRUNC;
	/* The IP total length bounds the datagram; Ethernet may pad. */
	if (total - hdrlen > rd_left(r))
		return PKT_SKIP_TRUNC;
	rd_sub(r, total - hdrlen, l4);
	pkt->family = AF_INET;
	return PKT_IKE;
}

static enum pkt_verdict ipv6(struct reader *r, struct ikd_packet *pkt, struct reader *l4)
{
	uint8_t next, hlen;
	uint16_t plen;
	const uint8_t *peek;

	if (!rd_peek(r, 1, &peek) || (peek[0] >> 4) != 6)
		return PKT_SKIP_OTHER;
	rd_skip(r, 4);
	rd_u16(r, &plen);
	rd_u8(r, &next);
	rd_skip(r, 1);
	rd_bytes(r, pkt->src, 16);
	rd_bytes(r, pkt->dst, 16);
	if (!rd_ok(r))
		return PKT_SKIP_TRUNC;
	if (plen > rd_left(r))
		return PKT_SKIP_TRUNC;
	rd_sub(r, plen, l4);
	/* Walk extension headers; a bounded count keeps a crafted chain short. */
	for (int i = 0; i < 8; i++) {
		switch (next) {
		case 0:   /* hop-by-hop */
		case 43:  /* routing */
		case 60:  /* destination options */
			rd_u8(l4, &next);
			rd_u8(l4, &hlen);
			if (!rd_skip(l4, (size_t)hlen * 8 + 6))
				return PKT_SKIP_TRUNC;
			continue;
		case 44:  /* fragment */
			return PKT_SKIP_FRAG;
		case 17:
			pkt->family = AF_INET6;
			return PKT_IKE;
		default:
			return PKT_SKIP_OTHER;
		}
	}
	return PKT_SKIP_OTHER;
}

static enum pkt_verdict decode(struct ikd_pcap *p, struct reader *r, struct ikd_packet *pkt)
{
	uint16_t ethertype, ulen;
	struct reader l4, udp;
	enum pkt_verdict v;
	const uint8_t *peek;

	if (!strip_link(p, r, &ethertype))
		return PKT_SKIP_TRUNC;
	if (ethertype == ETH_P_IPV4)
		v = ipv4(r, pkt, &l4);
	else if (ethertype == ETH_P_IPV6)
		v = ipv6(r, pkt, &l4);
	else
		return PKT_SKIP_OTHER;
	if (v != PKT_IKE)
		return v;
	rd_u16(&l4, &pkt->sport);
	rd_u16(&l4, &pkt->dport);
	rd_u16(&l4, &ulen);
	rd_skip(&l4, 2);
	if (!rd_ok(&l4))
		return PKT_SKIP_TRUNC;
	if (ulen < 8)
		return PKT_SKIP_OTHER;
	if ((size_t)ulen - 8 > rd_left(&l4))
		return PKT_SKIP_TRUNC;
	rd_sub(&l4, (size_t)ulen - 8, &udp);

	if (pkt->sport == NATT_PORT || pkt->dport == NATT_PORT) {
		/* RFC 3948 §2.3: a NAT keepalive is the single byte 0xff. */
		if (rd_left(&udp) == 1 && rd_peek(&udp, 1, &peek) && peek[0] == 0xff)
			return PKT_SKIP_KEEPALIVE;
		/* RFC 3948 §2.2: IKE carries a zero 4-byte non-ESP marker; ESP
		 * starts with its non-zero SPI. */
		if (!rd_peek(&udp, 4, &peek))
			return PKT_SKIP_OTHER;
		if (peek[0] | peek[1] | peek[2] | peek[3])
			return PKT_SKIP_ESP;
		rd_skip(&udp, 4);
		pkt->natt = true;
	} else if (pkt->sport != IKE_PORT && pkt->dport != IKE_PORT) {
		return PKT_SKIP_OTHER;
	}
	pkt->ike_len = rd_left(&udp);
	if (pkt->ike_len == 0 || !rd_ptr(&udp, pkt->ike_len, &pkt->ike))
		return PKT_SKIP_OTHER;
	return PKT_IKE;
}

int ikd_pcap_next(struct ikd_pcap *p, struct ikd_packet *pkt, struct pvpn_err *e)
{
	for (;;) {
		uint32_t sec, frac, caplen, origlen;
		struct reader rec;
		size_t at = rd_pos(&p->r);

		if (!rd_ok(&p->r))
			return err_set(e, -EINVAL, "pcap reader used after an error");
		if (rd_left(&p->r) == 0)
			return 0;
		if (rd_left(&p->r) < PCAP_REC_LEN)
			return err_set(e, -EINVAL, "truncated pcap: record %llu header at offset %zu "
				       "has only %zu of 16 bytes",
				       (unsigned long long)p->records + 1, at, rd_left(&p->r));
		rd_u32_file(p, &p->r, &sec);
		rd_u32_file(p, &p->r, &frac);
		rd_u32_file(p, &p->r, &caplen);
		rd_u32_file(p, &p->r, &origlen);
		p->records++;
		if (caplen > PCAP_MAX_RECORD)
			return err_set(e, -EINVAL, "damaged pcap: record %llu at offset %zu claims %u bytes",
				       (unsigned long long)p->records, at, caplen);
		if (!rd_sub(&p->r, caplen, &rec))
			return err_set(e, -EINVAL, "truncated pcap: record %llu at offset %zu claims %u "
				       "bytes, the file has %zu left",
				       (unsigned long long)p->records, at, caplen,
				       p->r.len - at - PCAP_REC_LEN);
		memset(pkt, 0, sizeof(*pkt));
		pkt->record = p->records;
		pkt->ts_ns = (uint64_t)sec * 1000000000u +
			(uint64_t)frac * (p->nanos ? 1u : 1000u);
		enum pkt_verdict v = decode(p, &rec, pkt);
		/* A capture cut at snaplen leaves a partial IKE message. */
		if (v == PKT_IKE && origlen > caplen)
			v = PKT_SKIP_TRUNC;
		switch (v) {
		case PKT_IKE:
			return 1;
		case PKT_SKIP_ESP: p->skipped_esp++; break;
		case PKT_SKIP_KEEPALIVE: p->skipped_keepalive++; break;
		case PKT_SKIP_FRAG: p->skipped_fragment++; break;
		case PKT_SKIP_TRUNC: p->skipped_truncated++; break;
		case PKT_SKIP_OTHER: p->skipped_other++; break;
		}
	}
}

void ikd_format_endpoint(char *out, size_t outsz, int family, const uint8_t *addr, uint16_t port)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (family == AF_INET6) {
		inet_ntop(AF_INET6, addr, a, sizeof(a));
		snprintf(out, outsz, "[%s]:%u", a, port);
	} else {
		inet_ntop(AF_INET, addr, a, sizeof(a));
		snprintf(out, outsz, "%s:%u", a, port);
	}
}

int ikd_read_file(const char *path, size_t max, uint8_t **buf, size_t *len, struct pvpn_err *e)
{
	int fd, rc = 0;
	uint8_t *b = NULL;
	size_t n = 0, cap = 0;
	struct stat st;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, -errno, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		rc = err_set(e, -EISDIR, "%s is a directory, not a file", path);
		goto out;
	}
	for (;;) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			if (cap >= max) {
				rc = err_set(e, -EFBIG, "%s is larger than %zu bytes", path, max);
				goto out;
			}
			if (ncap > max)
				ncap = max;
			uint8_t *nb = realloc(b, ncap);
			if (!nb) {
				rc = err_set(e, -ENOMEM, "out of memory reading %s", path);
				goto out;
			}
			b = nb;
			cap = ncap;
		}
		ssize_t got = read(fd, b + n, cap - n);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			rc = err_set(e, -errno, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n == cap && cap == max) {
			/* Full at the limit: one more byte means too large. */
			uint8_t extra;
			ssize_t more = read(fd, &extra, 1);
			if (more > 0) {
				rc = err_set(e, -EFBIG, "%s is larger than %zu bytes", path, max);
				goto out;
			}
			break;
		}
	}
	*buf = b;
	*len = n;
	b = NULL;
out:
	free(b);
	close(fd);
	return rc;
}
