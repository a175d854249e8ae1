#!/bin/bash
# last-error through the CLI, one daemon with several profiles each keeping
# its own error: a wrong PSK (authenticationFailed), a proposal the server
# does not accept (negotiationFailed), no server at the address
# (serverNotResponding), and the server deleting the SA of a tunnel that
# was up (serverDisconnected while it reasserts; cleared once the tunnel is
# back by itself).  connect --wait exits 1 with the error.
# interop: timeout 360
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
. "$(dirname "$0")/../demo/lib-ctl.sh"

ix_setup
ix_server_start
pc_start

# clean_after WHAT: nothing of the failed attempt stays in the kernel (the
# larval SA of the SPI allocation included), within a few seconds.
clean_after() {
	ix_wait 5 test -z "$(ix_xfrm_left "$IX_CLI")"
	ix_check_clean "$IX_CLI" "after $1"
}

# expect_error NAME ERROR: connect --wait fails (1) naming ERROR; last-error
# says the same in text and JSON, with a detail.
expect_error() {
	local name=$1 want=$2
	pc_expect 1 connect "$name" --wait
	grep -q "$want" "$PC_ERR" || ix_fail "connect --wait $name: stderr lacks $want: $(cat "$PC_ERR")"
	pc_expect 0 last-error "$name"
	cat "$PC_OUT"
	grep -q "^$name: $want" "$PC_OUT" || ix_fail "last-error $name: $(cat "$PC_OUT")"
	[ "$(pc_json 'd["error"]' last-error "$name")" = "$want" ] || ix_fail "last-error --json $name"
	[ -n "$(pc_json 'd["detail"]' last-error "$name")" ] || ix_fail "no detail for $name"
	[ "$(pc_json 'd["connection"]["status"]' status "$name")" = disconnected ] ||
		ix_fail "$name is not disconnected after $want"
	ix_log "ok: $name -> $want ($(pc_json 'd["detail"]' last-error "$name"))"
}

pc_profile "$IX_DIR/badpsk.conf" psk=not-the-right-secret-at-all
pc_expect 0 save badpsk "$IX_DIR/badpsk.conf"
expect_error badpsk authenticationFailed
grep -q "not-the-right-secret" "$IX_DIR/pvpnd.log" && ix_fail "the PSK appears in the log"
clean_after authenticationFailed

# The server's ESP proposal is aes256gcm16; offer only AES-128-GCM.
pc_profile "$IX_DIR/badprop.conf" esp=aes128gcm16
pc_expect 0 save badprop "$IX_DIR/badprop.conf"
expect_error badprop negotiationFailed
clean_after negotiationFailed

# Nobody at 192.0.2.99 (on the link, so ARP fails and nothing answers).
pc_profile "$IX_DIR/noserver.conf" server=192.0.2.99
pc_expect 0 save noserver "$IX_DIR/noserver.conf"
expect_error noserver serverNotResponding

# A good tunnel the server then deletes: an unplanned loss, so pvpnd
# reasserts and reconnects.  The server ignores us for a while first, so the
# reconnect waits and the error can be read meanwhile.
pc_profile "$IX_DIR/good.conf"
pc_expect 0 save good "$IX_DIR/good.conf"
pc_expect 0 connect good --wait
ix_check "ping through the tunnel" pv_ping
ix_srv nft -f - <<'NFT' || ix_fail "nftables rule failed"
table inet ixdeaf {
	chain in {
		type filter hook input priority filter; policy accept;
		ip saddr 192.0.2.1 udp dport { 500, 4500 } drop
	}
}
NFT
# --force: the server deletes without waiting for our (dropped) answer.
ix_swanctl srv --terminate --ike pvpn --force >/dev/null 2>&1 || ix_fail "swanctl --terminate"
pc_wait_status good reasserting 20
pc_expect 0 last-error good
cat "$PC_OUT"
grep -q "^good: serverDisconnected" "$PC_OUT" || ix_fail "last-error good: $(cat "$PC_OUT")"
ix_log "ok: good -> serverDisconnected, reasserting"
ix_srv nft delete table inet ixdeaf || ix_fail "removing the nftables rule"
pc_wait_status good connected 90
ix_check "ping through the tunnel after the reconnect" pv_ping
[ "$(pc_json 'd["error"]' last-error good)" = null ] || ix_fail "error kept after the reconnect"
ix_log "ok: reconnected by itself; the error is cleared"
pc_expect 0 disconnect good
pc_wait_status good disconnected 20
clean_after "the reconnected tunnel"

# Each profile kept its own error.
pc_expect 0 status
cat "$PC_OUT"
for pair in badpsk:authenticationFailed badprop:negotiationFailed \
	noserver:serverNotResponding; do
	n=${pair%%:*} e=${pair#*:}
	grep -qE "^$n +disconnected .*last error: $e" "$PC_OUT" || ix_fail "status table: $n should show $e"
done
# A later good connection clears the error.
pc_expect 0 connect good --wait
[ "$(pc_json 'd["connection"]["status"]' status good)" = connected ] || ix_fail "reconnect"
[ "$(pc_json 'd["error"]' last-error good)" = null ] || ix_fail "error kept after a good connect"
pc_expect 0 disconnect good
pc_wait_status good disconnected 20
pc_stop
[ "$PC_RC" = 0 ] || ix_fail "pvpnd exit status $PC_RC"
ix_log PASS
