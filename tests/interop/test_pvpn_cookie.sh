#!/bin/bash
# The server demands a cookie (RFC 7296 §2.6).  strongSwan asks for one when
# charon.cookie_threshold half-open IKE SAs exist (here 1).  To make sure a
# half-open SA exists whatever charon does first, the server's namespace
# drops its first full IKE_SA_INIT response (> 100 bytes; a COOKIE response
# is about 60): either that leaves pvpnd's first attempt half-open and the
# retransmission is answered with COOKIE, or charon asked for the cookie at
# once and the drop only costs pvpnd one retransmission of its cookie
# request.  Either way pvpnd must retry carrying the cookie and connect.
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
		udp sport 500 udp length > 100 @th,208,8 34 @th,216,8 & 0x20 == 0x20 numgen inc mod 1000000 0 counter drop
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
grep -q "N(COOKIE)" "$IX_DIR/srv/charon.log" || ix_fail "the server sent no COOKIE"
n=$(grep -c "sending IKE_SA_INIT request" "$IX_DIR/pvpnd.log")
[ "$n" -ge 2 ] || ix_fail "expected a second (cookie) IKE_SA_INIT request, saw $n"
ix_log "ok: connected through the cookie round"
pv_stop
[ "$PV_RC" = 0 ] || ix_fail "pvpnd exit status $PV_RC after SIGTERM"
pv_assert_clean
pv_keep_logs
ix_log PASS
