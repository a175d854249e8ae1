#!/bin/bash
# Certificates: Ed25519 on both sides (RFC 8420):
# the tunnel comes up, a ping crosses, nothing left after SIGTERM.  No
# LocalIdentifier: pvpnd identifies itself by its certificate's DN.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
. "$(dirname "$0")/certs/lib-auth.sh"
ix_setup
ix_server_start
au_pki ed25519 ed25519 ed25519
au_server pubkey server "CN=client.pvpn.test"
au_profile "$IX_DIR/client.conf" cert local_id=none
au_expect_tunnel
pv_log_has "certificate and signature verified" || ix_fail "pvpnd did not report the server's certificate check"
pv_keep_logs
ix_log PASS
