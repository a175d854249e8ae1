#!/bin/bash
# The pvpn CLI end to end against pvpnd (daemon mode) and strongSwan: save,
# load (secret redacted), list, connect --wait, status in text and JSON
# with kernel counters that grow after a ping and SPIs that `ip xfrm state`
# shows too, watch sees connecting then connected, disconnect (nothing
# left in the kernel), remove; exit codes 2 and 3.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
. "$(dirname "$0")/../demo/lib-ctl.sh"

psk=ctl-basic-psk-$$-secret
ix_setup
ix_server_start "psk=$psk"
pc_profile "$IX_DIR/demo.conf" "psk=$psk"
pc_start

# No daemon on a socket: exit 3 with how to start it.
"$PC_CLI" --socket "$IX_DIR/nothing.sock" list >/dev/null 2>"$IX_DIR/nod.err"
rc=$?
[ $rc = 3 ] || ix_fail "pvpn without a daemon exited $rc (want 3)"
grep -q "pvpnd" "$IX_DIR/nod.err" || ix_fail "no hint how to start pvpnd: $(cat "$IX_DIR/nod.err")"
ix_log "ok: no daemon -> exit 3: $(head -n 1 "$IX_DIR/nod.err")"

pc watch >"$IX_DIR/watch.out" 2>&1 &
watch_pid=$!

pc_expect 0 save demo "$IX_DIR/demo.conf"
grep -qx "saved demo" "$PC_OUT" || ix_fail "save said: $(cat "$PC_OUT")"
# From stdin too, and a broken profile is a profile error (2) with file:line.
printf '[IKEv2]\nServer = 192.0.2.2\nNoSuchKey = 1\n' | pc save broken - >"$PC_OUT" 2>"$PC_ERR"
rc=$?
[ $rc = 2 ] || ix_fail "saving a broken profile exited $rc (want 2)"
grep -q "NoSuchKey" "$PC_ERR" || ix_fail "no reason for the broken profile: $(cat "$PC_ERR")"
ix_log "ok: broken profile refused: $(head -n 1 "$PC_ERR")"

pc_expect 0 load demo
grep -q "SharedSecret = <redacted>" "$PC_OUT" || ix_fail "load does not redact: $(cat "$PC_OUT")"
grep -q "$psk" "$PC_OUT" && ix_fail "load shows the PSK"
pc --json load demo | grep -q "$psk" && ix_fail "load --json shows the PSK"
ix_log "ok: load redacts the secret"

pc_expect 0 list
grep -qx demo "$PC_OUT" || ix_fail "list: $(cat "$PC_OUT")"
[ "$(pc_json '[p["name"] for p in d["profiles"]]' list)" = '["demo"]' ] || ix_fail "list --json"
ix_log "ok: list"

pc_expect 0 connect demo --wait
ix_log "connect --wait printed:"
cat "$PC_OUT"
grep -q "demo: connected" "$PC_OUT" || ix_fail "connect --wait did not report connected"

pc_expect 0 status demo
cat "$PC_OUT"
grep -q "^demo: connected" "$PC_OUT" || ix_fail "status text"
grep -qE "virtual IP +10\.10\.10\." "$PC_OUT" || ix_fail "status shows no virtual IP"
grep -qE "child SA +SPIs in [0-9a-f]{8} out [0-9a-f]{8}" "$PC_OUT" || ix_fail "status shows no SPIs"
pc_expect 0 status
grep -qE "^demo +connected" "$PC_OUT" || ix_fail "status table: $(cat "$PC_OUT")"

[ "$(pc_json 'd["connection"]["status"]' status demo)" = connected ] || ix_fail "json status"
vip=$(pc_json 'd["connection"]["virtual_ips"][0]' status demo)
[ "$vip" = "$(ix_client_vip)" ] || ix_fail "JSON virtual IP $vip, kernel has $(ix_client_vip)"
spi_in=$(pc_json '"%08x" % d["connection"]["child_sas"][0]["spi_in"]' status demo)
spi_out=$(pc_json '"%08x" % d["connection"]["child_sas"][0]["spi_out"]' status demo)
ix_cli ip xfrm state | grep -q "spi 0x$spi_in" || ix_fail "SPI $spi_in not in ip xfrm state"
ix_cli ip xfrm state | grep -q "spi 0x$spi_out" || ix_fail "SPI $spi_out not in ip xfrm state"
ix_log "ok: SPIs in $spi_in out $spi_out match ip xfrm state"
# The negotiated cipher, as the kernel names it.
enc=$(pc_json 'd["connection"]["child_sas"][0]["encryption"]' status demo)
ix_cli ip xfrm state | grep -qF "aead $enc " || ix_fail "cipher $enc is not what ip xfrm state shows"
ix_log "ok: cipher $enc as in ip xfrm state"
rekey=$(pc_json 'd["connection"]["child_sas"][0]["rekey_in_seconds"]' status demo)
[ "$rekey" -gt 0 ] || ix_fail "no time to rekey ($rekey)"
b0=$(pc_json 'd["connection"]["child_sas"][0]["bytes_out"]' status demo)
p0=$(pc_json 'd["connection"]["child_sas"][0]["packets_in"]' status demo)

ix_check "ping $IX_INNER_ADDR through the tunnel" pv_ping
b1=$(pc_json 'd["connection"]["child_sas"][0]["bytes_out"]' status demo)
p1=$(pc_json 'd["connection"]["child_sas"][0]["packets_in"]' status demo)
[ "$b1" -gt "$b0" ] || ix_fail "bytes_out did not grow after a ping ($b0 -> $b1)"
[ "$p1" -ge $((p0 + 2)) ] || ix_fail "packets_in did not grow by 2 ($p0 -> $p1)"
# The same numbers the kernel shows.
kin=$(ix_cli ip -s xfrm state | awk -v s="0x$spi_in" '$0 ~ "spi " s {f=1} f && /bytes/ && /packets/ {print; exit}')
ix_log "ok: counters grew: bytes_out $b0 -> $b1, packets_in $p0 -> $p1 (kernel: $kin)"

pc_expect 0 disconnect demo
pc_wait_status demo disconnected 20
ix_check_clean "$IX_CLI" "after disconnect"
ix_check "server has no SA after the DELETE" ix_server_wait_sa 0 10
[ "$(pc_json 'd["error"]' last-error demo)" = null ] || ix_fail "a clean disconnect left an error"

sleep 0.5
kill "$watch_pid" 2>/dev/null
wait "$watch_pid" 2>/dev/null
ix_log "watch printed:"
cat "$IX_DIR/watch.out"
order=$(grep -oE "demo: (connecting|connected|disconnecting|disconnected)" "$IX_DIR/watch.out" | tr '\n' ' ')
case "$order" in
*"demo: connecting demo: connected "*"demo: disconnected"*) ix_log "ok: watch saw: $order" ;;
*) ix_fail "watch order: $order" ;;
esac

pc_expect 0 remove demo
pc_expect 2 load demo
grep -q configurationNotFound "$PC_ERR" || ix_fail "load of a removed profile: $(cat "$PC_ERR")"
pc_expect 2 connect demo
grep -q "demo" "$IX_DIR/pvpnd.log" || ix_fail "log lines do not name the profile"
grep -q "$psk" "$IX_DIR/pvpnd.log" && ix_fail "the PSK appears in pvpnd's log"

pc_stop
[ "$PC_RC" = 0 ] || ix_fail "pvpnd exit status $PC_RC after SIGTERM (want 0)"
[ -e "$PC_SOCK" ] && ix_fail "the control socket outlived pvpnd"
ix_log PASS
