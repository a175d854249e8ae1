/* auth_sig.c — AUTH by digital signature: RFC 7296 §3.8 (method 1, RSA
 * PKCS#1 v1.5 with SHA-1), RFC 4754 (9/10/11, ECDSA with r|s) and RFC 7427
 * (14: ASN.1 AlgorithmIdentifier + signature), Ed25519 per RFC 8420. */
#include "ike-lite/auth.h"
#include "ike-lite/constants.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>

#define PRF_MAX_LEN 64

uint32_t ike_sig_hashes_parse(const uint8_t *data, size_t len)
{
	uint32_t set = 0;
	if (len % 2)
		return 0;
	for (size_t i = 0; i < len; i += 2) {
		unsigned h = (unsigned)data[i] << 8 | data[i + 1];
		if (h >= IKE_HASH_SHA1 && h <= IKE_HASH_IDENTITY)
			set |= 1u << h;
	}
	return set;
}

int ike_signed_octets(const struct ike_auth_input *in, uint8_t **out, size_t *out_len)
{
	size_t plen = ike_prf_len(in->prf);
	struct ike_span id = { in->id_body, in->id_body_len };
	uint8_t *buf;
	int rc;

	if (!plen || !in->sk_p || !in->real_msg || !in->peer_nonce || !in->id_body)
		return -EINVAL;
	*out_len = in->real_msg_len + in->peer_nonce_len + plen;
	if (!(buf = malloc(*out_len)))
		return -ENOMEM;
	memcpy(buf, in->real_msg, in->real_msg_len);
	memcpy(buf + in->real_msg_len, in->peer_nonce, in->peer_nonce_len);
	/* RFC 7296 §2.15: MACedIDForX = prf(SK_px, RestOfIDPayload). */
	rc = ike_prf(in->prf, in->sk_p->data, in->sk_p->len, &id, 1,
		     buf + in->real_msg_len + in->peer_nonce_len);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	return 0;
}

/* ------------------------------------------------------------ key kinds */

enum key_kind { K_NONE, K_RSA, K_RSA_PSS, K_EC256, K_EC384, K_EC521, K_ED25519 };

static enum key_kind key_kind(EVP_PKEY *k)
{
	switch (EVP_PKEY_get_base_id(k)) {
	case EVP_PKEY_RSA: return K_RSA;
	case EVP_PKEY_RSA_PSS: return K_RSA_PSS;
	case EVP_PKEY_ED25519: return K_ED25519;
	case EVP_PKEY_EC: {
		char name[64];
		size_t n = 0;
		if (!EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, name,
						    sizeof(name), &n))
			return K_NONE;
		if (!strcmp(name, "prime256v1") || !strcmp(name, "P-256"))
			return K_EC256;
		if (!strcmp(name, "secp384r1") || !strcmp(name, "P-384"))
			return K_EC384;
		if (!strcmp(name, "secp521r1") || !strcmp(name, "P-521"))
			return K_EC521;
		return K_NONE;
	}
	default:
		return K_NONE;
	}
}

static size_t ec_field_len(enum key_kind k)
{
	return k == K_EC256 ? 32 : k == K_EC384 ? 48 : k == K_EC521 ? 66 : 0;
}

static const EVP_MD *hash_md(uint8_t h)
{
	switch (h) {
	case IKE_HASH_SHA1: return EVP_sha1();
	case IKE_HASH_SHA2_256: return EVP_sha256();
	case IKE_HASH_SHA2_384: return EVP_sha384();
	case IKE_HASH_SHA2_512: return EVP_sha512();
	default: return NULL;
	}
}

int ike_sig_choose(EVP_PKEY *key, uint32_t peer_hashes, uint8_t *method, uint8_t *hash,
		   struct pvpn_err *e)
{
	enum key_kind k = key_kind(key);
	uint8_t pref;

	switch (k) {
	case K_RSA: case K_RSA_PSS: case K_EC256: pref = IKE_HASH_SHA2_256; break;
	case K_EC384: pref = IKE_HASH_SHA2_384; break;
	case K_EC521: pref = IKE_HASH_SHA2_512; break;
	case K_ED25519: pref = IKE_HASH_IDENTITY; break;
	default:
		return err_set(e, -ENOTSUP, "our private key is of a type IKEv2 cannot sign with "
			       "(use RSA, ECDSA P-256/384/521 or Ed25519)");
	}
	if (peer_hashes & (1u << pref)) {
		*method = IKE_AUTH_DIGITAL_SIGNATURE;
		*hash = pref;
		return 0;
	}
	/* RFC 7427 §4: any other SHA-2 the peer takes will do for RSA/ECDSA. */
	if (k != K_ED25519)
		for (uint8_t h = IKE_HASH_SHA2_256; h <= IKE_HASH_SHA2_512; h++)
			if (peer_hashes & (1u << h)) {
				*method = IKE_AUTH_DIGITAL_SIGNATURE;
				*hash = h;
				return 0;
			}
	/* The classic methods (RFC 7296 §3.8, RFC 4754). */
	switch (k) {
	case K_RSA: *method = IKE_AUTH_RSA_SIG; *hash = IKE_HASH_SHA1; return 0;
	case K_EC256: *method = IKE_AUTH_ECDSA_256; *hash = IKE_HASH_SHA2_256; return 0;
	case K_EC384: *method = IKE_AUTH_ECDSA_384; *hash = IKE_HASH_SHA2_384; return 0;
	case K_EC521: *method = IKE_AUTH_ECDSA_521; *hash = IKE_HASH_SHA2_512; return 0;
	default:
		return err_set(e, -ENOTSUP, "the server does not accept RFC 7427 signatures "
			       "with a hash our key can use");
	}
}

/* --------------------------------------------------- AlgorithmIdentifiers */

/* RFC 7427 Appendix A (and RFC 8420 for Ed25519), DER. */
static const uint8_t ai_rsa_sha256[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
	0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00 };
static const uint8_t ai_rsa_sha384[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
	0x0d, 0x01, 0x01, 0x0c, 0x05, 0x00 };
static const uint8_t ai_rsa_sha512[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
	0x0d, 0x01, 0x01, 0x0d, 0x05, 0x00 };
static const uint8_t ai_ecdsa_sha256[] = { 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
	0x3d, 0x04, 0x03, 0x02 };
static const uint8_t ai_ecdsa_sha384[] = { 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
	0x3d, 0x04, 0x03, 0x03 };
static const uint8_t ai_ecdsa_sha512[] = { 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
	0x3d, 0x04, 0x03, 0x04 };
static const uint8_t ai_ed25519[] = { 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70 };

/* RSASSA-PSS with hash h, MGF1 with h, salt = hash length, trailer 1
 * (RFC 4055 §3.1, RFC 7427 Appendix A.4).  Returns its length. */
static size_t ai_pss(uint8_t h, uint8_t *out)
{
	/* id-sha256/384/512: 2.16.840.1.101.3.4.2.{1,2,3} */
	uint8_t last = h == IKE_HASH_SHA2_256 ? 1 : h == IKE_HASH_SHA2_384 ? 2 : 3;
	uint8_t salt = h == IKE_HASH_SHA2_256 ? 32 : h == IKE_HASH_SHA2_384 ? 48 : 64;
	const uint8_t hash_ai[] = { 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
				    0x04, 0x02, last, 0x05, 0x00 };
	size_t n = 0;

	out[n++] = 0x30; out[n++] = 0x41;                      /* AlgorithmIdentifier */
	out[n++] = 0x06; out[n++] = 0x09;                      /* id-RSASSA-PSS */
	memcpy(out + n, (const uint8_t[]){ 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a }, 9);
	n += 9;
	out[n++] = 0x30; out[n++] = 0x34;                      /* RSASSA-PSS-params */
	out[n++] = 0xa0; out[n++] = 0x0f;                      /* [0] hashAlgorithm */
	memcpy(out + n, hash_ai, sizeof(hash_ai)); n += sizeof(hash_ai);
	out[n++] = 0xa1; out[n++] = 0x1c;                      /* [1] maskGenAlgorithm */
	out[n++] = 0x30; out[n++] = 0x1a;
	out[n++] = 0x06; out[n++] = 0x09;                      /* id-mgf1 */
	memcpy(out + n, (const uint8_t[]){ 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08 }, 9);
	n += 9;
	memcpy(out + n, hash_ai, sizeof(hash_ai)); n += sizeof(hash_ai);
	out[n++] = 0xa2; out[n++] = 0x03;                      /* [2] saltLength */
	out[n++] = 0x02; out[n++] = 0x01; out[n++] = salt;
	return n;
}

/* ------------------------------------------------------------- signing */

/* The raw signature with padding (RSA), digest md (NULL for Ed25519). */
static int raw_sign(EVP_PKEY *key, const EVP_MD *md, bool pss, const uint8_t *msg,
		    size_t len, uint8_t **sig, size_t *sig_len)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;
	int rc = -EIO;

	*sig = NULL;
	if (!m || EVP_DigestSignInit(m, &pc, md, NULL, key) != 1)
		goto out;
	if (pss && (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) != 1 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(pc, md) != 1))
		goto out;
	if (EVP_DigestSign(m, NULL, sig_len, msg, len) != 1 || !(*sig = malloc(*sig_len)))
		goto out;
	if (EVP_DigestSign(m, *sig, sig_len, msg, len) != 1) {
		free(*sig);
		*sig = NULL;
		goto out;
	}
	rc = 0;
out:
	EVP_MD_CTX_free(m);
	return rc;
}

/* DER Ecdsa-Sig-Value -> r | s, each flen bytes (RFC 4754 §7). */
static int ecdsa_der_to_rs(const uint8_t *der, size_t len, size_t flen, uint8_t *out)
{
	const uint8_t *p = der;
	ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)len);
	const BIGNUM *r, *sv;
	int rc = -EIO;

	if (!s)
		return -EIO;
	ECDSA_SIG_get0(s, &r, &sv);
	if (BN_bn2binpad(r, out, (int)flen) == (int)flen &&
	    BN_bn2binpad(sv, out + flen, (int)flen) == (int)flen)
		rc = 0;
	ECDSA_SIG_free(s);
	return rc;
}

int ike_sig_sign(EVP_PKEY *key, uint8_t method, uint8_t hash, const uint8_t *msg,
		 size_t msg_len, uint8_t *out, size_t cap, struct pvpn_err *e)
{
	enum key_kind k = key_kind(key);
	uint8_t ai[80], *sig = NULL;
	size_t ai_len = 0, sig_len = 0, n;
	const EVP_MD *md = hash_md(hash);
	int rc;

	switch (method) {
	case IKE_AUTH_RSA_SIG:
		if (k != K_RSA)
			return err_set(e, -EINVAL, "AUTH method 1 needs an RSA key");
		md = EVP_sha1();
		break;
	case IKE_AUTH_ECDSA_256:
	case IKE_AUTH_ECDSA_384:
	case IKE_AUTH_ECDSA_521:
		if ((method == IKE_AUTH_ECDSA_256 && k != K_EC256) ||
		    (method == IKE_AUTH_ECDSA_384 && k != K_EC384) ||
		    (method == IKE_AUTH_ECDSA_521 && k != K_EC521))
			return err_set(e, -EINVAL, "AUTH method %u does not fit our key", method);
		md = method == IKE_AUTH_ECDSA_256 ? EVP_sha256() :
		     method == IKE_AUTH_ECDSA_384 ? EVP_sha384() : EVP_sha512();
		break;
	case IKE_AUTH_DIGITAL_SIGNATURE:
		if (k == K_ED25519) {
			if (hash != IKE_HASH_IDENTITY)
				return err_set(e, -EINVAL, "Ed25519 signs with the identity hash");
			md = NULL;
			memcpy(ai, ai_ed25519, ai_len = sizeof(ai_ed25519));
		} else if (!md || hash == IKE_HASH_SHA1) {
			return err_set(e, -ENOTSUP, "RFC 7427 hash %u is not supported", hash);
		} else if (k == K_RSA) {
			const uint8_t *a = hash == IKE_HASH_SHA2_256 ? ai_rsa_sha256 :
					   hash == IKE_HASH_SHA2_384 ? ai_rsa_sha384 : ai_rsa_sha512;
			memcpy(ai, a, ai_len = sizeof(ai_rsa_sha256));
		} else if (k == K_RSA_PSS) {
			ai_len = ai_pss(hash, ai);
		} else if (k == K_EC256 || k == K_EC384 || k == K_EC521) {
			const uint8_t *a = hash == IKE_HASH_SHA2_256 ? ai_ecdsa_sha256 :
					   hash == IKE_HASH_SHA2_384 ? ai_ecdsa_sha384 : ai_ecdsa_sha512;
			memcpy(ai, a, ai_len = sizeof(ai_ecdsa_sha256));
		} else {
			return err_set(e, -ENOTSUP, "our key type cannot sign");
		}
		break;
	default:
		return err_set(e, -ENOTSUP, "AUTH method %u is not a signature method", method);
	}
	if ((rc = raw_sign(key, md, k == K_RSA_PSS, msg, msg_len, &sig, &sig_len)) < 0)
		return err_set(e, rc, "signing AUTH failed");
	if (method == IKE_AUTH_DIGITAL_SIGNATURE) {
		n = 1 + ai_len + sig_len;
		if (n > cap) {
			rc = err_set(e, -ENOBUFS, "AUTH signature too long");
			goto out;
		}
		out[0] = (uint8_t)ai_len;
		memcpy(out + 1, ai, ai_len);
		memcpy(out + 1 + ai_len, sig, sig_len);
	} else if (method == IKE_AUTH_RSA_SIG) {
		if ((n = sig_len) > cap) {
			rc = err_set(e, -ENOBUFS, "AUTH signature too long");
			goto out;
		}
		memcpy(out, sig, sig_len);
	} else {
		n = 2 * ec_field_len(k);
		if (n > cap || ecdsa_der_to_rs(sig, sig_len, n / 2, out) < 0) {
			rc = err_set(e, -EIO, "converting the ECDSA signature failed");
			goto out;
		}
	}
	rc = (int)n;
out:
	free(sig);
	return rc;
}

/* ---------------------------------------------------------- verifying */

static int raw_verify(EVP_PKEY *pub, const EVP_MD *md, bool pss, const EVP_MD *mgf1,
		      int saltlen, const uint8_t *msg, size_t len, const uint8_t *sig,
		      size_t sig_len)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;
	int rc = -EBADMSG;

	if (!m || EVP_DigestVerifyInit(m, &pc, md, NULL, pub) != 1)
		goto out;
	if (pss && (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, saltlen) != 1 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(pc, mgf1) != 1))
		goto out;
	if (EVP_DigestVerify(m, sig, sig_len, msg, len) == 1)
		rc = 0;
out:
	EVP_MD_CTX_free(m);
	return rc;
}

/* ECDSA in DER, strictly: parses and re-encodes to the same bytes. */
static bool ecdsa_der_strict(const uint8_t *sig, size_t len)
{
	const uint8_t *p = sig;
	ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)len);
	uint8_t *re = NULL;
	bool ok = false;

	if (s && p == sig + len) {
		int n = i2d_ECDSA_SIG(s, &re);
		ok = n > 0 && (size_t)n == len && memcmp(re, sig, len) == 0;
	}
	OPENSSL_free(re);
	ECDSA_SIG_free(s);
	return ok;
}

static size_t rsa_len(EVP_PKEY *pub)
{
	int n = EVP_PKEY_get_size(pub);
	return n > 0 ? (size_t)n : 0;
}

static uint8_t md_to_hash(int nid)
{
	switch (nid) {
	case NID_sha256: return IKE_HASH_SHA2_256;
	case NID_sha384: return IKE_HASH_SHA2_384;
	case NID_sha512: return IKE_HASH_SHA2_512;
	case NID_sha1: return IKE_HASH_SHA1;
	default: return 0;
	}
}

/* RSASSA-PSS-params (RFC 4055 §3.1) -> digest, MGF1 digest, salt. */
static int pss_params(const X509_ALGOR *alg, uint8_t *hash, const EVP_MD **mgf1, int *salt)
{
	const ASN1_OBJECT *obj;
	const void *pval;
	int ptype, rc = -EBADMSG;
	RSA_PSS_PARAMS *pp = NULL;

	X509_ALGOR_get0(&obj, &ptype, &pval, alg);
	if (ptype != V_ASN1_SEQUENCE)
		return -EBADMSG;
	const ASN1_STRING *seq = pval;
	const uint8_t *p = ASN1_STRING_get0_data(seq);
	if (!(pp = d2i_RSA_PSS_PARAMS(NULL, &p, ASN1_STRING_length(seq))))
		return -EBADMSG;
	/* Defaults (SHA-1) are not ours: we never announce SHA-1. */
	if (!pp->hashAlgorithm || !pp->maskGenAlgorithm)
		goto out;
	*hash = md_to_hash(OBJ_obj2nid(pp->hashAlgorithm->algorithm));
	if (OBJ_obj2nid(pp->maskGenAlgorithm->algorithm) != NID_mgf1)
		goto out;
	{
		/* MGF1's parameter is the hash's AlgorithmIdentifier. */
		const ASN1_OBJECT *mo;
		const void *mv;
		int mt;
		X509_ALGOR *mh_alg;
		X509_ALGOR_get0(&mo, &mt, &mv, pp->maskGenAlgorithm);
		if (mt != V_ASN1_SEQUENCE)
			goto out;
		const uint8_t *q = ASN1_STRING_get0_data(mv);
		int ql = ASN1_STRING_length(mv);
		if (!(mh_alg = d2i_X509_ALGOR(NULL, &q, ql)))
			goto out;
		*mgf1 = hash_md(md_to_hash(OBJ_obj2nid(mh_alg->algorithm)));
		X509_ALGOR_free(mh_alg);
	}
	long s = pp->saltLength ? ASN1_INTEGER_get(pp->saltLength) : 20;
	if (pp->trailerField && ASN1_INTEGER_get(pp->trailerField) != 1)
		goto out;
	if (!*hash || !*mgf1 || s < 0 || s > 1024)
		goto out;
	*salt = (int)s;
	rc = 0;
out:
	RSA_PSS_PARAMS_free(pp);
	return rc;
}

static int verify_7427(EVP_PKEY *pub, uint32_t allowed, const uint8_t *msg, size_t msg_len,
		       const uint8_t *auth, size_t auth_len, struct pvpn_err *e)
{
	enum key_kind k = key_kind(pub);
	size_t ai_len;
	const uint8_t *p;
	X509_ALGOR *alg = NULL;
	const ASN1_OBJECT *obj;
	const void *pval;
	int ptype, nid, rc = -EBADMSG, salt = 0;
	uint8_t hash = 0;
	const EVP_MD *mgf1 = NULL;
	bool pss = false;

	/* RFC 7427 §3: 1-byte length of the AlgorithmIdentifier, then it. */
	if (auth_len < 1 || (ai_len = auth[0]) == 0 || auth_len <= 1 + ai_len)
		return err_set(e, -EBADMSG, "AUTH: RFC 7427 signature data is truncated");
	p = auth + 1;
	if (!(alg = d2i_X509_ALGOR(NULL, &p, (long)ai_len)) || p != auth + 1 + ai_len) {
		rc = err_set(e, -EBADMSG, "AUTH: the signature's AlgorithmIdentifier is not DER");
		goto out;
	}
	const uint8_t *sig = auth + 1 + ai_len;
	size_t sig_len = auth_len - 1 - ai_len;
	X509_ALGOR_get0(&obj, &ptype, &pval, alg);
	nid = OBJ_obj2nid(obj);
	switch (nid) {
	case NID_sha256WithRSAEncryption: hash = IKE_HASH_SHA2_256; goto rsa;
	case NID_sha384WithRSAEncryption: hash = IKE_HASH_SHA2_384; goto rsa;
	case NID_sha512WithRSAEncryption: hash = IKE_HASH_SHA2_512;
	rsa:
		/* RFC 4055 §5: parameters NULL (or absent). */
		if ((ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF) || k != K_RSA)
			goto mismatch;
		break;
	case NID_rsassaPss:
		if ((k != K_RSA && k != K_RSA_PSS) || pss_params(alg, &hash, &mgf1, &salt) < 0)
			goto mismatch;
		pss = true;
		break;
	case NID_ecdsa_with_SHA256: hash = IKE_HASH_SHA2_256; goto ec;
	case NID_ecdsa_with_SHA384: hash = IKE_HASH_SHA2_384; goto ec;
	case NID_ecdsa_with_SHA512: hash = IKE_HASH_SHA2_512;
	ec:
		/* RFC 5758 §3.2: parameters absent. */
		if (ptype != V_ASN1_UNDEF || !ec_field_len(k))
			goto mismatch;
		if (!ecdsa_der_strict(sig, sig_len)) {
			rc = err_set(e, -EBADMSG, "AUTH: the ECDSA signature is not strict DER");
			goto out;
		}
		break;
	case NID_ED25519:
		/* RFC 8410 §3: parameters absent. */
		if (ptype != V_ASN1_UNDEF || k != K_ED25519 || sig_len != 64)
			goto mismatch;
		hash = IKE_HASH_IDENTITY;
		break;
	default:
		rc = err_set(e, -ENOTSUP, "AUTH: signature algorithm %s is not supported",
			     nid != NID_undef ? OBJ_nid2sn(nid) : "(unknown OID)");
		goto out;
	}
	/* RFC 7427 §4: only a hash we announced. */
	if (!hash || !(allowed & (1u << hash))) {
		rc = err_set(e, -EBADMSG, "AUTH: the server signed with a hash we did not offer");
		goto out;
	}
	if ((k == K_RSA || k == K_RSA_PSS) && sig_len != rsa_len(pub)) {
		rc = err_set(e, -EBADMSG, "AUTH: RSA signature of %zu bytes for a %zu-byte key",
			     sig_len, rsa_len(pub));
		goto out;
	}
	if (raw_verify(pub, hash == IKE_HASH_IDENTITY ? NULL : hash_md(hash), pss, mgf1, salt,
		       msg, msg_len, sig, sig_len) < 0) {
		rc = err_set(e, -EBADMSG, "AUTH: the server's signature does not verify");
		goto out;
	}
	rc = 0;
	goto out;
mismatch:
	rc = err_set(e, -EBADMSG, "AUTH: the signature algorithm (%s) does not fit the "
		     "certificate's key", nid != NID_undef ? OBJ_nid2sn(nid) : "?");
out:
	X509_ALGOR_free(alg);
	return rc;
}

int ike_sig_verify(EVP_PKEY *pub, uint8_t method, uint32_t allowed_hashes,
		   const uint8_t *msg, size_t msg_len, const uint8_t *auth, size_t auth_len,
		   struct pvpn_err *e)
{
	enum key_kind k = key_kind(pub);

	switch (method) {
	case IKE_AUTH_DIGITAL_SIGNATURE:
		return verify_7427(pub, allowed_hashes, msg, msg_len, auth, auth_len, e);
	case IKE_AUTH_RSA_SIG:
		if (k != K_RSA)
			return err_set(e, -EBADMSG, "AUTH method 1 (RSA) but the certificate's key is not RSA");
		if (auth_len != rsa_len(pub))
			return err_set(e, -EBADMSG, "AUTH: RSA signature of the wrong length");
		if (raw_verify(pub, EVP_sha1(), false, NULL, 0, msg, msg_len, auth, auth_len) < 0)
			return err_set(e, -EBADMSG, "AUTH: the server's signature does not verify");
		return 0;
	case IKE_AUTH_ECDSA_256:
	case IKE_AUTH_ECDSA_384:
	case IKE_AUTH_ECDSA_521: {
		enum key_kind want = method == IKE_AUTH_ECDSA_256 ? K_EC256 :
				     method == IKE_AUTH_ECDSA_384 ? K_EC384 : K_EC521;
		const EVP_MD *md = method == IKE_AUTH_ECDSA_256 ? EVP_sha256() :
				   method == IKE_AUTH_ECDSA_384 ? EVP_sha384() : EVP_sha512();
		size_t fl = ec_field_len(want);
		ECDSA_SIG *s = NULL;
		uint8_t *der = NULL;
		int n, rc = -EBADMSG;

		if (k != want)
			return err_set(e, -EBADMSG, "AUTH method %u does not fit the certificate's key", method);
		/* RFC 4754 §7: r and s, each exactly the field length. */
		if (auth_len != 2 * fl)
			return err_set(e, -EBADMSG, "AUTH: ECDSA signature of the wrong length");
		BIGNUM *r = BN_bin2bn(auth, (int)fl, NULL), *sv = BN_bin2bn(auth + fl, (int)fl, NULL);
		if (!r || !sv || !(s = ECDSA_SIG_new()) || ECDSA_SIG_set0(s, r, sv) != 1) {
			BN_free(r);
			BN_free(sv);
			goto ec_out;
		}
		if ((n = i2d_ECDSA_SIG(s, &der)) <= 0)
			goto ec_out;
		rc = raw_verify(pub, md, false, NULL, 0, msg, msg_len, der, (size_t)n);
ec_out:
		OPENSSL_free(der);
		ECDSA_SIG_free(s);
		if (rc < 0)
			return err_set(e, -EBADMSG, "AUTH: the server's signature does not verify");
		return 0;
	}
	default:
		return err_set(e, -ENOTSUP, "AUTH method %u is not supported", method);
	}
}
