#!/bin/bash
# The client's address changes under a running tunnel (192.0.2.1 -> .3 on
# the same link) with DisableMOBIKE: pvpnd notices (rtnetlink) that the route
# to the server now leaves from another address, ends the IKE SA and
# connects again from the new address; the continuous ping resumes.  (With
# MOBIKE the SAs move instead: test_life_mobike.sh.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
. "$(dirname "$0")/lib_life.sh"

NEW_ADDR=192.0.2.3
ix_setup
ix_server_start
life_profile "$IX_DIR/client.conf" "DisableMOBIKE = yes"
pv_start "$IX_DIR/client.conf"
pv_wait_up 60
ix_check "ping through the tunnel" pv_ping
life_ping_start 300
sleep 3

ix_log "moving the client from $IX_CLIENT_ADDR to $NEW_ADDR"
T0=$(date +%s)
# (Deleting a primary address takes its secondaries along: old one first.)
ix__do ip -n "$IX_CLI" addr del "$IX_CLIENT_ADDR/24" dev ix-cli
ix__do ip -n "$IX_CLI" addr add "$NEW_ADDR/24" dev ix-cli

pv__reconnected() { pv_log_has 'reconnected after'; }
ix_wait 90 pv__reconnected || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd did not reconnect within 90 s"; }
T1=$(date +%s)
pv_log_has 'path to the server changed' || ix_fail "the address change was not noticed"
pv_log_has "connecting to .* from $NEW_ADDR" || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "the new IKE SA does not use $NEW_ADDR"; }
life_ping_count
R0=$LIFE_RECV
pv__ping_back() { life_ping_count; [ "$LIFE_RECV" -ge $((R0 + 5)) ]; }
ix_wait 30 pv__ping_back || { tail -n 20 "$IX_DIR/life-ping.out" >&2; ix_fail "the ping did not resume"; }
life_ping_kill
ix_check "server has one IKE SA" ix_server_wait_sa 1 15
ix_server_sas | grep -q "$NEW_ADDR" || { ix_server_sas >&2; ix_fail "the server's IKE SA is not with $NEW_ADDR"; }
ix_log "address change: reconnected $((T1 - T0)) s after the move; ping: $LIFE_RECV answered, $LIFE_LOST lost"
pv_stop
[ "$PV_RC" = 0 ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd exit status $PV_RC"; }
pv_assert_clean
cat "$IX_DIR/pvpnd.log"
pv_keep_logs
echo "address change: reconnected $((T1 - T0)) s after the move; ping: $LIFE_RECV answered, $LIFE_LOST lost" >"$BUILD/interop-logs/$IX_TEST.ok/summary"
ix_log PASS
