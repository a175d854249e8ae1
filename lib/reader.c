#include "lib/reader.h"

#include <string.h>

void rd_init(struct reader *r, const void *buf, size_t len)
{
	r->buf = buf;
	r->len = buf ? len : 0;
	r->pos = 0;
	r->failed = false;
}

bool rd_fail(struct reader *r)
{
	r->failed = true;
	return false;
}

bool rd_peek(const struct reader *r, size_t n, const uint8_t **out)
{
	if (r->failed || n > r->len - r->pos)
		return false;
	*out = r->buf + r->pos;
	return true;
}

bool rd_ptr(struct reader *r, size_t n, const uint8_t **out)
{
	if (!rd_peek(r, n, out)) {
		*out = NULL;
		return rd_fail(r);
	}
	r->pos += n;
	return true;
}

bool rd_bytes(struct reader *r, void *out, size_t n)
{
	const uint8_t *p;
	if (!rd_ptr(r, n, &p)) {
		if (n)
			memset(out, 0, n);
		return false;
	}
	if (n)
		memcpy(out, p, n);
	return true;
}

bool rd_skip(struct reader *r, size_t n)
{
	const uint8_t *p;
	return rd_ptr(r, n, &p);
}

bool rd_sub(struct reader *r, size_t n, struct reader *sub)
{
	const uint8_t *p;
	if (!rd_ptr(r, n, &p)) {
		rd_init(sub, NULL, 0);
		sub->failed = true;
		return false;
	}
	rd_init(sub, p, n);
	return true;
}

bool rd_u8(struct reader *r, uint8_t *v)
{
	return rd_bytes(r, v, 1);
}

bool rd_u16(struct reader *r, uint16_t *v)
{
	uint8_t b[2];
	bool ok = rd_bytes(r, b, 2);
	*v = (uint16_t)(b[0] << 8 | b[1]);
	return ok;
}

bool rd_u32(struct reader *r, uint32_t *v)
{
	uint8_t b[4];
	bool ok = rd_bytes(r, b, 4);
	*v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	return ok;
}

bool rd_u64(struct reader *r, uint64_t *v)
{
	uint32_t hi, lo;
	bool ok = rd_u32(r, &hi);
	ok = rd_u32(r, &lo) && ok;
	*v = (uint64_t)hi << 32 | lo;
	return ok;
}

bool rd_u16_host(struct reader *r, uint16_t *v)
{
	return rd_bytes(r, v, sizeof(*v));
}

bool rd_u32_host(struct reader *r, uint32_t *v)
{
	return rd_bytes(r, v, sizeof(*v));
}

bool rd_u64_host(struct reader *r, uint64_t *v)
{
	return rd_bytes(r, v, sizeof(*v));
}
