#!/bin/bash
# Re-authentication (RFC 4478) when the new IKE SA's Child SA does not match
# the old one: the server's traffic selectors change under the running
# tunnel (10.99.0.0/24 -> 10.99.0.0/25), so pvpnd cannot keep the old
# policies and routes; it switches over in full (old state out, new state
# in, a short break), logs it, deletes the old IKE SA, and stays connected.
# interop: timeout 360
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
. "$(dirname "$0")/lib_life.sh"

REAUTH=${LIFE_REAUTH_SECS:-30}
ix_setup
ix_server_start "reauth_time=${REAUTH}s"
life_profile "$IX_DIR/client.conf"
pv_start "$IX_DIR/client.conf"
pv_wait_up 60
ix_check "ping through the tunnel" pv_ping
ix_cli ip xfrm policy | grep -q 'dst 10.99.0.0/24' ||
	{ ix_cli ip xfrm policy >&2; ix_fail "no policy for 10.99.0.0/24 before the change"; }
ix_server_load "reauth_time=${REAUTH}s" "local_ts=10.99.0.0/25"
life_ping_start $((REAUTH + 10))
pv__reauthed() { pv_log_has 're-authenticated \(1\) in full'; }
ix_wait $((REAUTH + 20)) pv__reauthed || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "no full re-authentication"; }
life_ping_stop
pv_log_has 'the server gave other traffic selectors; switching over in full' ||
	{ cat "$IX_DIR/pvpnd.log" >&2; ix_fail "the reason for the full switch was not logged"; }
ix_cli ip xfrm policy | grep -q 'dst 10.99.0.0/25' ||
	{ ix_cli ip xfrm policy >&2; ix_fail "no policy for the new selector 10.99.0.0/25"; }
! ix_cli ip xfrm policy | grep -q 'dst 10.99.0.0/24' ||
	{ ix_cli ip xfrm policy >&2; ix_fail "the old policy for 10.99.0.0/24 is still there"; }
n=$(ix_cli ip xfrm state | grep -c '^src' || true)
[ "$n" = 2 ] || { ix_cli ip xfrm state >&2; ix_fail "$n SAs in the client's kernel after the switch (want one pair)"; }
[ "$(life_count 'connected in [0-9]+ ms')" -le 2 ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "connected too often"; }
! pv_log_has 'reasserting|disconnected|re-authentication failed' ||
	{ cat "$IX_DIR/pvpnd.log" >&2; ix_fail "the tunnel went down"; }
[ "$LIFE_LOST" -le 3 ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "$LIFE_LOST pings lost in a full switch"; }
ix_check "server has exactly one IKE SA" ix_server_wait_sa 1 10
ix_check "ping after the full switch" pv_ping
pv_stop
[ "$PV_RC" = 0 ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd exit status $PV_RC"; }
pv_assert_clean
ix_check "server has no SA after the DELETE" ix_server_wait_sa 0 10
SUMMARY="full switch on a re-authentication with other selectors: ping $LIFE_SENT sent, $LIFE_LOST lost"
pv_keep_logs
echo "$SUMMARY" >"$BUILD/interop-logs/$IX_TEST.ok/summary"
ix_log "summary: $SUMMARY"
ix_log PASS
