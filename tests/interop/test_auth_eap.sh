#!/bin/bash
# Server certificate + client EAP-MSCHAPv2 (strongSwan's eap-mschapv2):
# the tunnel comes up; the password never shows in the log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
. "$(dirname "$0")/certs/lib-auth.sh"
ix_setup
ix_server_start
au_pki rsa2048 rsa2048
au_server eap
au_profile "$IX_DIR/client.conf" eap
au_expect_tunnel
pv_log_has "EAP-MSCHAPv2 succeeded" || ix_fail "pvpnd did not report EAP success"
pv_log_has "$AU_EAP_PASSWORD" && ix_fail "the password appears in the log"
pv_keep_logs
ix_log PASS
