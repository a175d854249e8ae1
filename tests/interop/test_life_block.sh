#!/bin/bash
# IncludeAllNetworks: nothing leaks while pvpnd reasserts (issue #8).
#
# The client namespace gets a default route via the server, so any packet
# that escaped the tunnel would reach the server in clear (and be answered:
# the inner address lives there).  First, without IncludeAllNetworks, no
# block policy is installed.  Then with it (server local_ts 0.0.0.0/0): the
# tunnel comes up and a ping goes through; the server is killed (and its
# kernel state wiped); while pvpnd reasserts, its block policies are in the
# kernel, a ping to the inner address fails locally (EPERM from the block
# policy), and a capture on the server's link sees nothing from the client
# but IKE; the server is restarted, pvpnd reconnects and the ping resumes;
# a user stop removes every policy of pvpn's.
# interop: timeout 360
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
. "$(dirname "$0")/lib_life.sh"

command -v tcpdump >/dev/null || ix_fail "tcpdump missing (needed to look for leaks on the server link)"

blk_policies() { ix_cli ip xfrm policy | grep -v 'socket ' || true; }
blk_count() { blk_policies | grep -c 'action block' || true; }
# Packets the client's XFRM refused by a block policy (XfrmOutPolBlock).
blk_dropped() { ix_cli awk '$1 == "XfrmOutPolBlock" { print $2 }' /proc/net/xfrm_stat; }

ix_setup
ix_server_start "local_ts=0.0.0.0/0"
ix__do ip -n "$IX_CLI" route add default via "$IX_SERVER_ADDR"
# A network the profile excludes (ExcludedRoutes), also behind the server.
EXCL_ADDR=10.98.0.1
ix__do ip -n "$IX_SRV" addr add "$EXCL_ADDR/24" dev ix-inner

# The harness can see a leak: in clear, the ping goes to the server and is
# answered (nothing of pvpn's runs yet).
ix_check "cleartext ping reaches the server before pvpnd runs (leak detector works)" pv_ping

# --- 1. Without IncludeAllNetworks: no block policy ------------------------
life_profile "$IX_DIR/split.conf"
pv_start "$IX_DIR/split.conf"
pv_wait_up 60
n=$(blk_count)
[ "$n" = 0 ] || { blk_policies >&2; ix_fail "without IncludeAllNetworks pvpnd installed $n block policies"; }
blk_policies | grep -q 'priority 10000' && ix_fail "a priority-10000 rule without IncludeAllNetworks"
pv_log_has 'IncludeAllNetworks' && ix_fail "IncludeAllNetworks logged for a profile without it"
pv_stop
[ "$PV_RC" = 0 ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd exit status $PV_RC"; }
pv_assert_clean
ix_log "ok: without IncludeAllNetworks no block policy"
ix_server_wait_sa 0 10 || ix_fail "server kept the split-tunnel SA"

# --- 2. With IncludeAllNetworks -------------------------------------------
life_profile "$IX_DIR/client.conf" "DeadPeerDetectionRate = high"
sed -i 's/^IncludedRoutes = .*/IncludeAllNetworks = yes\nExcludedRoutes = 10.98.0.0\/24/' "$IX_DIR/client.conf"
grep -q '^IncludeAllNetworks = yes' "$IX_DIR/client.conf" || ix_fail "profile without IncludeAllNetworks"
pv_start "$IX_DIR/client.conf"
pv_wait_up 60
pv_log_has 'IncludeAllNetworks: [0-9]+ block policies installed' ||
	{ cat "$IX_DIR/pvpnd.log" >&2; ix_fail "no block policies logged"; }
# They went in before the first IKE packet.
first_blk=$(grep -n 'block policies installed' "$IX_DIR/pvpnd.log" | head -1 | cut -d: -f1)
first_ike=$(grep -n 'sending IKE_SA_INIT' "$IX_DIR/pvpnd.log" | head -1 | cut -d: -f1)
[ -n "$first_ike" ] && [ "$first_blk" -lt "$first_ike" ] ||
	{ cat "$IX_DIR/pvpnd.log" >&2; ix_fail "block policies not installed before the first IKE_SA_INIT"; }
n=$(blk_count)
[ "$n" -ge 4 ] || { blk_policies >&2; ix_fail "only $n drop policies while connected (want v4+v6, in+out)"; }
blk_policies | grep -q "dst $IX_SERVER_ADDR/32" || { blk_policies >&2; ix_fail "no allow rule for the server"; }
ix_check "ping through the tunnel with IncludeAllNetworks" pv_ping
# The excluded network stays outside: its own route, the real source.
pv_log_has 'bypass route 10.98.0.0/24 via 192.0.2.2' || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "no bypass route for ExcludedRoutes"; }
ix_cli ip route get "$EXCL_ADDR" | grep -q "src $IX_CLIENT_ADDR" ||
	{ ix_cli ip route get "$EXCL_ADDR" >&2; ix_fail "the excluded network is not reached from the real address"; }
ix_check "ping to the excluded network (in clear, allowed)" pv_ping "$EXCL_ADDR"
# While connected, a packet from the real address (outside the tunnel's
# selectors) must not get out in clear either.
d0=$(blk_dropped)
if ix_cli ping -c 2 -W 1 -I "$IX_CLIENT_ADDR" "$IX_INNER_ADDR" >"$IX_DIR/ping-real.out" 2>&1; then
	cat "$IX_DIR/ping-real.out" >&2
	ix_fail "a ping from the real address was answered in clear while connected"
fi
d1=$(blk_dropped)
[ "$d1" -gt "$d0" ] || ix_fail "the ping from the real address was not refused by a block policy (XfrmOutPolBlock $d0 -> $d1)"
ix_log "ok: a ping from the real address while connected is refused by the block policy (XfrmOutPolBlock $d0 -> $d1)"
life_ping_start 400
sleep 3

ix_log "killing the server (SIGKILL) and wiping its kernel state"
kill -KILL "$IX_SRV_PID" 2>/dev/null
wait "$IX_SRV_PID" 2>/dev/null
IX_SRV_PID=
ix_srv ip xfrm state flush
ix_srv ip xfrm policy flush

pv__reasserting() { pv_log_has 'reasserting: reconnecting'; }
ix_wait 150 pv__reasserting || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd did not start reasserting within 150 s"; }
ix_log "pvpnd is reasserting"

# Everything the client sends from now on shows up on the server's link.
# Not through the ix_srv function: a background subshell would stand
# between $! and tcpdump.  SIGTERM, not SIGINT (background jobs of a script
# ignore SIGINT).
ip netns exec "$IX_SRV" tcpdump -i ix-srv -Q in -nn -U -w "$IX_DIR/reassert.pcap" \
	>"$IX_DIR/tcpdump.out" 2>&1 &
TCPDUMP_PID=$!
sleep 2
kill -0 "$TCPDUMP_PID" 2>/dev/null || { cat "$IX_DIR/tcpdump.out" >&2; ix_fail "tcpdump did not start"; }

pv_log_has 'block policies removed' && { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "block policies removed while reasserting"; }
n=$(blk_count)
[ "$n" -ge 4 ] || { blk_policies >&2; ix_fail "while reasserting only $n drop policies are in the kernel"; }
blk_policies | grep -q tmpl && { blk_policies >&2; ix_fail "tunnel policies still there while reasserting"; }
ix_log "ok: $n drop policies in the kernel while reasserting"
N_REASSERT=$n
ix_cli ip xfrm policy | grep -v 'socket ' >"$IX_DIR/policies-reasserting.txt"

# A ping fails locally: the block policy refuses it (EPERM), nothing is sent.
if ix_cli ping -c 2 -W 1 "$IX_INNER_ADDR" >"$IX_DIR/ping-blocked.out" 2>&1; then
	cat "$IX_DIR/ping-blocked.out" >&2
	ix_fail "ping to $IX_INNER_ADDR succeeded while reasserting: traffic leaks"
fi
grep -q 'Operation not permitted' "$IX_DIR/ping-blocked.out" ||
	{ cat "$IX_DIR/ping-blocked.out" >&2; ix_fail "ping failed, but not locally (no EPERM from the block policy)"; }
ix_log "ok: ping fails locally: $(grep -m1 'not permitted' "$IX_DIR/ping-blocked.out")"
ix_check "the excluded network is still reachable while reasserting" pv_ping "$EXCL_ADDR"
# Other traffic too: UDP and TCP to the inner address and past it.
ix_cli sh -c "echo leak | timeout 2 nc -u -w1 $IX_INNER_ADDR 53" >/dev/null 2>&1 || true
ix_cli sh -c "timeout 3 bash -c 'echo >/dev/tcp/$IX_INNER_ADDR/80'" >/dev/null 2>&1 || true
ix_cli ping -c 1 -W 1 198.18.0.1 >/dev/null 2>&1 || true

# Wait for at least one IKE packet of the reconnect attempts inside the
# capture window, so an empty capture means "blocked", not "silent".
n0=$(grep -cE 'sending IKE_SA_INIT|retransmitting IKE_SA_INIT' "$IX_DIR/pvpnd.log" || true)
pv__ike_sent() { [ "$(grep -cE 'sending IKE_SA_INIT|retransmitting IKE_SA_INIT' "$IX_DIR/pvpnd.log" || true)" -gt "$n0" ]; }
ix_wait 60 pv__ike_sent || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "no IKE_SA_INIT sent while reasserting"; }
sleep 1
kill -TERM "$TCPDUMP_PID" 2>/dev/null
wait "$TCPDUMP_PID" 2>/dev/null
TCPDUMP_PID=
life_ping_count
ike=$(tcpdump -r "$IX_DIR/reassert.pcap" -nn 'src host 192.0.2.1 and (udp port 500 or udp port 4500)' 2>/dev/null | wc -l)
[ "$ike" -gt 0 ] || { tcpdump -r "$IX_DIR/reassert.pcap" -nn >&2; ix_fail "the capture saw no IKE from the client: it cannot tell"; }
# Anything else but ARP and IPv6 neighbour discovery / link-local ICMPv6
# (policy/ allows those on purpose) is a leak.
tcpdump -r "$IX_DIR/reassert.pcap" -nn 'not arp and not (udp port 500 or udp port 4500) and not icmp6 and not net 10.98.0.0/24' \
	>"$IX_DIR/leaks.txt" 2>/dev/null
if [ -s "$IX_DIR/leaks.txt" ]; then
	cat "$IX_DIR/leaks.txt" >&2
	ix_fail "$(wc -l <"$IX_DIR/leaks.txt") packets left the client in clear while it reasserted"
fi
ix_log "ok: capture on the server link while reasserting: $ike IKE packets, nothing else"

# --- the server comes back ------------------------------------------------
T0=$(date +%s)
ix_charon_start srv "$IX_SRV"
ix_server_load "local_ts=0.0.0.0/0"
ix_log "server restarted (pid $IX_SRV_PID)"
pv__reconnected() { pv_log_has 'reconnected after'; }
ix_wait 150 pv__reconnected || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd did not reconnect within 150 s"; }
T1=$(date +%s)
life_ping_count
R0=$LIFE_RECV
pv__ping_back() { life_ping_count; [ "$LIFE_RECV" -ge $((R0 + 5)) ]; }
ix_wait 30 pv__ping_back || { tail -n 20 "$IX_DIR/life-ping.out" >&2; ix_fail "the ping did not resume"; }
life_ping_kill
pv_log_has 'block policies removed' && { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "block policies removed during the reconnect"; }
[ "$(blk_count)" -ge 4 ] || { blk_policies >&2; ix_fail "block policies gone after the reconnect"; }
ix_check "ping through the new tunnel" pv_ping
ix_log "reconnected $((T1 - T0)) s after the restart; ping: $LIFE_RECV answered, $LIFE_LOST lost"

# --- the server ends the IKE SA with a DELETE: reassert, blocks kept --------
ix_check "server has the new IKE SA" ix_server_wait_sa 1 10
n_re=$(life_count 'reconnected after')
ix_swanctl srv --terminate --ike pvpn >"$IX_DIR/srv/terminate.out" 2>&1 ||
	{ cat "$IX_DIR/srv/terminate.out" >&2; ix_fail "swanctl --terminate failed"; }
ix_log "server sent DELETE for the IKE SA"
pv__deleted() { pv_log_has 'server deleted the (IKE|Child) SA'; }
ix_wait 20 pv__deleted || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd did not see the server's DELETE"; }
pv__re_again() { [ "$(life_count 'reconnected after')" -gt "$n_re" ]; }
ix_wait 60 pv__re_again || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd did not reconnect after the server's DELETE"; }
pv_log_has 'block policies removed' && { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "block policies removed after the server's DELETE"; }
[ "$(blk_count)" -ge 4 ] || { blk_policies >&2; ix_fail "block policies gone after the server's DELETE"; }
ix_check "ping through the tunnel after the server's DELETE" pv_ping

# --- the user stops it: every policy of ours goes --------------------------
kill -0 "$PV_PID" || ix_fail "pvpnd exited"
pv_stop
[ "$PV_RC" = 0 ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd exit status $PV_RC"; }
pv_log_has 'IncludeAllNetworks: [0-9]+ block policies removed' || ix_fail "no removal logged"
pv_assert_clean
left=$(ix_cli ip route show table all | grep -E '10\.98\.0\.' || true)
[ -z "$left" ] || ix_fail "bypass route left behind: $left"
ix_check "cleartext again once the user disconnected" pv_ping
ix_log "pvpnd log:"
cat "$IX_DIR/pvpnd.log"
pv_keep_logs

# --- pvpnd crashes: the blocks stay (nothing leaks), the next start removes them
cp "$IX_DIR/pvpnd.log" "$IX_DIR/pvpnd-main.log"
pv_start "$IX_DIR/client.conf"
pv_wait_up 60
ix_log "crashing pvpnd (SIGKILL)"
kill -KILL "$PV_PID"
wait "$PV_PID" 2>/dev/null
PV_PID=
[ "$(blk_count)" -ge 4 ] || { blk_policies >&2; ix_fail "block policies gone with the crashed pvpnd"; }
ino=$(ix_cli stat -L -c %i /proc/self/ns/net)
ls /run/pvpn/net-"$ino"-client.blocks >/dev/null 2>&1 || ix_fail "no /run/pvpn/net-$ino-client.blocks after the crash"
# The crashed tunnel's SAs are still in both kernels, so a ping from the
# virtual IP may still be encrypted; one from the real address must not
# leave in clear.
# (The server answers a cleartext ping, as the first check showed, so no
# answer means nothing got out in clear.)
d0=$(blk_dropped)
if ix_cli ping -c 2 -W 1 -I "$IX_CLIENT_ADDR" "$IX_INNER_ADDR" >"$IX_DIR/ping-crash.out" 2>&1; then
	cat "$IX_DIR/ping-crash.out" >&2
	ix_fail "ping in clear answered after pvpnd crashed with IncludeAllNetworks"
fi
d1=$(blk_dropped)
[ "$d1" -gt "$d0" ] || ix_fail "after the crash the ping was not refused by a block policy (XfrmOutPolBlock $d0 -> $d1)"
ix_log "ok: after the crash a ping from the real address is refused by the block policy (XfrmOutPolBlock $d0 -> $d1)"
ix_log "ok: after the crash $(blk_count) drop policies still block (kill switch holds)"
# The next pvpnd (this profile without IncludeAllNetworks) takes them out.
pv_start "$IX_DIR/split.conf"
pv_wait_up 60
pv_log_has 'previous pvpnd left behind' || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "the restart did not report the leftovers"; }
n=$(blk_count)
[ "$n" = 0 ] || { blk_policies >&2; ix_fail "$n block policies left after the restart"; }
[ -e /run/pvpn/net-"$ino"-client.blocks ] && ix_fail "the .blocks file survived the restart"
pv_stop
[ "$PV_RC" = 0 ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd exit status $PV_RC"; }
pv_assert_clean
left=$(ix_cli ip route show table all | grep -E '10\.98\.0\.' || true)
[ -z "$left" ] || ix_fail "bypass route left behind after the crash and restart: $left"
ix_log "ok: a restart after the crash removed the block policies and their file"
cp "$IX_DIR/policies-reasserting.txt" "$BUILD/interop-logs/$IX_TEST.ok/" 2>/dev/null
echo "IncludeAllNetworks: $N_REASSERT drop policies while reasserting, $ike IKE packets and no leak on the server link; reconnected $((T1 - T0)) s after the restart" >"$BUILD/interop-logs/$IX_TEST.ok/summary"
ix_log PASS
