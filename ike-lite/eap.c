/* eap.c — the EAP peer (RFC 3748) inside IKE_AUTH (RFC 7296 §2.16):
 * EAP-Identity, Notification, a Nak towards our method, EAP-TLS (handed to
 * eap_tls.c) and EAP-MSCHAPv2
 * (draft-kamath-pppext-eap-mschapv2 carrying RFC 2759).  Success is taken
 * only after the server's authenticator response verified and the MSK
 * exists.  Every length is read through lib/reader.h. */
#include "ike-lite/auth.h"
#include "ike-lite/constants.h"
#include "lib/reader.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

static uint8_t g8(struct reader *r)
{
	uint8_t v = 0;
	rd_u8(r, &v);
	return v;
}

static uint16_t g16(struct reader *r)
{
	uint16_t v = 0;
	rd_u16(r, &v);
	return v;
}

static const uint8_t *gptr(struct reader *r, size_t n)
{
	const uint8_t *p = NULL;
	return rd_ptr(r, n, &p) ? p : NULL;
}

enum { S_START = 0, S_CHAL_SENT, S_OK_SENT, S_END };

#define MS_CHALLENGE 1
#define MS_RESPONSE 2
#define MS_SUCCESS 3
#define MS_FAILURE 4

int ike_eap_init(struct ike_eap *eap, const char *user, const struct secret *password)
{
	memset(eap, 0, sizeof(*eap));
	size_t n = strlen(user);
	if (!n || n >= sizeof(eap->user))
		return -EINVAL;
	memcpy(eap->user, user, n);
	eap->user_len = n;
	eap->method = IKE_EAP_MSCHAPV2;
	if (!password || !password->len)
		return -EINVAL;
	return secret_dup(&eap->password, password);
}

void ike_eap_free(struct ike_eap *eap)
{
	ike_eap_tls_free(eap);
	secret_free(&eap->password);
	secret_free(&eap->msk);
	secret_wipe(eap, sizeof(*eap));
}

static int put_head(uint8_t *out, size_t cap, uint8_t id, size_t len)
{
	if (len > cap || len > 0xffff)
		return -ENOBUFS;
	out[0] = IKE_EAP_RESPONSE;
	out[1] = id;
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
	return 0;
}

/* "E=691 R=1 C=... V=3 M=text": the E= code and the M= text, copied
 * printable-only into msg (RFC 2759 §6). */
static void parse_failure(const uint8_t *p, size_t len, char *msg, size_t cap)
{
	long code = -1;
	size_t m = 0;
	const uint8_t *mtext = NULL;
	size_t mlen = 0;

	for (size_t i = 0; i + 1 < len; i++) {
		if ((i == 0 || p[i - 1] == ' ') && p[i] == 'E' && p[i + 1] == '=' && code < 0) {
			code = 0;
			for (size_t k = i + 2; k < len && k < i + 8 && p[k] >= '0' && p[k] <= '9'; k++)
				code = code * 10 + (p[k] - '0');
		}
		if ((i == 0 || p[i - 1] == ' ') && p[i] == 'M' && p[i + 1] == '=' && !mtext) {
			mtext = p + i + 2;
			mlen = len - i - 2;
		}
	}
	const char *what = code == 691 ? "wrong user name or password" :
			   code == 646 ? "restricted logon hours" :
			   code == 647 ? "account disabled" :
			   code == 648 ? "password expired" :
			   code == 649 ? "no dial-in permission" :
			   code == 709 ? "error changing password" : "MSCHAPv2 failure";
	int n = snprintf(msg, cap, "%s", what);
	m = n > 0 && (size_t)n < cap ? (size_t)n : 0;
	if (mtext && mlen && m + 4 < cap) {
		msg[m++] = ' ';
		msg[m++] = '(';
		for (size_t k = 0; k < mlen && m + 2 < cap; k++)
			msg[m++] = mtext[k] >= 0x20 && mtext[k] < 0x7f ? (char)mtext[k] : '?';
		msg[m++] = ')';
		msg[m] = '\0';
	}
}

/* RFC 2759 §8.2: the challenge hash takes the user name without its
 * domain prefix (DOMAIN, backslash); Name and EAP-Identity carry it whole. */
static const char *hash_user(const struct ike_eap *eap, size_t *len)
{
	const char *u = eap->user;
	for (size_t i = 0; i < eap->user_len; i++)
		if (eap->user[i] == '\\')
			u = eap->user + i + 1;
	*len = eap->user_len - (size_t)(u - eap->user);
	return u;
}

static int on_challenge(struct ike_eap *eap, uint8_t id, struct reader *r, ike_rand_fn rnd,
			uint8_t *out, size_t cap, size_t *out_len, struct pvpn_err *e)
{
	uint8_t ms_id = g8(r), vsize;
	uint16_t ms_len = g16(r);
	size_t rest = rd_left(r);
	const uint8_t *chal;
	int rc;

	/* MS-Length covers OpCode..Name: what followed the EAP type. */
	if (!rd_ok(r) || (size_t)ms_len != rest + 4)
		return err_set(e, -EBADMSG, "EAP-MSCHAPv2 challenge with a wrong MS-Length");
	vsize = g8(r);
	chal = gptr(r, 16);
	if (!rd_ok(r) || vsize != 16 || !chal)
		return err_set(e, -EBADMSG, "EAP-MSCHAPv2 challenge is not 16 bytes");
	if (eap->state != S_START)
		return err_set(e, -EPROTO, "a second EAP-MSCHAPv2 challenge");

	size_t len = 5 + 4 + 1 + 49 + eap->user_len;
	if ((rc = put_head(out, cap, id, len)) < 0)
		return err_set(e, rc, "EAP response does not fit");
	memcpy(eap->auth_challenge, chal, 16);
	rnd(eap->peer_challenge, 16);
	size_t hl;
	const char *hu = hash_user(eap, &hl);
	if ((rc = ike_mschap_nt_response(eap->auth_challenge, eap->peer_challenge, hu,
					 hl, eap->password.data, eap->password.len,
					 eap->nt_response)) < 0)
		return err_set(e, rc, "the password cannot be used with MSCHAPv2 (only ASCII)");
	uint8_t *p = out + 4;
	*p++ = IKE_EAP_MSCHAPV2;
	*p++ = MS_RESPONSE;
	*p++ = ms_id;
	*p++ = (uint8_t)((len - 5) >> 8);
	*p++ = (uint8_t)(len - 5);
	*p++ = 49;                                      /* Value-Size */
	memcpy(p, eap->peer_challenge, 16); p += 16;
	memset(p, 0, 8); p += 8;                        /* Reserved */
	memcpy(p, eap->nt_response, 24); p += 24;
	*p++ = 0;                                       /* Flags */
	memcpy(p, eap->user, eap->user_len);
	eap->ms_id = ms_id;
	eap->state = S_CHAL_SENT;
	*out_len = len;
	return IKE_EAP_CONTINUE;
}

static int on_success_req(struct ike_eap *eap, uint8_t id, struct reader *r,
			  uint8_t *out, size_t cap, size_t *out_len, struct pvpn_err *e)
{
	uint8_t ms_id = g8(r);
	uint16_t ms_len = g16(r);
	size_t rest = rd_left(r);
	const uint8_t *msg;
	char want[43];
	uint8_t msk[64];
	size_t hl;
	const char *hu = hash_user(eap, &hl);
	int rc;

	if (!rd_ok(r) || (size_t)ms_len != rest + 4)
		return err_set(e, -EBADMSG, "EAP-MSCHAPv2 success with a wrong MS-Length");
	if (eap->state != S_CHAL_SENT || ms_id != eap->ms_id)
		return err_set(e, -EPROTO, "EAP-MSCHAPv2 success out of turn");
	/* RFC 2759 §5: "S=" + 40 hex digits, then optionally " M=...". */
	if (rest < 42 || !(msg = gptr(r, rest)) || (rest > 42 && msg[42] != ' '))
		return err_set(e, -EBADMSG, "EAP-MSCHAPv2 success message is malformed");
	if ((rc = ike_mschap_authenticator_response(eap->password.data, eap->password.len,
						    eap->nt_response, eap->peer_challenge,
						    eap->auth_challenge, hu, hl,
						    want)) < 0)
		return err_set(e, rc, "computing the authenticator response failed");
	/* Hex case is not specified strongly; compare case-insensitively
	 * without branching on the digits. */
	uint8_t diff = 0;
	for (int i = 0; i < 42; i++) {
		uint8_t a = msg[i], b = (uint8_t)want[i];
		if (a >= 'a' && a <= 'f')
			a = (uint8_t)(a - 32);
		diff |= a ^ b;
	}
	secret_wipe(want, sizeof(want));
	if (diff) {
		eap->state = S_END;
		snprintf(eap->fail_msg, sizeof(eap->fail_msg), "the server's MSCHAPv2 "
			 "authenticator response is wrong (it does not know the password)");
		return IKE_EAP_FAILED;
	}
	if ((rc = ike_mschap_msk(eap->password.data, eap->password.len, eap->nt_response, msk)) < 0 ||
	    (rc = secret_set(&eap->msk, msk, sizeof(msk))) < 0) {
		secret_wipe(msk, sizeof(msk));
		return err_set(e, rc, "deriving the MSK failed");
	}
	secret_wipe(msk, sizeof(msk));
	eap->authenticated = true;
	/* The password is no longer needed. */
	secret_free(&eap->password);
	if ((rc = put_head(out, cap, id, 6)) < 0)
		return err_set(e, rc, "EAP response does not fit");
	out[4] = IKE_EAP_MSCHAPV2;
	out[5] = MS_SUCCESS;
	eap->state = S_OK_SENT;
	*out_len = 6;
	return IKE_EAP_CONTINUE;
}

int ike_eap_step(struct ike_eap *eap, const uint8_t *pkt, size_t len, ike_rand_fn rnd,
		 uint8_t *out, size_t cap, size_t *out_len, struct pvpn_err *e)
{
	struct reader r;
	uint8_t code, id, type;
	uint16_t elen;

	*out_len = 0;
	rd_init(&r, pkt, len);
	code = g8(&r);
	id = g8(&r);
	elen = g16(&r);
	if (!rd_ok(&r))
		return err_set(e, -EBADMSG, "EAP packet shorter than its header");
	/* RFC 3748 §4: Length covers the whole packet; the EAP payload holds
	 * exactly one. */
	if (elen != len)
		return err_set(e, -EBADMSG, "EAP Length %u, packet %zu bytes", elen, len);
	if (eap->state == S_END)
		return err_set(e, -EPROTO, "EAP is over");

	switch (code) {
	case IKE_EAP_SUCCESS:
		if (len != 4)
			return err_set(e, -EBADMSG, "EAP-Success with data");
		/* EAP-TLS: only after the handshake ended with the server's
		 * certificate verified and the MSK derived (RFC 5216 §2.1.1). */
		if (eap->method == IKE_EAP_TLS) {
			eap->state = S_END;
			if (!ike_eap_tls_done(eap)) {
				snprintf(eap->fail_msg, sizeof(eap->fail_msg), "the server sent "
					 "EAP-Success before the TLS handshake completed");
				eap->fail_why = IKE_ERR_AUTHENTICATION_FAILED;
				return IKE_EAP_FAILED;
			}
			return IKE_EAP_DONE;
		}
		/* Only after the server proved it knows the password. */
		if (eap->state != S_OK_SENT || !eap->authenticated || !eap->msk.len) {
			eap->state = S_END;
			snprintf(eap->fail_msg, sizeof(eap->fail_msg), "the server sent "
				 "EAP-Success before proving it knows the password");
			return IKE_EAP_FAILED;
		}
		eap->state = S_END;
		return IKE_EAP_DONE;
	case IKE_EAP_FAILURE:
		if (len != 4)
			return err_set(e, -EBADMSG, "EAP-Failure with data");
		eap->state = S_END;
		if (!eap->fail_msg[0])
			snprintf(eap->fail_msg, sizeof(eap->fail_msg), "%s",
				 eap->method == IKE_EAP_TLS ? "the server rejected our EAP-TLS "
				 "authentication (EAP-Failure): our certificate?" :
				 "the server rejected the user name or password (EAP-Failure)");
		if (eap->method == IKE_EAP_TLS && !eap->fail_why)
			eap->fail_why = IKE_ERR_CLIENT_CERT_REJECTED;
		return IKE_EAP_FAILED;
	case IKE_EAP_REQUEST:
		break;
	default:
		return err_set(e, -EBADMSG, "unexpected EAP code %u from the server", code);
	}

	type = g8(&r);
	if (!rd_ok(&r))
		return err_set(e, -EBADMSG, "EAP Request without a type");
	switch (type) {
	case IKE_EAP_IDENTITY: {
		size_t n = 5 + eap->user_len;
		if (put_head(out, cap, id, n) < 0)
			return err_set(e, -ENOBUFS, "EAP response does not fit");
		out[4] = IKE_EAP_IDENTITY;
		memcpy(out + 5, eap->user, eap->user_len);
		*out_len = n;
		return IKE_EAP_CONTINUE;
	}
	case IKE_EAP_NOTIFICATION:
		/* RFC 3748 §5.2: acknowledge with an empty Notification. */
		if (put_head(out, cap, id, 5) < 0)
			return err_set(e, -ENOBUFS, "EAP response does not fit");
		out[4] = IKE_EAP_NOTIFICATION;
		*out_len = 5;
		return IKE_EAP_CONTINUE;
	case IKE_EAP_TLS: {
		if (eap->method != IKE_EAP_TLS)
			goto nak;
		int rc = ike_eap_tls_request(eap, id, pkt + 5, len - 5, out, cap, out_len, e);
		if (rc == IKE_EAP_FAILED)
			eap->state = S_END;
		else if (rc == IKE_EAP_CONTINUE)
			eap->state = S_CHAL_SENT;
		return rc;
	}
	case IKE_EAP_MSCHAPV2: {
		if (eap->method != IKE_EAP_MSCHAPV2)
			goto nak;
		uint8_t op = g8(&r);
		if (!rd_ok(&r))
			return err_set(e, -EBADMSG, "EAP-MSCHAPv2 without an OpCode");
		switch (op) {
		case MS_CHALLENGE:
			return on_challenge(eap, id, &r, rnd, out, cap, out_len, e);
		case MS_SUCCESS:
			return on_success_req(eap, id, &r, out, cap, out_len, e);
		case MS_FAILURE: {
			uint8_t ms_id = g8(&r);
			uint16_t ms_len = g16(&r);
			size_t rest = rd_left(&r);
			(void)ms_id;
			if (!rd_ok(&r) || (size_t)ms_len != rest + 4)
				return err_set(e, -EBADMSG, "EAP-MSCHAPv2 failure with a wrong MS-Length");
			if (eap->state != S_CHAL_SENT)
				return err_set(e, -EPROTO, "EAP-MSCHAPv2 failure out of turn");
			parse_failure(gptr(&r, rest), rest, eap->fail_msg, sizeof(eap->fail_msg));
			/* No retry with another password: we have only one. */
			eap->state = S_END;
			return IKE_EAP_FAILED;
		}
		default:
			return err_set(e, -EBADMSG, "EAP-MSCHAPv2 OpCode %u from the server", op);
		}
	}
	default:
	nak:
		/* RFC 3748 §5.3.1: Nak, asking for our method — only before it began. */
		if (eap->state != S_START || type < 4)
			return err_set(e, -EPROTO, "EAP method %u requested mid-conversation", type);
		if (put_head(out, cap, id, 6) < 0)
			return err_set(e, -ENOBUFS, "EAP response does not fit");
		out[4] = IKE_EAP_NAK;
		out[5] = eap->method ? eap->method : IKE_EAP_MSCHAPV2;
		*out_len = 6;
		return IKE_EAP_CONTINUE;
	}
}

int ike_auth_msk(const struct ike_auth_input *in, const struct secret *msk, uint8_t *out,
		 size_t cap, struct pvpn_err *e)
{
	/* RFC 7296 §2.16: the MSK takes the shared secret's place. */
	if (!msk || !msk->len)
		return err_set(e, -EINVAL, "AUTH: no MSK from EAP");
	return ike_auth_psk(in, msk, out, cap, e);
}
