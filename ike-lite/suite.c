/* suite.c — from negotiated transform IDs to the sizes they imply.
 *
 * RFC 7296 §3.3.2 (transform IDs), RFC 3602 (AES-CBC), RFC 5282 (AES-GCM in
 * IKEv2), RFC 7634 (ChaCha20-Poly1305), RFC 4868 (HMAC-SHA2), RFC 4106
 * (AES-GCM in ESP). */
#include "ike-lite/crypto.h"
#include "ike-lite/constants.h"

#include <errno.h>
#include <string.h>


static int fill_encr(struct ike_suite *s, uint16_t encr, uint16_t bits,
		     struct pvpn_err *e)
{
	switch (encr) {
	case IKE_ENCR_AES_CBC:
	case IKE_ENCR_AES_GCM_16:
		/* RFC 3602 / RFC 5282: the Key Length attribute is
		 * mandatory; 192-bit keys are not offered by pvpn. */
		if (bits != 128 && bits != 256)
			return err_set(e, -ENOTSUP,
				       "AES key length %u is not supported (128 or 256)",
				       (unsigned)bits);
		s->aead = encr == IKE_ENCR_AES_GCM_16;
		s->salt_len = s->aead ? 4 : 0;
		s->encr_key_len = bits / 8 + s->salt_len;
		s->iv_len = s->aead ? 8 : 16;
		s->block_len = s->aead ? 1 : 16;
		s->icv_len = s->aead ? 16 : 0;
		return 0;
	case IKE_ENCR_CHACHA20_POLY1305:
		/* RFC 7634 §2: fixed 256-bit key, no Key Length attribute. */
		if (bits != 0 && bits != 256)
			return err_set(e, -ENOTSUP,
				       "ChaCha20-Poly1305 takes no key length (got %u)",
				       (unsigned)bits);
		s->aead = true;
		s->salt_len = 4;
		s->encr_key_len = 32 + 4;
		s->iv_len = 8;
		s->block_len = 1;
		s->icv_len = 16;
		return 0;
	default:
		return err_set(e, -ENOTSUP, "encryption transform %u is not supported",
			       (unsigned)encr);
	}
}

static int fill_integ(struct ike_suite *s, uint16_t integ, struct pvpn_err *e)
{
	if (s->aead) {
		/* RFC 5282 §8 / RFC 7634 §3: no separate integrity
		 * transform with a combined-mode cipher. */
		if (integ != IKE_INTEG_NONE)
			return err_set(e, -EINVAL,
				       "integrity transform %u given with a combined-mode cipher",
				       (unsigned)integ);
		s->integ_key_len = 0;
		return 0;
	}
	switch (integ) {
	case IKE_INTEG_HMAC_SHA2_256_128: s->integ_key_len = 32; s->icv_len = 16; return 0;
	case IKE_INTEG_HMAC_SHA2_384_192: s->integ_key_len = 48; s->icv_len = 24; return 0;
	case IKE_INTEG_HMAC_SHA2_512_256: s->integ_key_len = 64; s->icv_len = 32; return 0;
	case IKE_INTEG_NONE:
		return err_set(e, -EINVAL, "AES-CBC needs an integrity transform");
	default:
		return err_set(e, -ENOTSUP, "integrity transform %u is not supported",
			       (unsigned)integ);
	}
}

int ike_suite_init(struct ike_suite *s, uint16_t encr, uint16_t encr_key_bits,
		   uint16_t integ, uint16_t prf, uint16_t dh, struct pvpn_err *e)
{
	int rc = ike_suite_init_esp(s, encr, encr_key_bits, integ, dh, e);
	if (rc == 0 && !ike_prf_len(prf))
		rc = err_set(e, -ENOTSUP, "PRF transform %u is not supported", (unsigned)prf);
	if (rc == 0 && !ike_dh_supported(dh))
		rc = err_set(e, -ENOTSUP, "Diffie-Hellman group %u is not supported",
			     (unsigned)dh);
	if (rc < 0) {
		memset(s, 0, sizeof(*s));
		return rc;
	}
	s->prf = prf;
	s->prf_len = ike_prf_len(prf);
	return 0;
}

int ike_suite_init_esp(struct ike_suite *s, uint16_t encr, uint16_t encr_key_bits,
		       uint16_t integ, uint16_t dh, struct pvpn_err *e)
{
	int rc;
	memset(s, 0, sizeof(*s));
	if ((rc = fill_encr(s, encr, encr_key_bits, e)) < 0 ||
	    (rc = fill_integ(s, integ, e)) < 0)
		goto fail;
	if (dh && !ike_dh_supported(dh)) {
		rc = err_set(e, -ENOTSUP, "Diffie-Hellman group %u is not supported",
			     (unsigned)dh);
		goto fail;
	}
	s->encr = encr;
	s->encr_key_bits = encr_key_bits;
	s->integ = integ;
	s->dh = dh;
	return 0;
fail:
	memset(s, 0, sizeof(*s));
	return rc;
}
