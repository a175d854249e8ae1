/* dn.c — a distinguished name in text ("C=CH, O=Example, CN=vpn") to the
 * DER encoding an ID_DER_ASN1_DN identifier carries (RFC 7296 §3.5).
 *
 * RDNs are encoded in the order written (the strongSwan convention, not
 * RFC 4514's reversed one).  Values are PrintableString when they fit
 * that alphabet, else UTF8String; C, E and DC take the types X.520 /
 * RFC 5280 fix for them (PrintableString, IA5String).  "\," keeps a comma
 * in a value.  OpenSSL's X509_NAME does the DER. */
#include "policy/profile.h"
#include "policy/internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/objects.h>
#include <openssl/x509.h>

static const struct { const char *name; int nid; } attrs[] = {
	{ "C", NID_countryName }, { "ST", NID_stateOrProvinceName }, { "L", NID_localityName },
	{ "O", NID_organizationName }, { "OU", NID_organizationalUnitName },
	{ "CN", NID_commonName }, { "DC", NID_domainComponent }, { "UID", NID_userId },
	{ "E", NID_pkcs9_emailAddress }, { "emailAddress", NID_pkcs9_emailAddress },
	{ "SN", NID_serialNumber }, { "serialNumber", NID_serialNumber },
	{ "GN", NID_givenName }, { "T", NID_title },
};
#define ALLOWED_ATTRS "C, ST, L, O, OU, CN, DC, UID, E, SN, GN, T"

/* X.680 PrintableString alphabet. */
static bool printable(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (!(isalnum(c) || strchr(" '()+,-./:=?", c)))
			return false;
	}
	return true;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

int prof_dn_to_der(const char *text, uint8_t *out, size_t cap, size_t *len, char *why, size_t whylen)
{
	char buf[PROF_ID_MAX];
	int rc = -EINVAL;
	X509_NAME *name = NULL;
	unsigned char *der = NULL;
	size_t n = strlen(text);
	if (n >= sizeof(buf)) {
		snprintf(why, whylen, "distinguished name is too long");
		return -EINVAL;
	}
	name = X509_NAME_new();
	if (!name) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	const char *p = text;
	int rdns = 0;
	while (*p) {
		/* One "ATTR=value" up to an unescaped comma. */
		size_t k = 0;
		for (; *p && *p != ','; p++) {
			if (*p == '\\' && (p[1] == ',' || p[1] == '\\'))
				p++;
			buf[k++] = *p;
		}
		buf[k] = '\0';
		if (*p == ',')
			p++;
		char *eq = strchr(buf, '=');
		if (!eq) {
			snprintf(why, whylen, "'%.40s' in the distinguished name is not ATTR=value", trim(buf));
			goto out;
		}
		*eq = '\0';
		char *attr = trim(buf), *val = trim(eq + 1);
		int nid = NID_undef;
		for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
			if (strcasecmp(attr, attrs[i].name) == 0)
				nid = attrs[i].nid;
		if (nid == NID_undef) {
			snprintf(why, whylen, "unknown attribute '%.20s' in the distinguished name (allowed: " ALLOWED_ATTRS ")", attr);
			goto out;
		}
		if (!*val) {
			snprintf(why, whylen, "empty value for %.20s in the distinguished name", attr);
			goto out;
		}
		/* MBSTRING_UTF8 lets OpenSSL's string table pick the fixed type
		 * of C, E and DC (and UTF8String for the rest). */
		int type = (nid != NID_countryName && nid != NID_pkcs9_emailAddress &&
			    nid != NID_domainComponent && printable(val)) ? V_ASN1_PRINTABLESTRING : MBSTRING_UTF8;
		if (!X509_NAME_add_entry_by_NID(name, nid, type, (const unsigned char *)val, -1, -1, 0)) {
			snprintf(why, whylen, "bad value '%.40s' for %.20s in the distinguished name%s", val, attr,
				 nid == NID_countryName ? " (C is a two-letter country code)" : "");
			goto out;
		}
		rdns++;
	}
	if (!rdns) {
		snprintf(why, whylen, "empty distinguished name");
		goto out;
	}
	int dl = i2d_X509_NAME(name, &der);
	if (dl <= 0) {
		snprintf(why, whylen, "cannot encode the distinguished name");
		goto out;
	}
	if ((size_t)dl > cap) {
		snprintf(why, whylen, "distinguished name is longer than %zu bytes once encoded", cap);
		goto out;
	}
	memcpy(out, der, (size_t)dl);
	*len = (size_t)dl;
	rc = 0;
out:
	OPENSSL_free(der);
	X509_NAME_free(name);
	return rc;
}
