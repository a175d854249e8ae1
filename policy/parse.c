/* parse.c — the profile file format: a streaming parser (init, line,
 * finish), value checks, defaults and cross-field checks.
 *
 * Format: "[Section]" headers, "Key = Value" lines, "#" comments (a whole
 * line, or after whitespace).  A value may be written in double quotes
 * (\" and \\ escapes) to keep "#" or surrounding spaces.  Keys, sections
 * and keywords are matched without regard to case. */
#include "policy/profile.h"
#include "policy/internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/hex.h"

enum section { SEC_NONE = 0, SEC_IKEV2, SEC_ROUTING, SEC_DNS, SEC_ONDEMAND, SEC_COUNT };
static const char *const section_names[] = { "", "IKEv2", "Routing", "DNS", "OnDemand" };

enum key {
	K_SERVER, K_REMOTE_ID, K_LOCAL_ID, K_AUTH_METHOD, K_SHARED_SECRET, K_SHARED_SECRET_FILE,
	K_CERT_FILE, K_KEY_FILE, K_CA_FILE, K_CERT_CN, K_CERT_ISSUER_CN, K_USE_EAP,
	K_USERNAME, K_PASSWORD, K_PASSWORD_FILE, K_IKE_PROPOSALS, K_CHILD_PROPOSALS,
	K_ENABLE_PFS, K_IKE_LIFETIME, K_CHILD_LIFETIME, K_REKEY_MARGIN, K_DPD,
	K_DISABLE_MOBIKE, K_DISABLE_REDIRECT, K_REVOCATION, K_STRICT_REVOCATION,
	K_INTERNAL_SUBNET, K_DISCONNECT_ON_SLEEP, K_MTU,
	K_INCLUDE_ALL, K_EXCLUDE_LOCAL, K_INCLUDED_ROUTES, K_EXCLUDED_ROUTES,
	K_DNS_MODE, K_DNS_SERVERS, K_SEARCH_DOMAINS, K_MATCH_DOMAINS,
	K_OD_ENABLED, K_OD_RULE,
	K_COUNT
};

struct keydef {
	const char *name;
	enum section sec;
};

static const struct keydef keys[K_COUNT] = {
	[K_SERVER] = { "Server", SEC_IKEV2 },
	[K_REMOTE_ID] = { "RemoteIdentifier", SEC_IKEV2 },
	[K_LOCAL_ID] = { "LocalIdentifier", SEC_IKEV2 },
	[K_AUTH_METHOD] = { "AuthenticationMethod", SEC_IKEV2 },
	[K_SHARED_SECRET] = { "SharedSecret", SEC_IKEV2 },
	[K_SHARED_SECRET_FILE] = { "SharedSecretFile", SEC_IKEV2 },
	[K_CERT_FILE] = { "CertificateFile", SEC_IKEV2 },
	[K_KEY_FILE] = { "PrivateKeyFile", SEC_IKEV2 },
	[K_CA_FILE] = { "ServerCertificateAuthorityFile", SEC_IKEV2 },
	[K_CERT_CN] = { "ServerCertificateCommonName", SEC_IKEV2 },
	[K_CERT_ISSUER_CN] = { "ServerCertificateIssuerCommonName", SEC_IKEV2 },
	[K_USE_EAP] = { "UseExtendedAuthentication", SEC_IKEV2 },
	[K_USERNAME] = { "Username", SEC_IKEV2 },
	[K_PASSWORD] = { "Password", SEC_IKEV2 },
	[K_PASSWORD_FILE] = { "PasswordFile", SEC_IKEV2 },
	[K_IKE_PROPOSALS] = { "IKEProposals", SEC_IKEV2 },
	[K_CHILD_PROPOSALS] = { "ChildProposals", SEC_IKEV2 },
	[K_ENABLE_PFS] = { "EnablePFS", SEC_IKEV2 },
	[K_IKE_LIFETIME] = { "IKELifetime", SEC_IKEV2 },
	[K_CHILD_LIFETIME] = { "ChildLifetime", SEC_IKEV2 },
	[K_REKEY_MARGIN] = { "RekeyMargin", SEC_IKEV2 },
	[K_DPD] = { "DeadPeerDetectionRate", SEC_IKEV2 },
	[K_DISABLE_MOBIKE] = { "DisableMOBIKE", SEC_IKEV2 },
	[K_DISABLE_REDIRECT] = { "DisableRedirect", SEC_IKEV2 },
	[K_REVOCATION] = { "EnableRevocationCheck", SEC_IKEV2 },
	[K_STRICT_REVOCATION] = { "StrictRevocationCheck", SEC_IKEV2 },
	[K_INTERNAL_SUBNET] = { "UseConfigurationAttributeInternalIPSubnet", SEC_IKEV2 },
	[K_DISCONNECT_ON_SLEEP] = { "DisconnectOnSleep", SEC_IKEV2 },
	[K_MTU] = { "MTU", SEC_IKEV2 },
	[K_INCLUDE_ALL] = { "IncludeAllNetworks", SEC_ROUTING },
	[K_EXCLUDE_LOCAL] = { "ExcludeLocalNetworks", SEC_ROUTING },
	[K_INCLUDED_ROUTES] = { "IncludedRoutes", SEC_ROUTING },
	[K_EXCLUDED_ROUTES] = { "ExcludedRoutes", SEC_ROUTING },
	[K_DNS_MODE] = { "Mode", SEC_DNS },
	[K_DNS_SERVERS] = { "Servers", SEC_DNS },
	[K_SEARCH_DOMAINS] = { "SearchDomains", SEC_DNS },
	[K_MATCH_DOMAINS] = { "MatchDomains", SEC_DNS },
	[K_OD_ENABLED] = { "Enabled", SEC_ONDEMAND },
	[K_OD_RULE] = { "Rule", SEC_ONDEMAND },
};

#define DEFAULT_IKE_PROPOSALS \
	"aes256gcm16-prfsha256-x25519, aes128gcm16-prfsha256-x25519, " \
	"chacha20poly1305-prfsha256-x25519, aes256gcm16-prfsha384-ecp384, " \
	"aes256gcm16-prfsha256-ecp256, aes256-sha256-modp2048, aes128-sha256-modp2048"
#define DEFAULT_CHILD_PROPOSALS \
	"aes256gcm16, aes128gcm16, chacha20poly1305, aes256-sha256, aes128-sha256"

_Static_assert(K_COUNT <= 64, "struct prof_parser has room for 64 keys");

static bool seen_get(const struct prof_parser *ps, enum key k)
{
	return ps->seen[k / 64] & (1ull << (k % 64));
}

static void seen_set(struct prof_parser *ps, enum key k)
{
	ps->seen[k / 64] |= 1ull << (k % 64);
}

/* ------------------------------------------------------------ errors */

static int fail(struct prof_parser *ps, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct prof_parser *ps, const char *key, const char *fmt, ...)
{
	char msg[PVPN_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (key)
		err_set(&ps->err, -EINVAL, "%s:%u: %s: %s", ps->file, ps->lineno, key, msg);
	else
		err_set(&ps->err, -EINVAL, "%s:%u: %s", ps->file, ps->lineno, msg);
	ps->rc = -EINVAL;
	return ps->rc;
}

/* Errors found in finish have no line of their own. */
static int fail_end(struct prof_parser *ps, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_end(struct prof_parser *ps, const char *key, const char *fmt, ...)
{
	char msg[PVPN_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Point at the line that set the key, when it was set. */
	unsigned line = 0;
	for (int k = 0; k < K_COUNT; k++)
		if (strcmp(keys[k].name, key) == 0 && seen_get(ps, (enum key)k))
			line = ps->key_line[k];
	if (line)
		err_set(&ps->err, -EINVAL, "%s:%u: %s: %s", ps->file, line, key, msg);
	else
		err_set(&ps->err, -EINVAL, "%s: %s: %s", ps->file, key, msg);
	ps->rc = -EINVAL;
	return ps->rc;
}

/* ------------------------------------------------------------ values */

static int parse_bool(struct prof_parser *ps, const char *key, const char *v, bool *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "on") || !strcmp(v, "1"))
		*out = true;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcasecmp(v, "off") || !strcmp(v, "0"))
		*out = false;
	else
		return fail(ps, key, "bad value '%.40s' (allowed: yes, no)", v);
	return 0;
}

static int copy_text(struct prof_parser *ps, const char *key, const char *v, char *dst, size_t cap)
{
	size_t n = strlen(v);
	if (n >= cap)
		return fail(ps, key, "value is longer than %zu bytes", cap - 1);
	memcpy(dst, v, n + 1);
	return 0;
}

static bool host_ok(const char *h)
{
	struct prof_addr a;
	if (prof_parse_addr(h, &a))
		return true;
	/* RFC 1123 host name; a trailing dot is fine. */
	return prof_domain_ok(h, false) && !strchr(h, '_');
}

static int parse_server(struct prof_parser *ps, const char *key, const char *v)
{
	struct prof_profile *p = ps->out;
	char host[PROF_HOST_MAX];
	const char *port = NULL;
	size_t hl;
	if (v[0] == '[') {
		/* "[2001:db8::1]:4500" — RFC 3986 §3.2.2 style brackets. */
		const char *close = strchr(v, ']');
		if (!close)
			return fail(ps, key, "bad value '%.60s': missing ']' (allowed: HOST, HOST:PORT, [IPV6]:PORT)", v);
		hl = (size_t)(close - v - 1);
		if (hl >= sizeof(host))
			return fail(ps, key, "host name is too long");
		memcpy(host, v + 1, hl);
		host[hl] = '\0';
		struct prof_addr a;
		if (!prof_parse_addr(host, &a) || a.family != AF_INET6)
			return fail(ps, key, "bad value '%.60s': only an IPv6 address goes in brackets", v);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			return fail(ps, key, "bad value '%.60s' (allowed: HOST, HOST:PORT, [IPV6]:PORT)", v);
	} else {
		const char *c = strchr(v, ':');
		if (c && strchr(c + 1, ':')) {
			/* Several colons: a bare IPv6 address, no port. */
			hl = strlen(v);
		} else {
			hl = c ? (size_t)(c - v) : strlen(v);
			port = c ? c + 1 : NULL;
		}
		if (hl >= sizeof(host))
			return fail(ps, key, "host name is too long");
		memcpy(host, v, hl);
		host[hl] = '\0';
	}
	if (!host[0] || !host_ok(host))
		return fail(ps, key, "bad host '%.60s' (allowed: a DNS name, an IPv4 address, an IPv6 address)", host);
	p->server_port = 500;
	if (port) {
		unsigned long n = 0;
		const char *d = port;
		if (!*d || strlen(d) > 5)
			return fail(ps, key, "bad port '%.20s' (allowed: 1-65535)", port);
		for (; *d; d++) {
			if (!isdigit((unsigned char)*d))
				return fail(ps, key, "bad port '%.20s' (allowed: 1-65535)", port);
			n = n * 10 + (unsigned long)(*d - '0');
		}
		if (n < 1 || n > 65535)
			return fail(ps, key, "bad port '%.20s' (allowed: 1-65535)", port);
		p->server_port = (uint16_t)n;
	}
	strcpy(p->server_host, host);
	return 0;
}

/* Identifier: "fqdn:", "email:", "ipv4:", "ipv6:", "dn:", "keyid:" prefix,
 * or detected from the text (RFC 7296 §3.5 ID types). */
static int id_from_text(const char *v, struct prof_id *id, char *why, size_t whylen)
{
	static const struct { const char *pfx; enum prof_id_type t; } pfx[] = {
		{ "fqdn:", PROF_ID_FQDN }, { "email:", PROF_ID_RFC822_ADDR },
		{ "ipv4:", PROF_ID_IPV4_ADDR }, { "ipv6:", PROF_ID_IPV6_ADDR },
		{ "dn:", PROF_ID_DER_ASN1_DN }, { "keyid:", PROF_ID_KEY_ID },
	};
	memset(id, 0, sizeof(*id));
	const char *t = v;
	for (size_t i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++) {
		size_t n = strlen(pfx[i].pfx);
		if (strncasecmp(v, pfx[i].pfx, n) == 0) {
			id->type = pfx[i].t;
			id->type_explicit = true;
			t = v + n;
			break;
		}
	}
	if (!*t) {
		snprintf(why, whylen, "empty identifier");
		return -EINVAL;
	}
	if (strlen(t) >= PROF_ID_MAX) {
		snprintf(why, whylen, "identifier is longer than %d bytes", PROF_ID_MAX - 1);
		return -EINVAL;
	}
	struct prof_addr a;
	bool is_addr = prof_parse_addr(t, &a);
	if (!id->type_explicit) {
		if (is_addr)
			id->type = a.family == AF_INET ? PROF_ID_IPV4_ADDR : PROF_ID_IPV6_ADDR;
		else if (strchr(t, '='))
			id->type = PROF_ID_DER_ASN1_DN;
		else if (strchr(t, '@'))
			id->type = PROF_ID_RFC822_ADDR;
		else
			id->type = PROF_ID_FQDN;
	}
	strcpy(id->text, t);
	switch (id->type) {
	case PROF_ID_IPV4_ADDR:
	case PROF_ID_IPV6_ADDR:
		if (!is_addr || (a.family == AF_INET) != (id->type == PROF_ID_IPV4_ADDR)) {
			snprintf(why, whylen, "'%.60s' is not an %s address", t,
				 id->type == PROF_ID_IPV4_ADDR ? "IPv4" : "IPv6");
			return -EINVAL;
		}
		id->data_len = prof_af_len(a.family);
		memcpy(id->data, a.addr, id->data_len);
		return 0;
	case PROF_ID_KEY_ID:
		if (t[0] == '#') {
			int n = hex_decode(id->data, sizeof(id->data), t + 1, strlen(t + 1));
			if (n <= 0) {
				snprintf(why, whylen, "'%.60s' is not hex after '#'", t);
				return -EINVAL;
			}
			id->data_len = (size_t)n;
			return 0;
		}
		break;
	case PROF_ID_DER_ASN1_DN:
		if (!strchr(t, '=')) {
			snprintf(why, whylen, "'%.60s' is not a distinguished name (e.g. C=CH, O=Example, CN=vpn)", t);
			return -EINVAL;
		}
		return prof_dn_to_der(t, id->data, sizeof(id->data), &id->data_len, why, whylen);
	default:
		/* FQDN and RFC822: printable ASCII without spaces. */
		for (const char *c = t; *c; c++)
			if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f) {
				snprintf(why, whylen, "'%.60s' has spaces or non-ASCII bytes (write keyid: or dn: for those)", t);
				return -EINVAL;
			}
		break;
	}
	id->data_len = strlen(t);
	memcpy(id->data, t, id->data_len);
	return 0;
}

static int parse_id(struct prof_parser *ps, const char *key, const char *v, struct prof_id *id)
{
	char why[160];
	if (id_from_text(v, id, why, sizeof(why)))
		return fail(ps, key, "%s (allowed: an FQDN, user@domain, an address, or fqdn: email: ipv4: ipv6: dn: keyid: prefixed)", why);
	return 0;
}

static int parse_path(struct prof_parser *ps, const char *key, const char *v, char *dst)
{
	if (strlen(v) >= PROF_PATH_MAX)
		return fail(ps, key, "path is longer than %d bytes", PROF_PATH_MAX - 1);
	strcpy(dst, v);
	return 0;
}

static int parse_duration_key(struct prof_parser *ps, const char *key, const char *v, uint32_t *out,
			      uint32_t min, uint32_t max)
{
	uint32_t s;
	char a[32], b[32];
	prof_duration_str(min, a, sizeof(a));
	prof_duration_str(max, b, sizeof(b));
	if (!prof_parse_duration(v, &s))
		return fail(ps, key, "bad duration '%.40s' (allowed: N, Ns, Nm, Nh, Nd between %s and %s)", v, a, b);
	if (s < min || s > max)
		return fail(ps, key, "'%.40s' is out of range (allowed: %s to %s)", v, a, b);
	*out = s;
	return 0;
}

/* Items of a comma list, trimmed.  Returns the count or a negative error. */
static int split_list(struct prof_parser *ps, const char *key, const char *v, char (*items)[PROF_DOMAIN_MAX],
		      size_t max)
{
	size_t n = 0;
	const char *p = v;
	while (1) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);
		while (len && isspace((unsigned char)*p)) {
			p++;
			len--;
		}
		while (len && isspace((unsigned char)p[len - 1]))
			len--;
		if (!len)
			return fail(ps, key, "empty item in the list (items are separated by single commas)");
		if (n >= max)
			return fail(ps, key, "more than %zu items", max);
		if (len >= PROF_DOMAIN_MAX)
			return fail(ps, key, "item '%.40s...' is too long", p);
		memcpy(items[n], p, len);
		items[n][len] = '\0';
		n++;
		if (!c)
			break;
		p = c + 1;
	}
	return (int)n;
}

static int parse_prefix_list(struct prof_parser *ps, const char *key, const char *v,
			     struct prof_prefix *out, size_t *n_out)
{
	char items[PROF_MAX_ROUTES][PROF_DOMAIN_MAX];
	int n = split_list(ps, key, v, items, PROF_MAX_ROUTES);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		struct pvpn_err e = { 0 };
		if (prof_parse_prefix(items[i], &out[i], &e))
			return fail(ps, key, "%s", e.msg);
		for (int j = 0; j < i; j++)
			if (prof_prefix_eq(&out[j], &out[i]))
				return fail(ps, key, "'%s' is listed twice", items[i]);
	}
	*n_out = (size_t)n;
	return 0;
}

static int parse_domain_list(struct prof_parser *ps, const char *key, const char *v,
			     char (*out)[PROF_DOMAIN_MAX], size_t *n_out)
{
	int n = split_list(ps, key, v, out, PROF_MAX_DNS);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++)
		if (!prof_domain_ok(out[i], false))
			return fail(ps, key, "'%.60s' is not a domain name (allowed: letters, digits, '-', '_' and dots)", out[i]);
	*n_out = (size_t)n;
	return 0;
}

static int pick(struct prof_parser *ps, const char *key, const char *v, const char *const *names,
		size_t n, const char *allowed)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && strcasecmp(v, names[i]) == 0)
			return (int)i;
	const char *c = prof_closest(v, names, n);
	if (c)
		return fail(ps, key, "bad value '%.40s', did you mean '%s'? (allowed: %s)", v, c, allowed);
	return fail(ps, key, "bad value '%.40s' (allowed: %s)", v, allowed);
}

static const char *const auth_names[] = { "None", "SharedSecret", "Certificate" };
static const char *const dpd_names[] = { "none", "low", "medium", "high" };
static const char *const dns_names[] = { "auto", "resolved", "resolvconf", "file", "off" };

/* Whether "Key = value", quoted and escaped as serialise writes it,
 * stays within one line. */
static bool fits_one_line(const char *key, const char *v)
{
	size_t n = strlen(key) + 3 + 2 + strlen(v);
	for (const char *c = v; *c; c++)
		n += *c == '"' || *c == '\\';
	return n <= PROF_LINE_MAX;
}

/* ---------------------------------------------------------- one key */

static int set_key(struct prof_parser *ps, enum key k, const char *v)
{
	struct prof_profile *p = ps->out;
	const char *key = keys[k].name;
	int rc = 0, i;
	switch (k) {
	case K_SERVER: return parse_server(ps, key, v);
	case K_REMOTE_ID:
		p->remote_id_explicit = true;
		return parse_id(ps, key, v, &p->remote_id);
	case K_LOCAL_ID: return parse_id(ps, key, v, &p->local_id);
	case K_AUTH_METHOD:
		i = pick(ps, key, v, auth_names, 3, "SharedSecret, Certificate, None");
		if (i < 0)
			return i;
		p->auth_method = (enum prof_auth_method)i;
		return 0;
	case K_SHARED_SECRET:
		if (!fits_one_line(key, v))
			return fail(ps, key, "too long for one line once quoted (put it in SharedSecretFile)");
		if (secret_set(&p->shared_secret, v, strlen(v)))
			return fail(ps, key, "out of memory");
		return 0;
	case K_SHARED_SECRET_FILE: return parse_path(ps, key, v, p->shared_secret_file);
	case K_CERT_FILE: return parse_path(ps, key, v, p->certificate_file);
	case K_KEY_FILE: return parse_path(ps, key, v, p->private_key_file);
	case K_CA_FILE: return parse_path(ps, key, v, p->server_ca_file);
	case K_CERT_CN: return copy_text(ps, key, v, p->server_cert_cn, sizeof(p->server_cert_cn));
	case K_CERT_ISSUER_CN:
		return copy_text(ps, key, v, p->server_cert_issuer_cn, sizeof(p->server_cert_issuer_cn));
	case K_USE_EAP: return parse_bool(ps, key, v, &p->use_eap);
	case K_USERNAME: return copy_text(ps, key, v, p->username, sizeof(p->username));
	case K_PASSWORD:
		if (!fits_one_line(key, v))
			return fail(ps, key, "too long for one line once quoted (put it in PasswordFile)");
		if (secret_set(&p->password, v, strlen(v)))
			return fail(ps, key, "out of memory");
		return 0;
	case K_PASSWORD_FILE: return parse_path(ps, key, v, p->password_file);
	case K_IKE_PROPOSALS:
	case K_CHILD_PROPOSALS: {
		struct pvpn_err e = { 0 };
		bool ike = k == K_IKE_PROPOSALS;
		rc = prof_parse_proposals(v, ike, ike ? p->ike_proposals : p->child_proposals,
					  PROF_MAX_PROPOSALS, ike ? &p->n_ike_proposals : &p->n_child_proposals, &e);
		if (rc)
			return fail(ps, key, "%s", e.msg);
		return 0;
	}
	case K_ENABLE_PFS: return parse_bool(ps, key, v, &p->enable_pfs);
	/* RFC 7296 §2.8 leaves lifetimes to policy; 60 s keeps a rekey storm
	 * from being configured by mistake, 30 days is longer than anyone
	 * should keep keys. */
	case K_IKE_LIFETIME: return parse_duration_key(ps, key, v, &p->ike_lifetime_s, 60, 30 * 86400);
	case K_CHILD_LIFETIME: return parse_duration_key(ps, key, v, &p->child_lifetime_s, 60, 30 * 86400);
	case K_REKEY_MARGIN: return parse_duration_key(ps, key, v, &p->rekey_margin_s, 10, 86400);
	case K_DPD:
		i = pick(ps, key, v, dpd_names, 4, "none, low, medium, high");
		if (i < 0)
			return i;
		p->dpd_rate = (enum prof_dpd_rate)i;
		return 0;
	case K_DISABLE_MOBIKE: return parse_bool(ps, key, v, &p->disable_mobike);
	case K_DISABLE_REDIRECT: return parse_bool(ps, key, v, &p->disable_redirect);
	case K_REVOCATION: return parse_bool(ps, key, v, &p->enable_revocation_check);
	case K_STRICT_REVOCATION: return parse_bool(ps, key, v, &p->strict_revocation_check);
	case K_INTERNAL_SUBNET: return parse_bool(ps, key, v, &p->use_internal_subnet);
	case K_DISCONNECT_ON_SLEEP: return parse_bool(ps, key, v, &p->disconnect_on_sleep);
	case K_MTU: {
		if (!strcasecmp(v, "auto")) {
			p->mtu = 0;
			return 0;
		}
		unsigned long n = 0;
		const char *d = v;
		/* 576 is the IPv4 minimum reassembly size (RFC 791), 9000 a
		 * jumbo frame; the kernel refuses an IPv6 address on less than
		 * 1280 (RFC 8200 §5), which the daemon reports. */
		if (strlen(v) > 5)
			goto bad_mtu;
		for (; *d; d++) {
			if (!isdigit((unsigned char)*d))
				goto bad_mtu;
			n = n * 10 + (unsigned long)(*d - '0');
		}
		if (n < 576 || n > 9000)
			goto bad_mtu;
		p->mtu = (uint16_t)n;
		return 0;
bad_mtu:
		return fail(ps, key, "bad value '%.40s' (allowed: auto, or 576-9000)", v);
	}
	case K_INCLUDE_ALL: return parse_bool(ps, key, v, &p->include_all_networks);
	case K_EXCLUDE_LOCAL: return parse_bool(ps, key, v, &p->exclude_local_networks);
	case K_INCLUDED_ROUTES: return parse_prefix_list(ps, key, v, p->included, &p->n_included);
	case K_EXCLUDED_ROUTES: return parse_prefix_list(ps, key, v, p->excluded, &p->n_excluded);
	case K_DNS_MODE:
		i = pick(ps, key, v, dns_names, 5, "auto, resolved, resolvconf, file, off");
		if (i < 0)
			return i;
		p->dns_mode = (enum prof_dns_mode)i;
		return 0;
	case K_DNS_SERVERS: {
		char items[PROF_MAX_DNS][PROF_DOMAIN_MAX];
		int n = split_list(ps, key, v, items, PROF_MAX_DNS);
		if (n < 0)
			return n;
		for (int j = 0; j < n; j++)
			if (!prof_parse_addr(items[j], &p->dns_servers[j]))
				return fail(ps, key, "'%.60s' is not an IPv4 or IPv6 address", items[j]);
		p->n_dns_servers = (size_t)n;
		return 0;
	}
	case K_SEARCH_DOMAINS: return parse_domain_list(ps, key, v, p->search_domains, &p->n_search_domains);
	case K_MATCH_DOMAINS: return parse_domain_list(ps, key, v, p->match_domains, &p->n_match_domains);
	case K_OD_ENABLED: return parse_bool(ps, key, v, &p->on_demand);
	case K_OD_RULE: {
		struct pvpn_err e = { 0 };
		if (p->n_rules >= PROF_MAX_RULES)
			return fail(ps, key, "more than %d rules", PROF_MAX_RULES);
		if (prof_parse_rule(v, &p->rules[p->n_rules], &e))
			/* e.msg starts with "Rule: " already. */
			return fail(ps, NULL, "%s", e.msg);
		/* Written back in canonical form (quotes added where needed),
		 * the rule must still fit one line, or serialise could not
		 * round-trip it. */
		char canon[PROF_LINE_MAX - 7];
		if (prof_rule_str(&p->rules[p->n_rules], canon, sizeof(canon))) {
			memset(&p->rules[p->n_rules], 0, sizeof(p->rules[0]));
			return fail(ps, key, "too long for one line (split it into several rules)");
		}
		p->n_rules++;
		return 0;
	}
	case K_COUNT: break;
	}
	return rc;
}

/* ------------------------------------------------------------ lines */

void prof_parser_init(struct prof_parser *ps, struct prof_profile *out,
		      const char *file_for_errors, const char *base_dir, unsigned flags)
{
	memset(ps, 0, sizeof(*ps));
	ps->out = out;
	ps->flags = flags;
	snprintf(ps->file, sizeof(ps->file), "%s", file_for_errors ? file_for_errors : "profile");
	prof_init(out);
	if (base_dir)
		snprintf(out->base_dir, sizeof(out->base_dir), "%s", base_dir);
}

/* Unquote a "..." value in place; 0 or -EINVAL. */
static int unquote(char *v)
{
	char *r = v + 1, *w = v;
	while (*r && *r != '"') {
		if (*r == '\\') {
			r++;
			if (*r != '"' && *r != '\\')
				return -EINVAL;
		}
		*w++ = *r++;
	}
	if (*r != '"' || r[1])
		return -EINVAL;
	*w = '\0';
	return 0;
}

static int parse_line(struct prof_parser *ps, const char *line, size_t len, char *buf);

int prof_parser_line(struct prof_parser *ps, const char *line, size_t len)
{
	/* The line may hold a SharedSecret or Password: wipe the copy. */
	char buf[PROF_LINE_MAX + 1];
	int rc = parse_line(ps, line, len, buf);
	secret_wipe(buf, sizeof(buf));
	return rc;
}

static int parse_line(struct prof_parser *ps, const char *line, size_t len, char *buf)
{
	if (ps->rc)
		return ps->rc;
	ps->lineno++;
	if (len && line[len - 1] == '\n')
		len--;
	if (len && line[len - 1] == '\r')
		len--;
	if (len > PROF_LINE_MAX)
		return fail(ps, NULL, "line is longer than %d bytes", PROF_LINE_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(ps, NULL, "control character 0x%02x in the line (profiles are text)", c);
	}
	memcpy(buf, line, len);
	buf[len] = '\0';
	char *s = buf;
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	if (!*s || *s == '#' || *s == ';')
		return 0;
	if (*s == '[') {
		char *close = strchr(s, ']');
		if (!close)
			return fail(ps, NULL, "section header '%.40s' lacks its ']'", s);
		char *after = close + 1;
		while (isspace((unsigned char)*after))
			after++;
		if (*after && *after != '#')
			return fail(ps, NULL, "text after the section header '%.40s'", s);
		*close = '\0';
		char *name = s + 1;
		for (int i = 1; i < SEC_COUNT; i++)
			if (strcasecmp(name, section_names[i]) == 0) {
				ps->section = i;
				return 0;
			}
		const char *c = prof_closest(name, section_names + 1, SEC_COUNT - 1);
		if (c)
			return fail(ps, NULL, "unknown section '[%.40s]', did you mean '[%s]'? (allowed: [IKEv2], [Routing], [DNS], [OnDemand])", name, c);
		return fail(ps, NULL, "unknown section '[%.40s]' (allowed: [IKEv2], [Routing], [DNS], [OnDemand])", name);
	}
	char *eq = strchr(s, '=');
	if (!eq)
		return fail(ps, NULL, "expected 'Key = Value' or '[Section]', got '%.40s'", s);
	char *ke = eq;
	while (ke > s && isspace((unsigned char)ke[-1]))
		ke--;
	*ke = '\0';
	char *v = eq + 1;
	while (isspace((unsigned char)*v))
		v++;
	/* A comment starts at a '#' that opens the value or follows
	 * whitespace, outside double quotes. */
	bool q = false;
	for (char *c = v; *c; c++) {
		if (q && *c == '\\' && c[1]) {
			c++;
			continue;
		}
		if (*c == '"')
			q = !q;
		else if (!q && *c == '#' && (c == v || isspace((unsigned char)c[-1]))) {
			*c = '\0';
			break;
		}
	}
	e = v + strlen(v);
	while (e > v && isspace((unsigned char)e[-1]))
		*--e = '\0';
	if (!*s)
		return fail(ps, NULL, "'= %.40s' has no key before the '='", v);

	int k = -1;
	for (int i = 0; i < K_COUNT; i++)
		if (strcasecmp(s, keys[i].name) == 0) {
			k = i;
			break;
		}
	if (k < 0) {
		const char *names[K_COUNT];
		size_t n = 0;
		for (int i = 0; i < K_COUNT; i++)
			if (!ps->section || (int)keys[i].sec == ps->section)
				names[n++] = keys[i].name;
		const char *c = prof_closest(s, names, n);
		if (!c) {
			for (int i = 0; i < K_COUNT; i++)
				names[i] = keys[i].name;
			c = prof_closest(s, names, K_COUNT);
		}
		if (c)
			return fail(ps, NULL, "unknown key '%.40s', did you mean '%s'?", s, c);
		return fail(ps, NULL, "unknown key '%.40s' in [%s] (see pvpn.conf(5))", s,
			    ps->section ? section_names[ps->section] : "no section");
	}
	if (!ps->section)
		return fail(ps, keys[k].name, "key before any section (put it under [%s])", section_names[keys[k].sec]);
	if ((int)keys[k].sec != ps->section)
		return fail(ps, keys[k].name, "belongs in [%s], not [%s]", section_names[keys[k].sec],
			    section_names[ps->section]);
	if (k != K_OD_RULE && seen_get(ps, (enum key)k))
		return fail(ps, keys[k].name, "given twice (keep one; lists go on one line, separated by commas)");
	seen_set(ps, (enum key)k);
	ps->key_line[k] = ps->lineno;
	if (!*v)
		return fail(ps, keys[k].name, "empty value (see pvpn.conf(5) for what is allowed)");
	if (*v == '"' && k != K_OD_RULE && unquote(v))
		return fail(ps, keys[k].name, "bad quoting (a quoted value ends with '\"'; inside, write \\\" and \\\\)");
	if (!*v)
		return fail(ps, keys[k].name, "empty value (see pvpn.conf(5) for what is allowed)");
	return set_key(ps, (enum key)k, v);
}

/* ------------------------------------------------------------ files */

/* Resolve a profile path: absolute as is, relative against base_dir. */
static int resolve(struct prof_parser *ps, const char *key, const char *path, char *out, size_t cap)
{
	if (path[0] == '/') {
		snprintf(out, cap, "%s", path);
		return 0;
	}
	if (!ps->out->base_dir[0])
		return fail_end(ps, key, "relative path '%.60s' cannot be resolved here (write an absolute path)", path);
	int n = snprintf(out, cap, "%s/%s", ps->out->base_dir, path);
	if (n < 0 || (size_t)n >= cap)
		return fail_end(ps, key, "path '%.60s' is too long", path);
	return 0;
}

/* Read a secret file: it must be a regular file nobody but its owner can
 * read or write (checked on the opened descriptor, so a swapped path
 * cannot slip past). */
static int load_secret(struct prof_parser *ps, const char *key, const char *path, struct secret *out,
		       bool strip_newline)
{
	char full[PATH_MAX];
	int rc = resolve(ps, key, path, full, sizeof(full));
	if (rc)
		return rc;
	uint8_t *buf = NULL;
	size_t cap = PROF_SECRET_MAX + 1, n = 0;
	int fd = open(full, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		fail_end(ps, key, "cannot open '%.80s': %s", full, strerror(errno));
		goto out;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		fail_end(ps, key, "cannot stat '%.80s': %s", full, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = fail_end(ps, key, "'%.80s' is not a regular file", full);
		goto out;
	}
	if (st.st_mode & 077) {
		rc = fail_end(ps, key, "'%.80s' is accessible by group or others (mode %04o); run: chmod 600 '%.80s'",
			      full, (unsigned)(st.st_mode & 07777), full);
		goto out;
	}
	buf = malloc(cap);
	if (!buf) {
		rc = fail_end(ps, key, "out of memory");
		goto out;
	}
	while (n < cap) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			fail_end(ps, key, "cannot read '%.80s': %s", full, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > PROF_SECRET_MAX) {
		rc = fail_end(ps, key, "'%.80s' is larger than %d bytes", full, PROF_SECRET_MAX);
		goto out;
	}
	/* A file written with echo ends in a newline that is not part of the
	 * secret. */
	if (strip_newline && n && buf[n - 1] == '\n')
		n--;
	if (strip_newline && n && buf[n - 1] == '\r')
		n--;
	if (n == 0) {
		rc = fail_end(ps, key, "'%.80s' is empty", full);
		goto out;
	}
	if (secret_set(out, buf, n))
		rc = fail_end(ps, key, "out of memory");
out:
	if (buf) {
		secret_wipe(buf, cap);
		free(buf);
	}
	if (fd >= 0)
		close(fd);
	if (rc)
		ps->rc = rc < 0 ? rc : -EINVAL;
	return rc;
}

static int check_readable(struct prof_parser *ps, const char *key, const char *path)
{
	char full[PATH_MAX];
	int rc = resolve(ps, key, path, full, sizeof(full));
	if (rc)
		return rc;
	int fd = open(full, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return fail_end(ps, key, "cannot open '%.80s': %s", full, strerror(errno));
	struct stat st;
	rc = 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		rc = fail_end(ps, key, "'%.80s' is not a regular file", full);
	close(fd);
	return rc;
}

/* ------------------------------------------------------------ finish */

static void add_group(struct prof_proposal *pr, uint16_t g)
{
	for (size_t i = 0; i < pr->n_dh; i++)
		if (pr->dh[i] == g)
			return;
	if (pr->n_dh < PROF_MAX_DH)
		pr->dh[pr->n_dh++] = g;
}

static int finish_checks(struct prof_parser *ps)
{
	struct prof_profile *p = ps->out;
	bool load = !(ps->flags & PROF_PARSE_NO_FILES);
	char a[64], b[64];

	if (!p->server_host[0])
		return fail_end(ps, "Server", "missing (every profile needs 'Server = HOST' in [IKEv2])");

	/* RemoteIdentifier defaults to the host part of Server, like Apple's
	 * remoteIdentifier falling back to serverAddress. */
	if (!p->remote_id_explicit) {
		char why[160];
		if (id_from_text(p->server_host, &p->remote_id, why, sizeof(why)))
			return fail_end(ps, "RemoteIdentifier", "%s", why);
	}

	bool has_psk = p->shared_secret.data || p->shared_secret_file[0];
	bool has_cert = p->certificate_file[0] || p->private_key_file[0];
	if (p->shared_secret.data && p->shared_secret_file[0])
		return fail_end(ps, "SharedSecret", "both SharedSecret and SharedSecretFile are given (keep one)");
	if (p->password.data && p->password_file[0])
		return fail_end(ps, "Password", "both Password and PasswordFile are given (keep one)");

	/* Without AuthenticationMethod, the credential given decides it. */
	if (!seen_get(ps, K_AUTH_METHOD)) {
		if (has_psk && has_cert)
			return fail_end(ps, "AuthenticationMethod", "missing, and both a shared secret and a certificate are given (say which one to use)");
		p->auth_method = has_psk ? PROF_AUTH_METHOD_SHARED_SECRET
			       : has_cert ? PROF_AUTH_METHOD_CERTIFICATE : PROF_AUTH_METHOD_NONE;
	}
	switch (p->auth_method) {
	case PROF_AUTH_METHOD_SHARED_SECRET:
		if (!has_psk)
			return fail_end(ps, "AuthenticationMethod", "SharedSecret needs 'SharedSecret = TEXT' or 'SharedSecretFile = PATH'");
		if (has_cert)
			return fail_end(ps, p->certificate_file[0] ? "CertificateFile" : "PrivateKeyFile",
					"given, but AuthenticationMethod = SharedSecret (remove it, or use Certificate)");
		break;
	case PROF_AUTH_METHOD_CERTIFICATE:
		if (!p->certificate_file[0] || !p->private_key_file[0])
			return fail_end(ps, "AuthenticationMethod", "Certificate needs both 'CertificateFile = PATH' and 'PrivateKeyFile = PATH'");
		if (has_psk)
			return fail_end(ps, p->shared_secret.data ? "SharedSecret" : "SharedSecretFile",
					"given, but AuthenticationMethod = Certificate (remove it, or use SharedSecret)");
		break;
	case PROF_AUTH_METHOD_NONE:
		/* Apple's .none: the client proves itself only through EAP. */
		if (!p->use_eap)
			return fail_end(ps, "AuthenticationMethod", "None needs 'UseExtendedAuthentication = yes' with Username and Password (or give a SharedSecret or Certificate)");
		if (has_psk)
			return fail_end(ps, p->shared_secret.data ? "SharedSecret" : "SharedSecretFile",
					"given, but AuthenticationMethod = None (remove it, or use SharedSecret)");
		if (has_cert)
			return fail_end(ps, p->certificate_file[0] ? "CertificateFile" : "PrivateKeyFile",
					"given, but AuthenticationMethod = None (remove it, or use Certificate)");
		break;
	}
	bool has_pw = p->password.data || p->password_file[0];
	if (p->use_eap && p->auth_method == PROF_AUTH_METHOD_CERTIFICATE) {
		/* EAP-TLS with the certificate (RFC 5216): Username, when
		 * given, answers EAP-Identity; a password is not used
		 * (pvpn.conf(5)). */
	} else if (p->use_eap) {
		if (!p->username[0])
			return fail_end(ps, "UseExtendedAuthentication", "yes needs 'Username = NAME'");
		if (!has_pw)
			return fail_end(ps, "UseExtendedAuthentication", "yes needs 'Password = TEXT' or 'PasswordFile = PATH'");
	} else if (p->username[0] || has_pw) {
		return fail_end(ps, p->username[0] ? "Username" : p->password.data ? "Password" : "PasswordFile",
				"given, but UseExtendedAuthentication is not yes (set it, or remove the EAP credentials)");
	}
	if (p->strict_revocation_check && !p->enable_revocation_check)
		return fail_end(ps, "StrictRevocationCheck", "yes needs 'EnableRevocationCheck = yes'");

	/* Proposals: defaults are modern AEAD with Curve25519 first, then ECP,
	 * then MODP-2048 for older servers. */
	struct pvpn_err e = { 0 };
	if (!p->n_ike_proposals &&
	    prof_parse_proposals(DEFAULT_IKE_PROPOSALS, true, p->ike_proposals, PROF_MAX_PROPOSALS,
				 &p->n_ike_proposals, &e))
		return fail_end(ps, "IKEProposals", "default: %s", e.msg);
	bool child_default = !p->n_child_proposals;
	if (child_default &&
	    prof_parse_proposals(DEFAULT_CHILD_PROPOSALS, false, p->child_proposals, PROF_MAX_PROPOSALS,
				 &p->n_child_proposals, &e))
		return fail_end(ps, "ChildProposals", "default: %s", e.msg);
	bool child_groups = false;
	for (size_t i = 0; i < p->n_child_proposals; i++)
		if (p->child_proposals[i].n_dh)
			child_groups = true;
	if (child_groups) {
		if (seen_get(ps, K_ENABLE_PFS) && !p->enable_pfs)
			return fail_end(ps, "EnablePFS", "no, but ChildProposals name DH groups (remove them, or set EnablePFS = yes)");
		p->enable_pfs = true;
	}
	if (p->enable_pfs) {
		/* Apple's enablePFS reuses the IKE SA's group; filling the IKE
		 * groups in makes that explicit for the engine.  RFC 7296 §1.3.1. */
		for (size_t i = 0; i < p->n_child_proposals; i++) {
			struct prof_proposal *c = &p->child_proposals[i];
			if (c->n_dh)
				continue;
			for (size_t j = 0; j < p->n_ike_proposals; j++)
				for (size_t g = 0; g < p->ike_proposals[j].n_dh; g++)
					add_group(c, p->ike_proposals[j].dh[g]);
		}
	}

	/* Rekeying starts rekey_margin before the hard lifetime; a lifetime
	 * not longer than the margin would rekey forever. */
	prof_duration_str(p->rekey_margin_s, b, sizeof(b));
	if (p->ike_lifetime_s <= p->rekey_margin_s) {
		prof_duration_str(p->ike_lifetime_s, a, sizeof(a));
		return fail_end(ps, "IKELifetime", "%s is not longer than RekeyMargin (%s)", a, b);
	}
	if (p->child_lifetime_s <= p->rekey_margin_s) {
		prof_duration_str(p->child_lifetime_s, a, sizeof(a));
		return fail_end(ps, "ChildLifetime", "%s is not longer than RekeyMargin (%s)", a, b);
	}

	/* Routing conflicts. */
	if (p->include_all_networks && p->n_included)
		return fail_end(ps, "IncludedRoutes", "conflicts with IncludeAllNetworks = yes (which sends everything; remove one)");
	for (size_t i = 0; i < p->n_excluded; i++) {
		for (size_t j = 0; j < p->n_included; j++) {
			if (prof_prefix_contains(&p->excluded[i], &p->included[j])) {
				prof_prefix_str(&p->excluded[i], a, sizeof(a));
				prof_prefix_str(&p->included[j], b, sizeof(b));
				if (prof_prefix_eq(&p->excluded[i], &p->included[j]))
					return fail_end(ps, "ExcludedRoutes", "%s is also in IncludedRoutes (keep it in one list)", a);
				return fail_end(ps, "ExcludedRoutes", "%s covers IncludedRoutes %s, so nothing of it would use the tunnel", a, b);
			}
		}
	}
	if (p->dns_mode == PROF_DNS_OFF && (p->n_dns_servers || p->n_search_domains || p->n_match_domains))
		return fail_end(ps, "Mode", "off, but Servers/SearchDomains/MatchDomains are given (remove them, or pick a mode)");
	if (p->on_demand && !p->n_rules)
		return fail_end(ps, "Enabled", "yes, but no 'Rule = ...' is given (add e.g. 'Rule = Connect')");

	if (load) {
		if (p->shared_secret_file[0] &&
		    load_secret(ps, "SharedSecretFile", p->shared_secret_file, &p->shared_secret, true))
			return ps->rc;
		if (p->password_file[0] && load_secret(ps, "PasswordFile", p->password_file, &p->password, true))
			return ps->rc;
		if (p->private_key_file[0] &&
		    load_secret(ps, "PrivateKeyFile", p->private_key_file, &p->private_key, false))
			return ps->rc;
		if (p->certificate_file[0] && check_readable(ps, "CertificateFile", p->certificate_file))
			return ps->rc;
		if (p->server_ca_file[0] && check_readable(ps, "ServerCertificateAuthorityFile", p->server_ca_file))
			return ps->rc;
	}
	return 0;
}

int prof_parser_finish(struct prof_parser *ps, struct pvpn_err *err)
{
	if (!ps->rc)
		finish_checks(ps);
	if (ps->rc) {
		if (err)
			*err = ps->err;
		prof_free(ps->out);
		return ps->rc;
	}
	err_clear(err);
	return 0;
}

int prof_parse_string(const char *name_for_errors, const char *text, size_t len,
		      const char *base_dir, unsigned flags, struct prof_profile *out,
		      struct pvpn_err *err)
{
	struct prof_parser ps;
	prof_parser_init(&ps, out, name_for_errors, base_dir, flags);
	size_t i = 0;
	while (i < len && !ps.rc) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) + 1 : len - i;
		prof_parser_line(&ps, text + i, n);
		i += n;
	}
	int rc = prof_parser_finish(&ps, err);
	secret_wipe(&ps, sizeof(ps));
	return rc;
}

int prof_parse_file(const char *path, unsigned flags, struct prof_profile *out, struct pvpn_err *err)
{
	char dir[PROF_PATH_MAX];
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	/* Resolve the folder so relative secret paths do not depend on the
	 * daemon's working directory later. */
	char real[PATH_MAX];
	if (realpath(dir, real) && strlen(real) < sizeof(dir))
		strcpy(dir, real);
	int rc = 0;
	char *buf = NULL;
	size_t cap = 0, n = 0;
	FILE *f = fopen(path, "re");
	if (!f) {
		rc = -errno;
		prof_init(out);
		return err_set(err, rc, "%s: cannot open: %s", path, strerror(errno));
	}
	struct prof_parser ps;
	prof_parser_init(&ps, out, base, dir, flags);
	ssize_t r;
	while ((r = getline(&buf, &cap, f)) >= 0 && !ps.rc) {
		n = (size_t)r;
		prof_parser_line(&ps, buf, n);
	}
	if (ferror(f) && !ps.rc) {
		rc = -EIO;
		err_set(err, rc, "%s: read error", path);
		prof_free(out);
		goto out;
	}
	rc = prof_parser_finish(&ps, err);
out:
	if (buf) {
		secret_wipe(buf, cap);
		free(buf);
	}
	secret_wipe(&ps, sizeof(ps));
	fclose(f);
	return rc;
}
