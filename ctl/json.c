/* json.c — a small streaming JSON writer for `pvpn --json` (RFC 8259).
 * Strings are escaped; bytes that are not valid UTF-8 become U+FFFD so the
 * output always parses, whatever a server put into a notify's text. */
#include "ctl/proto.h"

#include <inttypes.h>
#include <string.h>

void ctl_json_init(struct ctl_json *j, FILE *f, bool pretty)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->pretty = pretty;
}

static void indent(struct ctl_json *j)
{
	if (!j->pretty)
		return;
	fputc('\n', j->f);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 if invalid
 * (RFC 3629 §4: no overlongs, no surrogates, at most U+10FFFF). */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len;
	uint32_t cp, min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; min = 0x80; }
	else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; min = 0x800; }
	else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; min = 0x10000; }
	else return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static void write_string(FILE *f, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	fputc('"', f);
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
			i++;
		} else if (c == '\n') {
			fputs("\\n", f);
			i++;
		} else if (c == '\t') {
			fputs("\\t", f);
			i++;
		} else if (c == '\r') {
			fputs("\\r", f);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			i++;
		} else if (c < 0x80) {
			fputc(c, f);
			i++;
		} else {
			size_t l = utf8_len(p + i, n - i);
			if (!l) {
				fputs("\\ufffd", f);
				i++;
			} else {
				fwrite(p + i, 1, l, f);
				i += l;
			}
		}
	}
	fputc('"', f);
}

static void key(struct ctl_json *j, const char *k)
{
	if (j->depth > 0 && j->depth <= CTL_JSON_DEPTH) {
		if (j->need_comma[j->depth - 1])
			fputc(',', j->f);
		j->need_comma[j->depth - 1] = true;
	}
	if (j->depth > 0)
		indent(j);
	if (k) {
		write_string(j->f, k, strlen(k));
		fputs(j->pretty ? ": " : ":", j->f);
	}
}

static void open_(struct ctl_json *j, const char *k, char c)
{
	key(j, k);
	fputc(c, j->f);
	if (j->depth < CTL_JSON_DEPTH)
		j->need_comma[j->depth] = false;
	j->depth++;
}

static void close_(struct ctl_json *j, char c)
{
	bool had = j->depth > 0 && j->depth <= CTL_JSON_DEPTH && j->need_comma[j->depth - 1];
	if (j->depth > 0)
		j->depth--;
	if (had)
		indent(j);
	fputc(c, j->f);
}

void ctl_json_obj_begin(struct ctl_json *j, const char *k) { open_(j, k, '{'); }
void ctl_json_obj_end(struct ctl_json *j) { close_(j, '}'); }
void ctl_json_arr_begin(struct ctl_json *j, const char *k) { open_(j, k, '['); }
void ctl_json_arr_end(struct ctl_json *j) { close_(j, ']'); }

void ctl_json_strn(struct ctl_json *j, const char *k, const char *v, size_t n)
{
	key(j, k);
	write_string(j->f, v, n);
}

void ctl_json_str(struct ctl_json *j, const char *k, const char *v)
{
	if (!v) {
		ctl_json_null(j, k);
		return;
	}
	ctl_json_strn(j, k, v, strlen(v));
}

void ctl_json_u64(struct ctl_json *j, const char *k, uint64_t v)
{
	key(j, k);
	fprintf(j->f, "%" PRIu64, v);
}

void ctl_json_bool(struct ctl_json *j, const char *k, bool v)
{
	key(j, k);
	fputs(v ? "true" : "false", j->f);
}

void ctl_json_null(struct ctl_json *j, const char *k)
{
	key(j, k);
	fputs("null", j->f);
}

void ctl_json_end(struct ctl_json *j)
{
	fputc('\n', j->f);
	fflush(j->f);
}
