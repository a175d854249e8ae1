#!/bin/bash
# EAP-only authentication (RFC 5998) with EAP-TLS: strongSwan's local round
# is "auth = eap", so with the client's EAP_ONLY_AUTHENTICATION it sends
# no AUTH and no CERT in its first IKE_AUTH response; the server is
# authenticated by its TLS certificate (checked like an IKE certificate)
# and the MSK-based AUTH.  Then the failure case: a TLS server certificate
# from a CA the profile does not trust ends with the certificate error and
# nothing installed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
. "$(dirname "$0")/certs/lib-auth.sh"
ix_setup
au_server_start_eap_tls
au_pki p256 p256 p256
au_server eap-only
au_profile "$IX_DIR/client.conf" eap-tls
au_expect_tunnel
pv_log_has "EAP-only authentication \\(RFC 5998\\)" ||
	ix_fail "pvpnd did not report EAP-only authentication"
pv_log_has "EAP-TLS succeeded" || ix_fail "pvpnd did not report EAP-TLS success"
pv_log_has "the server's certificate and signature verified" &&
	ix_fail "the server signed its IKE AUTH: not EAP-only"
# strongSwan's side: it authenticated itself with EAP, not a signature.
grep -E "authentication of 'server.pvpn.test' \(myself\) with EAP" "$IX_DIR/srv/charon.log" ||
	ix_fail "strongSwan did not authenticate itself by EAP (EAP-only not used)"
grep -qE "authentication of 'server.pvpn.test' \(myself\) with (RSA|ECDSA)" "$IX_DIR/srv/charon.log" &&
	ix_fail "strongSwan signed its AUTH: not EAP-only"
grep -q "authentication of 'client@pvpn.test' with EAP successful" "$IX_DIR/srv/charon.log" ||
	ix_fail "strongSwan did not report the client's EAP-TLS authentication"
cp "$IX_DIR/pvpnd.log" "$IX_DIR/pvpnd-eap-only.log"

# The failure case: the profile trusts another CA.
"$AU_GEN" "$IX_DIR/other" ca p256 "some other CA" || ix_fail "cannot make the other CA"
au_profile "$IX_DIR/client.conf" eap-tls "ca=$IX_DIR/other/ca.crt"
au_expect_failure "EAP-TLS: the TLS server certificate is refused"
pv_log_has "server certificate invalid" || ix_fail "the error does not name the server certificate"
pv_keep_logs
ix_log PASS
