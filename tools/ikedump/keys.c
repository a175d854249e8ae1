/* keys.c — the `name=hex` key file.
 *
 * Two shapes, one grammar:
 *  - the fixtures' keys.txt: one key a line, no SPIs; it belongs to the
 *    single IKE SA in the capture;
 *  - pvpnd's --keylog: blocks, each starting with `spi_i=HEX` and
 *    `spi_r=HEX` (8 bytes each), holding the keys of that IKE SA.
 * Blank lines and lines starting with '#' are ignored; spaces around the
 * name and the value are allowed.  Values are secrets: they go straight
 * into struct secret and the text is wiped by the loader. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hex.h"
#include "tools/ikedump/ikedump.h"

static const char *const known_keys[] = {
	"dh_shared", "skeyseed", "sk_d", "sk_ai", "sk_ar", "sk_ei", "sk_er",
	"sk_pi", "sk_pr", "esp_enc_i", "esp_enc_r", "esp_integ_i", "esp_integ_r",
	"esp_spi_i", "esp_spi_r",
};

bool ikd_key_name_known(const char *name)
{
	for (size_t i = 0; i < sizeof(known_keys) / sizeof(known_keys[0]); i++)
		if (strcmp(name, known_keys[i]) == 0)
			return true;
	return false;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static void trim(const char **s, size_t *n)
{
	while (*n && is_space(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_space((*s)[*n - 1]))
		(*n)--;
}

static int new_set(struct ikd_keyfile *kf, unsigned line, struct pvpn_err *e)
{
	struct ikd_keyset *ns = realloc(kf->sets, (kf->n_sets + 1) * sizeof(*ns));
	if (!ns)
		return err_set(e, -ENOMEM, "out of memory reading the key file");
	kf->sets = ns;
	memset(&ns[kf->n_sets], 0, sizeof(ns[0]));
	ns[kf->n_sets].line = line;
	kf->n_sets++;
	return 0;
}

static int parse_spi(const char *v, size_t vn, uint8_t out[8], const char *name,
		     unsigned line, struct pvpn_err *e)
{
	/* Accept an optional 0x, as people copy SPIs from logs. */
	if (vn >= 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
		v += 2;
		vn -= 2;
	}
	if (vn != 16 || hex_decode(out, 8, v, vn) != 8)
		return err_set(e, -EINVAL, "key file line %u: %s must be 16 hex digits (8 bytes)",
			       line, name);
	return 0;
}

static int parse_line(struct ikd_keyfile *kf, const char *s, size_t n, unsigned line,
		      bool *saw_spi, struct pvpn_err *e)
{
	const char *eq, *name, *val;
	size_t nn, vn;
	struct ikd_keyset *ks;
	int rc;

	trim(&s, &n);
	if (n == 0 || s[0] == '#')
		return 0;
	eq = memchr(s, '=', n);
	if (!eq)
		return err_set(e, -EINVAL, "key file line %u: expected name=hex", line);
	name = s;
	nn = (size_t)(eq - s);
	val = eq + 1;
	vn = n - nn - 1;
	trim(&name, &nn);
	trim(&val, &vn);
	if (nn == 0 || nn >= IKD_KEY_NAME_MAX)
		return err_set(e, -EINVAL, "key file line %u: missing or overlong key name", line);
	for (size_t i = 0; i < nn; i++)
		if (!(isalnum((unsigned char)name[i]) || name[i] == '_' || name[i] == '-'))
			return err_set(e, -EINVAL, "key file line %u: bad character in key name", line);

	if (nn == 5 && memcmp(name, "spi_i", 5) == 0) {
		/* A block starts here. */
		*saw_spi = true;
		if (kf->n_sets > 0 && !kf->sets[kf->n_sets - 1].has_spi)
			return err_set(e, -EINVAL, "key file line %u: spi_i after keys without "
				       "SPIs; put spi_i and spi_r before each IKE SA's keys", line);
		if ((rc = new_set(kf, line, e)) < 0)
			return rc;
		ks = &kf->sets[kf->n_sets - 1];
		ks->has_spi = true;
		return parse_spi(val, vn, ks->spi_i, "spi_i", line, e);
	}
	if (nn == 5 && memcmp(name, "spi_r", 5) == 0) {
		ks = kf->n_sets ? &kf->sets[kf->n_sets - 1] : NULL;
		if (!ks || !ks->has_spi || ks->has_spi_r || ks->n_keys > 0)
			return err_set(e, -EINVAL, "key file line %u: spi_r must follow spi_i, "
				       "before the keys of that IKE SA", line);
		ks->has_spi_r = true;
		return parse_spi(val, vn, ks->spi_r, "spi_r", line, e);
	}

	if (kf->n_sets == 0) {
		if ((rc = new_set(kf, line, e)) < 0)
			return rc;
	}
	ks = &kf->sets[kf->n_sets - 1];
	if (*saw_spi && !ks->has_spi)
		return err_set(e, -EINVAL, "key file line %u: key outside an spi_i/spi_r block", line);
	if (ks->has_spi && !ks->has_spi_r)
		return err_set(e, -EINVAL, "key file line %u: spi_r must follow spi_i", line);
	for (size_t i = 0; i < ks->n_keys; i++)
		if (strlen(ks->keys[i].name) == nn && memcmp(ks->keys[i].name, name, nn) == 0)
			return err_set(e, -EINVAL, "key file line %u: %.*s given twice for the same "
				       "IKE SA (first on line %u)", line, (int)nn, name, ks->keys[i].line);
	if (ks->n_keys == IKD_KEYS_PER_SET)
		return err_set(e, -EINVAL, "key file line %u: more than %d keys for one IKE SA",
			       line, IKD_KEYS_PER_SET);
	if (vn == 0 || vn % 2 || vn / 2 > IKD_KEY_MAX_BYTES)
		return err_set(e, -EINVAL, "key file line %u: %.*s needs an even number of hex "
			       "digits (1 to %d bytes)", line, (int)nn, name, IKD_KEY_MAX_BYTES);

	struct ikd_key *k = &ks->keys[ks->n_keys];
	if (secret_alloc(&k->value, vn / 2) < 0)
		return err_set(e, -ENOMEM, "out of memory reading the key file");
	if (hex_decode(k->value.data, k->value.len, val, vn) < 0) {
		secret_free(&k->value);
		return err_set(e, -EINVAL, "key file line %u: %.*s is not valid hex", line, (int)nn, name);
	}
	memcpy(k->name, name, nn);
	k->name[nn] = '\0';
	k->line = line;
	ks->n_keys++;
	return 0;
}

int ikd_keys_parse(struct ikd_keyfile *kf, const char *text, size_t len, struct pvpn_err *e)
{
	unsigned line = 0;
	bool saw_spi = false;
	size_t pos = 0;
	int rc = 0;

	memset(kf, 0, sizeof(*kf));
	while (pos < len) {
		const char *s = text + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;
		line++;
		if (memchr(s, '\0', n)) {
			rc = err_set(e, -EINVAL, "key file line %u: contains a NUL byte; not a text file",
				     line);
			goto out;
		}
		if ((rc = parse_line(kf, s, n, line, &saw_spi, e)) < 0)
			goto out;
		pos += n + (nl ? 1 : 0);
	}
	for (size_t i = 0; i < kf->n_sets; i++) {
		struct ikd_keyset *ks = &kf->sets[i];
		if (ks->has_spi && !ks->has_spi_r) {
			rc = err_set(e, -EINVAL, "key file line %u: spi_i without spi_r", ks->line);
			goto out;
		}
		if (ks->has_spi && ks->n_keys == 0) {
			rc = err_set(e, -EINVAL, "key file line %u: IKE SA block without any keys",
				     ks->line);
			goto out;
		}
	}
	if (kf->n_sets == 0)
		rc = err_set(e, -EINVAL, "the key file holds no keys");
out:
	if (rc < 0)
		ikd_keys_free(kf);
	return rc;
}

int ikd_keys_load(struct ikd_keyfile *kf, const char *path, struct pvpn_err *e)
{
	uint8_t *buf;
	size_t len;
	int rc;

	memset(kf, 0, sizeof(*kf));
	if ((rc = ikd_read_file(path, 4u << 20, &buf, &len, e)) < 0)
		return rc;
	rc = ikd_keys_parse(kf, (const char *)buf, len, e);
	if (rc < 0)
		err_prefix(e, "%s: ", path);
	secret_wipe(buf, len);
	free(buf);
	return rc;
}

void ikd_keys_free(struct ikd_keyfile *kf)
{
	for (size_t i = 0; i < kf->n_sets; i++)
		for (size_t j = 0; j < kf->sets[i].n_keys; j++)
			secret_free(&kf->sets[i].keys[j].value);
	free(kf->sets);
	kf->sets = NULL;
	kf->n_sets = 0;
}

const struct ikd_keyset *ikd_keys_find(const struct ikd_keyfile *kf,
				       const uint8_t spi_i[8], const uint8_t spi_r[8])
{
	if (kf->n_sets == 1 && !kf->sets[0].has_spi)
		return &kf->sets[0];
	for (size_t i = 0; i < kf->n_sets; i++) {
		const struct ikd_keyset *ks = &kf->sets[i];
		if (ks->has_spi && memcmp(ks->spi_i, spi_i, 8) == 0 && memcmp(ks->spi_r, spi_r, 8) == 0)
			return ks;
	}
	return NULL;
}

const struct secret *ikd_keyset_get(const struct ikd_keyset *ks, const char *name)
{
	for (size_t i = 0; i < ks->n_keys; i++)
		if (strcmp(ks->keys[i].name, name) == 0)
			return &ks->keys[i].value;
	return NULL;
}
