/* reader.h — the one bounds-checked reader for untrusted bytes.
 *
 * Packets, netlink replies, files and control requests are read only through
 * this.  Every read checks what is left; a failed read marks the reader
 * failed ("sticky"), returns false and yields zeroes, so a parser can do a
 * run of reads and check once.  A length taken from the wire is only ever
 * used through rd_sub()/rd_ptr(), never to index memory directly.
 * Multi-byte integers are big-endian (network order). */
#ifndef PVPN_LIB_READER_H
#define PVPN_LIB_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct reader {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	bool failed;
};

void rd_init(struct reader *r, const void *buf, size_t len);

static inline size_t rd_left(const struct reader *r) { return r->failed ? 0 : r->len - r->pos; }
static inline bool rd_ok(const struct reader *r) { return !r->failed; }
/* True when everything was consumed and no read failed. */
static inline bool rd_done(const struct reader *r) { return !r->failed && r->pos == r->len; }
/* Where the next read starts (for error messages and offsets). */
static inline size_t rd_pos(const struct reader *r) { return r->pos; }

bool rd_u8(struct reader *r, uint8_t *v);
bool rd_u16(struct reader *r, uint16_t *v);
bool rd_u32(struct reader *r, uint32_t *v);
bool rd_u64(struct reader *r, uint64_t *v);
/* Little-endian / host-order variants, for netlink. */
bool rd_u16_host(struct reader *r, uint16_t *v);
bool rd_u32_host(struct reader *r, uint32_t *v);
bool rd_u64_host(struct reader *r, uint64_t *v);
/* Copy n bytes out. */
bool rd_bytes(struct reader *r, void *out, size_t n);
/* Borrow a pointer to the next n bytes and advance. */
bool rd_ptr(struct reader *r, size_t n, const uint8_t **out);
/* Split off the next n bytes as a reader of their own and advance. */
bool rd_sub(struct reader *r, size_t n, struct reader *sub);
bool rd_skip(struct reader *r, size_t n);
/* Look at the next n bytes without advancing. */
bool rd_peek(const struct reader *r, size_t n, const uint8_t **out);
/* Mark failed (a semantic check failed) and return false. */
bool rd_fail(struct reader *r);

#endif
