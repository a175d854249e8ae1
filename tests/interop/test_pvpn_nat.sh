#!/bin/bash
# Behind a masquerading NAT: NAT detected, IKE moves to 4500, the SAs are
# UDP-encapsulated (RFC 3948) and the ping crosses.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
ix_setup nat
ix_server_start
pv_profile "$IX_DIR/client.conf"
pv_start "$IX_DIR/client.conf"
pv_wait_up 60
pv_log_has "NAT detected" || ix_fail "the log does not say a NAT was detected"
ix_cli ip xfrm state >"$IX_DIR/xfrm-state.txt"
cat "$IX_DIR/xfrm-state.txt"
n=$(grep -c "encap type espinudp sport 4500" "$IX_DIR/xfrm-state.txt" || true)
[ "$n" -ge 1 ] || ix_fail "no UDP-encapsulated SA in ip xfrm state"
[ "$(grep -c 'encap type espinudp' "$IX_DIR/xfrm-state.txt")" = 2 ] || ix_fail "want both SAs encapsulated"
ix_check "ping through the tunnel" pv_ping
ix_check "server lists the SA" ix_server_wait_sa 1 10
pv_stop
[ "$PV_RC" = 0 ] || ix_fail "pvpnd exit status $PV_RC after SIGTERM"
pv_assert_clean
ix_check "server has no SA after the DELETE" ix_server_wait_sa 0 10
pv_keep_logs
ix_log PASS
