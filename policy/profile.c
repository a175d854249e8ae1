/* profile.c — the profile model: defaults, copying, comparing, and the
 * small value parsers (addresses, prefixes, durations, names) every other
 * file of the room uses. */
#include "policy/profile.h"
#include "policy/internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

unsigned prof_dpd_seconds(enum prof_dpd_rate rate)
{
	/* Apple's NEVPNIKEv2DeadPeerDetectionRate: low 30 min, medium 10 min,
	 * high 1 min. */
	switch (rate) {
	case PROF_DPD_LOW: return 30 * 60;
	case PROF_DPD_MEDIUM: return 10 * 60;
	case PROF_DPD_HIGH: return 60;
	default: return 0;
	}
}

void prof_init(struct prof_profile *p)
{
	/* memset first: padding stays zero and every string is empty. */
	memset(p, 0, sizeof(*p));
	p->server_port = 500;                 /* RFC 7296 §2 */
	p->auth_method = PROF_AUTH_METHOD_NONE;
	p->ike_lifetime_s = 4 * 3600;
	p->child_lifetime_s = 3600;
	p->rekey_margin_s = 60;
	p->dpd_rate = PROF_DPD_MEDIUM;        /* Apple's default */
	p->dns_mode = PROF_DNS_AUTO;
}

void prof_free(struct prof_profile *p)
{
	if (!p)
		return;
	secret_free(&p->shared_secret);
	secret_free(&p->password);
	secret_free(&p->private_key);
	prof_init(p);
}

int prof_copy(struct prof_profile *dst, const struct prof_profile *src)
{
	if (dst == src)
		return 0;
	prof_free(dst);
	memcpy(dst, src, sizeof(*dst));
	dst->shared_secret = (struct secret){ 0 };
	dst->password = (struct secret){ 0 };
	dst->private_key = (struct secret){ 0 };
	int rc = 0;
	if (src->shared_secret.data && (rc = secret_dup(&dst->shared_secret, &src->shared_secret)))
		goto out;
	if (src->password.data && (rc = secret_dup(&dst->password, &src->password)))
		goto out;
	if (src->private_key.data && (rc = secret_dup(&dst->private_key, &src->private_key)))
		goto out;
out:
	if (rc)
		prof_free(dst);
	return rc;
}

static bool secret_eq(const struct secret *a, const struct secret *b)
{
	if (a->len != b->len)
		return false;
	if (!a->len)
		return true;
	return sodium_memcmp(a->data, b->data, a->len) == 0;
}

static bool id_eq(const struct prof_id *a, const struct prof_id *b)
{
	return a->type == b->type && a->type_explicit == b->type_explicit &&
	       strcmp(a->text, b->text) == 0 && a->data_len == b->data_len &&
	       memcmp(a->data, b->data, a->data_len) == 0 &&
	       a->data_is_text == b->data_is_text;
}

static bool proposal_eq(const struct prof_proposal *a, const struct prof_proposal *b)
{
	if (a->encr != b->encr || a->encr_keybits != b->encr_keybits ||
	    a->integ != b->integ || a->prf != b->prf || a->n_dh != b->n_dh)
		return false;
	for (size_t i = 0; i < a->n_dh; i++)
		if (a->dh[i] != b->dh[i])
			return false;
	return true;
}

static bool addr_eq(const struct prof_addr *a, const struct prof_addr *b)
{
	return a->family == b->family &&
	       memcmp(a->addr, b->addr, prof_af_len(a->family)) == 0;
}

static bool strs_eq(const char (*a)[PROF_DOMAIN_MAX], const char (*b)[PROF_DOMAIN_MAX], size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(a[i], b[i]))
			return false;
	return true;
}

static bool rule_eq(const struct prof_od_rule *a, const struct prof_od_rule *b)
{
	if (a->action != b->action || a->iface != b->iface || a->n_ssid != b->n_ssid ||
	    a->n_search_domain != b->n_search_domain || a->n_dns_server != b->n_dns_server ||
	    strcmp(a->probe_url, b->probe_url) || a->domain_action != b->domain_action ||
	    a->n_domain != b->n_domain)
		return false;
	for (size_t i = 0; i < a->n_ssid; i++)
		if (strcmp(a->ssid[i], b->ssid[i]))
			return false;
	for (size_t i = 0; i < a->n_dns_server; i++)
		if (!addr_eq(&a->dns_server[i], &b->dns_server[i]))
			return false;
	return strs_eq(a->search_domain, b->search_domain, a->n_search_domain) &&
	       strs_eq(a->domain, b->domain, a->n_domain);
}

bool prof_equal(const struct prof_profile *a, const struct prof_profile *b)
{
#define S(f) (strcmp(a->f, b->f) == 0)
#define V(f) (a->f == b->f)
	if (!(S(server_host) && V(server_port) && id_eq(&a->remote_id, &b->remote_id) &&
	      V(remote_id_explicit) && id_eq(&a->local_id, &b->local_id) && V(auth_method) &&
	      secret_eq(&a->shared_secret, &b->shared_secret) && S(shared_secret_file) &&
	      S(certificate_file) && S(private_key_file) &&
	      secret_eq(&a->private_key, &b->private_key) && S(server_ca_file) &&
	      S(server_cert_cn) && S(server_cert_issuer_cn) && V(use_eap) && S(username) &&
	      secret_eq(&a->password, &b->password) && S(password_file) &&
	      V(n_ike_proposals) && V(n_child_proposals) && V(enable_pfs) &&
	      V(ike_lifetime_s) && V(child_lifetime_s) && V(rekey_margin_s) && V(dpd_rate) &&
	      V(disable_mobike) && V(disable_redirect) && V(enable_revocation_check) &&
	      V(strict_revocation_check) && V(use_internal_subnet) &&
	      V(disconnect_on_sleep) && V(mtu) && V(include_all_networks) &&
	      V(exclude_local_networks) && V(n_included) && V(n_excluded) && V(dns_mode) &&
	      V(n_dns_servers) && V(n_search_domains) && V(n_match_domains) &&
	      V(on_demand) && V(n_rules)))
		return false;
#undef S
#undef V
	for (size_t i = 0; i < a->n_ike_proposals; i++)
		if (!proposal_eq(&a->ike_proposals[i], &b->ike_proposals[i]))
			return false;
	for (size_t i = 0; i < a->n_child_proposals; i++)
		if (!proposal_eq(&a->child_proposals[i], &b->child_proposals[i]))
			return false;
	for (size_t i = 0; i < a->n_included; i++)
		if (!prof_prefix_eq(&a->included[i], &b->included[i]))
			return false;
	for (size_t i = 0; i < a->n_excluded; i++)
		if (!prof_prefix_eq(&a->excluded[i], &b->excluded[i]))
			return false;
	for (size_t i = 0; i < a->n_dns_servers; i++)
		if (!addr_eq(&a->dns_servers[i], &b->dns_servers[i]))
			return false;
	if (!strs_eq(a->search_domains, b->search_domains, a->n_search_domains) ||
	    !strs_eq(a->match_domains, b->match_domains, a->n_match_domains))
		return false;
	for (size_t i = 0; i < a->n_rules; i++)
		if (!rule_eq(&a->rules[i], &b->rules[i]))
			return false;
	return true;
}

/* ------------------------------------------------------ small parsers */

size_t prof_af_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

bool prof_parse_addr(const char *text, struct prof_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, text, out->addr) == 1) {
		out->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, text, out->addr) == 1) {
		out->family = AF_INET6;
		return true;
	}
	memset(out, 0, sizeof(*out));
	return false;
}

int prof_addr_str(const struct prof_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family, a->addr, buf, (socklen_t)(len > INT_MAX ? INT_MAX : len)))
		return -ENOSPC;
	return 0;
}

bool prof_prefix_eq(const struct prof_prefix *a, const struct prof_prefix *b)
{
	return a->family == b->family && a->len == b->len &&
	       memcmp(a->addr, b->addr, prof_af_len(a->family)) == 0;
}

static bool bits_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	if (memcmp(a, b, full))
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		if ((a[full] & mask) != (b[full] & mask))
			return false;
	}
	return true;
}

bool prof_prefix_contains(const struct prof_prefix *a, const struct prof_prefix *b)
{
	return a->family == b->family && a->len <= b->len && bits_match(a->addr, b->addr, a->len);
}

int prof_parse_prefix(const char *text, struct prof_prefix *out, struct pvpn_err *err)
{
	char buf[64];
	memset(out, 0, sizeof(*out));
	size_t n = strlen(text);
	if (n == 0 || n >= sizeof(buf))
		return err_set(err, -EINVAL, "'%.48s' is not a prefix (allowed: ADDRESS/LENGTH, e.g. 10.0.0.0/8 or fd00::/64)", text);
	memcpy(buf, text, n + 1);
	char *slash = strchr(buf, '/');
	long plen = -1;
	if (slash) {
		*slash = '\0';
		const char *d = slash + 1;
		if (!*d || strlen(d) > 3)
			goto bad;
		plen = 0;
		for (; *d; d++) {
			if (!isdigit((unsigned char)*d))
				goto bad;
			plen = plen * 10 + (*d - '0');
		}
	}
	struct prof_addr a;
	if (!prof_parse_addr(buf, &a))
		goto bad;
	unsigned max = a.family == AF_INET ? 32 : 128;
	if (plen < 0)
		plen = max;
	if (plen > (long)max)
		return err_set(err, -EINVAL, "'%.48s': prefix length %ld is longer than %u", text, plen, max);
	out->family = a.family;
	out->len = (uint8_t)plen;
	memcpy(out->addr, a.addr, 16);
	/* Host bits set usually means a typo ("10.1.2.3/8"); say what was meant. */
	struct prof_prefix masked = *out;
	size_t alen = prof_af_len(a.family);
	for (size_t i = 0; i < alen; i++) {
		unsigned bit0 = (unsigned)i * 8;
		if (bit0 >= (unsigned)plen)
			masked.addr[i] = 0;
		else if (bit0 + 8 > (unsigned)plen)
			masked.addr[i] &= (uint8_t)(0xff << (8 - (plen - bit0)));
	}
	if (memcmp(masked.addr, out->addr, alen)) {
		char m[64];
		prof_prefix_str(&masked, m, sizeof(m));
		memset(out, 0, sizeof(*out));
		return err_set(err, -EINVAL, "'%.48s' has host bits set (did you mean %s?)", text, m);
	}
	return 0;
bad:
	memset(out, 0, sizeof(*out));
	return err_set(err, -EINVAL, "'%.48s' is not a prefix (allowed: ADDRESS/LENGTH, e.g. 10.0.0.0/8 or fd00::/64)", text);
}

int prof_prefix_str(const struct prof_prefix *pf, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	if (!inet_ntop(pf->family, pf->addr, a, sizeof(a)))
		return -EINVAL;
	int n = snprintf(buf, len, "%s/%u", a, pf->len);
	return (n < 0 || (size_t)n >= len) ? -ENOSPC : 0;
}

bool prof_domain_ok(const char *s, bool wildcard)
{
	if (wildcard && s[0] == '*' && s[1] == '.')
		s += 2;
	size_t n = strlen(s);
	if (n == 0 || n > 253)
		return false;
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!(isalnum(c) || c == '-' || c == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	/* A trailing dot (root) is fine; an empty label elsewhere is not. */
	return true;
}

bool prof_parse_duration(const char *s, uint32_t *out)
{
	uint64_t v = 0;
	size_t i = 0;
	if (!isdigit((unsigned char)s[0]))
		return false;
	for (; isdigit((unsigned char)s[i]); i++) {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > UINT32_MAX)
			return false;
	}
	uint64_t mul = 1;
	if (s[i]) {
		switch (s[i]) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		default: return false;
		}
		if (s[i + 1])
			return false;
	}
	v *= mul;
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

void prof_duration_str(uint32_t s, char *buf, size_t len)
{
	/* The largest unit that divides evenly, so the text is short and
	 * parses back to the same number. */
	if (s && s % 86400 == 0)
		snprintf(buf, len, "%ud", s / 86400);
	else if (s && s % 3600 == 0)
		snprintf(buf, len, "%uh", s / 3600);
	else if (s && s % 60 == 0)
		snprintf(buf, len, "%um", s / 60);
	else
		snprintf(buf, len, "%us", s);
}

unsigned prof_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return 99;
	unsigned row[65];
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned prev = row[0];
		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned cur = row[j];
			unsigned cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			unsigned best = prev + cost;
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

const char *prof_closest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	unsigned bestd = 99;
	for (size_t i = 0; i < n; i++) {
		unsigned d = prof_edit_distance(word, cands[i]);
		if (d < bestd) {
			bestd = d;
			best = cands[i];
		}
	}
	/* A third of the word, at least 2 edits: "Sever" -> "Server", but
	 * "Foo" suggests nothing. */
	size_t wl = strlen(word);
	unsigned limit = (unsigned)(wl / 3 > 2 ? wl / 3 : 2);
	return bestd <= limit ? best : NULL;
}
