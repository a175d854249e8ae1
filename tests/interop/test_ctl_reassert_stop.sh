#!/bin/bash
# A user stop while the tunnel is reasserting (pvpnd daemon mode): the server
# dies, its liveness check goes unanswered, the connection goes reasserting
# and waits to reconnect; `pvpn disconnect` then ends it for good: status
# disconnected, no further connection attempt, nothing left in the kernel.
# interop: timeout 360
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
. "$(dirname "$0")/lib_life.sh"
. "$(dirname "$0")/../demo/lib-ctl.sh"

ix_setup
ix_server_start
life_profile "$IX_DIR/demo.conf" "DeadPeerDetectionRate = high"
pc_start
pc_expect 0 save demo "$IX_DIR/demo.conf"
pc_expect 0 connect --wait demo
ix_check "ping through the tunnel" pv_ping

# SIGKILL, so the server is gone for good (a clean stop sends DELETE,
# which reasserts as well: test_ctl_errors.sh).
ix_log "killing the server for good (SIGKILL, kernel state wiped)"
kill -KILL "$IX_SRV_PID" 2>/dev/null
wait "$IX_SRV_PID" 2>/dev/null
IX_SRV_PID=
ix_srv ip xfrm state flush
ix_srv ip xfrm policy flush
pc_wait_status demo reasserting 120

pc_expect 0 disconnect demo
pc_wait_status demo disconnected 20
attempts=$(grep -c "connecting to " "$IX_DIR/pvpnd.log")
ix_log "ok: disconnect while reasserting ends it"
# Longer than the first reconnect backoff: no new attempt may start.
sleep 8
pc__status_is demo disconnected || { pc status demo >&2; ix_fail "the connection came back after the user stopped it"; }
now=$(grep -c "connecting to " "$IX_DIR/pvpnd.log")
[ "$now" -le "$attempts" ] || { tail -n 30 "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd kept reconnecting after the user stopped it ($attempts -> $now attempts)"; }
ix_log "ok: no reconnect after the stop ($now connection attempt(s) in all)"
pc_stop
[ "$PC_RC" = 0 ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd exit status $PC_RC"; }
pv_assert_clean
ix_log PASS
