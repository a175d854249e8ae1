/* eap_mschapv2.c — MS-CHAPv2 (RFC 2759) and its keys (RFC 3079), as EAP
 * uses them (draft-kamath-pppext-eap-mschapv2).  MD4 is implemented here
 * (RFC 1320) because OpenSSL 3 keeps it in the legacy provider; single DES
 * is done as 3DES-EDE with three equal keys, which OpenSSL's default
 * provider has. */
#include "ike-lite/auth.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

/* ------------------------------------------------------------ MD4 (RFC 1320) */

#define ROTL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))

static void md4_block(uint32_t st[4], const uint8_t blk[64])
{
	uint32_t x[16], a = st[0], b = st[1], c = st[2], d = st[3];
	static const uint8_t r2[16] = { 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15 };
	static const uint8_t r3[16] = { 0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15 };
	static const uint8_t s1[4] = { 3, 7, 11, 19 }, s2[4] = { 3, 5, 9, 13 }, s3[4] = { 3, 9, 11, 15 };

	for (int i = 0; i < 16; i++)
		x[i] = (uint32_t)blk[4 * i] | (uint32_t)blk[4 * i + 1] << 8 |
		       (uint32_t)blk[4 * i + 2] << 16 | (uint32_t)blk[4 * i + 3] << 24;
	for (int i = 0; i < 16; i++) {
		uint32_t f = (b & c) | (~b & d), t = ROTL(a + f + x[i], s1[i % 4]);
		a = d; d = c; c = b; b = t;
	}
	for (int i = 0; i < 16; i++) {
		uint32_t g = (b & c) | (b & d) | (c & d);
		uint32_t t = ROTL(a + g + x[r2[i]] + 0x5a827999u, s2[i % 4]);
		a = d; d = c; c = b; b = t;
	}
	for (int i = 0; i < 16; i++) {
		uint32_t h = b ^ c ^ d, t = ROTL(a + h + x[r3[i]] + 0x6ed9eba1u, s3[i % 4]);
		a = d; d = c; c = b; b = t;
	}
	st[0] += a; st[1] += b; st[2] += c; st[3] += d;
	secret_wipe(x, sizeof(x));
}

int ike_md4(const uint8_t *in, size_t len, uint8_t out[16])
{
	uint32_t st[4] = { 0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u };
	uint8_t blk[64];
	size_t i = 0;
	uint64_t bits = (uint64_t)len * 8;

	for (; len - i >= 64; i += 64)
		md4_block(st, in + i);
	size_t rest = len - i;
	memset(blk, 0, sizeof(blk));
	if (rest)
		memcpy(blk, in + i, rest);
	blk[rest] = 0x80;
	if (rest >= 56) {
		md4_block(st, blk);
		memset(blk, 0, sizeof(blk));
	}
	for (int k = 0; k < 8; k++)
		blk[56 + k] = (uint8_t)(bits >> (8 * k));
	md4_block(st, blk);
	for (int k = 0; k < 4; k++)
		for (int j = 0; j < 4; j++)
			out[4 * k + j] = (uint8_t)(st[k] >> (8 * j));
	secret_wipe(blk, sizeof(blk));
	secret_wipe(st, sizeof(st));
	return 0;
}

/* ------------------------------------------------------------ RFC 2759 */

static int sha1_parts(const uint8_t *const *p, const size_t *l, size_t n, uint8_t out[20])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned len = 0;
	int rc = -EIO;

	if (!c || EVP_DigestInit_ex(c, EVP_sha1(), NULL) != 1)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (EVP_DigestUpdate(c, p[i], l[i]) != 1)
			goto out;
	if (EVP_DigestFinal_ex(c, out, &len) == 1 && len == 20)
		rc = 0;
out:
	EVP_MD_CTX_free(c);
	return rc;
}

/* RFC 2759 §8.3 NtPasswordHash: MD4 of the UTF-16LE password. */
int ike_mschap_nt_hash(const uint8_t *password, size_t len, uint8_t out[16])
{
	uint8_t u[2 * 256];
	if (len > 256)   /* RFC 2759 §8.3: at most 256 Unicode characters */
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (password[i] & 0x80) {
			secret_wipe(u, sizeof(u));
			return -EINVAL;
		}
		u[2 * i] = password[i];
		u[2 * i + 1] = 0;
	}
	ike_md4(u, 2 * len, out);
	secret_wipe(u, sizeof(u));
	return 0;
}

int ike_mschap_challenge_hash(const uint8_t peer_challenge[16],
			      const uint8_t auth_challenge[16], const char *user,
			      size_t user_len, uint8_t out[8])
{
	uint8_t d[20];
	const uint8_t *p[3] = { peer_challenge, auth_challenge, (const uint8_t *)user };
	size_t l[3] = { 16, 16, user_len };
	/* RFC 2759 §8.2: the user name without any domain. */
	if (sha1_parts(p, l, 3, d) < 0)
		return -EIO;
	memcpy(out, d, 8);
	return 0;
}

/* RFC 2759 §8.6: 7 key bytes spread over 8 with (ignored) parity bits. */
static int des_encrypt(const uint8_t clear[8], const uint8_t k7[7], uint8_t out[8])
{
	uint8_t k[8], k3[24];
	int n = 0, rc = -EIO;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

	k[0] = k7[0];
	k[1] = (uint8_t)(k7[0] << 7 | k7[1] >> 1);
	k[2] = (uint8_t)(k7[1] << 6 | k7[2] >> 2);
	k[3] = (uint8_t)(k7[2] << 5 | k7[3] >> 3);
	k[4] = (uint8_t)(k7[3] << 4 | k7[4] >> 4);
	k[5] = (uint8_t)(k7[4] << 3 | k7[5] >> 5);
	k[6] = (uint8_t)(k7[5] << 2 | k7[6] >> 6);
	k[7] = (uint8_t)(k7[6] << 1);
	/* 3DES-EDE with K1 = K2 = K3 is single DES. */
	memcpy(k3, k, 8);
	memcpy(k3 + 8, k, 8);
	memcpy(k3 + 16, k, 8);
	if (c && EVP_EncryptInit_ex(c, EVP_des_ede3_ecb(), NULL, k3, NULL) == 1 &&
	    EVP_CIPHER_CTX_set_padding(c, 0) == 1 &&
	    EVP_EncryptUpdate(c, out, &n, clear, 8) == 1 && n == 8)
		rc = 0;
	EVP_CIPHER_CTX_free(c);
	secret_wipe(k, sizeof(k));
	secret_wipe(k3, sizeof(k3));
	return rc;
}

static int challenge_response(const uint8_t ch[8], const uint8_t hash[16], uint8_t out[24])
{
	uint8_t z[21];
	int rc;
	memset(z, 0, sizeof(z));
	memcpy(z, hash, 16);
	rc = des_encrypt(ch, z, out);
	if (!rc)
		rc = des_encrypt(ch, z + 7, out + 8);
	if (!rc)
		rc = des_encrypt(ch, z + 14, out + 16);
	secret_wipe(z, sizeof(z));
	return rc;
}

int ike_mschap_nt_response(const uint8_t auth_challenge[16], const uint8_t peer_challenge[16],
			   const char *user, size_t user_len, const uint8_t *password,
			   size_t pw_len, uint8_t out[24])
{
	uint8_t ch[8], h[16];
	int rc;
	if ((rc = ike_mschap_challenge_hash(peer_challenge, auth_challenge, user, user_len, ch)) < 0 ||
	    (rc = ike_mschap_nt_hash(password, pw_len, h)) < 0)
		goto out;
	rc = challenge_response(ch, h, out);
out:
	secret_wipe(h, sizeof(h));
	return rc;
}

int ike_mschap_authenticator_response(const uint8_t *password, size_t pw_len,
				      const uint8_t nt_response[24],
				      const uint8_t peer_challenge[16],
				      const uint8_t auth_challenge[16], const char *user,
				      size_t user_len, char out[43])
{
	/* RFC 2759 §8.7 magic constants. */
	static const uint8_t magic1[39] = "Magic server to client signing constant";
	static const uint8_t magic2[41] = "Pad to make it do more than one iteration";
	uint8_t h[16], hh[16], d[20], ch[8];
	int rc;

	if ((rc = ike_mschap_nt_hash(password, pw_len, h)) < 0)
		goto out;
	ike_md4(h, 16, hh);
	{
		const uint8_t *p[3] = { hh, nt_response, magic1 };
		size_t l[3] = { 16, 24, sizeof(magic1) };
		if ((rc = sha1_parts(p, l, 3, d)) < 0)
			goto out;
	}
	if ((rc = ike_mschap_challenge_hash(peer_challenge, auth_challenge, user, user_len, ch)) < 0)
		goto out;
	{
		const uint8_t *p[3] = { d, ch, magic2 };
		size_t l[3] = { 20, 8, sizeof(magic2) };
		if ((rc = sha1_parts(p, l, 3, d)) < 0)
			goto out;
	}
	out[0] = 'S';
	out[1] = '=';
	for (int i = 0; i < 20; i++)
		snprintf(out + 2 + 2 * i, 3, "%02X", d[i]);
out:
	secret_wipe(h, sizeof(h));
	secret_wipe(hh, sizeof(hh));
	secret_wipe(d, sizeof(d));
	return rc;
}

/* ------------------------------------------------------------ RFC 3079 */

int ike_mschap_master_key(const uint8_t password_hash_hash[16], const uint8_t nt_response[24],
			  uint8_t master[16])
{
	static const uint8_t magic1[27] = "This is the MPPE Master Key";
	const uint8_t *p[3] = { password_hash_hash, nt_response, magic1 };
	size_t l[3] = { 16, 24, sizeof(magic1) };
	uint8_t d[20];
	/* RFC 3079 §3.4 GetMasterKey */
	if (sha1_parts(p, l, 3, d) < 0)
		return -EIO;
	memcpy(master, d, 16);
	secret_wipe(d, sizeof(d));
	return 0;
}

int ike_mschap_asym_key(const uint8_t master[16], size_t key_len, bool send, bool server,
			uint8_t *out)
{
	/* RFC 3079 §3.4 GetAsymmetricStartKey */
	static const uint8_t magic2[84] = "On the client side, this is the send key; "
					  "on the server side, it is the receive key.";
	static const uint8_t magic3[84] = "On the client side, this is the receive key; "
					  "on the server side, it is the send key.";
	uint8_t pad1[40], pad2[40], d[20];
	const uint8_t *s = (send == server) ? magic3 : magic2;

	if (key_len > 16)
		return -EINVAL;
	memset(pad1, 0x00, sizeof(pad1));
	memset(pad2, 0xf2, sizeof(pad2));
	const uint8_t *p[4] = { master, pad1, s, pad2 };
	size_t l[4] = { 16, 40, 84, 40 };
	if (sha1_parts(p, l, 4, d) < 0)
		return -EIO;
	memcpy(out, d, key_len);
	secret_wipe(d, sizeof(d));
	return 0;
}

int ike_mschap_msk(const uint8_t *password, size_t pw_len, const uint8_t nt_response[24],
		   uint8_t msk[64])
{
	uint8_t h[16], hh[16], master[16];
	int rc;

	if ((rc = ike_mschap_nt_hash(password, pw_len, h)) < 0)
		goto out;
	ike_md4(h, 16, hh);
	if ((rc = ike_mschap_master_key(hh, nt_response, master)) < 0)
		goto out;
	/* draft-kamath-pppext-eap-mschapv2 §2.4: MSK = MasterReceiveKey |
	 * MasterSendKey | 32 zeros, named from the authenticator's side (RFC
	 * 3079 §3.4 with IsServer): both ends must derive the same bytes, so
	 * the peer uses the server's receive key (its own send key) first. */
	memset(msk, 0, 64);
	if ((rc = ike_mschap_asym_key(master, 16, false, true, msk)) < 0 ||
	    (rc = ike_mschap_asym_key(master, 16, true, true, msk + 16)) < 0)
		goto out;
out:
	secret_wipe(h, sizeof(h));
	secret_wipe(hh, sizeof(hh));
	secret_wipe(master, sizeof(master));
	return rc;
}
