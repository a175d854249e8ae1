#!/bin/bash
# The server demands a cookie (RFC 7296 §2.6).  strongSwan asks for one when
# charon.cookie_threshold half-open IKE SAs exist; with the threshold at 1,
# dropping the server's first IKE_SA_INIT response leaves pvpnd's first
# attempt half-open, so the retransmission is answered with COOKIE and pvpnd
# must retry carrying it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
ix_setup
ix_server_start cookie=1
# IKE header byte 18 = exchange type (34 IKE_SA_INIT), byte 19 = flags
# (0x20 response); @th counts bits from the UDP header.
ix_srv nft -f - <<'NFT' || ix_fail "nftables rule failed"
table inet ixcookie {
	chain out {
		type filter hook output priority filter; policy accept;
		udp sport 500 @th,208,8 34 @th,216,8 & 0x20 == 0x20 numgen inc mod 1000000 0 counter drop
	}
}
NFT
pv_profile "$IX_DIR/client.conf"
pv_start "$IX_DIR/client.conf" -v
pv_wait_up 60
ix_check "ping through the tunnel" pv_ping
ix_srv nft list table inet ixcookie | grep -q "packets 1 " || ix_fail "the drop rule did not fire"
# The server sent a COOKIE notify: an IKE_SA_INIT response of a few dozen
# bytes; pvpnd then sent a third, non-retransmitted IKE_SA_INIT.
grep -qi "cookie" "$IX_DIR/pvpnd.log" || grep -qi "COOKIE" "$IX_DIR/srv/charon.log" ||
	ix_fail "neither log mentions a cookie"
n=$(grep -c "sending IKE_SA_INIT request" "$IX_DIR/pvpnd.log")
[ "$n" -ge 2 ] || ix_fail "expected a second (cookie) IKE_SA_INIT request, saw $n"
ix_log "ok: connected through the cookie round"
pv_stop
[ "$PV_RC" = 0 ] || ix_fail "pvpnd exit status $PV_RC after SIGTERM"
pv_assert_clean
pv_keep_logs
ix_log PASS
