#!/bin/bash
# The server's certificate expired: pvpnd exits 1 with "server certificate
# expired"; nothing installed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
. "$(dirname "$0")/certs/lib-auth.sh"
ix_setup
ix_server_start
au_pki p256 p256 p256
"$AU_GEN" "$AU_PKI" leaf old p256 server.pvpn.test DNS:server.pvpn.test 20200101000000Z 20210101000000Z ||
	ix_fail "cannot make the expired certificate"
au_server pubkey old
au_profile "$IX_DIR/client.conf" cert
au_expect_failure "server certificate expired"
pv_keep_logs
ix_log PASS
