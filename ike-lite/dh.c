/* dh.c — the key exchange groups: MODP 2048/3072/4096 (RFC 3526), ECP
 * P-256/384/521 (RFC 5903), Curve25519 and Curve448 (RFC 8031).
 *
 * Peer values are checked per RFC 6989 and RFC 8031 before use.  The
 * private value comes from the injectable random function so tests are
 * deterministic; it is wiped when the context is freed.  X25519 is
 * libsodium's; the rest is OpenSSL's libcrypto, loaded only for those
 * groups. */
#include "ike-lite/crypto.h"
#include "ike-lite/constants.h"

#include <errno.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

enum dh_kind { DH_MODP, DH_ECP, DH_X25519, DH_X448 };

struct group_info {
	uint16_t id;
	enum dh_kind kind;
	size_t pub_len;     /* KE payload data */
	size_t shared_len;  /* g^ir */
	int nid;            /* ECP curve */
	BIGNUM *(*prime)(BIGNUM *); /* MODP prime (RFC 3526) */
	const char *name;
};

static const struct group_info groups[] = {
	{ IKE_DH_MODP2048, DH_MODP, 256, 256, 0, BN_get_rfc3526_prime_2048, "MODP-2048" },
	{ IKE_DH_MODP3072, DH_MODP, 384, 384, 0, BN_get_rfc3526_prime_3072, "MODP-3072" },
	{ IKE_DH_MODP4096, DH_MODP, 512, 512, 0, BN_get_rfc3526_prime_4096, "MODP-4096" },
	{ IKE_DH_ECP256, DH_ECP, 64, 32, NID_X9_62_prime256v1, NULL, "ECP-256" },
	{ IKE_DH_ECP384, DH_ECP, 96, 48, NID_secp384r1, NULL, "ECP-384" },
	{ IKE_DH_ECP521, DH_ECP, 132, 66, NID_secp521r1, NULL, "ECP-521" },
	{ IKE_DH_CURVE25519, DH_X25519, 32, 32, 0, NULL, "Curve25519" },
	{ IKE_DH_CURVE448, DH_X448, 56, 56, 0, NULL, "Curve448" },
};

#define DH_PUB_MAX 512
/* RFC 3526 §8 puts the strength of these groups at 110..200 bits and asks
 * for an exponent of about twice that; 512 bits covers all three. */
#define MODP_EXP_BYTES 64

struct ike_dh_ctx {
	const struct group_info *g;
	ike_rand_fn rnd;
	union {
		struct { BIGNUM *p, *x; } modp;
		struct { EC_GROUP *grp; BIGNUM *d; } ecp;
		uint8_t x25519[crypto_scalarmult_curve25519_SCALARBYTES];
		EVP_PKEY *x448;
	} u;
	uint8_t pub[DH_PUB_MAX];
	size_t pub_len;
};

static const struct group_info *find_group(uint16_t id)
{
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (groups[i].id == id)
			return &groups[i];
	return NULL;
}

bool ike_dh_supported(uint16_t group) { return find_group(group) != NULL; }

size_t ike_dh_public_len(uint16_t group)
{
	const struct group_info *g = find_group(group);
	return g ? g->pub_len : 0;
}

size_t ike_dh_shared_len(uint16_t group)
{
	const struct group_info *g = find_group(group);
	return g ? g->shared_len : 0;
}

uint16_t ike_dh_group(const struct ike_dh_ctx *dh) { return dh->g->id; }

/* --- MODP ------------------------------------------------------------- */

static int modp_new(struct ike_dh_ctx *dh)
{
	uint8_t xb[MODP_EXP_BYTES];
	BIGNUM *y = NULL, *gen = NULL;
	BN_CTX *ctx = NULL;   /* secure contexts wipe their temporaries */
	int rc = -ENOMEM;

	dh->u.modp.p = dh->g->prime(NULL);
	dh->u.modp.x = BN_secure_new();
	y = BN_new();
	gen = BN_new();
	ctx = BN_CTX_secure_new();
	if (!dh->u.modp.p || !dh->u.modp.x || !y || !gen || !ctx)
		goto out;
	dh->rnd(xb, sizeof(xb));
	xb[0] |= 0x80; /* full length: never 0 or 1 */
	BN_set_flags(dh->u.modp.x, BN_FLG_CONSTTIME);
	if (!BN_bin2bn(xb, sizeof(xb), dh->u.modp.x) || !BN_set_word(gen, 2))
		goto out;
	/* RFC 3526: generator 2. */
	rc = -EIO;
	if (!BN_mod_exp_mont_consttime(y, gen, dh->u.modp.x, dh->u.modp.p, ctx, NULL))
		goto out;
	/* RFC 7296 §3.4: zero-padded to the length of the prime. */
	if (BN_bn2binpad(y, dh->pub, (int)dh->g->pub_len) != (int)dh->g->pub_len)
		goto out;
	dh->pub_len = dh->g->pub_len;
	rc = 0;
out:
	sodium_memzero(xb, sizeof(xb));
	BN_free(y);
	BN_free(gen);
	BN_CTX_free(ctx);
	return rc;
}

static int modp_shared(struct ike_dh_ctx *dh, const uint8_t *peer, size_t len,
		       struct secret *out, struct pvpn_err *e)
{
	BIGNUM *y = BN_new(), *pm1 = BN_new(), *z = BN_secure_new();
	BN_CTX *ctx = BN_CTX_secure_new();
	struct secret s = { 0 };
	int rc = -ENOMEM;

	if (!y || !pm1 || !z || !ctx)
		goto out;
	if (!BN_bin2bn(peer, (int)len, y) || !BN_copy(pm1, dh->u.modp.p) ||
	    !BN_sub_word(pm1, 1))
		goto out;
	/* RFC 6989 §2.1: for these safe primes, 1 < y < p-1 suffices. */
	if (BN_cmp(y, BN_value_one()) <= 0 || BN_cmp(y, pm1) >= 0) {
		rc = err_set(e, -EINVAL, "%s: the peer's public value is out of range (1 < y < p-1)",
			     dh->g->name);
		goto out;
	}
	rc = -EIO;
	if (!BN_mod_exp_mont_consttime(z, y, dh->u.modp.x, dh->u.modp.p, ctx, NULL))
		goto out;
	if ((rc = secret_alloc(&s, dh->g->shared_len)) < 0)
		goto out;
	rc = -EIO;
	/* RFC 7296 §2.14: g^ir zero-padded to the length of the prime. */
	if (BN_bn2binpad(z, s.data, (int)s.len) != (int)s.len)
		goto out;
	secret_free(out);
	*out = s;
	s = (struct secret){ 0 };
	rc = 0;
out:
	if (rc == -ENOMEM || rc == -EIO)
		err_set(e, rc, "%s: computing the shared secret failed", dh->g->name);
	secret_free(&s);
	BN_free(y);
	BN_free(pm1);
	BN_clear_free(z);
	BN_CTX_free(ctx);
	return rc;
}

/* --- ECP -------------------------------------------------------------- */

static int ecp_new(struct ike_dh_ctx *dh)
{
	size_t flen = dh->g->shared_len;
	uint8_t db[66], oct[1 + 2 * 66];
	const BIGNUM *order;
	EC_POINT *q = NULL;
	BN_CTX *ctx = BN_CTX_secure_new();
	int rc = -ENOMEM, tries;

	dh->u.ecp.grp = EC_GROUP_new_by_curve_name(dh->g->nid);
	dh->u.ecp.d = BN_secure_new();
	if (!ctx || !dh->u.ecp.grp || !dh->u.ecp.d || !(q = EC_POINT_new(dh->u.ecp.grp)))
		goto out;
	order = EC_GROUP_get0_order(dh->u.ecp.grp);
	BN_set_flags(dh->u.ecp.d, BN_FLG_CONSTTIME);
	/* Rejection sampling for 1 <= d < n (FIPS 186-4 B.4.2). */
	rc = -EIO;
	for (tries = 0; tries < 64; tries++) {
		dh->rnd(db, flen);
		if (flen == 66)
			db[0] &= 0x01; /* P-521: 521-bit scalars */
		if (!BN_bin2bn(db, (int)flen, dh->u.ecp.d))
			goto out;
		if (!BN_is_zero(dh->u.ecp.d) && BN_cmp(dh->u.ecp.d, order) < 0)
			break;
	}
	if (tries == 64)
		goto out;
	if (!EC_POINT_mul(dh->u.ecp.grp, q, dh->u.ecp.d, NULL, NULL, ctx))
		goto out;
	/* RFC 5903 §7: x || y, each the field length, without the 0x04. */
	if (EC_POINT_point2oct(dh->u.ecp.grp, q, POINT_CONVERSION_UNCOMPRESSED,
			       oct, sizeof(oct), ctx) != 1 + 2 * flen)
		goto out;
	memcpy(dh->pub, oct + 1, 2 * flen);
	dh->pub_len = 2 * flen;
	rc = 0;
out:
	sodium_memzero(db, sizeof(db));
	EC_POINT_free(q);
	BN_CTX_free(ctx);
	return rc;
}

static int ecp_shared(struct ike_dh_ctx *dh, const uint8_t *peer, size_t len,
		      struct secret *out, struct pvpn_err *e)
{
	size_t flen = dh->g->shared_len;
	uint8_t oct[1 + 2 * 66];
	EC_POINT *pt = NULL, *r = NULL;
	BIGNUM *x = BN_secure_new(), *px = BN_new(), *py = BN_new(), *p = BN_new();
	BN_CTX *ctx = BN_CTX_secure_new();
	struct secret s = { 0 };
	int rc = -ENOMEM;

	if (!x || !px || !py || !p || !ctx || !(pt = EC_POINT_new(dh->u.ecp.grp)) ||
	    !(r = EC_POINT_new(dh->u.ecp.grp)))
		goto out;
	/* RFC 6989 §2.3: coordinates in [0, p-1] and the point on the
	 * curve (the NIST curves have cofactor 1, so that is enough). */
	if (!BN_bin2bn(peer, (int)flen, px) || !BN_bin2bn(peer + flen, (int)flen, py) ||
	    !EC_GROUP_get_curve(dh->u.ecp.grp, p, NULL, NULL, ctx))
		goto out;
	if (BN_cmp(px, p) >= 0 || BN_cmp(py, p) >= 0) {
		rc = err_set(e, -EINVAL, "%s: the peer's point has a coordinate outside the field",
			     dh->g->name);
		goto out;
	}
	oct[0] = 0x04;
	memcpy(oct + 1, peer, 2 * flen);
	if (!EC_POINT_oct2point(dh->u.ecp.grp, pt, oct, 1 + 2 * flen, ctx) ||
	    EC_POINT_is_on_curve(dh->u.ecp.grp, pt, ctx) != 1 ||
	    EC_POINT_is_at_infinity(dh->u.ecp.grp, pt)) {
		rc = err_set(e, -EINVAL, "%s: the peer's point is not on the curve",
			     dh->g->name);
		goto out;
	}
	rc = -EIO;
	if (!EC_POINT_mul(dh->u.ecp.grp, r, NULL, pt, dh->u.ecp.d, ctx) ||
	    EC_POINT_is_at_infinity(dh->u.ecp.grp, r) ||
	    !EC_POINT_get_affine_coordinates(dh->u.ecp.grp, r, x, NULL, ctx))
		goto out;
	if ((rc = secret_alloc(&s, flen)) < 0)
		goto out;
	rc = -EIO;
	/* RFC 5903 §7: the shared secret is the x coordinate. */
	if (BN_bn2binpad(x, s.data, (int)flen) != (int)flen)
		goto out;
	secret_free(out);
	*out = s;
	s = (struct secret){ 0 };
	rc = 0;
out:
	if (rc == -ENOMEM || rc == -EIO)
		err_set(e, rc, "%s: computing the shared secret failed", dh->g->name);
	secret_free(&s);
	EC_POINT_free(pt);
	EC_POINT_clear_free(r);
	BN_clear_free(x);
	BN_free(px);
	BN_free(py);
	BN_free(p);
	BN_CTX_free(ctx);
	return rc;
}

/* --- Curve25519 (libsodium) / Curve448 (OpenSSL) -------------------- */

static int x25519_new(struct ike_dh_ctx *dh)
{
	if (sodium_init() < 0)
		return -EIO;
	dh->rnd(dh->u.x25519, sizeof(dh->u.x25519));
	/* RFC 7748 §5: the scalar is clamped inside scalarmult. */
	if (crypto_scalarmult_curve25519_base(dh->pub, dh->u.x25519) != 0)
		return -EIO;
	dh->pub_len = 32;
	return 0;
}

static int x25519_shared(struct ike_dh_ctx *dh, const uint8_t *peer, size_t len,
			 struct secret *out, struct pvpn_err *e)
{
	struct secret s = { 0 };
	int rc = secret_alloc(&s, 32);
	if (rc < 0)
		return err_set(e, rc, "Curve25519: out of memory");
	/* RFC 8031 §2.3 / RFC 7748 §6.1: an all-zero result means a
	 * low-order point; libsodium reports it as -1. */
	if (crypto_scalarmult_curve25519(s.data, dh->u.x25519, peer) != 0) {
		secret_free(&s);
		return err_set(e, -EINVAL, "Curve25519: the peer's value is a low-order point (all-zero result)");
	}
	secret_free(out);
	*out = s;
	return 0;
}

static int x448_new(struct ike_dh_ctx *dh)
{
	uint8_t priv[56];
	size_t publen = 56;
	int rc = -EIO;

	dh->rnd(priv, sizeof(priv));
	dh->u.x448 = EVP_PKEY_new_raw_private_key(EVP_PKEY_X448, NULL, priv, sizeof(priv));
	if (dh->u.x448 &&
	    EVP_PKEY_get_raw_public_key(dh->u.x448, dh->pub, &publen) == 1 && publen == 56) {
		dh->pub_len = 56;
		rc = 0;
	}
	sodium_memzero(priv, sizeof(priv));
	return rc;
}

static int x448_shared(struct ike_dh_ctx *dh, const uint8_t *peer, size_t len,
		       struct secret *out, struct pvpn_err *e)
{
	static const uint8_t zero[56];
	EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_X448, NULL, peer, len);
	EVP_PKEY_CTX *ctx = NULL;
	struct secret s = { 0 };
	size_t slen = 56;
	int rc = -ENOMEM;

	if (!pk || !(ctx = EVP_PKEY_CTX_new(dh->u.x448, NULL)) || secret_alloc(&s, 56) < 0) {
		err_set(e, rc, "Curve448: out of memory");
		goto out;
	}
	/* OpenSSL refuses an all-zero result itself (RFC 7748 §6.2); the
	 * compare below keeps that promise independent of the library. */
	if (EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, pk) != 1 ||
	    EVP_PKEY_derive(ctx, s.data, &slen) != 1 || slen != 56 ||
	    sodium_memcmp(s.data, zero, 56) == 0) {
		rc = err_set(e, -EINVAL, "Curve448: the peer's value gives an all-zero shared secret");
		goto out;
	}
	secret_free(out);
	*out = s;
	s = (struct secret){ 0 };
	rc = 0;
out:
	secret_free(&s);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return rc;
}

/* --- dispatch --------------------------------------------------------- */

struct ike_dh_ctx *ike_dh_new(uint16_t group, ike_rand_fn rnd, struct pvpn_err *e)
{
	const struct group_info *g = find_group(group);
	struct ike_dh_ctx *dh;
	int rc;

	if (!g) {
		err_set(e, -ENOTSUP, "Diffie-Hellman group %u is not supported", (unsigned)group);
		return NULL;
	}
	dh = calloc(1, sizeof(*dh));
	if (!dh) {
		err_set(e, -ENOMEM, "%s: out of memory", g->name);
		return NULL;
	}
	dh->g = g;
	dh->rnd = rnd ? rnd : ike_rand_default;
	switch (g->kind) {
	case DH_MODP: rc = modp_new(dh); break;
	case DH_ECP: rc = ecp_new(dh); break;
	case DH_X25519: rc = x25519_new(dh); break;
	case DH_X448: rc = x448_new(dh); break;
	default: rc = -ENOTSUP; break;
	}
	if (rc < 0) {
		err_set(e, rc, "%s: making a key pair failed", g->name);
		ike_dh_free(dh);
		return NULL;
	}
	return dh;
}

int ike_dh_public(const struct ike_dh_ctx *dh, uint8_t *out, size_t cap)
{
	if (cap < dh->pub_len)
		return -ENOBUFS;
	memcpy(out, dh->pub, dh->pub_len);
	return (int)dh->pub_len;
}

int ike_dh_shared(struct ike_dh_ctx *dh, const uint8_t *peer, size_t len,
		  struct secret *out, struct pvpn_err *e)
{
	/* RFC 6989 §2 / RFC 8031 §2: the length is fixed per group. */
	if (len != dh->g->pub_len)
		return err_set(e, -EINVAL,
			       "%s: the peer's key exchange data is %zu bytes, expected %zu",
			       dh->g->name, len, dh->g->pub_len);
	switch (dh->g->kind) {
	case DH_MODP: return modp_shared(dh, peer, len, out, e);
	case DH_ECP: return ecp_shared(dh, peer, len, out, e);
	case DH_X25519: return x25519_shared(dh, peer, len, out, e);
	case DH_X448: return x448_shared(dh, peer, len, out, e);
	}
	return -ENOTSUP;
}

void ike_dh_free(struct ike_dh_ctx *dh)
{
	if (!dh)
		return;
	switch (dh->g->kind) {
	case DH_MODP:
		BN_free(dh->u.modp.p);
		BN_clear_free(dh->u.modp.x);
		break;
	case DH_ECP:
		EC_GROUP_free(dh->u.ecp.grp);
		BN_clear_free(dh->u.ecp.d);
		break;
	case DH_X25519:
		break;
	case DH_X448:
		EVP_PKEY_free(dh->u.x448); /* clears the raw key */
		break;
	}
	sodium_memzero(dh, sizeof(*dh));
	free(dh);
}
