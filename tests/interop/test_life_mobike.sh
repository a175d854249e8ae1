#!/bin/bash
# MOBIKE (RFC 4555) against strongSwan, which supports it by default: the
# client's address changes under a running tunnel (192.0.2.1 -> .3 on the
# same link) while a ping runs.  pvpnd notices it through rtnetlink, moves
# the IKE SA with UPDATE_SA_ADDRESSES and then its kernel SAs and policies:
# the server's SA list shows the new address with the SAME Child SPIs, the
# IKE SA was not replaced (no reconnect), and the ping goes on.  Second
# part: a second link between client and server (another veth pair and
# subnet); the route to the server moves to it and back, and the SAs follow
# each time.  Lost pings go into the summary.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
. "$(dirname "$0")/lib_life.sh"

NEW_ADDR=192.0.2.3
ix_setup
ix_server_start
life_profile "$IX_DIR/client.conf"
pv_start "$IX_DIR/client.conf"
pv_wait_up 60
ix_check "ping through the tunnel" pv_ping

# The Child SA's SPIs and the IKE SA's unique id as the server sees them.
child_spis() { ix_server_sas | grep -oE '^ +(in|out) +[0-9a-f]{8}' | awk '{print $1 $2}' | sort | tr '\n' ' '; }
ike_id() { ix_server_sas | grep -oE '^[^ :]+: #[0-9]+' | head -n 1; }
SPIS0=$(child_spis)
IKE0=$(ike_id)
[ -n "$SPIS0" ] && [ -n "$IKE0" ] || { ix_server_sas >&2; ix_fail "cannot read the server's SAs"; }
ix_log "server: IKE SA $IKE0, Child SPIs $SPIS0"
pv_log_has 'MOBIKE' || ix_log "(pvpnd's log does not name MOBIKE)"

# Waits until the server's IKE SA names ADDR as the client's address.
server_sees() { ix_server_sas | grep -qE "remote .*@ $1\["; }

life_ping_start 300
sleep 3
life_ping_count
R0=$LIFE_RECV L0=$LIFE_LOST

ix_log "moving the client from $IX_CLIENT_ADDR to $NEW_ADDR"
T0=$(date +%s%N)
# (Deleting a primary address takes its secondaries along: old one first.)
ix__do ip -n "$IX_CLI" addr del "$IX_CLIENT_ADDR/24" dev ix-cli
ix__do ip -n "$IX_CLI" addr add "$NEW_ADDR/24" dev ix-cli

pv__moved() { pv_log_has "moved to $NEW_ADDR from $IX_CLIENT_ADDR"; }
ix_wait 60 pv__moved || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd did not move its SAs to $NEW_ADDR"; }
T1=$(date +%s%N)
ix_wait 20 server_sees "$NEW_ADDR" || { ix_server_sas >&2; ix_fail "the server's IKE SA is not with $NEW_ADDR"; }
pv__ping_back() { life_ping_count; [ "$LIFE_RECV" -ge $((R0 + 10)) ]; }
ix_wait 30 pv__ping_back || { tail -n 20 "$IX_DIR/life-ping.out" >&2; cat "$IX_DIR/pvpnd.log" >&2; ix_fail "the ping did not resume"; }
life_ping_count
MOVE_LOST=$((LIFE_LOST - L0))
SPIS1=$(child_spis)
IKE1=$(ike_id)
[ "$SPIS1" = "$SPIS0" ] || { ix_server_sas >&2; ix_fail "the Child SPIs changed ($SPIS0 -> $SPIS1): the SAs were replaced, not moved"; }
[ "$IKE1" = "$IKE0" ] || { ix_server_sas >&2; ix_fail "the server's IKE SA changed ($IKE0 -> $IKE1): pvpnd reconnected"; }
pv_log_has 'reconnected after|reconnecting' && { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd reconnected instead of moving"; }
pv_log_has 'path to the server changed' || ix_fail "the address change was not noticed"
ix_cli ip xfrm state | grep -q "src $NEW_ADDR dst $IX_SERVER_ADDR" ||
	{ ix_cli ip xfrm state >&2; ix_fail "the client's outbound SA is not on $NEW_ADDR"; }
ix_cli ip xfrm policy | grep -q "tmpl src $NEW_ADDR dst $IX_SERVER_ADDR" ||
	{ ix_cli ip xfrm policy >&2; ix_fail "the client's policy template is not on $NEW_ADDR"; }
ix_cli ip xfrm state | grep -q "$IX_CLIENT_ADDR" &&
	{ ix_cli ip xfrm state >&2; ix_fail "an SA still names the old address"; }
MOVE_MS=$(( (T1 - T0) / 1000000 ))
ix_log "address move: SAs moved ${MOVE_MS} ms after the change, same SPIs; $MOVE_LOST pings lost"

# --- two links: the route to the server moves to a second veth pair ----
ix__do ip link add ix-cli2 netns "$IX_CLI" type veth peer name ix-srv2 netns "$IX_SRV"
ix__do ip -n "$IX_CLI" addr add 203.0.113.1/24 dev ix-cli2
ix__do ip -n "$IX_SRV" addr add 203.0.113.2/24 dev ix-srv2
ix__do ip -n "$IX_CLI" link set ix-cli2 up
ix__do ip -n "$IX_SRV" link set ix-srv2 up
# The server's address answers ARP on either link (arp_ignore 0); which
# link is used is the client's route to it.
sleep 2
life_ping_count
L1=$LIFE_LOST R1=$LIFE_RECV
ix_log "switching the route to the server to the second link (from 203.0.113.1)"
T2=$(date +%s%N)
ix__do ip -n "$IX_CLI" route add "$IX_SERVER_ADDR/32" dev ix-cli2 src 203.0.113.1
pv__moved2() { pv_log_has "moved to 203.0.113.1 from $NEW_ADDR"; }
ix_wait 60 pv__moved2 || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd did not move to the second link"; }
T3=$(date +%s%N)
ix_wait 20 server_sees 203.0.113.1 || { ix_server_sas >&2; ix_fail "the server's IKE SA is not with 203.0.113.1"; }
pv__ping_back2() { life_ping_count; [ "$LIFE_RECV" -ge $((R1 + 10)) ]; }
ix_wait 30 pv__ping_back2 || { tail -n 20 "$IX_DIR/life-ping.out" >&2; cat "$IX_DIR/pvpnd.log" >&2; ix_fail "the ping did not resume on the second link"; }
[ "$(child_spis)" = "$SPIS0" ] || { ix_server_sas >&2; ix_fail "the Child SPIs changed on the link switch"; }
[ "$(ike_id)" = "$IKE0" ] || { ix_server_sas >&2; ix_fail "pvpnd reconnected on the link switch"; }
life_ping_count
LINK_LOST=$((LIFE_LOST - L1))
LINK_MS=$(( (T3 - T2) / 1000000 ))
ix_log "link switch: SAs moved ${LINK_MS} ms after the route change; $LINK_LOST pings lost"

# And back: the second link goes down.
L2=$LIFE_LOST R2=$LIFE_RECV
ix_log "taking the second link down"
ix__do ip -n "$IX_CLI" link set ix-cli2 down
pv__moved3() { [ "$(grep -c "moved to $NEW_ADDR from 203.0.113.1" "$IX_DIR/pvpnd.log")" -ge 1 ]; }
ix_wait 60 pv__moved3 || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd did not move back to the first link"; }
pv__ping_back3() { life_ping_count; [ "$LIFE_RECV" -ge $((R2 + 10)) ]; }
ix_wait 30 pv__ping_back3 || { tail -n 20 "$IX_DIR/life-ping.out" >&2; cat "$IX_DIR/pvpnd.log" >&2; ix_fail "the ping did not resume on the first link"; }
[ "$(child_spis)" = "$SPIS0" ] || { ix_server_sas >&2; ix_fail "the Child SPIs changed on the way back"; }
life_ping_count
BACK_LOST=$((LIFE_LOST - L2))
life_ping_kill
ix_log "link down: back on the first link; $BACK_LOST pings lost"
pv_log_has 'reconnected after|reconnecting' && { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd reconnected instead of moving"; }

pv_stop
[ "$PV_RC" = 0 ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd exit status $PV_RC"; }
pv_assert_clean
cat "$IX_DIR/pvpnd.log"
pv_keep_logs
summary="MOBIKE address change: SAs moved ${MOVE_MS} ms after the change, same SPIs, no reconnect, $MOVE_LOST pings lost; link switch: moved ${LINK_MS} ms after the route change, $LINK_LOST lost; link down: $BACK_LOST lost; ping: $LIFE_RECV answered"
echo "$summary" >"$BUILD/interop-logs/$IX_TEST.ok/summary"
ix_log "$summary"
ix_log PASS
