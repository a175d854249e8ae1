#!/bin/bash
# The server's namespace drops the first IKE_SA_INIT and the first IKE_AUTH
# request: pvpnd retransmits (RFC 7296 §2.1), the tunnel still comes up.
# IKE_AUTH goes to port 4500 because pvpnd offers MOBIKE (RFC 4555 §3.3):
# there the exchange type sits 4 bytes later, after the non-ESP marker.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
ix_setup
ix_server_start
ix_srv nft -f - <<'NFT' || ix_fail "nftables rule failed"
table inet ixdrop {
	chain in {
		type filter hook input priority filter; policy accept;
		udp dport 500 @th,208,8 34 numgen inc mod 1000000 0 counter drop
		udp dport 4500 @th,240,8 35 numgen inc mod 1000000 0 counter drop
	}
}
NFT
pv_profile "$IX_DIR/client.conf"
pv_start "$IX_DIR/client.conf"
pv_wait_up 90
cat "$IX_DIR/pvpnd.log"
[ "$(ix_srv nft list table inet ixdrop | grep -c 'packets 1 ')" = 2 ] ||
	ix_fail "the drop rules did not each drop one packet"
pv_log_has "retransmitting IKE_SA_INIT" || ix_fail "no IKE_SA_INIT retransmission in the log"
pv_log_has "retransmitting IKE_AUTH" || ix_fail "no IKE_AUTH retransmission in the log"
ix_check "ping through the tunnel" pv_ping
pv_stop
[ "$PV_RC" = 0 ] || ix_fail "pvpnd exit status $PV_RC after SIGTERM"
pv_assert_clean
pv_keep_logs
ix_log PASS
