/* proposal.c — strongSwan's proposal syntax ("aes256gcm16-prfsha256-x25519")
 * to and from struct prof_proposal with IANA transform IDs (RFC 7296
 * §3.3.2, RFC 7634 for ChaCha20-Poly1305). */
#include "policy/profile.h"
#include "policy/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum kind { K_ENCR, K_INTEG, K_PRF, K_DH };

struct kw {
	const char *name;
	enum kind kind;
	uint16_t id;
	uint16_t bits;   /* key bits (ENCR) */
	uint16_t prf;    /* the PRF an integrity keyword implies */
	bool canonical;  /* the spelling serialise writes */
};

static const struct kw kws[] = {
	{ "aes128", K_ENCR, PROF_ENCR_AES_CBC, 128, 0, true },
	{ "aes192", K_ENCR, PROF_ENCR_AES_CBC, 192, 0, true },
	{ "aes256", K_ENCR, PROF_ENCR_AES_CBC, 256, 0, true },
	{ "aes128gcm16", K_ENCR, PROF_ENCR_AES_GCM_16, 128, 0, true },
	{ "aes256gcm16", K_ENCR, PROF_ENCR_AES_GCM_16, 256, 0, true },
	{ "aes128gcm", K_ENCR, PROF_ENCR_AES_GCM_16, 128, 0, false },
	{ "aes256gcm", K_ENCR, PROF_ENCR_AES_GCM_16, 256, 0, false },
	/* strongSwan also names the ICV in bits. */
	{ "aes128gcm128", K_ENCR, PROF_ENCR_AES_GCM_16, 128, 0, false },
	{ "aes256gcm128", K_ENCR, PROF_ENCR_AES_GCM_16, 256, 0, false },
	{ "chacha20poly1305", K_ENCR, PROF_ENCR_CHACHA20_POLY1305, 256, 0, true },
	{ "sha256", K_INTEG, PROF_AUTH_HMAC_SHA2_256_128, 0, PROF_PRF_HMAC_SHA2_256, true },
	{ "sha384", K_INTEG, PROF_AUTH_HMAC_SHA2_384_192, 0, PROF_PRF_HMAC_SHA2_384, true },
	{ "sha512", K_INTEG, PROF_AUTH_HMAC_SHA2_512_256, 0, PROF_PRF_HMAC_SHA2_512, true },
	{ "sha2_256", K_INTEG, PROF_AUTH_HMAC_SHA2_256_128, 0, PROF_PRF_HMAC_SHA2_256, false },
	{ "sha2_384", K_INTEG, PROF_AUTH_HMAC_SHA2_384_192, 0, PROF_PRF_HMAC_SHA2_384, false },
	{ "sha2_512", K_INTEG, PROF_AUTH_HMAC_SHA2_512_256, 0, PROF_PRF_HMAC_SHA2_512, false },
	{ "prfsha256", K_PRF, PROF_PRF_HMAC_SHA2_256, 0, 0, true },
	{ "prfsha384", K_PRF, PROF_PRF_HMAC_SHA2_384, 0, 0, true },
	{ "prfsha512", K_PRF, PROF_PRF_HMAC_SHA2_512, 0, 0, true },
	{ "modp2048", K_DH, PROF_DH_MODP2048, 0, 0, true },
	{ "modp3072", K_DH, PROF_DH_MODP3072, 0, 0, true },
	{ "modp4096", K_DH, PROF_DH_MODP4096, 0, 0, true },
	{ "ecp256", K_DH, PROF_DH_ECP256, 0, 0, true },
	{ "ecp384", K_DH, PROF_DH_ECP384, 0, 0, true },
	{ "ecp521", K_DH, PROF_DH_ECP521, 0, 0, true },
	{ "x25519", K_DH, PROF_DH_CURVE25519, 0, 0, true },
	{ "curve25519", K_DH, PROF_DH_CURVE25519, 0, 0, false },
	{ "x448", K_DH, PROF_DH_CURVE448, 0, 0, true },
	{ "curve448", K_DH, PROF_DH_CURVE448, 0, 0, false },
};
#define N_KWS (sizeof(kws) / sizeof(kws[0]))

#define ALLOWED_IKE "aes128|192|256, aes128gcm16|aes256gcm16, chacha20poly1305, " \
	"sha256|384|512, prfsha256|384|512, modp2048|3072|4096, ecp256|384|521, x25519, x448"
#define ALLOWED_CHILD "aes128|192|256, aes128gcm16|aes256gcm16, chacha20poly1305, " \
	"sha256|384|512, modp2048|3072|4096, ecp256|384|521, x25519, x448"

static const struct kw *kw_find(const char *s)
{
	for (size_t i = 0; i < N_KWS; i++)
		if (strcasecmp(kws[i].name, s) == 0)
			return &kws[i];
	return NULL;
}

static const char *kw_name(enum kind k, uint16_t id, uint16_t bits)
{
	for (size_t i = 0; i < N_KWS; i++)
		if (kws[i].canonical && kws[i].kind == k && kws[i].id == id &&
		    (k != K_ENCR || kws[i].bits == bits))
			return kws[i].name;
	return NULL;
}

static const char *kw_name_prf(uint16_t prf)
{
	return kw_name(K_PRF, prf, 0);
}

static int parse_one(const char *text, bool ike, struct prof_proposal *pr, struct pvpn_err *err)
{
	memset(pr, 0, sizeof(*pr));
	char tok[32];
	const char *p = text;
	bool have_encr = false, have_integ = false;
	uint16_t implied_prf = 0;
	while (1) {
		const char *dash = strchr(p, '-');
		size_t n = dash ? (size_t)(dash - p) : strlen(p);
		if (n == 0)
			return err_set(err, -EINVAL, "empty transform in '%.48s' (transforms are joined by single dashes)", text);
		if (n >= sizeof(tok))
			return err_set(err, -EINVAL, "unknown transform '%.31s...' (allowed: %s)", p,
				       ike ? ALLOWED_IKE : ALLOWED_CHILD);
		memcpy(tok, p, n);
		tok[n] = '\0';
		const struct kw *k = kw_find(tok);
		if (!k || (!ike && k->kind == K_PRF)) {
			const char *names[N_KWS];
			size_t nn = 0;
			for (size_t i = 0; i < N_KWS; i++)
				if (ike || kws[i].kind != K_PRF)
					names[nn++] = kws[i].name;
			const char *close = prof_closest(tok, names, nn);
			if (!ike && k && k->kind == K_PRF)
				return err_set(err, -EINVAL, "'%s': a Child SA proposal takes no PRF (allowed: %s)", tok, ALLOWED_CHILD);
			if (close)
				return err_set(err, -EINVAL, "unknown transform '%s', did you mean '%s'? (allowed: %s)",
					       tok, close, ike ? ALLOWED_IKE : ALLOWED_CHILD);
			return err_set(err, -EINVAL, "unknown transform '%s' (allowed: %s)", tok,
				       ike ? ALLOWED_IKE : ALLOWED_CHILD);
		}
		switch (k->kind) {
		case K_ENCR:
			if (have_encr)
				return err_set(err, -EINVAL, "'%.48s' has two encryption algorithms (put each in its own proposal, separated by a comma)", text);
			have_encr = true;
			pr->encr = k->id;
			pr->encr_keybits = k->bits;
			break;
		case K_INTEG:
			if (have_integ)
				return err_set(err, -EINVAL, "'%.48s' has two integrity algorithms (put each in its own proposal, separated by a comma)", text);
			have_integ = true;
			pr->integ = k->id;
			implied_prf = k->prf;
			break;
		case K_PRF:
			if (pr->prf)
				return err_set(err, -EINVAL, "'%.48s' has two PRFs (put each in its own proposal, separated by a comma)", text);
			pr->prf = k->id;
			break;
		case K_DH:
			for (size_t i = 0; i < pr->n_dh; i++)
				if (pr->dh[i] == k->id)
					return err_set(err, -EINVAL, "'%.48s' names group '%s' twice", text, tok);
			if (pr->n_dh >= PROF_MAX_DH)
				return err_set(err, -EINVAL, "'%.48s' has more than %d DH groups", text, PROF_MAX_DH);
			pr->dh[pr->n_dh++] = k->id;
			break;
		}
		if (!dash)
			break;
		p = dash + 1;
	}
	if (!have_encr)
		return err_set(err, -EINVAL, "'%.48s' has no encryption algorithm (e.g. aes256gcm16 or aes256)", text);
	if (prof_encr_is_aead(pr->encr)) {
		/* RFC 7296 §3.3: an AEAD cipher carries no integrity transform.
		 * strongSwan reads shaNNN in an AEAD IKE proposal as the PRF; so
		 * do we, but a Child SA has no PRF, so there it is a mistake. */
		if (have_integ) {
			if (!ike)
				return err_set(err, -EINVAL, "'%.48s': an AEAD cipher takes no integrity algorithm (drop the shaNNN)", text);
			if (pr->prf)
				return err_set(err, -EINVAL, "'%.48s': an AEAD cipher takes no integrity algorithm (drop the shaNNN, keep the prfshaNNN)", text);
			pr->prf = implied_prf;
		}
		pr->integ = PROF_AUTH_NONE;
		if (ike && !pr->prf)
			return err_set(err, -EINVAL, "'%.48s': an AEAD IKE proposal needs a PRF (e.g. add -prfsha256)", text);
	} else {
		if (!have_integ)
			return err_set(err, -EINVAL, "'%.48s': a non-AEAD proposal needs an integrity algorithm (e.g. add -sha256)", text);
		if (ike && !pr->prf)
			pr->prf = implied_prf;
	}
	/* RFC 7296 §3.3.3: the IKE SA needs a DH group; for a Child SA it is
	 * optional (PFS). */
	if (ike && pr->n_dh == 0)
		return err_set(err, -EINVAL, "'%.48s': an IKE proposal needs a DH group (e.g. add -x25519)", text);
	return 0;
}

int prof_parse_proposals(const char *text, bool ike, struct prof_proposal *out,
			 size_t max, size_t *n_out, struct pvpn_err *err)
{
	char item[256];
	size_t n = 0;
	const char *p = text;
	*n_out = 0;
	while (1) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0)
			return err_set(err, -EINVAL, "empty proposal in the list (proposals are separated by single commas)");
		if (len >= sizeof(item))
			return err_set(err, -EINVAL, "proposal '%.40s...' is too long", p);
		memcpy(item, p, len);
		item[len] = '\0';
		if (n >= max)
			return err_set(err, -EINVAL, "more than %zu proposals", max);
		int rc = parse_one(item, ike, &out[n], err);
		if (rc)
			return rc;
		for (size_t i = 0; i < n; i++) {
			char a[128];
			if (memcmp(&out[i], &out[n], sizeof(out[n])) == 0) {
				prof_proposal_str(&out[n], a, sizeof(a));
				return err_set(err, -EINVAL, "proposal '%s' is listed twice", a);
			}
		}
		n++;
		if (!comma)
			break;
		p = comma + 1;
	}
	*n_out = n;
	return 0;
}

int prof_proposal_str(const struct prof_proposal *pr, char *buf, size_t len)
{
	const char *e = kw_name(K_ENCR, pr->encr, pr->encr_keybits);
	if (!e)
		return -EINVAL;
	size_t used = 0;
	int n = snprintf(buf, len, "%s", e);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	used = (size_t)n;
#define ADD(s) do { \
		n = snprintf(buf + used, len - used, "-%s", (s)); \
		if (n < 0 || (size_t)n >= len - used) return -ENOSPC; \
		used += (size_t)n; \
	} while (0)
	uint16_t implied = 0;
	if (pr->integ) {
		const char *i = kw_name(K_INTEG, pr->integ, 0);
		if (!i)
			return -EINVAL;
		ADD(i);
		for (size_t k = 0; k < N_KWS; k++)
			if (kws[k].kind == K_INTEG && kws[k].id == pr->integ)
				implied = kws[k].prf;
	}
	/* The PRF is written unless the integrity keyword implies it. */
	if (pr->prf && pr->prf != implied) {
		const char *f = kw_name_prf(pr->prf);
		if (!f)
			return -EINVAL;
		ADD(f);
	}
	for (size_t d = 0; d < pr->n_dh; d++) {
		const char *g = kw_name(K_DH, pr->dh[d], 0);
		if (!g)
			return -EINVAL;
		ADD(g);
	}
#undef ADD
	return 0;
}
