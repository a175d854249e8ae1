#!/bin/bash
# The server restarts and loses its state (charon killed, its kernel SAs
# gone, charon started again): pvpnd notices that ESP goes out and nothing
# comes back, its liveness check goes unanswered (RFC 7296 §2.4), the tunnel
# is declared dead, status goes reasserting and pvpnd reconnects by itself;
# the continuous ping resumes.  Then a user stop ends it cleanly.
# interop: timeout 360
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
. "$(dirname "$0")/lib_life.sh"

ix_setup
ix_server_start
life_profile "$IX_DIR/client.conf" "DeadPeerDetectionRate = high"
pv_start "$IX_DIR/client.conf"
pv_wait_up 60
ix_check "ping through the tunnel" pv_ping
life_ping_start 400
sleep 3

ix_log "killing the server (SIGKILL) and wiping its kernel state"
kill -KILL "$IX_SRV_PID" 2>/dev/null
wait "$IX_SRV_PID" 2>/dev/null
IX_SRV_PID=
ix_srv ip xfrm state flush
ix_srv ip xfrm policy flush
T0=$(date +%s)
ix_charon_start srv "$IX_SRV"
ix_server_load
ix_log "server restarted (pid $IX_SRV_PID)"

pv__reconnected() { pv_log_has 'reconnected after'; }
ix_wait 150 pv__reconnected || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd did not reconnect within 150 s"; }
T1=$(date +%s)
pv_log_has 'reasserting: reconnecting' || ix_fail "no reasserting status before the reconnect"
pv_log_has 'server dead|server not responding' || ix_fail "the loss was not reported as a dead server"
# The ping resumes on the new tunnel.
life_ping_count
R0=$LIFE_RECV
pv__ping_back() { life_ping_count; [ "$LIFE_RECV" -ge $((R0 + 5)) ]; }
ix_wait 30 pv__ping_back || { tail -n 20 "$IX_DIR/life-ping.out" >&2; ix_fail "the ping did not resume"; }
life_ping_kill
ix_log "server restart: reconnected $((T1 - T0)) s after the restart; ping: $LIFE_RECV answered, $LIFE_LOST lost"
ix_check "server has the new IKE SA" ix_server_wait_sa 1 10
kill -0 "$PV_PID" || ix_fail "pvpnd exited"
pv_stop
[ "$PV_RC" = 0 ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd exit status $PV_RC"; }
pv_assert_clean
ix_log "pvpnd log:"
cat "$IX_DIR/pvpnd.log"
pv_keep_logs
echo "server restart: reconnected $((T1 - T0)) s after the restart; ping: $LIFE_RECV answered, $LIFE_LOST lost" >"$BUILD/interop-logs/$IX_TEST.ok/summary"
ix_log PASS
