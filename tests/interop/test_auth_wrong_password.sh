#!/bin/bash
# EAP-MSCHAPv2 with a wrong password: pvpnd exits 1 with "authentication
# failed"; nothing installed; neither password shows in the log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
. "$(dirname "$0")/certs/lib-auth.sh"
ix_setup
ix_server_start
au_pki rsa2048 rsa2048
au_server eap
au_profile "$IX_DIR/client.conf" eap "password=not the password"
au_expect_failure "authentication failed"
pv_log_has "not the password" && ix_fail "the wrong password appears in the log"
pv_keep_logs
ix_log PASS
