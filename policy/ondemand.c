/* ondemand.c — VPN On Demand rules (Apple's NEOnDemandRule) in one line:
 *
 *   Rule = ACTION [Condition=VALUE[,VALUE...]]...
 *
 * ACTION is Connect, Disconnect, EvaluateConnection or Ignore; conditions
 * are InterfaceType, SSID, DNSSearchDomain, DNSServer, ProbeURL, and for
 * EvaluateConnection Domains and DomainAction.  A value containing spaces,
 * commas or quotes is written in double quotes with \" and \\ escapes.
 * Rules are only stored validated here; evaluation belongs to the daemon. */
#include "policy/profile.h"
#include "policy/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static const char *const actions[] = { NULL, "Connect", "Disconnect", "EvaluateConnection", "Ignore" };
static const char *const ifaces[] = { "Any", "Ethernet", "WiFi", "Cellular" };
static const char *const conds[] = { "InterfaceType", "SSID", "DNSSearchDomain", "DNSServer",
				     "ProbeURL", "Domains", "DomainAction" };
#define N_CONDS (sizeof(conds) / sizeof(conds[0]))

/* Next whitespace-separated token (quotes respected) into tok. */
static int next_token(const char **pp, char *tok, size_t cap)
{
	const char *p = *pp;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p)
		return 0;
	size_t n = 0;
	bool q = false;
	for (; *p && (q || (*p != ' ' && *p != '\t')); p++) {
		if (*p == '"')
			q = !q;
		else if (q && *p == '\\' && p[1]) {
			if (n + 2 >= cap)
				return -ENOSPC;
			tok[n++] = *p++;
		}
		if (n + 1 >= cap)
			return -ENOSPC;
		tok[n++] = *p;
	}
	if (q)
		return -EINVAL;
	tok[n] = '\0';
	*pp = p;
	return 1;
}

/* Split a value on commas outside quotes, unquoting each item. */
static int split_items(const char *v, char items[][PROF_URL_MAX], size_t max, size_t *n_out,
		       const char *cond, struct pvpn_err *err)
{
	size_t n = 0;
	const char *p = v;
	while (1) {
		if (n >= max)
			return err_set(err, -EINVAL, "Rule: %s has more than %zu values", cond, max);
		size_t k = 0;
		bool quoted = false;
		if (*p == '"') {
			quoted = true;
			p++;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1])
					p++;
				if (k + 1 >= PROF_URL_MAX)
					return err_set(err, -EINVAL, "Rule: %s value is too long", cond);
				items[n][k++] = *p++;
			}
			if (*p != '"')
				return err_set(err, -EINVAL, "Rule: %s: unterminated quote", cond);
			p++;
			if (*p && *p != ',')
				return err_set(err, -EINVAL, "Rule: %s: text after a closing quote", cond);
		} else {
			while (*p && *p != ',') {
				if (k + 1 >= PROF_URL_MAX)
					return err_set(err, -EINVAL, "Rule: %s value is too long", cond);
				items[n][k++] = *p++;
			}
		}
		items[n][k] = '\0';
		if (k == 0 && !quoted)
			return err_set(err, -EINVAL, "Rule: %s: empty value (values are separated by single commas)", cond);
		if (k == 0)
			return err_set(err, -EINVAL, "Rule: %s: empty value", cond);
		n++;
		if (!*p)
			break;
		p++; /* the comma */
	}
	*n_out = n;
	return 0;
}

static bool url_ok(const char *u)
{
	if (strncasecmp(u, "http://", 7) && strncasecmp(u, "https://", 8))
		return false;
	const char *host = strstr(u, "://") + 3;
	if (!*host || *host == '/')
		return false;
	for (; *u; u++)
		if ((unsigned char)*u <= 0x20 || (unsigned char)*u >= 0x7f || *u == '"')
			return false;
	return true;
}

int prof_parse_rule(const char *text, struct prof_od_rule *r, struct pvpn_err *err)
{
	char items[PROF_RULE_MAX_ITEMS][PROF_URL_MAX];
	char tok[PROF_LINE_MAX];
	const char *p = text;
	memset(r, 0, sizeof(*r));
	int rc = next_token(&p, tok, sizeof(tok));
	if (rc <= 0)
		return err_set(err, -EINVAL, "Rule: no action (allowed: Connect, Disconnect, EvaluateConnection, Ignore)");
	for (int a = 1; a <= 4; a++)
		if (strcasecmp(tok, actions[a]) == 0)
			r->action = (enum prof_od_action)a;
	if (!r->action) {
		const char *c = prof_closest(tok, actions + 1, 4);
		return err_set(err, -EINVAL, "Rule: unknown action '%.40s'%s%s%s (allowed: Connect, Disconnect, EvaluateConnection, Ignore)",
			       tok, c ? ", did you mean '" : "", c ? c : "", c ? "'?" : "");
	}
	unsigned seen = 0;
	bool have_iface = false;
	while ((rc = next_token(&p, tok, sizeof(tok))) > 0) {
		char *eq = strchr(tok, '=');
		if (!eq || eq == tok || !eq[1])
			return err_set(err, -EINVAL, "Rule: '%.40s' is not Condition=VALUE (conditions: InterfaceType, SSID, DNSSearchDomain, DNSServer, ProbeURL, Domains, DomainAction)", tok);
		*eq = '\0';
		const char *v = eq + 1;
		int ci = -1;
		for (size_t i = 0; i < N_CONDS; i++)
			if (strcasecmp(tok, conds[i]) == 0)
				ci = (int)i;
		if (ci < 0) {
			const char *c = prof_closest(tok, conds, N_CONDS);
			return err_set(err, -EINVAL, "Rule: unknown condition '%.40s'%s%s%s (allowed: InterfaceType, SSID, DNSSearchDomain, DNSServer, ProbeURL, Domains, DomainAction)",
				       tok, c ? ", did you mean '" : "", c ? c : "", c ? "'?" : "");
		}
		if (seen & (1u << ci))
			return err_set(err, -EINVAL, "Rule: %s given twice (list the values after one =, separated by commas)", conds[ci]);
		seen |= 1u << ci;
		size_t n = 0;
		rc = split_items(v, items, PROF_RULE_MAX_ITEMS, &n, conds[ci], err);
		if (rc)
			return rc;
		switch (ci) {
		case 0: /* InterfaceType */
			if (n != 1)
				return err_set(err, -EINVAL, "Rule: InterfaceType takes one value (allowed: Any, Ethernet, WiFi, Cellular)");
			for (int i = 0; i < 4; i++)
				if (strcasecmp(items[0], ifaces[i]) == 0) {
					r->iface = (enum prof_od_iface)i;
					have_iface = true;
				}
			if (!have_iface)
				return err_set(err, -EINVAL, "Rule: InterfaceType: unknown value '%.40s' (allowed: Any, Ethernet, WiFi, Cellular)", items[0]);
			break;
		case 1: /* SSID — IEEE 802.11: at most 32 octets */
			for (size_t i = 0; i < n; i++) {
				if (strlen(items[i]) > 32)
					return err_set(err, -EINVAL, "Rule: SSID '%.40s' is longer than 32 bytes", items[i]);
				strcpy(r->ssid[i], items[i]);
			}
			r->n_ssid = (uint8_t)n;
			break;
		case 2: /* DNSSearchDomain */
		case 5: /* Domains */
			for (size_t i = 0; i < n; i++) {
				/* "*." plus a 253-byte name would not fit the field. */
				if (strlen(items[i]) >= PROF_DOMAIN_MAX || !prof_domain_ok(items[i], true))
					return err_set(err, -EINVAL, "Rule: %s: '%.60s' is not a domain name (allowed: a DNS name, or *.name)", conds[ci], items[i]);
				if (ci == 2)
					strcpy(r->search_domain[i], items[i]);
				else
					strcpy(r->domain[i], items[i]);
			}
			if (ci == 2)
				r->n_search_domain = (uint8_t)n;
			else
				r->n_domain = (uint8_t)n;
			break;
		case 3: /* DNSServer */
			for (size_t i = 0; i < n; i++)
				if (!prof_parse_addr(items[i], &r->dns_server[i]))
					return err_set(err, -EINVAL, "Rule: DNSServer: '%.60s' is not an IPv4 or IPv6 address", items[i]);
			r->n_dns_server = (uint8_t)n;
			break;
		case 4: /* ProbeURL */
			if (n != 1 || !url_ok(items[0]))
				return err_set(err, -EINVAL, "Rule: ProbeURL: '%.60s' is not an http:// or https:// URL", items[0]);
			strcpy(r->probe_url, items[0]);
			break;
		case 6: /* DomainAction */
			if (n == 1 && strcasecmp(items[0], "ConnectIfNeeded") == 0)
				r->domain_action = PROF_OD_CONNECT_IF_NEEDED;
			else if (n == 1 && strcasecmp(items[0], "NeverConnect") == 0)
				r->domain_action = PROF_OD_NEVER_CONNECT;
			else
				return err_set(err, -EINVAL, "Rule: DomainAction: unknown value '%.40s' (allowed: ConnectIfNeeded, NeverConnect)", items[0]);
			break;
		}
	}
	if (rc < 0)
		return err_set(err, -EINVAL, "Rule: unterminated quote or value too long");
	bool eval = r->action == PROF_OD_EVALUATE_CONNECTION;
	/* NEEvaluateConnectionRule: domains are what EvaluateConnection is
	 * about; other actions have none. */
	if (eval && !r->n_domain)
		return err_set(err, -EINVAL, "Rule: EvaluateConnection needs Domains=... (the domains it decides for)");
	if (!eval && (r->n_domain || r->domain_action))
		return err_set(err, -EINVAL, "Rule: Domains and DomainAction belong to EvaluateConnection only");
	if (eval && !r->domain_action)
		r->domain_action = PROF_OD_CONNECT_IF_NEEDED;
	return 0;
}

/* Append an item, quoted when it would not survive splitting. */
static int put_item(char *buf, size_t len, size_t *used, const char *s)
{
	bool quote = strpbrk(s, " \t,\"\\#") != NULL;
	size_t u = *used;
	if (quote) {
		if (u + 1 >= len) return -ENOSPC;
		buf[u++] = '"';
	}
	for (; *s; s++) {
		if (quote && (*s == '"' || *s == '\\')) {
			if (u + 1 >= len) return -ENOSPC;
			buf[u++] = '\\';
		}
		if (u + 1 >= len) return -ENOSPC;
		buf[u++] = *s;
	}
	if (quote) {
		if (u + 1 >= len) return -ENOSPC;
		buf[u++] = '"';
	}
	buf[u] = '\0';
	*used = u;
	return 0;
}

static int put_str(char *buf, size_t len, size_t *used, const char *s)
{
	size_t n = strlen(s);
	if (*used + n >= len)
		return -ENOSPC;
	memcpy(buf + *used, s, n + 1);
	*used += n;
	return 0;
}

int prof_rule_str(const struct prof_od_rule *r, char *buf, size_t len)
{
	size_t u = 0;
	int rc;
	if (r->action < 1 || r->action > 4 || !len)
		return -EINVAL;
	buf[0] = '\0';
#define P(s) do { if ((rc = put_str(buf, len, &u, (s)))) return rc; } while (0)
#define I(s) do { if ((rc = put_item(buf, len, &u, (s)))) return rc; } while (0)
	P(actions[r->action]);
	if (r->iface != PROF_OD_IFACE_ANY) {
		P(" InterfaceType=");
		P(ifaces[r->iface]);
	}
	for (size_t i = 0; i < r->n_ssid; i++) {
		P(i ? "," : " SSID=");
		I(r->ssid[i]);
	}
	for (size_t i = 0; i < r->n_search_domain; i++) {
		P(i ? "," : " DNSSearchDomain=");
		I(r->search_domain[i]);
	}
	for (size_t i = 0; i < r->n_dns_server; i++) {
		char a[64];
		P(i ? "," : " DNSServer=");
		if (prof_addr_str(&r->dns_server[i], a, sizeof(a)))
			return -EINVAL;
		P(a);
	}
	if (r->probe_url[0]) {
		P(" ProbeURL=");
		I(r->probe_url);
	}
	for (size_t i = 0; i < r->n_domain; i++) {
		P(i ? "," : " Domains=");
		I(r->domain[i]);
	}
	if (r->action == PROF_OD_EVALUATE_CONNECTION)
		P(r->domain_action == PROF_OD_NEVER_CONNECT ? " DomainAction=NeverConnect"
							     : " DomainAction=ConnectIfNeeded");
#undef P
#undef I
	return 0;
}

/* ------------------------------------------------------- evaluation */

/* name equals domain, or is a subdomain of it; "*.d" matches subdomains
 * only.  Case-insensitive; a trailing dot on either side is ignored. */
static bool domain_match(const char *name, const char *domain)
{
	bool sub_only = domain[0] == '*' && domain[1] == '.';
	if (sub_only)
		domain += 2;
	size_t n = strlen(name), d = strlen(domain);
	if (n && name[n - 1] == '.')
		n--;
	if (d && domain[d - 1] == '.')
		d--;
	if (!d || n < d)
		return false;
	if (strncasecmp(name + n - d, domain, d))
		return false;
	if (n == d)
		return !sub_only;
	return name[n - d - 1] == '.';
}

/* DNSSearchDomainMatch: equal (case-insensitive, trailing dot ignored),
 * or for "*.d" a subdomain of d. */
static bool search_match(const char *cur, const char *pattern)
{
	if (pattern[0] == '*')
		return domain_match(cur, pattern);
	size_t n = strlen(cur), d = strlen(pattern);
	if (n && cur[n - 1] == '.')
		n--;
	if (d && pattern[d - 1] == '.')
		d--;
	return n == d && strncasecmp(cur, pattern, n) == 0;
}

static bool rule_matches(const struct prof_od_rule *r, const struct prof_od_env *env, const char *host)
{
	if (r->iface != PROF_OD_IFACE_ANY && r->iface != env->iface)
		return false;
	/* SSIDMatch: only on Wi-Fi, and the SSID must be listed (exact bytes). */
	if (r->n_ssid) {
		bool hit = false;
		for (size_t i = 0; i < r->n_ssid && env->ssid[0]; i++)
			hit |= strcmp(r->ssid[i], env->ssid) == 0;
		if (!hit)
			return false;
	}
	/* DNSSearchDomainMatch: the current default search domain is listed. */
	if (r->n_search_domain) {
		bool hit = false;
		bool have = strnlen(env->search_domain, PROF_DOMAIN_MAX) < PROF_DOMAIN_MAX && env->search_domain[0];
		for (size_t i = 0; i < r->n_search_domain && have; i++)
			hit |= search_match(env->search_domain, r->search_domain[i]);
		if (!hit)
			return false;
	}
	/* DNSServerAddressMatch: each current default DNS server is listed. */
	if (r->n_dns_server) {
		size_t n = env->n_dns < PROF_MAX_DNS ? env->n_dns : PROF_MAX_DNS;
		if (!n)
			return false;
		for (size_t i = 0; i < n; i++) {
			bool hit = false;
			for (size_t j = 0; j < r->n_dns_server; j++)
				hit |= env->dns[i].family == r->dns_server[j].family &&
				       memcmp(env->dns[i].addr, r->dns_server[j].addr, prof_af_len(env->dns[i].family)) == 0;
			if (!hit)
				return false;
		}
	}
	if (r->action == PROF_OD_EVALUATE_CONNECTION) {
		bool hit = false;
		for (size_t i = 0; host && i < r->n_domain; i++)
			hit |= domain_match(host, r->domain[i]);
		if (!hit)
			return false;
	}
	/* The probe last: it is the only condition that costs I/O. */
	if (r->probe_url[0] && !(env->probe && env->probe(r->probe_url, env->probe_ctx)))
		return false;
	return true;
}

int prof_od_match(const struct prof_profile *p, const struct prof_od_env *env, const char *host)
{
	if (!p->on_demand)
		return -1;
	size_t n = p->n_rules < PROF_MAX_RULES ? p->n_rules : PROF_MAX_RULES;
	for (size_t i = 0; i < n; i++)
		if (rule_matches(&p->rules[i], env, host))
			return (int)i;
	return -1;
}
