#!/bin/bash
# No server: pvpnd gives up within its retransmission budget (40 s by
# default, ike.h) with "server not responding" and exit status 1.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
ix_setup
pv_profile "$IX_DIR/client.conf"
t0=$(date +%s)
pv_start "$IX_DIR/client.conf"
pv_wait_exit 90
secs=$(($(date +%s) - t0))
cat "$IX_DIR/pvpnd.log"
[ "$PV_RC" = 1 ] || ix_fail "pvpnd exit status $PV_RC (want 1)"
pv_log_has "server not responding" || ix_fail "no 'server not responding' in the log"
pv_log_has "retransmitting IKE_SA_INIT" || ix_fail "no retransmissions in the log"
[ "$secs" -le 60 ] || ix_fail "gave up after ${secs}s, beyond the budget"
ix_log "ok: gave up after ${secs}s"
pv_assert_clean
pv_keep_logs
ix_log PASS
