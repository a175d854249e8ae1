/* writer.h — bounds-checked writer into a caller's buffer.
 *
 * Like the reader, failure is sticky: a write past the capacity marks the
 * writer overflowed and writes nothing more; check wr_ok() once at the end.
 * Multi-byte integers are big-endian. */
#ifndef PVPN_LIB_WRITER_H
#define PVPN_LIB_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow;
};

void wr_init(struct writer *w, void *buf, size_t cap);
static inline bool wr_ok(const struct writer *w) { return !w->overflow; }
static inline size_t wr_len(const struct writer *w) { return w->len; }

bool wr_u8(struct writer *w, uint8_t v);
bool wr_u16(struct writer *w, uint16_t v);
bool wr_u32(struct writer *w, uint32_t v);
bool wr_u64(struct writer *w, uint64_t v);
bool wr_bytes(struct writer *w, const void *p, size_t n);
bool wr_zero(struct writer *w, size_t n);
/* Reserve n bytes to fill in later; returns a pointer to them (or NULL on
 * overflow).  Use with wr_put_u16()/wr_put_u32() for lengths. */
uint8_t *wr_reserve(struct writer *w, size_t n);
/* Overwrite at an absolute offset already written. */
bool wr_put_u16(struct writer *w, size_t off, uint16_t v);
bool wr_put_u32(struct writer *w, size_t off, uint32_t v);

#endif
