#!/bin/bash
# pvpnd killed with SIGKILL leaves its SAs, policies, virtual IP and route;
# the next start removes them (XFRM by owner tag, the rest from its state
# file), connects again, and a SIGTERM then leaves nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
ix_setup
ix_server_start
pv_profile "$IX_DIR/client.conf"
pv_start "$IX_DIR/client.conf"
pv_wait_up 60
kill -KILL "$PV_PID"
wait "$PV_PID" 2>/dev/null
PV_PID=
[ -n "$(ix_cli ip xfrm state)" ] || ix_fail "expected SAs left behind after SIGKILL"
[ -n "$(ix_client_vip)" ] || ix_fail "expected the virtual IP left behind after SIGKILL"
ix_log "ok: SIGKILL left state behind"
cp "$IX_DIR/pvpnd.log" "$IX_DIR/pvpnd-first.log"
pv_start "$IX_DIR/client.conf"
pv_wait_up 60
pv_log_has "previous pvpnd left behind" || ix_fail "the second pvpnd did not report removing leftovers"
ix_check "ping through the new tunnel" pv_ping
[ "$(ix_cli ip xfrm state | grep -c '^src')" = 2 ] || ix_fail "want exactly the 2 new SAs"
pv_stop
[ "$PV_RC" = 0 ] || ix_fail "pvpnd exit status $PV_RC after SIGTERM"
pv_assert_clean
pv_keep_logs
ix_log PASS
