#!/bin/bash
# pvpnd's own exchange, captured in the server's namespace, decrypts and
# parses with pvpn-ikedump --keys fed from pvpnd --keylog.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
dump=$BUILD/pvpn-ikedump
[ -x "$dump" ] || ix_fail "$dump missing: build it first"
ix_setup
ix_server_start
ix_srv tcpdump -i ix-srv -U -s 0 -w "$IX_DIR/capture.pcap" udp >"$IX_DIR/tcpdump.out" 2>&1 &
tcpdump_pid=$!
ix_wait 10 grep -q "listening on" "$IX_DIR/tcpdump.out" || ix_fail "tcpdump did not start"
pv_profile "$IX_DIR/client.conf"
pv_start "$IX_DIR/client.conf" --keylog "$IX_DIR/keys.log"
pv_wait_up 60
pv_log_has "key log .* is on" || ix_fail "no warning that the key log is on"
[ "$(stat -c %a "$IX_DIR/keys.log")" = 600 ] || ix_fail "key log mode is $(stat -c %a "$IX_DIR/keys.log"), want 600"
ix_check "ping through the tunnel" pv_ping
pv_stop
[ "$PV_RC" = 0 ] || ix_fail "pvpnd exit status $PV_RC"
sleep 0.5
# SIGTERM: a background job of a non-interactive shell ignores SIGINT.
kill -TERM "$tcpdump_pid"
ix_wait 10 pv__not_running "$tcpdump_pid" || kill -KILL "$tcpdump_pid"
wait "$tcpdump_pid" 2>/dev/null
grep -qE '^spi_i=[0-9a-f]{16}$' "$IX_DIR/keys.log" || ix_fail "no spi_i line in the key log"
grep -qE '^sk_ei=' "$IX_DIR/keys.log" || ix_fail "no sk_ei in the key log"
"$dump" --keys "$IX_DIR/keys.log" "$IX_DIR/capture.pcap" >"$IX_DIR/ikedump.out" 2>&1
rc=$?
cat "$IX_DIR/ikedump.out"
[ "$rc" = 0 ] || ix_fail "pvpn-ikedump --keys failed (status $rc)"
for x in IKE_SA_INIT IKE_AUTH INFORMATIONAL; do
	grep -q "$x" "$IX_DIR/ikedump.out" || ix_fail "no $x in the dump"
done
# IKE_SA_INIT x2, IKE_AUTH x2, INFORMATIONAL (DELETE) x2 at least.
n=$(grep -cE 'IKE_SA_INIT|IKE_AUTH|INFORMATIONAL' "$IX_DIR/ikedump.out")
[ "$n" -ge 6 ] || ix_fail "only $n IKE messages in the dump"
"$dump" --keys "$IX_DIR/keys.log" --verify "$IX_DIR/capture.pcap" >"$IX_DIR/verify.out" 2>&1 ||
	{ cat "$IX_DIR/verify.out"; ix_fail "pvpn-ikedump --verify found a mismatch"; }
ix_log "ok: every message decrypts and parses; key schedule verified"
pv_keep_logs
ix_log PASS
