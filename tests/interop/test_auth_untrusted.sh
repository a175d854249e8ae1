#!/bin/bash
# The server's certificate comes from a CA the profile does not trust:
# pvpnd exits 1 with "server certificate invalid"; nothing installed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
. "$(dirname "$0")/certs/lib-auth.sh"
ix_setup
ix_server_start
au_pki rsa2048 rsa2048 rsa2048
"$AU_GEN" "$IX_DIR/other" ca rsa2048 "some other CA" || ix_fail "cannot make the other CA"
au_server pubkey
au_profile "$IX_DIR/client.conf" cert "ca=$IX_DIR/other/ca.crt"
au_expect_failure "server certificate invalid"
pv_keep_logs
ix_log PASS
