/* ocsp.c — OCSP (RFC 6960) for the server's certificate chain, after the
 * chain verified to one of our anchors (never before: a URI is only taken
 * from a certificate our CA vouched for).  ike-lite does no I/O: the
 * request goes out and the answer comes back through the config's
 * ocsp_fetch callback, which the daemon fills.
 *
 * What an answer must be to count (RFC 6960 §3.2, §4.2.2):
 *   - a successful OCSPResponse with a BasicOCSPResponse,
 *   - signed by the issuer of the certificate in question, or by a
 *     responder certificate the issuer signed with id-kp-OCSPSigning
 *     (§4.2.2.2), valid now,
 *   - a SingleResponse for exactly our CertID,
 *   - thisUpdate not in the future, nextUpdate (when there) not passed,
 *     each with a few minutes of clock skew; without nextUpdate thisUpdate
 *     must be recent,
 *   - our nonce when the responder echoes one (RFC 8954; responders with
 *     pre-produced answers leave it out, which is allowed).
 * good goes on; revoked fails; anything else is "no answer", which
 * StrictRevocationCheck turns into a failure and lenient mode into a
 * warning. */
#include "ike-lite/auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "lib/log.h"

#define OCSP_SKEW_S        300          /* clock skew allowed either way */
#define OCSP_NO_NEXT_MAX_S (24 * 3600)  /* age of an answer without nextUpdate */
#define OCSP_MAX_URLS      2            /* responders tried per certificate */
/* Responders that may fail to answer in one chain check: each fetch can
 * hold the daemon for its timeout, so a dead responder network costs at
 * most this many timeouts, not one per certificate and URL. */
#define OCSP_MAX_UNANSWERED 2
#define OCSP_URL_MAX       255

/* A certificate's CN for messages: printable ASCII only, "?" otherwise. */
static void cert_name(X509 *x, char *out, size_t cap)
{
	char cn[128];
	int n = X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));

	if (n <= 0) {
		snprintf(out, cap, "(no CN)");
		ERR_clear_error();
		return;
	}
	for (int i = 0; i < n; i++)
		if ((unsigned char)cn[i] < 0x20 || (unsigned char)cn[i] > 0x7e)
			cn[i] = '?';
	snprintf(out, cap, "%s", cn);
}

int ike_ocsp_request(X509 *cert, X509 *issuer, const uint8_t *nonce, size_t nonce_len,
		     uint8_t **der, size_t *der_len, struct pvpn_err *e)
{
	OCSP_REQUEST *rq = NULL;
	OCSP_CERTID *id = NULL;
	uint8_t *out = NULL;
	int n, rc = 0;

	*der = NULL;
	*der_len = 0;
	if (!(rq = OCSP_REQUEST_new()) || !(id = OCSP_cert_to_id(NULL, cert, issuer))) {
		rc = err_set(e, -ENOMEM, "cannot make the OCSP request");
		goto out;
	}
	if (!OCSP_request_add0_id(rq, id)) {
		rc = err_set(e, -ENOMEM, "cannot make the OCSP request");
		goto out;
	}
	id = NULL;   /* owned by rq now */
	/* RFC 8954 §2.1: a nonce of 1 to 32 octets. */
	if (nonce_len && !OCSP_request_add1_nonce(rq, (unsigned char *)nonce, (int)nonce_len)) {
		rc = err_set(e, -ENOMEM, "cannot make the OCSP request");
		goto out;
	}
	if ((n = i2d_OCSP_REQUEST(rq, &out)) <= 0) {
		rc = err_set(e, -ENOMEM, "cannot encode the OCSP request");
		goto out;
	}
	*der = out;
	*der_len = (size_t)n;
out:
	OCSP_CERTID_free(id);
	OCSP_REQUEST_free(rq);
	ERR_clear_error();
	return rc;
}

/* RFC 6960 §4.2.2.2: the CA itself, or a certificate it issued for OCSP
 * signing.  (The delegated responder's own revocation is not asked: such
 * certificates are short-lived and carry id-pkix-ocsp-nocheck, §4.2.2.2.1.) */
static int responder_authorized(X509 *signer, X509 *issuer, time_t now, struct pvpn_err *e)
{
	EVP_PKEY *ik = X509_get0_pubkey(issuer);
	uint32_t ku;

	if (X509_cmp(signer, issuer) == 0)
		return 0;
	if (X509_check_issued(issuer, signer) != X509_V_OK || !ik || X509_verify(signer, ik) != 1)
		return err_set(e, -EACCES, "the OCSP response is signed by a certificate the "
			       "issuer did not issue");
	if (!(X509_get_extension_flags(signer) & EXFLAG_XKUSAGE) ||
	    !(X509_get_extended_key_usage(signer) & XKU_OCSP_SIGN))
		return err_set(e, -EACCES, "the OCSP responder's certificate is not for OCSP "
			       "signing (no id-kp-OCSPSigning)");
	ku = X509_get_key_usage(signer);
	if (ku != UINT32_MAX && !(ku & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)))
		return err_set(e, -EACCES, "the OCSP responder's certificate may not sign (keyUsage)");
	if (X509_cmp_time(X509_get0_notBefore(signer), &now) != -1 ||
	    X509_cmp_time(X509_get0_notAfter(signer), &now) != 1)
		return err_set(e, -EACCES, "the OCSP responder's certificate is not valid now");
	return 0;
}

/* RFC 6960 §4.2.2.1 and §3.2 items 5-6. */
static int check_times(ASN1_GENERALIZEDTIME *thisupd, ASN1_GENERALIZEDTIME *nextupd, time_t now,
		       struct pvpn_err *e)
{
	time_t ahead = now + OCSP_SKEW_S, behind = now - OCSP_SKEW_S;
	time_t oldest = now - OCSP_NO_NEXT_MAX_S - OCSP_SKEW_S;

	if (!thisupd || X509_cmp_time(thisupd, &ahead) != -1)
		return err_set(e, -EBADMSG, "the OCSP response's thisUpdate is in the future "
			       "(check the clock)");
	if (nextupd && X509_cmp_time(nextupd, &behind) != 1)
		return err_set(e, -EBADMSG, "the OCSP response is stale (its nextUpdate has passed)");
	if (!nextupd && X509_cmp_time(thisupd, &oldest) != 1)
		return err_set(e, -EBADMSG, "the OCSP response is stale (no nextUpdate, thisUpdate "
			       "more than a day old)");
	return 0;
}

int ike_ocsp_check_response(const uint8_t *resp, size_t len, X509 *cert, X509 *issuer,
			    const uint8_t *nonce, size_t nonce_len, time_t now,
			    struct pvpn_err *e)
{
	const uint8_t *p = resp;
	OCSP_RESPONSE *r = NULL;
	OCSP_BASICRESP *bs = NULL;
	OCSP_REQUEST *rq = NULL;
	OCSP_CERTID *id = NULL;
	STACK_OF(X509) *extra = NULL, *signers = NULL;
	X509 *signer = NULL;
	ASN1_GENERALIZEDTIME *thisupd = NULL, *nextupd = NULL, *revtime = NULL;
	int st, status = -1, reason = -1, rc;

	if (!resp || !len || len > IKE_OCSP_RESP_MAX) {
		rc = err_set(e, -EBADMSG, "the OCSP response is empty or too big");
		goto out;
	}
	if (!(r = d2i_OCSP_RESPONSE(NULL, &p, (long)len)) || p != resp + len) {
		rc = err_set(e, -EBADMSG, "the OCSP response is not valid DER");
		goto out;
	}
	if ((st = OCSP_response_status(r)) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		rc = err_set(e, -EBADMSG, "the OCSP responder answered '%s'",
			     OCSP_response_status_str(st));
		goto out;
	}
	if (!(bs = OCSP_response_get1_basic(r))) {
		rc = err_set(e, -EBADMSG, "the OCSP response is not a basic OCSP response");
		goto out;
	}
	/* The signer: named by the ResponderID, its certificate in the
	 * response or the issuer itself. */
	if (!(extra = sk_X509_new_null()) || !sk_X509_push(extra, issuer)) {
		rc = err_set(e, -ENOMEM, "out of memory");
		goto out;
	}
	if (OCSP_resp_get0_signer(bs, &signer, extra) != 1 || !signer) {
		rc = err_set(e, -EACCES, "the OCSP response's signer certificate is missing");
		goto out;
	}
	if ((rc = responder_authorized(signer, issuer, now, e)) < 0)
		goto out;
	/* Only the signature here: the signer's authority was checked above
	 * against the verified chain, at our clock. */
	if (!(signers = sk_X509_new_null()) || !sk_X509_push(signers, signer)) {
		rc = err_set(e, -ENOMEM, "out of memory");
		goto out;
	}
	if (OCSP_basic_verify(bs, signers, NULL, OCSP_NOINTERN | OCSP_NOVERIFY | OCSP_NOCHECKS |
			      OCSP_NOEXPLICIT) <= 0) {
		rc = err_set(e, -EACCES, "the OCSP response's signature does not verify");
		goto out;
	}
	/* RFC 8954 §2.1: an echoed nonce must be ours. */
	if (nonce_len) {
		if (!(rq = OCSP_REQUEST_new()) ||
		    !OCSP_request_add1_nonce(rq, (unsigned char *)nonce, (int)nonce_len)) {
			rc = err_set(e, -ENOMEM, "out of memory");
			goto out;
		}
		/* 1: the same; -1: not echoed (allowed); 0: another one. */
		int nr = OCSP_check_nonce(rq, bs);
		if (nr != 1 && nr != -1) {
			rc = err_set(e, -EACCES, "the OCSP response's nonce is not the one we sent");
			goto out;
		}
	}
	if (!(id = OCSP_cert_to_id(NULL, cert, issuer))) {
		rc = err_set(e, -ENOMEM, "out of memory");
		goto out;
	}
	if (OCSP_resp_find_status(bs, id, &status, &reason, &revtime, &thisupd, &nextupd) != 1) {
		rc = err_set(e, -EBADMSG, "the OCSP response is not about this certificate "
			     "(CertID)");
		goto out;
	}
	if ((rc = check_times(thisupd, nextupd, now, e)) < 0)
		goto out;
	switch (status) {
	case V_OCSP_CERTSTATUS_GOOD:
		rc = IKE_OCSP_GOOD;
		break;
	case V_OCSP_CERTSTATUS_REVOKED:
		if (reason >= 0)
			err_set(e, 0, "revoked (reason: %s)", OCSP_crl_reason_str(reason));
		else
			err_set(e, 0, "revoked");
		rc = IKE_OCSP_REVOKED;
		break;
	default:
		err_set(e, 0, "the OCSP responder does not know the certificate (status unknown)");
		rc = IKE_OCSP_UNKNOWN;
		break;
	}
out:
	OCSP_CERTID_free(id);
	OCSP_REQUEST_free(rq);
	sk_X509_free(signers);
	sk_X509_free(extra);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(r);
	ERR_clear_error();
	return rc;
}

/* The http:// responders in the certificate's AIA, up to max; 0 = none. */
static size_t ocsp_urls(X509 *x, char urls[][OCSP_URL_MAX + 1], size_t max)
{
	STACK_OF(OPENSSL_STRING) *all = X509_get1_ocsp(x);
	size_t n = 0;

	for (int i = 0; all && i < sk_OPENSSL_STRING_num(all) && n < max; i++) {
		const char *u = sk_OPENSSL_STRING_value(all, i);
		size_t l = u ? strlen(u) : 0;
		/* Only plain HTTP (RFC 6960 Appendix A.1); https would need a
		 * second trust decision for the responder's TLS certificate. */
		if (l < 8 || l > OCSP_URL_MAX || strncasecmp(u, "http://", 7) != 0)
			continue;
		memcpy(urls[n], u, l + 1);
		n++;
	}
	X509_email_free(all);
	ERR_clear_error();
	return n;
}

/* Ask the responders of x (issued by issuer).  IKE_OCSP_GOOD/REVOKED, or
 * IKE_OCSP_UNKNOWN with why in e. */
static int ask(const struct ike_certs *c, X509 *x, X509 *issuer, time_t now,
	       unsigned *unanswered, struct pvpn_err *e)
{
	char urls[OCSP_MAX_URLS][OCSP_URL_MAX + 1];
	size_t n = ocsp_urls(x, urls, OCSP_MAX_URLS);
	int result = IKE_OCSP_UNKNOWN;

	if (!n) {
		err_set(e, 0, "it has no CRL here and names no http:// OCSP responder");
		return IKE_OCSP_UNKNOWN;
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t nonce[IKE_OCSP_NONCE_LEN], *req = NULL, *resp = NULL;
		size_t req_len = 0, resp_len = 0;
		struct pvpn_err fe;
		int rc;

		if (*unanswered >= OCSP_MAX_UNANSWERED) {
			err_set(e, 0, "not asked: %u OCSP responders already left this check "
				"unanswered", *unanswered);
			break;
		}
		(c->rnd ? c->rnd : ike_rand_default)(nonce, sizeof(nonce));
		if (ike_ocsp_request(x, issuer, nonce, sizeof(nonce), &req, &req_len, e) < 0)
			return IKE_OCSP_UNKNOWN;
		err_clear(&fe);
		rc = c->ocsp_fetch(c->ocsp_ctx, urls[i], req, req_len, &resp, &resp_len, &fe);
		OPENSSL_free(req);
		if (rc < 0) {
			free(resp);
			(*unanswered)++;
			err_set(e, 0, "OCSP responder %.80s: %.120s", urls[i],
				fe.msg[0] ? fe.msg : "no answer");
			continue;
		}
		rc = ike_ocsp_check_response(resp, resp_len, x, issuer, nonce, sizeof(nonce), now, &fe);
		free(resp);
		if (rc == IKE_OCSP_GOOD || rc == IKE_OCSP_REVOKED) {
			if (rc == IKE_OCSP_REVOKED)
				err_set(e, 0, "%s", fe.msg);
			return rc;
		}
		err_set(e, 0, "OCSP responder %.80s: %.120s", urls[i], fe.msg);
		result = IKE_OCSP_UNKNOWN;
	}
	return result;
}

int ike_ocsp_check_chain(const struct ike_certs *c, STACK_OF(X509) *chain, uint32_t need,
			 time_t now, struct pvpn_err *e)
{
	int n = chain ? sk_X509_num(chain) : 0;
	unsigned unanswered = 0;

	/* Leaf first, then the intermediates; the last certificate is our
	 * anchor, which is trusted by configuration, not checked (RFC 5280
	 * §6.1). */
	for (int d = 0; d + 1 < n && d < 32; d++) {
		X509 *x = sk_X509_value(chain, d), *issuer = sk_X509_value(chain, d + 1);
		struct pvpn_err why;
		char name[128];
		int rc;

		if (!(need & (1u << d)))
			continue;
		cert_name(x, name, sizeof(name));
		err_clear(&why);
		if (c->ocsp_fetch)
			rc = ask(c, x, issuer, now, &unanswered, &why);
		else {
			err_set(&why, 0, "it has no CRL here and OCSP is not available");
			rc = IKE_OCSP_UNKNOWN;
		}
		if (rc == IKE_OCSP_GOOD) {
			log_msg(LOG_INFO, c->log_name[0] ? c->log_name : NULL, "IKE: OCSP: '%s' "
				"is good", name);
			continue;
		}
		if (rc == IKE_OCSP_REVOKED) {
			if (d == 0)
				return err_set(e, -EACCES, "server certificate revoked (OCSP): '%.60s' "
					       "is %.80s", name, why.msg);
			return err_set(e, -EACCES, "server certificate revoked (OCSP): its CA "
				       "'%.60s' is %.80s", name, why.msg);
		}
		if (c->rev_strict)
			return err_set(e, -EACCES, "no revocation status for the server's certificate "
				       "'%.50s' (StrictRevocationCheck): %.150s", name, why.msg);
		log_msg(LOG_WARNING, c->log_name[0] ? c->log_name : NULL, "IKE: no revocation "
			"status for the server's certificate '%s', going on without: %s", name,
			why.msg);
	}
	return 0;
}
