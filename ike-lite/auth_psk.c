/* auth_psk.c — AUTH payload data (RFC 7296 §2.15): the shared-key MIC now,
 * a dispatch seam for the signature methods later. */
#include "ike-lite/crypto.h"
#include "ike-lite/constants.h"
#include "ike-lite/auth.h"

#include <stdlib.h>

#include <errno.h>
#include <openssl/crypto.h>
#include <sodium.h>
#include <string.h>


#define PRF_MAX_LEN 64

/* RFC 7296 §2.15: MACedIDForX = prf(SK_px, RestOfIDPayload); the signed
 * octets are RealMessage | NonceOfTheOtherSide | MACedIDForX. */
static int maced_id(const struct ike_auth_input *in, uint8_t out[PRF_MAX_LEN])
{
	struct ike_span id = { in->id_body, in->id_body_len };
	return ike_prf(in->prf, in->sk_p->data, in->sk_p->len, &id, 1, out);
}

int ike_auth_psk(const struct ike_auth_input *in, const struct secret *psk,
		 uint8_t *out, size_t cap, struct pvpn_err *e)
{
	/* RFC 7296 §2.15: 17 ASCII characters, no terminating NUL. */
	static const char key_pad[] = "Key Pad for IKEv2";
	size_t len = ike_prf_len(in->prf);
	uint8_t id_mac[PRF_MAX_LEN], padkey[PRF_MAX_LEN];
	int rc;

	if (!len)
		return err_set(e, -ENOTSUP, "AUTH: PRF %u is not supported", (unsigned)in->prf);
	if (cap < len)
		return err_set(e, -ENOBUFS, "AUTH: %zu bytes of room for a %zu-byte MIC", cap, len);
	if (!psk || !psk->len)
		return err_set(e, -EINVAL, "AUTH: no pre-shared key");
	if (!in->sk_p || !in->real_msg || !in->peer_nonce || !in->id_body)
		return err_set(e, -EINVAL, "AUTH: missing input");

	struct ike_span pad = { (const uint8_t *)key_pad, sizeof(key_pad) - 1 };
	/* AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>) */
	if ((rc = ike_prf(in->prf, psk->data, psk->len, &pad, 1, padkey)) < 0 ||
	    (rc = maced_id(in, id_mac)) < 0)
		goto out;
	struct ike_span octets[3] = {
		{ in->real_msg, in->real_msg_len },
		{ in->peer_nonce, in->peer_nonce_len },
		{ id_mac, len },
	};
	rc = ike_prf(in->prf, padkey, len, octets, 3, out);
out:
	sodium_memzero(id_mac, sizeof(id_mac));
	sodium_memzero(padkey, sizeof(padkey));
	if (rc < 0)
		return err_set(e, rc, "AUTH: computing the MIC failed");
	return (int)len;
}

int ike_auth_compute(uint8_t method, const struct ike_auth_input *in,
		     const struct ike_auth_cred *cred, uint8_t *out, size_t cap,
		     struct pvpn_err *e)
{
	switch (method) {
	case IKE_AUTH_PSK:
		return ike_auth_psk(in, cred ? cred->psk : NULL, out, cap, e);
	case IKE_AUTH_RSA_SIG:
	case IKE_AUTH_ECDSA_256:
	case IKE_AUTH_ECDSA_384:
	case IKE_AUTH_ECDSA_521:
	case IKE_AUTH_DIGITAL_SIGNATURE: {
		uint8_t *octets = NULL;
		size_t len = 0;
		int rc;
		if (!cred || !cred->key)
			return err_set(e, -EINVAL, "AUTH: no private key");
		if ((rc = ike_signed_octets(in, &octets, &len)) < 0)
			return err_set(e, rc, "AUTH: cannot assemble the signed octets");
		rc = ike_sig_sign(cred->key, method, cred->sig_hash, octets, len, out, cap, e);
		free(octets);
		return rc;
	}
	default:
		return err_set(e, -ENOTSUP, "AUTH: unknown authentication method %u",
			       (unsigned)method);
	}
}

int ike_auth_verify(uint8_t method, const struct ike_auth_input *in,
		    const struct ike_auth_cred *cred, const uint8_t *auth,
		    size_t auth_len, struct pvpn_err *e)
{
	uint8_t want[PRF_MAX_LEN];
	int n;

	if (method != IKE_AUTH_PSK && method != IKE_AUTH_DSS_SIG && method < 64) {
		uint8_t *octets = NULL;
		size_t len = 0;
		if (!cred || !cred->key)
			return err_set(e, -EINVAL, "AUTH: no public key of the peer");
		if ((n = ike_signed_octets(in, &octets, &len)) < 0)
			return err_set(e, n, "AUTH: cannot assemble the signed octets");
		n = ike_sig_verify(cred->key, method, cred->allowed_hashes, octets, len, auth,
				   auth_len, e);
		free(octets);
		return n;
	}
	n = ike_auth_compute(method, in, cred, want, sizeof(want), e);

	if (n < 0)
		return n;
	/* Length is public; the bytes are compared in constant time. */
	if ((size_t)n != auth_len || CRYPTO_memcmp(want, auth, auth_len) != 0)
		n = err_set(e, -EBADMSG, "AUTH: the peer's authentication data is wrong (pre-shared key mismatch?)");
	else
		n = 0;
	sodium_memzero(want, sizeof(want));
	return n;
}
