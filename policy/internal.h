/* internal.h — helpers shared inside policy/ only. */
#ifndef PVPN_POLICY_INTERNAL_H
#define PVPN_POLICY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/profile.h"

/* Levenshtein distance, case-insensitive, capped for long inputs. */
unsigned prof_edit_distance(const char *a, const char *b);
/* The candidate closest to word when it is close enough to be a likely
 * typo, else NULL. */
const char *prof_closest(const char *word, const char *const *cands, size_t n);

/* Address bytes of a family: 4 or 16 (0 for anything else). */
size_t prof_af_len(int family);
/* Parse an IPv4 or IPv6 literal. */
bool prof_parse_addr(const char *text, struct prof_addr *out);
int prof_addr_str(const struct prof_addr *a, char *buf, size_t len);
/* A DNS name (or "*.name" when wildcard is allowed). */
bool prof_domain_ok(const char *s, bool wildcard);
/* Whether prefix a contains prefix b (same family). */
bool prof_prefix_contains(const struct prof_prefix *a, const struct prof_prefix *b);
bool prof_prefix_eq(const struct prof_prefix *a, const struct prof_prefix *b);

/* Duration "90s", "30m", "4h", "1d" or plain seconds. */
bool prof_parse_duration(const char *s, uint32_t *out);
void prof_duration_str(uint32_t s, char *buf, size_t len);

/* A DN in text to its DER (RFC 7296 §3.5 ID_DER_ASN1_DN); 0 or negative
 * with a reason in why. */
int prof_dn_to_der(const char *text, uint8_t *out, size_t cap, size_t *len, char *why, size_t whylen);

/* On-demand rule text <-> struct. */
int prof_parse_rule(const char *text, struct prof_od_rule *out, struct pvpn_err *err);
int prof_rule_str(const struct prof_od_rule *r, char *buf, size_t len);

#endif
