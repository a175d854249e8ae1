/* Unit tests for policy/: the profile format — every key, every default,
 * the error messages, secret files, and the serialise/parse round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

#include "policy/profile.h"

static struct prof_profile P;
static struct pvpn_err E;

static int parse(const char *text)
{
	memset(&E, 0, sizeof(E));
	return prof_parse_string("home.conf", text, strlen(text), NULL, PROF_PARSE_NO_FILES, &P, &E);
}

/* Parse, expect failure, and check the message contains want. */
static void expect_err(const char *text, const char *want)
{
	int rc = parse(text);
	if (rc == 0 || !strstr(E.msg, want)) {
		print_error("input:\n%s\nwant error containing: %s\ngot rc=%d msg: %s\n", text, want, rc, E.msg);
		fail();
	}
	assert_int_equal(rc, -EINVAL);
}

#define MIN "[IKEv2]\nServer = vpn.example.com\nSharedSecret = s3cret\n"

static void defaults_of_a_minimal_profile(void **state)
{
	assert_int_equal(parse(MIN), 0);
	assert_string_equal(P.server_host, "vpn.example.com");
	assert_int_equal(P.server_port, 500);
	/* RemoteIdentifier defaults to the server host, as an FQDN. */
	assert_false(P.remote_id_explicit);
	assert_int_equal(P.remote_id.type, PROF_ID_FQDN);
	assert_string_equal(P.remote_id.text, "vpn.example.com");
	assert_int_equal(P.remote_id.data_len, strlen("vpn.example.com"));
	assert_int_equal(P.local_id.type, PROF_ID_NONE);
	/* Method inferred from the credential given. */
	assert_int_equal(P.auth_method, PROF_AUTH_METHOD_SHARED_SECRET);
	assert_int_equal(P.shared_secret.len, 6);
	assert_memory_equal(P.shared_secret.data, "s3cret", 6);
	assert_false(P.use_eap);
	/* Default proposals: AEAD + Curve25519 first, MODP-2048 last. */
	assert_true(P.n_ike_proposals >= 4);
	assert_int_equal(P.ike_proposals[0].encr, PROF_ENCR_AES_GCM_16);
	assert_int_equal(P.ike_proposals[0].encr_keybits, 256);
	assert_int_equal(P.ike_proposals[0].integ, PROF_AUTH_NONE);
	assert_int_equal(P.ike_proposals[0].prf, PROF_PRF_HMAC_SHA2_256);
	assert_int_equal(P.ike_proposals[0].n_dh, 1);
	assert_int_equal(P.ike_proposals[0].dh[0], PROF_DH_CURVE25519);
	const struct prof_proposal *last = &P.ike_proposals[P.n_ike_proposals - 1];
	assert_int_equal(last->encr, PROF_ENCR_AES_CBC);
	assert_int_equal(last->integ, PROF_AUTH_HMAC_SHA2_256_128);
	assert_int_equal(last->prf, PROF_PRF_HMAC_SHA2_256);
	assert_int_equal(last->dh[0], PROF_DH_MODP2048);
	bool ecp = false;
	for (size_t i = 0; i < P.n_ike_proposals; i++)
		ecp |= P.ike_proposals[i].dh[0] == PROF_DH_ECP384 || P.ike_proposals[i].dh[0] == PROF_DH_ECP256;
	assert_true(ecp);
	assert_true(P.n_child_proposals >= 3);
	assert_int_equal(P.child_proposals[0].encr, PROF_ENCR_AES_GCM_16);
	assert_int_equal(P.child_proposals[0].prf, 0);
	assert_int_equal(P.child_proposals[0].n_dh, 0);
	assert_false(P.enable_pfs);
	assert_int_equal(P.ike_lifetime_s, 4 * 3600);
	assert_int_equal(P.child_lifetime_s, 3600);
	assert_int_equal(P.rekey_margin_s, 60);
	assert_int_equal(P.dpd_rate, PROF_DPD_MEDIUM);
	assert_int_equal(prof_dpd_seconds(P.dpd_rate), 600);
	assert_false(P.disable_mobike);
	assert_false(P.disable_redirect);
	assert_false(P.enable_revocation_check);
	assert_false(P.strict_revocation_check);
	assert_false(P.use_internal_subnet);
	assert_false(P.disconnect_on_sleep);
	assert_int_equal(P.mtu, 0);
	assert_false(P.include_all_networks);
	assert_false(P.exclude_local_networks);
	assert_int_equal(P.n_included, 0);
	assert_int_equal(P.n_excluded, 0);
	assert_int_equal(P.dns_mode, PROF_DNS_AUTO);
	assert_int_equal(P.n_dns_servers, 0);
	assert_false(P.on_demand);
	assert_int_equal(P.n_rules, 0);
	prof_free(&P);
}

static const char *FULL =
	"# every key, none at its default\n"
	"[IKEv2]\n"
	"Server = [2001:db8::1]:4500\n"
	"RemoteIdentifier = dn:C=CH, O=Example, CN=vpn.example.com\n"
	"LocalIdentifier = keyid:#0a0B0c\n"
	"AuthenticationMethod = Certificate\n"
	"CertificateFile = /etc/pvpn/alice.crt\n"
	"PrivateKeyFile = alice.key\n"
	"ServerCertificateAuthorityFile = /etc/pvpn/ca.pem\n"
	"ServerCertificateCommonName = vpn.example.com\n"
	"ServerCertificateIssuerCommonName = \"Example Root # CA\"\n"
	"UseExtendedAuthentication = yes\n"
	"Username = alice\n"
	"Password = \"pa#ss \\\"word\\\\ \"\n"
	"IKEProposals = aes128gcm-prfsha384-ecp256-curve25519, aes192-sha512-prfsha256-modp4096\n"
	"ChildProposals = chacha20poly1305-x448, aes128-sha384\n"
	"EnablePFS = yes\n"
	"IKELifetime = 2d\n"
	"ChildLifetime = 90m\n"
	"RekeyMargin = 5m\n"
	"DeadPeerDetectionRate = high\n"
	"DisableMOBIKE = yes\n"
	"DisableRedirect = true\n"
	"EnableRevocationCheck = yes\n"
	"StrictRevocationCheck = on\n"
	"UseConfigurationAttributeInternalIPSubnet = yes\n"
	"DisconnectOnSleep = yes\n"
	"MTU = 1400\n"
	"[Routing]\n"
	"IncludeAllNetworks = no\n"
	"ExcludeLocalNetworks = yes\n"
	"IncludedRoutes = 10.0.0.0/8, 2001:db8:1::/48 ,192.168.7.0/24\n"
	"ExcludedRoutes = 10.99.0.0/16\n"
	"[DNS]\n"
	"Mode = resolvconf\n"
	"Servers = 10.0.0.53, 2001:db8:1::53\n"
	"SearchDomains = corp.example.com, example.com\n"
	"MatchDomains = intra.example.com\n"
	"[OnDemand]\n"
	"Enabled = yes\n"
	"Rule = Disconnect InterfaceType=WiFi SSID=HomeNet,\"My Home, 5G\"\n"
	"Rule = EvaluateConnection Domains=intra.example.com,*.corp.example.com DomainAction=NeverConnect ProbeURL=https://probe.example.com/ok\n"
	"Rule = Ignore InterfaceType=Cellular\n"
	"Rule = Connect DNSSearchDomain=*.hotel.example DNSServer=192.0.2.53,2001:db8::53\n";

static void every_key_parses(void **state)
{
	assert_int_equal(parse(FULL), 0);
	assert_string_equal(P.server_host, "2001:db8::1");
	assert_int_equal(P.server_port, 4500);
	assert_true(P.remote_id_explicit);
	assert_int_equal(P.remote_id.type, PROF_ID_DER_ASN1_DN);
	assert_true(P.remote_id.type_explicit);
	assert_string_equal(P.remote_id.text, "C=CH, O=Example, CN=vpn.example.com");
	assert_int_equal(P.local_id.type, PROF_ID_KEY_ID);
	assert_int_equal(P.local_id.data_len, 3);
	assert_memory_equal(P.local_id.data, "\x0a\x0b\x0c", 3);
	assert_int_equal(P.auth_method, PROF_AUTH_METHOD_CERTIFICATE);
	assert_string_equal(P.certificate_file, "/etc/pvpn/alice.crt");
	assert_string_equal(P.private_key_file, "alice.key");
	assert_null(P.private_key.data); /* NO_FILES */
	assert_string_equal(P.server_ca_file, "/etc/pvpn/ca.pem");
	assert_string_equal(P.server_cert_cn, "vpn.example.com");
	assert_string_equal(P.server_cert_issuer_cn, "Example Root # CA");
	assert_true(P.use_eap);
	assert_string_equal(P.username, "alice");
	assert_int_equal(P.password.len, strlen("pa#ss \"word\\ "));
	assert_memory_equal(P.password.data, "pa#ss \"word\\ ", P.password.len);
	assert_int_equal(P.n_ike_proposals, 2);
	assert_int_equal(P.ike_proposals[0].encr, PROF_ENCR_AES_GCM_16);
	assert_int_equal(P.ike_proposals[0].encr_keybits, 128);
	assert_int_equal(P.ike_proposals[0].prf, PROF_PRF_HMAC_SHA2_384);
	assert_int_equal(P.ike_proposals[0].n_dh, 2);
	assert_int_equal(P.ike_proposals[0].dh[0], PROF_DH_ECP256);
	assert_int_equal(P.ike_proposals[0].dh[1], PROF_DH_CURVE25519);
	assert_int_equal(P.ike_proposals[1].encr, PROF_ENCR_AES_CBC);
	assert_int_equal(P.ike_proposals[1].encr_keybits, 192);
	assert_int_equal(P.ike_proposals[1].integ, PROF_AUTH_HMAC_SHA2_512_256);
	assert_int_equal(P.ike_proposals[1].prf, PROF_PRF_HMAC_SHA2_256);
	assert_int_equal(P.ike_proposals[1].dh[0], PROF_DH_MODP4096);
	assert_int_equal(P.n_child_proposals, 2);
	assert_int_equal(P.child_proposals[0].encr, PROF_ENCR_CHACHA20_POLY1305);
	assert_int_equal(P.child_proposals[0].n_dh, 1);
	assert_int_equal(P.child_proposals[0].dh[0], PROF_DH_CURVE448);
	/* EnablePFS fills the IKE groups into the proposal without any. */
	assert_int_equal(P.child_proposals[1].integ, PROF_AUTH_HMAC_SHA2_384_192);
	assert_int_equal(P.child_proposals[1].n_dh, 3);
	assert_int_equal(P.child_proposals[1].dh[0], PROF_DH_ECP256);
	assert_int_equal(P.child_proposals[1].dh[1], PROF_DH_CURVE25519);
	assert_int_equal(P.child_proposals[1].dh[2], PROF_DH_MODP4096);
	assert_true(P.enable_pfs);
	assert_int_equal(P.ike_lifetime_s, 2 * 86400);
	assert_int_equal(P.child_lifetime_s, 90 * 60);
	assert_int_equal(P.rekey_margin_s, 300);
	assert_int_equal(P.dpd_rate, PROF_DPD_HIGH);
	assert_int_equal(prof_dpd_seconds(P.dpd_rate), 60);
	assert_true(P.disable_mobike);
	assert_true(P.disable_redirect);
	assert_true(P.enable_revocation_check);
	assert_true(P.strict_revocation_check);
	assert_true(P.use_internal_subnet);
	assert_true(P.disconnect_on_sleep);
	assert_int_equal(P.mtu, 1400);
	assert_false(P.include_all_networks);
	assert_true(P.exclude_local_networks);
	assert_int_equal(P.n_included, 3);
	assert_int_equal(P.included[1].family, AF_INET6);
	assert_int_equal(P.included[1].len, 48);
	assert_int_equal(P.included[2].addr[2], 7);
	assert_int_equal(P.n_excluded, 1);
	assert_int_equal(P.excluded[0].len, 16);
	assert_int_equal(P.dns_mode, PROF_DNS_RESOLVCONF);
	assert_int_equal(P.n_dns_servers, 2);
	assert_int_equal(P.dns_servers[1].family, AF_INET6);
	assert_int_equal(P.n_search_domains, 2);
	assert_string_equal(P.search_domains[1], "example.com");
	assert_int_equal(P.n_match_domains, 1);
	assert_true(P.on_demand);
	assert_int_equal(P.n_rules, 4);
	assert_int_equal(P.rules[0].action, PROF_OD_DISCONNECT);
	assert_int_equal(P.rules[0].iface, PROF_OD_IFACE_WIFI);
	assert_int_equal(P.rules[0].n_ssid, 2);
	assert_string_equal(P.rules[0].ssid[1], "My Home, 5G");
	assert_int_equal(P.rules[1].action, PROF_OD_EVALUATE_CONNECTION);
	assert_int_equal(P.rules[1].domain_action, PROF_OD_NEVER_CONNECT);
	assert_int_equal(P.rules[1].n_domain, 2);
	assert_string_equal(P.rules[1].domain[1], "*.corp.example.com");
	assert_string_equal(P.rules[1].probe_url, "https://probe.example.com/ok");
	assert_int_equal(P.rules[2].action, PROF_OD_IGNORE);
	assert_int_equal(P.rules[2].iface, PROF_OD_IFACE_CELLULAR);
	assert_int_equal(P.rules[3].action, PROF_OD_CONNECT);
	assert_int_equal(P.rules[3].n_search_domain, 1);
	assert_int_equal(P.rules[3].n_dns_server, 2);
	assert_int_equal(P.rules[3].dns_server[0].family, AF_INET);
	prof_free(&P);
}

static void identifiers_and_servers(void **state)
{
	static const struct { const char *id; enum prof_id_type t; size_t len; } ids[] = {
		{ "192.0.2.1", PROF_ID_IPV4_ADDR, 4 },
		{ "2001:db8::2", PROF_ID_IPV6_ADDR, 16 },
		{ "bob@example.com", PROF_ID_RFC822_ADDR, 15 },
		{ "vpn.example.com", PROF_ID_FQDN, 15 },
		{ "CN=bob", PROF_ID_DER_ASN1_DN, 16 },
		{ "fqdn:192.0.2.1", PROF_ID_FQDN, 9 },
		{ "email:bob", PROF_ID_RFC822_ADDR, 3 },
		{ "ipv4:192.0.2.9", PROF_ID_IPV4_ADDR, 4 },
		{ "ipv6:::1", PROF_ID_IPV6_ADDR, 16 },
		{ "keyid:opaque text", PROF_ID_KEY_ID, 11 },
	};
	char buf[512];
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		snprintf(buf, sizeof(buf), MIN "LocalIdentifier = %s\n", ids[i].id);
		assert_int_equal(parse(buf), 0);
		assert_int_equal(P.local_id.type, ids[i].t);
		assert_int_equal(P.local_id.data_len, ids[i].len);
		prof_free(&P);
	}
	/* Server forms: HOST:PORT, bare IPv6, IPv4 host -> IPv4 remote ID. */
	assert_int_equal(parse("[IKEv2]\nServer = 192.0.2.7:4500\nSharedSecret=x\n"), 0);
	assert_string_equal(P.server_host, "192.0.2.7");
	assert_int_equal(P.server_port, 4500);
	assert_int_equal(P.remote_id.type, PROF_ID_IPV4_ADDR);
	assert_memory_equal(P.remote_id.data, "\xc0\x00\x02\x07", 4);
	prof_free(&P);
	assert_int_equal(parse("[IKEv2]\nServer = fd00::1\nSharedSecret=x\n"), 0);
	assert_string_equal(P.server_host, "fd00::1");
	assert_int_equal(P.server_port, 500);
	assert_int_equal(P.remote_id.type, PROF_ID_IPV6_ADDR);
	prof_free(&P);
}

/* RFC 7296 §3.5: ID_DER_ASN1_DN carries the DER of the name. */
static void dn_identifiers(void **state)
{
	static const uint8_t want[] = {
		0x30, 0x2d,
		0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, 'C', 'H',
		0x31, 0x10, 0x30, 0x0e, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x13, 0x07,
		'E', 'x', 'a', 'm', 'p', 'l', 'e',
		0x31, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x04, 0x03, 0x13, 0x03, 'v', 'p', 'n',
	};
	assert_int_equal(parse(MIN "RemoteIdentifier = C=CH,  O=Example ,CN=vpn\n"), 0);
	assert_int_equal(P.remote_id.type, PROF_ID_DER_ASN1_DN);
	assert_false(P.remote_id.type_explicit);
	assert_false(P.remote_id.data_is_text);
	assert_int_equal(P.remote_id.data_len, sizeof(want));
	assert_memory_equal(P.remote_id.data, want, sizeof(want));
	prof_free(&P);
	/* Not PrintableString ('@', '*'): UTF8String (tag 0x0c); E is IA5String (0x16). */
	assert_int_equal(parse(MIN "LocalIdentifier = dn:CN=a@b, E=x@y.example\n"), 0);
	assert_int_equal(P.local_id.data[11], 0x0c);
	const uint8_t *e = P.local_id.data + 2 + 2 + 2 + P.local_id.data[5];
	assert_int_equal(e[0], 0x31);
	assert_int_equal(e[4 + 2 + e[5]], 0x16);
	prof_free(&P);
	/* An escaped comma stays in the value. */
	assert_int_equal(parse(MIN "LocalIdentifier = dn:O=A\\, B\n"), 0);
	assert_int_equal(P.local_id.data_len, 2 + 2 + 2 + 5 + 2 + 4);
	assert_memory_equal(P.local_id.data + 13, "A, B", 4);
	prof_free(&P);
	expect_err(MIN "LocalIdentifier = dn:XX=1\n", "unknown attribute 'XX' in the distinguished name (allowed: C, ST,");
	expect_err(MIN "LocalIdentifier = dn:CN=\n", "empty value for CN");
	expect_err(MIN "LocalIdentifier = dn:C=Switzerland\n", "bad value 'Switzerland' for C in the distinguished name (C is a two-letter country code)");
	expect_err(MIN "LocalIdentifier = dn:CN=a, junk\n", "'junk' in the distinguished name is not ATTR=value");
}

static void eap_only_and_methods(void **state)
{
	assert_int_equal(parse("[IKEv2]\nServer = a.example\nAuthenticationMethod = None\n"
			       "UseExtendedAuthentication = yes\nUsername = u\nPassword = p\n"), 0);
	assert_int_equal(P.auth_method, PROF_AUTH_METHOD_NONE);
	assert_true(P.use_eap);
	prof_free(&P);
	/* Keywords are case-insensitive. */
	assert_int_equal(parse("[ikev2]\nserver = a.example\nauthenticationmethod = sharedsecret\n"
			       "sharedsecretfile = /x\nDeadPeerDetectionRate = LOW\nDeadPeerDetectionRate2 = 1\n"), -EINVAL);
	assert_int_equal(parse("[ikev2]\nserver = a.example\nauthenticationmethod = sharedsecret\n"
			       "sharedsecretfile = /x\nDeadPeerDetectionRate = LOW\n"), 0);
	assert_int_equal(P.dpd_rate, PROF_DPD_LOW);
	assert_int_equal(prof_dpd_seconds(P.dpd_rate), 1800);
	assert_string_equal(P.shared_secret_file, "/x");
	prof_free(&P);
	assert_int_equal(parse(MIN "DeadPeerDetectionRate = none\n[DNS]\nMode = off\n"), 0);
	assert_int_equal(prof_dpd_seconds(P.dpd_rate), 0);
	assert_int_equal(P.dns_mode, PROF_DNS_OFF);
	prof_free(&P);
	static const char *modes[] = { "auto", "resolved", "resolvconf", "file", "off" };
	for (int i = 0; i < 5; i++) {
		char buf[256];
		snprintf(buf, sizeof(buf), MIN "[DNS]\nMode = %s\n", modes[i]);
		assert_int_equal(parse(buf), 0);
		assert_int_equal(P.dns_mode, i);
		prof_free(&P);
	}
	assert_int_equal(parse(MIN "[Routing]\nIncludeAllNetworks = yes\nExcludedRoutes = 192.168.0.0/16\n"), 0);
	assert_true(P.include_all_networks);
	prof_free(&P);
}

static void error_messages(void **state)
{
	static const struct { const char *text, *want; } cases[] = {
		/* The example, with the line number. */
		{ MIN "\n\n\nIKEProposals = aes256gcm17-prfsha256-x25519\n",
		  "home.conf:7: IKEProposals: unknown transform 'aes256gcm17', did you mean 'aes256gcm16'? (allowed: aes128|192|256" },
		{ MIN "IKEProposals = aes256gcm16-x25519\n", "home.conf:4: IKEProposals: 'aes256gcm16-x25519': an AEAD IKE proposal needs a PRF" },
		{ MIN "IKEProposals = aes256-modp2048\n", "a non-AEAD proposal needs an integrity algorithm" },
		{ MIN "IKEProposals = aes256-sha256\n", "an IKE proposal needs a DH group" },
		{ MIN "IKEProposals = aes256-aes128-sha256-modp2048\n", "has two encryption algorithms" },
		{ MIN "IKEProposals = aes256-sha256-sha384-modp2048\n", "has two integrity algorithms" },
		{ MIN "IKEProposals = aes256gcm16-prfsha256-prfsha384-x25519\n", "has two PRFs" },
		{ MIN "IKEProposals = aes256gcm16-prfsha256-x25519-x25519\n", "names group 'x25519' twice" },
		{ MIN "IKEProposals = aes256gcm16-prfsha256-x25519,,aes128-sha256-modp2048\n", "empty proposal" },
		{ MIN "IKEProposals = aes256gcm16--prfsha256-x25519\n", "empty transform" },
		{ MIN "IKEProposals = prfsha256-x25519\n", "has no encryption algorithm" },
		{ MIN "IKEProposals = aes256-sha256-modp2048, aes256-sha256-modp2048\n", "is listed twice" },
		{ MIN "IKEProposals = frobnicate\n", "unknown transform 'frobnicate' (allowed:" },
		{ MIN "ChildProposals = aes256gcm16-prfsha256\n", "a Child SA proposal takes no PRF" },
		{ MIN "ChildProposals = aes256gcm16-sha256\n", "an AEAD cipher takes no integrity algorithm" },
		{ MIN "ChildProposals = aes256gcm16-x25519\nEnablePFS = no\n", "EnablePFS: no, but ChildProposals name DH groups" },
		{ MIN "Sever = x\n", "home.conf:4: unknown key 'Sever', did you mean 'Server'?" },
		{ MIN "Frobnicator = x\n", "unknown key 'Frobnicator' in [IKEv2]" },
		{ "[IKEV3]\n", "home.conf:1: unknown section '[IKEV3]', did you mean '[IKEv2]'?" },
		{ "[Zebra]\n", "unknown section '[Zebra]' (allowed:" },
		{ "[IKEv2\n", "lacks its ']'" },
		{ "[IKEv2] x\n", "text after the section header" },
		{ "Server = a\n", "home.conf:1: Server: key before any section (put it under [IKEv2])" },
		{ MIN "[DNS]\nServer = b\n", "Server: belongs in [IKEv2], not [DNS]" },
		{ MIN "Server = b\n", "home.conf:4: Server: given twice" },
		{ MIN "MTU\n", "expected 'Key = Value'" },
		{ MIN "= 5\n", "has no key before the '='" },
		{ MIN "MTU =\n", "MTU: empty value" },
		{ MIN "MTU = 100\n", "MTU: bad value '100' (allowed: auto, or 576-9000)" },
		{ MIN "MTU = 12x\n", "MTU: bad value '12x'" },
		{ MIN "Username = \"abc\n", "bad quoting" },
		{ MIN "DisableMOBIKE = maybe\n", "DisableMOBIKE: bad value 'maybe' (allowed: yes, no)" },
		{ MIN "DeadPeerDetectionRate = hihg\n", "bad value 'hihg', did you mean 'high'? (allowed: none, low, medium, high)" },
		{ MIN "AuthenticationMethod = Kerberos\n", "(allowed: SharedSecret, Certificate, None)" },
		{ MIN "[DNS]\nMode = systemd\n", "Mode: bad value 'systemd'" },
		{ MIN "IKELifetime = 4w\n", "IKELifetime: bad duration '4w'" },
		{ MIN "IKELifetime = 30s\n", "IKELifetime: '30s' is out of range (allowed: 1m to 30d)" },
		{ MIN "ChildLifetime = 90s\nRekeyMargin = 2m\n", "ChildLifetime: 90s is not longer than RekeyMargin (2m)" },
		{ MIN "IKELifetime = 2m\nRekeyMargin = 2m\n", "home.conf:4: IKELifetime: 2m is not longer than RekeyMargin (2m)" },
		{ "[IKEv2]\nServer = a:0\n", "bad port '0' (allowed: 1-65535)" },
		{ "[IKEv2]\nServer = a:70000\n", "bad port '70000'" },
		{ "[IKEv2]\nServer = bad host!\n", "Server: bad host 'bad host!'" },
		{ "[IKEv2]\nServer = [192.0.2.1]:500\n", "only an IPv6 address goes in brackets" },
		{ "[IKEv2]\nServer = [fd00::1\n", "missing ']'" },
		{ "[IKEv2]\nSharedSecret = x\n", "home.conf: Server: missing" },
		{ MIN "LocalIdentifier = ipv4:vpn\n", "LocalIdentifier: 'vpn' is not an IPv4 address" },
		{ MIN "LocalIdentifier = keyid:#zz\n", "is not hex after '#'" },
		{ MIN "LocalIdentifier = dn:nothing\n", "is not a distinguished name" },
		{ MIN "LocalIdentifier = fqdn:\n", "empty identifier" },
		{ MIN "LocalIdentifier = has space\n", "has spaces or non-ASCII bytes" },
		{ MIN "SharedSecretFile = /x\n", "both SharedSecret and SharedSecretFile are given" },
		{ MIN "AuthenticationMethod = Certificate\n", "Certificate needs both 'CertificateFile = PATH' and 'PrivateKeyFile = PATH'" },
		{ MIN "AuthenticationMethod = Certificate\nCertificateFile=/a\nPrivateKeyFile=/b\n", "SharedSecret: given, but AuthenticationMethod = Certificate" },
		{ MIN "AuthenticationMethod = SharedSecret\nCertificateFile = /a\n", "home.conf:5: CertificateFile: given, but AuthenticationMethod = SharedSecret" },
		{ "[IKEv2]\nServer = a\nAuthenticationMethod = SharedSecret\n", "SharedSecret needs 'SharedSecret = TEXT' or 'SharedSecretFile = PATH'" },
		{ "[IKEv2]\nServer = a\n", "None needs 'UseExtendedAuthentication = yes'" },
		{ "[IKEv2]\nServer = a\nSharedSecret = x\nCertificateFile = /a\nPrivateKeyFile = /b\n", "home.conf: AuthenticationMethod: missing, and both a shared secret and a certificate" },
		{ "[IKEv2]\nServer = a\nAuthenticationMethod = None\nSharedSecret = x\nUseExtendedAuthentication = yes\nUsername = u\nPassword = p\n", "SharedSecret: given, but AuthenticationMethod = None" },
		{ MIN "UseExtendedAuthentication = yes\nPassword = p\n", "UseExtendedAuthentication: yes needs 'Username = NAME'" },
		{ MIN "UseExtendedAuthentication = yes\nUsername = u\n", "yes needs 'Password = TEXT' or 'PasswordFile = PATH'" },
		{ MIN "Username = u\n", "Username: given, but UseExtendedAuthentication is not yes" },
		{ MIN "UseExtendedAuthentication = yes\nUsername = u\nPassword = p\nPasswordFile = /p\n", "both Password and PasswordFile are given" },
		{ MIN "StrictRevocationCheck = yes\n", "StrictRevocationCheck: yes needs 'EnableRevocationCheck = yes'" },
		{ MIN "[Routing]\nIncludedRoutes = 10.1.2.3/8\n", "IncludedRoutes: '10.1.2.3/8' has host bits set (did you mean 10.0.0.0/8?)" },
		{ MIN "[Routing]\nIncludedRoutes = 10.0.0.0/33\n", "prefix length 33 is longer than 32" },
		{ MIN "[Routing]\nIncludedRoutes = 10.0.0.0/8, banana\n", "'banana' is not a prefix" },
		{ MIN "[Routing]\nIncludedRoutes = 10.0.0.0/8, 10.0.0.0/8\n", "'10.0.0.0/8' is listed twice" },
		{ MIN "[Routing]\nIncludedRoutes = 10.0.0.0/8,\n", "empty item in the list" },
		{ MIN "[Routing]\nIncludeAllNetworks = yes\nIncludedRoutes = 10.0.0.0/8\n", "IncludedRoutes: conflicts with IncludeAllNetworks = yes" },
		{ MIN "[Routing]\nIncludedRoutes = 10.0.0.0/8\nExcludedRoutes = 10.0.0.0/8\n", "ExcludedRoutes: 10.0.0.0/8 is also in IncludedRoutes" },
		{ MIN "[Routing]\nIncludedRoutes = 10.1.0.0/16\nExcludedRoutes = 10.0.0.0/8\n", "home.conf:6: ExcludedRoutes: 10.0.0.0/8 covers IncludedRoutes 10.1.0.0/16" },
		{ MIN "[DNS]\nServers = 10.0.0.1, dns.example\n", "Servers: 'dns.example' is not an IPv4 or IPv6 address" },
		{ MIN "[DNS]\nSearchDomains = bad..domain\n", "SearchDomains: 'bad..domain' is not a domain name" },
		{ MIN "[DNS]\nMode = off\nServers = 10.0.0.1\n", "Mode: off, but Servers/SearchDomains/MatchDomains are given" },
		{ MIN "[OnDemand]\nEnabled = yes\n", "Enabled: yes, but no 'Rule = ...' is given" },
		{ MIN "[OnDemand]\nRule = Conect\n", "Rule: unknown action 'Conect', did you mean 'Connect'?" },
		{ MIN "[OnDemand]\nRule = Connect Interface=WiFi\n", "Rule: unknown condition 'Interface'" },
		{ MIN "[OnDemand]\nRule = Connect InterfaceType=Modem\n", "Rule: InterfaceType: unknown value 'Modem' (allowed: Any, Ethernet, WiFi, Cellular)" },
		{ MIN "[OnDemand]\nRule = Connect SSID=a SSID=b\n", "Rule: SSID given twice" },
		{ MIN "[OnDemand]\nRule = Connect SSID=123456789012345678901234567890123\n", "longer than 32 bytes" },
		{ MIN "[OnDemand]\nRule = Connect DNSServer=x\n", "Rule: DNSServer: 'x' is not an IPv4 or IPv6 address" },
		{ MIN "[OnDemand]\nRule = Connect ProbeURL=ftp://x\n", "Rule: ProbeURL: 'ftp://x' is not an http:// or https:// URL" },
		{ MIN "[OnDemand]\nRule = EvaluateConnection\n", "Rule: EvaluateConnection needs Domains=" },
		{ MIN "[OnDemand]\nRule = Connect Domains=a.example\n", "Domains and DomainAction belong to EvaluateConnection only" },
		{ MIN "[OnDemand]\nRule = EvaluateConnection Domains=a.example DomainAction=Maybe\n", "DomainAction: unknown value 'Maybe' (allowed: ConnectIfNeeded, NeverConnect)" },
		{ MIN "[OnDemand]\nRule = Connect SSID=\"open\n", "unterminated quote" },
		{ MIN "[OnDemand]\nRule = Connect bare\n", "'bare' is not Condition=VALUE" },
		{ MIN "Username = a\x01" "b\n", "control character 0x01" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_err(cases[i].text, cases[i].want);
	/* A line longer than the limit. */
	char *big = malloc(PROF_LINE_MAX + 64);
	assert_non_null(big);
	memset(big, 'a', PROF_LINE_MAX + 10);
	memcpy(big, "[IKEv2]\nUsername = ", 19);
	big[PROF_LINE_MAX + 10] = '\0';
	expect_err(big, "home.conf:2: line is longer than 4096 bytes");
	free(big);
}

static void streaming_api_and_sticky_error(void **state)
{
	struct prof_parser ps;
	struct prof_profile p;
	struct pvpn_err e;
	prof_parser_init(&ps, &p, "s.conf", NULL, PROF_PARSE_NO_FILES);
	assert_int_equal(prof_parser_line(&ps, "[IKEv2]\r\n", 9), 0);
	assert_int_equal(prof_parser_line(&ps, "Server = x.example", 18), 0);
	assert_int_equal(prof_parser_line(&ps, "Bogus = 1\n", 10), -EINVAL);
	/* Later good lines do not clear the error. */
	assert_int_equal(prof_parser_line(&ps, "SharedSecret = y\n", 17), -EINVAL);
	assert_int_equal(prof_parser_finish(&ps, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "s.conf:3: unknown key 'Bogus'"));
	/* The profile was freed: it holds no secret. */
	assert_null(p.shared_secret.data);

	prof_parser_init(&ps, &p, "s.conf", NULL, PROF_PARSE_NO_FILES);
	prof_parser_line(&ps, "[IKEv2]", 7);
	prof_parser_line(&ps, "  # a comment", 13);
	prof_parser_line(&ps, "; another", 9);
	prof_parser_line(&ps, "Server = x.example # trailing comment", 37);
	prof_parser_line(&ps, "SharedSecret = a#b", 18);
	assert_int_equal(prof_parser_finish(&ps, &e), 0);
	assert_string_equal(p.server_host, "x.example");
	assert_memory_equal(p.shared_secret.data, "a#b", 3);
	prof_free(&p);
}

/* ---------------------------------------------------------- files */

static char tmpdir[64];

static void write_file(const char *name, const char *content, mode_t mode)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int setup_dir(void **state)
{
	strcpy(tmpdir, "/tmp/pvpn-prof-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void secret_files(void **state)
{
	char path[256], err_want[256];
	write_file("psk", "filesecret\n", 0600);
	write_file("pw", "pw-from-file\r\n", 0400);
	write_file("key.pem", "-----BEGIN PRIVATE KEY-----\nabc\n", 0600);
	write_file("cert.pem", "cert\n", 0644);
	write_file("open-psk", "x\n", 0640);
	write_file("empty", "", 0600);
	write_file("home.conf", "[IKEv2]\nServer = vpn.example\nSharedSecretFile = psk\n"
				"UseExtendedAuthentication = yes\nUsername = u\nPasswordFile = pw\n", 0600);
	snprintf(path, sizeof(path), "%s/home.conf", tmpdir);
	struct prof_profile p;
	struct pvpn_err e;
	/* Relative paths resolve against the profile's folder. */
	assert_int_equal(prof_parse_file(path, 0, &p, &e), 0);
	assert_int_equal(p.shared_secret.len, 10);
	assert_memory_equal(p.shared_secret.data, "filesecret", 10);
	assert_int_equal(p.password.len, 12);
	assert_memory_equal(p.password.data, "pw-from-file", 12);
	prof_free(&p);

	write_file("cert.conf", "[IKEv2]\nServer = vpn.example\nCertificateFile = cert.pem\nPrivateKeyFile = key.pem\n", 0600);
	snprintf(path, sizeof(path), "%s/cert.conf", tmpdir);
	assert_int_equal(prof_parse_file(path, 0, &p, &e), 0);
	assert_int_equal(p.auth_method, PROF_AUTH_METHOD_CERTIFICATE);
	assert_int_equal(p.private_key.len, strlen("-----BEGIN PRIVATE KEY-----\nabc\n"));
	prof_free(&p);

	/* Group-readable secret file: refused, with the fix. */
	write_file("bad.conf", "[IKEv2]\nServer = vpn.example\nSharedSecretFile = open-psk\n", 0600);
	snprintf(path, sizeof(path), "%s/bad.conf", tmpdir);
	assert_int_equal(prof_parse_file(path, 0, &p, &e), -EINVAL);
	snprintf(err_want, sizeof(err_want), "bad.conf:3: SharedSecretFile: '%s/open-psk' is accessible by group or others (mode 0640); run: chmod 600", tmpdir);
	if (!strstr(e.msg, err_want))
		fail_msg("got: %s", e.msg);
	assert_null(p.shared_secret.data);
	/* Still refused when the mode is only other-readable. */
	write_file("open-psk", "x\n", 0604);
	assert_int_equal(prof_parse_file(path, 0, &p, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "mode 0604"));
	/* NO_FILES skips the check (syntax only). */
	assert_int_equal(prof_parse_file(path, PROF_PARSE_NO_FILES, &p, &e), 0);
	prof_free(&p);

	write_file("missing.conf", "[IKEv2]\nServer = vpn.example\nSharedSecretFile = nope\n", 0600);
	snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
	assert_int_equal(prof_parse_file(path, 0, &p, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "missing.conf:3: SharedSecretFile: cannot open"));
	assert_non_null(strstr(e.msg, "No such file"));

	write_file("empty.conf", "[IKEv2]\nServer = vpn.example\nSharedSecretFile = empty\n", 0600);
	snprintf(path, sizeof(path), "%s/empty.conf", tmpdir);
	assert_int_equal(prof_parse_file(path, 0, &p, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "is empty"));

	write_file("dir.conf", "[IKEv2]\nServer = vpn.example\nSharedSecretFile = /tmp\n", 0600);
	snprintf(path, sizeof(path), "%s/dir.conf", tmpdir);
	assert_int_equal(prof_parse_file(path, 0, &p, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "is not a regular file"));

	/* Text without a folder: relative paths cannot be resolved. */
	const char *t = "[IKEv2]\nServer = vpn.example\nSharedSecretFile = psk\n";
	assert_int_equal(prof_parse_string("sock", t, strlen(t), NULL, 0, &p, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "sock:3: SharedSecretFile: relative path 'psk' cannot be resolved here"));
	assert_int_equal(prof_parse_string("sock", t, strlen(t), tmpdir, 0, &p, &e), 0);
	assert_memory_equal(p.shared_secret.data, "filesecret", 10);
	prof_free(&p);

	assert_int_equal(prof_parse_file("/nonexistent/x.conf", 0, &p, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "/nonexistent/x.conf: cannot open"));
}

/* ------------------------------------------------------ round trip */

static void round_trip_one(const char *text, unsigned flags)
{
	struct prof_profile a, b;
	struct pvpn_err e;
	char *t1, *t2;
	size_t n1, n2;
	assert_int_equal(prof_parse_string("rt", text, strlen(text), NULL, flags, &a, &e), 0);
	assert_int_equal(prof_serialise(&a, false, &t1, &n1), 0);
	assert_int_equal(strlen(t1), n1);
	if (prof_parse_string("rt2", t1, n1, NULL, flags, &b, &e))
		fail_msg("serialised text does not parse: %s\n%s", e.msg, t1);
	assert_true(prof_equal(&a, &b));
	assert_int_equal(prof_serialise(&b, false, &t2, &n2), 0);
	assert_int_equal(n1, n2);
	assert_string_equal(t1, t2);
	/* Copy keeps everything, secrets included. */
	struct prof_profile c;
	prof_init(&c);
	assert_int_equal(prof_copy(&c, &a), 0);
	assert_true(prof_equal(&a, &c));
	prof_free(&c);
	/* prof_equal is not vacuous. */
	b.mtu = (uint16_t)(a.mtu + 1);
	assert_false(prof_equal(&a, &b));
	prof_text_free(t1, n1);
	prof_text_free(t2, n2);
	prof_free(&a);
	prof_free(&b);
}

static void round_trip(void **state)
{
	round_trip_one(MIN, PROF_PARSE_NO_FILES);
	round_trip_one(FULL, PROF_PARSE_NO_FILES);
	round_trip_one("[IKEv2]\nServer = [fd00::1]:4500\nRemoteIdentifier = srv@example\nSharedSecret = \" lead#ing\\\\\"\n"
		       "ChildProposals = aes128gcm16-modp3072\n[Routing]\nIncludeAllNetworks = yes\n"
		       "ExcludedRoutes = fd00:1::/32\n", PROF_PARSE_NO_FILES);
	round_trip_one("[IKEv2]\nServer = 192.0.2.1:1\nAuthenticationMethod = None\nUseExtendedAuthentication = yes\n"
		       "Username = u\nPasswordFile = /etc/pw\nMTU=auto\n[OnDemand]\nRule = Connect SSID=\"q\\\"uote\",\"back\\\\slash\"\n",
		       PROF_PARSE_NO_FILES);
}

static void redaction(void **state)
{
	char *t;
	size_t n;
	assert_int_equal(parse(MIN "UseExtendedAuthentication = yes\nUsername = alice\nPassword = hunter2\n"), 0);
	assert_int_equal(prof_serialise(&P, true, &t, &n), 0);
	assert_null(strstr(t, "s3cret"));
	assert_null(strstr(t, "hunter2"));
	assert_non_null(strstr(t, "SharedSecret = <redacted>\n"));
	assert_non_null(strstr(t, "Password = <redacted>\n"));
	assert_non_null(strstr(t, "Username = alice\n"));
	prof_text_free(t, n);
	assert_int_equal(prof_serialise(&P, false, &t, &n), 0);
	assert_non_null(strstr(t, "SharedSecret = s3cret\n"));
	prof_text_free(t, n);
	prof_free(&P);
	/* A secret from a file is shown as its path, never its content. */
	assert_int_equal(parse("[IKEv2]\nServer = a.example\nSharedSecretFile = /etc/pvpn/psk\n"), 0);
	assert_int_equal(prof_serialise(&P, true, &t, &n), 0);
	assert_non_null(strstr(t, "SharedSecretFile = /etc/pvpn/psk\n"));
	prof_text_free(t, n);
	prof_free(&P);
}

static void proposal_api(void **state)
{
	struct prof_proposal pr[4];
	size_t n;
	struct pvpn_err e;
	char s[128];
	assert_int_equal(prof_parse_proposals("aes128-sha256-modp2048", true, pr, 4, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pr[0].prf, PROF_PRF_HMAC_SHA2_256);
	assert_int_equal(prof_proposal_str(&pr[0], s, sizeof(s)), 0);
	assert_string_equal(s, "aes128-sha256-modp2048");
	/* A PRF other than the implied one is written out. */
	assert_int_equal(prof_parse_proposals("aes256-sha256-prfsha512-ecp521", true, pr, 4, &n, &e), 0);
	assert_int_equal(prof_proposal_str(&pr[0], s, sizeof(s)), 0);
	assert_string_equal(s, "aes256-sha256-prfsha512-ecp521");
	/* strongSwan reads shaNNN in an AEAD IKE proposal as the PRF. */
	assert_int_equal(prof_parse_proposals("aes256gcm16-sha384-ecp384", true, pr, 4, &n, &e), 0);
	assert_int_equal(pr[0].integ, 0);
	assert_int_equal(pr[0].prf, PROF_PRF_HMAC_SHA2_384);
	assert_int_equal(prof_proposal_str(&pr[0], s, sizeof(s)), 0);
	assert_string_equal(s, "aes256gcm16-prfsha384-ecp384");
	assert_int_equal(prof_parse_proposals("chacha20poly1305-prfsha256-curve448-modp3072", true, pr, 4, &n, &e), 0);
	assert_int_equal(pr[0].encr, PROF_ENCR_CHACHA20_POLY1305);
	assert_int_equal(pr[0].encr_keybits, 256);
	assert_int_equal(pr[0].dh[0], PROF_DH_CURVE448);
	assert_int_equal(pr[0].dh[1], PROF_DH_MODP3072);
	/* strongSwan's other spellings, written back canonically. */
	assert_int_equal(prof_parse_proposals("aes256gcm128-prfsha256-curve25519, aes128gcm128-sha2_384-ecp256", true, pr, 4, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(prof_proposal_str(&pr[0], s, sizeof(s)), 0);
	assert_string_equal(s, "aes256gcm16-prfsha256-x25519");
	assert_int_equal(prof_proposal_str(&pr[1], s, sizeof(s)), 0);
	assert_string_equal(s, "aes128gcm16-prfsha384-ecp256");
	assert_int_equal(prof_parse_proposals("AES128-SHA2_256-MODP2048", true, pr, 4, &n, &e), 0);
	assert_int_equal(pr[0].integ, PROF_AUTH_HMAC_SHA2_256_128);
	assert_int_equal(prof_parse_proposals("a,b,c,d,e", true, pr, 4, &n, &e), -EINVAL);
	assert_int_equal(prof_parse_proposals("aes128-sha256-modp2048,aes192-sha256-modp2048,aes256-sha256-modp2048,"
					      "aes128gcm16-prfsha256-ecp256,aes256gcm16-prfsha256-ecp256", true, pr, 4, &n, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "more than 4 proposals"));
	/* Too small a buffer for the text. */
	assert_int_equal(prof_parse_proposals("aes128-sha256-modp2048", true, pr, 4, &n, &e), 0);
	assert_int_equal(prof_proposal_str(&pr[0], s, 8), -ENOSPC);
}

static void prefixes(void **state)
{
	struct prof_prefix pf;
	struct pvpn_err e;
	char s[64];
	assert_int_equal(prof_parse_prefix("192.0.2.1", &pf, &e), 0);
	assert_int_equal(pf.len, 32);
	assert_int_equal(prof_parse_prefix("2001:db8::/32", &pf, &e), 0);
	assert_int_equal(pf.len, 32);
	assert_int_equal(prof_prefix_str(&pf, s, sizeof(s)), 0);
	assert_string_equal(s, "2001:db8::/32");
	assert_int_equal(prof_parse_prefix("2001:db8::1/64", &pf, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "did you mean 2001:db8::/64?"));
	assert_int_equal(prof_parse_prefix("0.0.0.0/0", &pf, &e), 0);
	assert_int_equal(pf.len, 0);
	assert_int_equal(prof_parse_prefix("10.0.0.0/", &pf, &e), -EINVAL);
	assert_int_equal(prof_parse_prefix("10.0.0.0/1x", &pf, &e), -EINVAL);
	assert_int_equal(prof_parse_prefix("::/129", &pf, &e), -EINVAL);
	assert_int_equal(prof_parse_prefix("10.128.0.0/9", &pf, &e), 0);
	assert_int_equal(prof_parse_prefix("10.192.0.0/9", &pf, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "did you mean 10.128.0.0/9?"));
}

static void example_fixtures_parse(void **state)
{
	static const char *files[] = {
		"tests/fixtures/profiles/home.conf", "tests/fixtures/profiles/full-tunnel.conf",
		"tests/fixtures/profiles/eap.conf", "tests/fixtures/profiles/certificate.conf",
		"tests/fixtures/profiles/ondemand.conf",
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct prof_profile p;
		struct pvpn_err e;
		if (prof_parse_file(files[i], PROF_PARSE_NO_FILES, &p, &e))
			fail_msg("%s: %s", files[i], e.msg);
		prof_free(&p);
	}
}

/* Whatever parses must serialise to lines that parse again: values that
 * would outgrow a line once quoted are refused up front. */
static void line_limits(void **state)
{
	size_t cap = PROF_LINE_MAX + 256;
	char *t = malloc(cap), *line = malloc(cap);
	assert_non_null(t);
	assert_non_null(line);
	/* An unquoted secret full of backslashes doubles when written back. */
	memset(line, '\\', 3000);
	line[3000] = '\0';
	snprintf(t, cap, "[IKEv2]\nServer = a.example\nSharedSecret = %s\n", line);
	expect_err(t, "home.conf:3: SharedSecret: too long for one line once quoted (put it in SharedSecretFile)");
	snprintf(t, cap, "[IKEv2]\nServer = a.example\nSharedSecret = x\nUseExtendedAuthentication = yes\nUsername = u\nPassword = %s\n", line);
	expect_err(t, "Password: too long for one line once quoted (put it in PasswordFile)");
	/* The longest secret that still fits round-trips. */
	memset(line, 'k', 4000);
	line[4000] = '\0';
	snprintf(t, cap, "[IKEv2]\nServer = a.example\nSharedSecret = %s\n", line);
	assert_int_equal(parse(t), 0);
	assert_int_equal(P.shared_secret.len, 4000);
	char *o;
	size_t n;
	assert_int_equal(prof_serialise(&P, false, &o, &n), 0);
	struct prof_profile q;
	struct pvpn_err e;
	assert_int_equal(prof_parse_string("x", o, n, NULL, PROF_PARSE_NO_FILES, &q, &e), 0);
	assert_true(prof_equal(&P, &q));
	prof_free(&q);
	prof_text_free(o, n);
	prof_free(&P);
	/* A rule whose values grow beyond one line when quoted: SSIDs and a
	 * ProbeURL full of backslashes (legal unquoted, escaped on output). */
	const char *head = "[IKEv2]\nServer = a.example\nSharedSecret = x\n[OnDemand]\n";
	size_t k = (size_t)snprintf(t, cap, "%sRule=EvaluateConnection SSID=", head);
	size_t line_start = strlen(head);
	for (int i = 0; i < 8; i++) {
		if (i)
			t[k++] = ',';
		t[k++] = 'x';
		memset(t + k, '\\', 31);
		k += 31;
	}
	for (int list = 0; list < 2; list++) {
		k += (size_t)snprintf(t + k, cap - k, list ? " Domains=" : " DNSSearchDomain=");
		for (int i = 0; i < 8; i++) {
			if (i)
				t[k++] = ',';
			memset(t + k, 'a' + i, 60);
			t[k + 60] = '.';
			memset(t + k + 61, 'b' + i, 60);
			t[k + 121] = '.';
			memset(t + k + 122, 'c' + i, 58);
			k += 180;
		}
	}
	k += (size_t)snprintf(t + k, cap - k, " ProbeURL=http://a/");
	memset(t + k, '\\', 500);
	k += 500;
	t[k++] = '\n';
	t[k] = '\0';
	assert_true(k - line_start - 1 <= PROF_LINE_MAX);
	expect_err(t, "Rule: too long for one line (split it into several rules)");
	/* A wildcard domain of 255 bytes does not fit the 253-byte limit. */
	k = (size_t)snprintf(t, cap, "%sRule = Connect DNSSearchDomain=*.", head);
	for (int i = 0; i < 4; i++) {
		/* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253: a valid name, 255 with "*.". */
		memset(t + k, 'a', i < 3 ? 63 : 61);
		k += i < 3 ? 63 : 61;
		t[k++] = i < 3 ? '.' : '\n';
	}
	t[k] = '\0';
	expect_err(t, "DNSSearchDomain: '*.aaaa");
	/* Two bytes shorter fits. */
	memmove(t + k - 3, "\n", 2);
	assert_int_equal(parse(t), 0);
	assert_int_equal(strlen(P.rules[0].search_domain[0]), 253);
	prof_free(&P);
	/* Restore the rule test input for the next check. */
	k = (size_t)snprintf(t, cap, "%sRule=EvaluateConnection SSID=", head);
	for (int i = 0; i < 8; i++) {
		if (i)
			t[k++] = ',';
		t[k++] = 'x';
		memset(t + k, '\\', 31);
		k += 31;
	}
	for (int list = 0; list < 2; list++) {
		k += (size_t)snprintf(t + k, cap - k, list ? " Domains=" : " DNSSearchDomain=");
		for (int i = 0; i < 8; i++) {
			if (i)
				t[k++] = ',';
			memset(t + k, 'a' + i, 60);
			t[k + 60] = '.';
			memset(t + k + 61, 'b' + i, 60);
			t[k + 121] = '.';
			memset(t + k + 122, 'c' + i, 58);
			k += 180;
		}
	}
	k += (size_t)snprintf(t + k, cap - k, " ProbeURL=http://a/");
	memset(t + k, '\\', 500);
	k += 500;
	t[k++] = '\n';
	t[k] = '\0';
	/* Half the backslashes fit. */
	memmove(t + k - 251, "\n", 2);
	assert_int_equal(parse(t), 0);
	assert_int_equal(P.n_rules, 1);
	prof_free(&P);
	round_trip_one(t, PROF_PARSE_NO_FILES);
	free(t);
	free(line);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = calloc(1, 1 << 17);
	size_t n = fread(buf, 1, (1 << 17) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* docs/pvpn.conf.5 documents every key the parser knows, and its example
 * profile parses. */
static void man_page_is_complete(void **state)
{
	static const char *keys[] = {
		"Server", "RemoteIdentifier", "LocalIdentifier", "AuthenticationMethod", "SharedSecret",
		"SharedSecretFile", "CertificateFile", "PrivateKeyFile", "ServerCertificateAuthorityFile",
		"ServerCertificateCommonName", "ServerCertificateIssuerCommonName",
		"UseExtendedAuthentication", "Username", "Password", "PasswordFile", "IKEProposals",
		"ChildProposals", "EnablePFS", "IKELifetime", "ChildLifetime", "RekeyMargin",
		"DeadPeerDetectionRate", "DisableMOBIKE", "DisableRedirect", "EnableRevocationCheck",
		"StrictRevocationCheck", "UseConfigurationAttributeInternalIPSubnet", "DisconnectOnSleep",
		"MTU", "IncludeAllNetworks", "ExcludeLocalNetworks", "IncludedRoutes", "ExcludedRoutes",
		"Mode", "Servers", "SearchDomains", "MatchDomains", "Enabled", "Rule",
	};
	char *man = slurp("docs/pvpn.conf.5");
	assert_non_null(man);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char want[128];
		snprintf(want, sizeof(want), "\"%s = ", keys[i]);
		if (!strstr(man, want))
			fail_msg("docs/pvpn.conf.5 does not document %s", keys[i]);
		/* And the parser knows it (any error but "unknown key"). */
		char text[256];
		snprintf(text, sizeof(text), "[IKEv2]\n%s = \x01\n", keys[i]);
		parse(text);
		assert_null(strstr(E.msg, "unknown key"));
	}
	char *ex = strstr(man, ".SH EXAMPLE\n.nf\n");
	assert_non_null(ex);
	ex += strlen(".SH EXAMPLE\n.nf\n");
	char *end = strstr(ex, "\n.fi\n");
	assert_non_null(end);
	end[1] = '\0';
	if (parse(ex))
		fail_msg("the man page example does not parse: %s", E.msg);
	assert_string_equal(P.shared_secret_file, "office.psk");
	assert_int_equal(P.n_rules, 2);
	prof_free(&P);
	free(man);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_of_a_minimal_profile),
		cmocka_unit_test(every_key_parses),
		cmocka_unit_test(identifiers_and_servers),
		cmocka_unit_test(dn_identifiers),
		cmocka_unit_test(eap_only_and_methods),
		cmocka_unit_test(error_messages),
		cmocka_unit_test(streaming_api_and_sticky_error),
		cmocka_unit_test_setup_teardown(secret_files, setup_dir, teardown_dir),
		cmocka_unit_test(round_trip),
		cmocka_unit_test(redaction),
		cmocka_unit_test(proposal_api),
		cmocka_unit_test(prefixes),
		cmocka_unit_test(example_fixtures_parse),
		cmocka_unit_test(man_page_is_complete),
		cmocka_unit_test(line_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
