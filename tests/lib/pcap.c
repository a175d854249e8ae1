#include "tests/lib/pcap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/reader.h"

int tpcap_open(struct tpcap *p, const char *path)
{
	FILE *f;
	long sz;
	uint32_t magic;
	memset(p, 0, sizeof(*p));
	if (!(f = fopen(path, "rb")))
		return -errno;
	if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 24 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return -EBADMSG;
	}
	p->file = malloc((size_t)sz);
	if (!p->file || fread(p->file, 1, (size_t)sz, f) != (size_t)sz) {
		fclose(f);
		tpcap_close(p);
		return -EIO;
	}
	fclose(f);
	p->len = (size_t)sz;
	memcpy(&magic, p->file, 4);
	if (magic == 0xa1b2c3d4)
		p->swap = false;
	else if (magic == 0xd4c3b2a1)
		p->swap = true;
	else {
		tpcap_close(p);
		return -EBADMSG;  /* not classic microsecond pcap (nanosecond/pcapng unsupported) */
	}
	memcpy(&p->linktype, p->file + 20, 4);
	if (p->swap)
		p->linktype = __builtin_bswap32(p->linktype);
	p->pos = 24;
	return 0;
}

void tpcap_close(struct tpcap *p)
{
	free(p->file);
	p->file = NULL;
	p->len = 0;
}

static uint32_t fix32(const struct tpcap *p, uint32_t v)
{
	return p->swap ? __builtin_bswap32(v) : v;
}

int tpcap_next_udp(struct tpcap *p, struct tpcap_udp *u)
{
	while (p->pos < p->len) {
		struct reader r, pkt;
		uint32_t ts1, ts2, incl, orig;
		uint16_t ethertype = 0;
		uint8_t proto = 0;
		rd_init(&r, p->file + p->pos, p->len - p->pos);
		rd_u32_host(&r, &ts1); rd_u32_host(&r, &ts2);
		rd_u32_host(&r, &incl); rd_u32_host(&r, &orig);
		incl = fix32(p, incl);
		if (!rd_sub(&r, incl, &pkt))
			return -EBADMSG;
		p->pos += 16 + incl;
		memset(u, 0, sizeof(*u));
		u->record = p->nrecords++;
		if (p->linktype == 1) {               /* Ethernet */
			rd_skip(&pkt, 12);
			rd_u16(&pkt, &ethertype);
			if (ethertype == 0x8100) {     /* one VLAN tag */
				rd_skip(&pkt, 2);
				rd_u16(&pkt, &ethertype);
			}
		} else if (p->linktype == 113) {      /* Linux cooked (SLL) */
			rd_skip(&pkt, 14);
			rd_u16(&pkt, &ethertype);
		} else {
			return -EPROTONOSUPPORT;
		}
		if (!rd_ok(&pkt))
			continue;
		struct reader ip;
		if (ethertype == 0x0800) {
			uint8_t vihl, b;
			uint16_t totlen;
			const uint8_t *peek;
			if (!rd_peek(&pkt, 1, &peek))
				continue;
			vihl = peek[0];
			size_t ihl = (size_t)(vihl & 0xf) * 4;
			if ((vihl >> 4) != 4 || ihl < 20)
				continue;
			rd_u8(&pkt, &b); rd_u8(&pkt, &b);
			rd_u16(&pkt, &totlen);
			rd_skip(&pkt, 5);
			rd_u8(&pkt, &proto);
			rd_skip(&pkt, 2);
			rd_bytes(&pkt, u->src, 4);
			rd_bytes(&pkt, u->dst, 4);
			rd_skip(&pkt, ihl - 20);
			if (!rd_ok(&pkt) || totlen < ihl || totlen - ihl > rd_left(&pkt))
				continue;
			rd_sub(&pkt, totlen - ihl, &ip);
			u->family = AF_INET;
		} else if (ethertype == 0x86dd) {
			uint16_t plen;
			rd_skip(&pkt, 4);
			rd_u16(&pkt, &plen);
			rd_u8(&pkt, &proto);
			rd_skip(&pkt, 1);
			rd_bytes(&pkt, u->src, 16);
			rd_bytes(&pkt, u->dst, 16);
			if (!rd_sub(&pkt, plen, &ip))
				continue;
			u->family = AF_INET6;
		} else {
			continue;
		}
		if (proto != 17)
			continue;
		uint16_t ulen;
		rd_u16(&ip, &u->sport);
		rd_u16(&ip, &u->dport);
		rd_u16(&ip, &ulen);
		rd_skip(&ip, 2);
		if (!rd_ok(&ip) || ulen < 8 || ulen - 8u > rd_left(&ip))
			continue;
		u->len = ulen - 8u;
		rd_ptr(&ip, u->len, &u->data);
		(void)ts1; (void)ts2; (void)orig;
		return 1;
	}
	return 0;
}

int tpcap_ike_messages(struct tpcap *p, struct tpcap_udp *out, size_t max)
{
	struct tpcap_udp u = { 0 };
	size_t n = 0;
	int rc;
	while ((rc = tpcap_next_udp(p, &u)) == 1) {
		if (u.sport == 500 || u.dport == 500) {
			/* plain IKE */
		} else if (u.sport == 4500 || u.dport == 4500) {
			/* RFC 3948 §2.2: IKE carries a 4-byte zero non-ESP marker;
			 * 1-byte 0xff is a NAT keepalive, anything else ESP */
			if (u.len < 4 || memcmp(u.data, "\0\0\0\0", 4) != 0)
				continue;
			u.data += 4;
			u.len -= 4;
		} else {
			continue;
		}
		if (n < max)
			out[n] = u;
		n++;
	}
	if (rc < 0)
		return rc;
	return n > max ? -E2BIG : (int)n;
}
