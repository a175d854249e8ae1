#!/bin/bash
# Server certificate (IKE AUTH by signature) + client EAP-TLS (RFC 5216,
# strongSwan's eap-tls): the profile says Certificate with
# UseExtendedAuthentication, as Apple's client does.  pvpnd offers EAP-only
# (RFC 5998) but this server authenticates with its signature anyway; the
# tunnel comes up with the MSK-based AUTH.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
. "$(dirname "$0")/certs/lib-auth.sh"
ix_setup
au_server_start_eap_tls
au_pki p256 p256 p256
au_server eap-tls
au_profile "$IX_DIR/client.conf" eap-tls
au_expect_tunnel
pv_log_has "the server's certificate and signature verified" ||
	ix_fail "pvpnd did not verify the server's IKE signature"
pv_log_has "EAP-TLS succeeded" || ix_fail "pvpnd did not report EAP-TLS success"
pv_log_has "EAP-only authentication" && ix_fail "EAP-only was used, but this server signs"
grep -q "authentication of 'client@pvpn.test' with EAP successful" "$IX_DIR/srv/charon.log" ||
	ix_fail "strongSwan did not report the client's EAP-TLS authentication"
pv_keep_logs
ix_log PASS
