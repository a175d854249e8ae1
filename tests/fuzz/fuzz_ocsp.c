/* libFuzzer target: OCSP (RFC 6960) handling of what comes back from a
 * responder — ike-lite/ocsp.c's response check (DER parsing, the signer
 * and its authority, the signature, CertID, times, nonce) and ctl's HTTP
 * reply and URL parsers (ocsp_http.c).
 *
 * Input: byte 0 = mode.  Bits 2-3: 0 or 1 = the rest is an OCSPResponse
 * checked about one of two certificates of a fixed CA (bit 1: the second,
 * which the CA revoked) with our fixed nonce (bit 0) or without; 2 = the
 * rest is an HTTP reply; 3 = the rest is a URL.  The CA and certificates
 * are fixed (below) and so is the clock, so the seeds (real answers of
 * `openssl ocsp` for these certificates: good, revoked, unknown, by a
 * delegated responder, tryLater) verify and mutations start from the
 * deep end.  Must never crash, leak or read out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>

#include "ctl/ctl.h"
#include "ike-lite/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Made with tests/interop/certs/gen.sh (P-256 CA, leaves for
 * vpn.example.test); public certificates only. */
static const char ca_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBkjCCATmgAwIBAgIUDuEephMUDEPegwvFS1HMyCB7QJAwCgYIKoZIzj0EAwIw\n"
	"FzEVMBMGA1UEAwwMZnV6eiBPQ1NQIENBMB4XDTI2MTIwNDE5NDQxOVoXDTI3MDEw\n"
	"MzE5NDQxOVowFzEVMBMGA1UEAwwMZnV6eiBPQ1NQIENBMFkwEwYHKoZIzj0CAQYI\n"
	"KoZIzj0DAQcDQgAEKLL20+cbt1iTjd/yY6PszPiYTi7OkpwXAuQsiRSpaQ6iTcNL\n"
	"G+WCTYOuGS/P9aj0ebHjKOOHcgfWbeYsy6iiq6NjMGEwHQYDVR0OBBYEFFAb5zVL\n"
	"3w4KS4OkPBpIey/vmm92MB8GA1UdIwQYMBaAFFAb5zVL3w4KS4OkPBpIey/vmm92\n"
	"MA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMAoGCCqGSM49BAMCA0cA\n"
	"MEQCIB7RLLajQoWzn5tFu8nRBy5yMeQyIuIudEYYsSb91NGfAiA3V5xQMLh6fdk4\n"
	"NE0gjvSR09pW/Zz70JrDfj8j7HdatA==\n"
	"-----END CERTIFICATE-----\n";
static const char leaf_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBzzCCAXWgAwIBAgICEAAwCgYIKoZIzj0EAwIwFzEVMBMGA1UEAwwMZnV6eiBP\n"
	"Q1NQIENBMB4XDTI2MTIwNDE5NDQxOVoXDTI3MDEwMzE5NDQxOVowGzEZMBcGA1UE\n"
	"AwwQdnBuLmV4YW1wbGUudGVzdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABNlm\n"
	"nFQef2dZa+DdM44usoqiwwpPIzIF03forPi2KcevkPEeSfJusTg22tL31VWrOWUW\n"
	"b33BiJ2hfsTSTgBUF1mjgawwgakwCQYDVR0TBAIwADALBgNVHQ8EBAMCB4AwGwYD\n"
	"VR0RBBQwEoIQdnBuLmV4YW1wbGUudGVzdDAyBggrBgEFBQcBAQQmMCQwIgYIKwYB\n"
	"BQUHMAGGFmh0dHA6Ly8xOTIuMC4yLjI6ODg4OC8wHQYDVR0OBBYEFNbqif8VLY3D\n"
	"cR2Pf9qF+qrgR/PVMB8GA1UdIwQYMBaAFFAb5zVL3w4KS4OkPBpIey/vmm92MAoG\n"
	"CCqGSM49BAMCA0gAMEUCIQCL4Fd8PiFTTNFoc9p1rP2xToqAz8ZKpUz/5s4JIJbr\n"
	"NwIgFHKUrelIJjl2MNbyIsipua3vjzZaMaYeT+4rtWRlWM8=\n"
	"-----END CERTIFICATE-----\n";
static const char rev_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBmDCCAT+gAwIBAgICEAEwCgYIKoZIzj0EAwIwFzEVMBMGA1UEAwwMZnV6eiBP\n"
	"Q1NQIENBMB4XDTI2MTIwNDE5NDQyMFoXDTI3MDEwMzE5NDQyMFowGzEZMBcGA1UE\n"
	"AwwQdnBuLmV4YW1wbGUudGVzdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABH67\n"
	"A/UTMdub55N0uCZ3zBp+b6XTldyeb6LssGEYBMDXeteAjf/uSU9smkhPj0LC2zxa\n"
	"8Nv9sFdqQkp1Q2/E4uWjdzB1MAkGA1UdEwQCMAAwCwYDVR0PBAQDAgeAMBsGA1Ud\n"
	"EQQUMBKCEHZwbi5leGFtcGxlLnRlc3QwHQYDVR0OBBYEFJ8RNh3H/t+xn7Ci352b\n"
	"lSs/r+2hMB8GA1UdIwQYMBaAFFAb5zVL3w4KS4OkPBpIey/vmm92MAoGCCqGSM49\n"
	"BAMCA0cAMEQCIFJ9DdNM0F9o0+31+eFGi/CcN+DF43ZgLqK5upPUWibKAiAHU8Ni\n"
	"gtwBjHRcUe5rJh3emiHy2vfSumOYAm1qTT9iIQ==\n"
	"-----END CERTIFICATE-----\n";

#define FUZZ_NOW ((time_t)1796414000)   /* inside the certificates' validity */

static X509 *ca, *leaf, *rev;

static X509 *load(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (!x)
		abort();
	return x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t nonce[IKE_OCSP_NONCE_LEN] = "pvpn fuzz nonce pvpn fuzz nonce";
	struct pvpn_err e;

	if (!ca) {
		ca = load(ca_pem);
		leaf = load(leaf_pem);
		rev = load(rev_pem);
	}
	if (size < 1)
		return 0;
	switch ((data[0] >> 2) & 3) {
	case 0:
	case 1:
		(void)ike_ocsp_check_response(data + 1, size - 1, (data[0] & 2) ? rev : leaf, ca,
					      nonce, (data[0] & 1) ? sizeof(nonce) : 0, FUZZ_NOW, &e);
		break;
	case 2: {
		const uint8_t *body;
		size_t body_len;
		(void)ctl_ocsp_parse_reply(data + 1, size - 1, &body, &body_len, &e);
		break;
	}
	default: {
		char *url = malloc(size);
		struct ctl_ocsp_url u;
		if (!url)
			return 0;
		memcpy(url, data + 1, size - 1);
		url[size - 1] = '\0';
		(void)ctl_ocsp_parse_url(url, &u, &e);
		free(url);
		break;
	}
	}
	return 0;
}
