/* serialise.c — a profile back to profile text.  Keys come in one fixed
 * order with canonical spellings, so serialising twice gives the same
 * bytes and the text parses to an equal profile. */
#include "policy/profile.h"
#include "policy/internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct sbuf {
	char *p;
	size_t len, cap;
	int rc;
};

static void sb_grow(struct sbuf *b, size_t need)
{
	if (b->rc || b->len + need + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 1024;
	while (cap < b->len + need + 1)
		cap *= 2;
	/* Not realloc: the old buffer may hold a secret and must be wiped. */
	char *n = malloc(cap);
	if (!n) {
		b->rc = -ENOMEM;
		return;
	}
	if (b->p) {
		memcpy(n, b->p, b->len + 1);
		secret_wipe(b->p, b->cap);
		free(b->p);
	} else {
		n[0] = '\0';
	}
	b->p = n;
	b->cap = cap;
}

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	sb_grow(b, n);
	if (b->rc)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->rc = b->rc ? b->rc : -ENOSPC;
		return;
	}
	sb_put(b, tmp, (size_t)n);
}

/* "Key = value", quoting the value when plain text would not parse back
 * (leading/trailing space, '#', a leading quote, backslashes). */
static void sb_kv_bytes(struct sbuf *b, const char *key, const uint8_t *v, size_t n)
{
	bool quote = n == 0 || v[0] == ' ' || v[0] == '\t' || v[0] == '"' ||
		     v[n - 1] == ' ' || v[n - 1] == '\t' || memchr(v, '#', n) || memchr(v, '\\', n);
	sb_printf(b, "%s = ", key);
	if (quote)
		sb_put(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		if (quote && (v[i] == '"' || v[i] == '\\'))
			sb_put(b, "\\", 1);
		sb_put(b, (const char *)&v[i], 1);
	}
	if (quote)
		sb_put(b, "\"", 1);
	sb_put(b, "\n", 1);
}

static void sb_kv(struct sbuf *b, const char *key, const char *v)
{
	sb_kv_bytes(b, key, (const uint8_t *)v, strlen(v));
}

static void sb_bool(struct sbuf *b, const char *key, bool v)
{
	sb_printf(b, "%s = %s\n", key, v ? "yes" : "no");
}

static void sb_id(struct sbuf *b, const char *key, const struct prof_id *id)
{
	static const char *const pfx[] = {
		[PROF_ID_IPV4_ADDR] = "ipv4:", [PROF_ID_FQDN] = "fqdn:",
		[PROF_ID_RFC822_ADDR] = "email:", [PROF_ID_IPV6_ADDR] = "ipv6:",
		[PROF_ID_DER_ASN1_DN] = "dn:", [PROF_ID_KEY_ID] = "keyid:",
	};
	char t[PROF_ID_MAX + 8];
	snprintf(t, sizeof(t), "%s%s", id->type_explicit && pfx[id->type] ? pfx[id->type] : "", id->text);
	sb_kv(b, key, t);
}

static void sb_proposals(struct sbuf *b, const char *key, const struct prof_proposal *pr, size_t n)
{
	sb_printf(b, "%s = ", key);
	for (size_t i = 0; i < n; i++) {
		char s[128];
		if (prof_proposal_str(&pr[i], s, sizeof(s))) {
			b->rc = b->rc ? b->rc : -EINVAL;
			return;
		}
		sb_printf(b, "%s%s", i ? ", " : "", s);
	}
	sb_put(b, "\n", 1);
}

static void sb_prefixes(struct sbuf *b, const char *key, const struct prof_prefix *pf, size_t n)
{
	if (!n)
		return;
	sb_printf(b, "%s = ", key);
	for (size_t i = 0; i < n; i++) {
		char s[64];
		prof_prefix_str(&pf[i], s, sizeof(s));
		sb_printf(b, "%s%s", i ? ", " : "", s);
	}
	sb_put(b, "\n", 1);
}

static void sb_strlist(struct sbuf *b, const char *key, const char (*s)[PROF_DOMAIN_MAX], size_t n)
{
	if (!n)
		return;
	sb_printf(b, "%s = ", key);
	for (size_t i = 0; i < n; i++)
		sb_printf(b, "%s%s", i ? ", " : "", s[i]);
	sb_put(b, "\n", 1);
}

static void sb_secret(struct sbuf *b, const char *key, const char *file_key, const struct secret *s,
		      const char *file, bool redact)
{
	if (file[0])
		sb_kv(b, file_key, file);
	else if (s->data && redact)
		sb_printf(b, "%s = <redacted>\n", key);
	else if (s->data)
		sb_kv_bytes(b, key, s->data, s->len);
}

int prof_serialise(const struct prof_profile *p, bool redact, char **out, size_t *out_len)
{
	static const char *const auth[] = { "None", "SharedSecret", "Certificate" };
	static const char *const dpd[] = { "none", "low", "medium", "high" };
	static const char *const dns[] = { "auto", "resolved", "resolvconf", "file", "off" };
	struct sbuf b = { 0 };
	char t[64];

	sb_put(&b, "[IKEv2]\n", 8);
	struct prof_addr a;
	bool v6 = prof_parse_addr(p->server_host, &a) && a.family == AF_INET6;
	if (p->server_port == 500)
		sb_printf(&b, "Server = %s\n", p->server_host);
	else
		sb_printf(&b, v6 ? "Server = [%s]:%u\n" : "Server = %s:%u\n", p->server_host, p->server_port);
	/* A defaulted RemoteIdentifier is left out so it keeps following
	 * Server. */
	if (p->remote_id_explicit)
		sb_id(&b, "RemoteIdentifier", &p->remote_id);
	if (p->local_id.type != PROF_ID_NONE)
		sb_id(&b, "LocalIdentifier", &p->local_id);
	sb_printf(&b, "AuthenticationMethod = %s\n", auth[p->auth_method <= 2 ? p->auth_method : 0]);
	sb_secret(&b, "SharedSecret", "SharedSecretFile", &p->shared_secret, p->shared_secret_file, redact);
	if (p->certificate_file[0])
		sb_kv(&b, "CertificateFile", p->certificate_file);
	if (p->private_key_file[0])
		sb_kv(&b, "PrivateKeyFile", p->private_key_file);
	if (p->server_ca_file[0])
		sb_kv(&b, "ServerCertificateAuthorityFile", p->server_ca_file);
	if (p->server_cert_cn[0])
		sb_kv(&b, "ServerCertificateCommonName", p->server_cert_cn);
	if (p->server_cert_issuer_cn[0])
		sb_kv(&b, "ServerCertificateIssuerCommonName", p->server_cert_issuer_cn);
	sb_bool(&b, "UseExtendedAuthentication", p->use_eap);
	if (p->username[0])
		sb_kv(&b, "Username", p->username);
	sb_secret(&b, "Password", "PasswordFile", &p->password, p->password_file, redact);
	sb_proposals(&b, "IKEProposals", p->ike_proposals, p->n_ike_proposals);
	sb_proposals(&b, "ChildProposals", p->child_proposals, p->n_child_proposals);
	sb_bool(&b, "EnablePFS", p->enable_pfs);
	prof_duration_str(p->ike_lifetime_s, t, sizeof(t));
	sb_printf(&b, "IKELifetime = %s\n", t);
	prof_duration_str(p->child_lifetime_s, t, sizeof(t));
	sb_printf(&b, "ChildLifetime = %s\n", t);
	prof_duration_str(p->rekey_margin_s, t, sizeof(t));
	sb_printf(&b, "RekeyMargin = %s\n", t);
	sb_printf(&b, "DeadPeerDetectionRate = %s\n", dpd[p->dpd_rate <= 3 ? p->dpd_rate : 2]);
	sb_bool(&b, "DisableMOBIKE", p->disable_mobike);
	sb_bool(&b, "DisableRedirect", p->disable_redirect);
	sb_bool(&b, "EnableRevocationCheck", p->enable_revocation_check);
	sb_bool(&b, "StrictRevocationCheck", p->strict_revocation_check);
	sb_bool(&b, "UseConfigurationAttributeInternalIPSubnet", p->use_internal_subnet);
	sb_bool(&b, "DisconnectOnSleep", p->disconnect_on_sleep);
	if (p->mtu)
		sb_printf(&b, "MTU = %u\n", p->mtu);
	else
		sb_printf(&b, "MTU = auto\n");

	sb_put(&b, "\n[Routing]\n", 11);
	sb_bool(&b, "IncludeAllNetworks", p->include_all_networks);
	sb_bool(&b, "ExcludeLocalNetworks", p->exclude_local_networks);
	sb_prefixes(&b, "IncludedRoutes", p->included, p->n_included);
	sb_prefixes(&b, "ExcludedRoutes", p->excluded, p->n_excluded);

	sb_put(&b, "\n[DNS]\n", 7);
	sb_printf(&b, "Mode = %s\n", dns[p->dns_mode <= 4 ? p->dns_mode : 0]);
	if (p->n_dns_servers) {
		sb_printf(&b, "Servers = ");
		for (size_t i = 0; i < p->n_dns_servers; i++) {
			char s[64];
			prof_addr_str(&p->dns_servers[i], s, sizeof(s));
			sb_printf(&b, "%s%s", i ? ", " : "", s);
		}
		sb_put(&b, "\n", 1);
	}
	sb_strlist(&b, "SearchDomains", p->search_domains, p->n_search_domains);
	sb_strlist(&b, "MatchDomains", p->match_domains, p->n_match_domains);

	sb_put(&b, "\n[OnDemand]\n", 12);
	sb_bool(&b, "Enabled", p->on_demand);
	for (size_t i = 0; i < p->n_rules; i++) {
		char r[PROF_LINE_MAX];
		if (prof_rule_str(&p->rules[i], r, sizeof(r))) {
			b.rc = b.rc ? b.rc : -EINVAL;
			break;
		}
		sb_put(&b, "Rule = ", 7);
		sb_put(&b, r, strlen(r));
		sb_put(&b, "\n", 1);
	}
	if (b.rc) {
		prof_text_free(b.p, b.cap);
		*out = NULL;
		*out_len = 0;
		return b.rc;
	}
	*out = b.p;
	*out_len = b.len;
	return 0;
}

void prof_text_free(char *text, size_t len)
{
	if (!text)
		return;
	/* len may be the used length; wipe up to the terminator too. */
	size_t n = strlen(text);
	secret_wipe(text, n > len ? n : len);
	free(text);
}
