#!/bin/bash
# The server accepts only ECP-256, which pvpnd offers second (X25519 first):
# one INVALID_KE_PAYLOAD round (RFC 7296 §1.2), then the tunnel comes up.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
ix_setup
ix_server_start ike=aes256gcm16-prfsha256-ecp256 esp=aes256gcm16
pv_profile "$IX_DIR/client.conf" ike=aes256gcm16-prfsha256-x25519-ecp256 esp=aes256gcm16
pv_start "$IX_DIR/client.conf"
pv_wait_up 60
ix_check "ping through the tunnel" pv_ping
n=$(grep -c "sending IKE_SA_INIT request" "$IX_DIR/pvpnd.log")
[ "$n" = 2 ] || ix_fail "expected 2 IKE_SA_INIT requests (one INVALID_KE_PAYLOAD round), saw $n"
grep -q "INVALID_KE_PAYLOAD" "$IX_DIR/srv/charon.log" ||
	grep -qi "requesting ECP_256" "$IX_DIR/srv/charon.log" ||
	ix_fail "the server's log shows no INVALID_KE_PAYLOAD"
ix_log "ok: one INVALID_KE_PAYLOAD round"
pv_stop
[ "$PV_RC" = 0 ] || ix_fail "pvpnd exit status $PV_RC after SIGTERM"
pv_assert_clean
pv_keep_logs
ix_log PASS
