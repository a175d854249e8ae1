#include "lib/writer.h"

#include <string.h>

void wr_init(struct writer *w, void *buf, size_t cap)
{
	w->buf = buf;
	w->cap = buf ? cap : 0;
	w->len = 0;
	w->overflow = false;
}

uint8_t *wr_reserve(struct writer *w, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = true;
		return NULL;
	}
	uint8_t *p = w->buf + w->len;
	w->len += n;
	return p;
}

bool wr_bytes(struct writer *w, const void *p, size_t n)
{
	uint8_t *d = wr_reserve(w, n);
	if (!d)
		return false;
	if (n)
		memcpy(d, p, n);
	return true;
}

bool wr_zero(struct writer *w, size_t n)
{
	uint8_t *d = wr_reserve(w, n);
	if (!d)
		return false;
	memset(d, 0, n);
	return true;
}

bool wr_u8(struct writer *w, uint8_t v)
{
	return wr_bytes(w, &v, 1);
}

bool wr_u16(struct writer *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	return wr_bytes(w, b, 2);
}

bool wr_u32(struct writer *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	return wr_bytes(w, b, 4);
}

bool wr_u64(struct writer *w, uint64_t v)
{
	return wr_u32(w, (uint32_t)(v >> 32)) && wr_u32(w, (uint32_t)v);
}

bool wr_put_u16(struct writer *w, size_t off, uint16_t v)
{
	if (w->overflow || off > w->len || w->len - off < 2)
		return false;
	w->buf[off] = (uint8_t)(v >> 8);
	w->buf[off + 1] = (uint8_t)v;
	return true;
}

bool wr_put_u32(struct writer *w, size_t off, uint32_t v)
{
	if (w->overflow || off > w->len || w->len - off < 4)
		return false;
	w->buf[off] = (uint8_t)(v >> 24);
	w->buf[off + 1] = (uint8_t)(v >> 16);
	w->buf[off + 2] = (uint8_t)(v >> 8);
	w->buf[off + 3] = (uint8_t)v;
	return true;
}
