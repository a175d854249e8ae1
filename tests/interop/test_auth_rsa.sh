#!/bin/bash
# Certificates: server RSA + client RSA (RFC 7427 signatures with SHA-256):
# the tunnel comes up, a ping crosses, nothing left after SIGTERM.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
. "$(dirname "$0")/certs/lib-auth.sh"
ix_setup
ix_server_start
au_pki rsa2048 rsa2048 rsa2048
au_server pubkey
au_profile "$IX_DIR/client.conf" cert
au_expect_tunnel
pv_log_has "certificate and signature verified" || ix_fail "pvpnd did not report the server's certificate check"
pv_keep_logs
ix_log PASS
