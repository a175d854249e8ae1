#!/bin/bash
# NAT rebinding under a running tunnel: the client sits behind a
# masquerading NAT (IKE and ESP in UDP 4500, RFC 3948); the NAT forgets its
# mappings and hands out ports from another range (the masquerade rule is
# replaced and the conntrack entries dropped), so the server suddenly sees
# the client from another port.  The tunnel recovers (the server follows
# the new port: RFC 7296 §2.23, strongSwan's MAPPING handling; pvpnd's
# liveness check, sent when ESP goes out and nothing comes back, carries
# IKE from the new port too) and the ping resumes.  Lost pings go into the
# summary.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
. "$(dirname "$0")/lib_life.sh"

command -v conntrack >/dev/null || ix_fail "conntrack missing (Debian package conntrack); run scripts/install-deps"
ix_setup nat
ix_server_start
life_profile "$IX_DIR/client.conf"
pv_start "$IX_DIR/client.conf"
pv_wait_up 60
pv_log_has "NAT detected" || ix_fail "the log does not say a NAT was detected"
ix_check "ping through the tunnel" pv_ping

# The client's address and port as the server sees them.
client_port() { ix_server_sas | grep -oE "remote .*@ $IX_CLIENT_ADDR\[[0-9]+\]" | head -n 1 | sed -E 's/.*\[([0-9]+)\]/\1/'; }
ike_id() { ix_server_sas | grep -oE '^[^ :]+: #[0-9]+' | head -n 1; }
P0=$(client_port)
IKE0=$(ike_id)
[ -n "$P0" ] || { ix_server_sas >&2; ix_fail "cannot read the client's port from the server's SA"; }
ix_log "server sees the client at $IX_CLIENT_ADDR:$P0 (IKE SA $IKE0)"

life_ping_start 300
sleep 3
life_ping_count
R0=$LIFE_RECV L0=$LIFE_LOST

ix_log "rebinding the NAT: new port range 20000-29999, conntrack entries dropped"
T0=$(date +%s%N)
ix_nat nft -f - <<-NFT || ix_fail "cannot replace the masquerade rule"
	flush chain ip ixnat post
	add rule ip ixnat post oifname "ix-wan" meta l4proto udp counter masquerade to :20000-29999
	add rule ip ixnat post oifname "ix-wan" counter masquerade
NFT
ix_nat conntrack -D -p udp >/dev/null 2>&1 || true
ix_nat conntrack -L -p udp 2>/dev/null | grep -q "dport=4500" &&
	ix_log "(a mapping came back at once, from the next packet)"

new_port() { local p; p=$(client_port); [ -n "$p" ] && [ "$p" != "$P0" ] && [ "$p" -ge 20000 ] && [ "$p" -le 29999 ]; }
ix_wait 60 new_port || { ix_server_sas >&2; cat "$IX_DIR/pvpnd.log" >&2; ix_fail "the server never saw the client's new port"; }
P1=$(client_port)
pv__ping_back() { life_ping_count; [ "$LIFE_RECV" -ge $((R0 + 10)) ]; }
ix_wait 60 pv__ping_back || { tail -n 20 "$IX_DIR/life-ping.out" >&2; ix_server_sas >&2; cat "$IX_DIR/pvpnd.log" >&2; ix_fail "the ping did not resume after the NAT rebound"; }
T1=$(date +%s%N)
life_ping_count
LOST=$((LIFE_LOST - L0))
life_ping_kill
IKE1=$(ike_id)
how="the same IKE SA"
[ "$IKE1" = "$IKE0" ] || how="a new IKE SA ($IKE0 -> $IKE1)"
pv_log_has 'reconnected after' && how="$how, pvpnd reconnected"
REC_MS=$(( (T1 - T0) / 1000000 ))
ix_log "NAT rebinding: client port $P0 -> $P1; ping back within ${REC_MS} ms with $how; $LOST pings lost"

pv_stop
[ "$PV_RC" = 0 ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd exit status $PV_RC"; }
pv_assert_clean
cat "$IX_DIR/pvpnd.log"
pv_keep_logs
echo "NAT rebinding: client port $P0 -> $P1, ping back within ${REC_MS} ms ($how); $LOST pings lost, $LIFE_RECV answered" >"$BUILD/interop-logs/$IX_TEST.ok/summary"
ix_log PASS
