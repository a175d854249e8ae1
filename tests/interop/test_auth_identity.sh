#!/bin/bash
# Identity mismatch: no RemoteIdentifier, so the certificate must name the
# Server address (192.0.2.2); it names only server.pvpn.test.  pvpnd exits
# 1 with "server identity mismatch"; nothing installed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
. "$(dirname "$0")/certs/lib-auth.sh"
ix_setup
ix_server_start
au_pki p256 p256 p256
au_server pubkey
au_profile "$IX_DIR/client.conf" cert remote_id=none
au_expect_failure "server identity mismatch"
pv_keep_logs
ix_log PASS
