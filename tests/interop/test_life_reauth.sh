#!/bin/bash
# Re-authentication against strongSwan (RFC 4478): the server's connection
# has reauth_time, so its IKE_AUTH response carries AUTH_LIFETIME; pvpnd
# builds a second IKE SA a random margin before that lifetime ends, puts
# its Child SA in beside the old one, then deletes the old IKE SA
# (make-before-break).  Over ~2 re-authentications with a continuous ping
# (every 0.2 s): each completes, the server ends with one IKE SA, pvpnd's
# status never leaves connected, at most one lost ping per
# re-authentication; after SIGTERM nothing is left.  Then (B) the server
# refuses the first attempt: it fails and cleans up after itself, the old
# IKE SA keeps the tunnel, the retry completes.
# interop: timeout 420
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
. "$(dirname "$0")/lib_life.sh"

REAUTH=${LIFE_REAUTH_SECS:-30}
# Phase B's lifetime leaves room for the three attempts 5 s apart (the
# first ~0.87 of it in) before the server's own end, even when swanctl is
# slow to take the PSK back.
REAUTH_B=${LIFE_REAUTH_B_SECS:-60}
# Two re-authentications: the first falls ~0.85-0.9 of REAUTH after the
# connect, the next one as long after that; then a margin.
SECS=${LIFE_REAUTH_PHASE_SECS:-$((REAUTH * 2 + 10))}

# PVPN_REAUTH_MODE=nat runs it behind the harness's NAT (by hand; PVPN_*
# reaches the VM).
ix_setup "${PVPN_REAUTH_MODE:-direct}"
ix_server_start "reauth_time=${REAUTH}s"
life_profile "$IX_DIR/client.conf"
pv_start "$IX_DIR/client.conf"
pv_wait_up 60
ix_check "ping through the tunnel" pv_ping
grep -q 'N(AUTH_LFT)' "$IX_DIR/srv/charon.log" ||
	{ tail -n 40 "$IX_DIR/srv/charon.log" >&2; ix_fail "the server sent no AUTH_LIFETIME"; }
pv_log_has 'wants us to re-authenticate within' ||
	{ cat "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd did not take the AUTH_LIFETIME"; }
VIP0=$(ix_cli ip -4 addr show dev ix-cli | grep -oE '10\.10\.10\.[0-9]+' | head -n 1)

life_ping_start "$SECS"
end=$(($(date +%s) + SECS)) maxsrv=0 maxsa=0
while [ "$(date +%s)" -lt "$end" ]; do
	sleep 2
	n=$(ix_server_sa_count)
	[ "$n" -gt "$maxsrv" ] && maxsrv=$n
	n=$(ix_cli ip xfrm state | grep -c '^src' || true)
	[ "$n" -gt "$maxsa" ] && maxsa=$n
	pv__gone && { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd exited"; }
done
life_ping_stop

n_reauth=$(life_count 're-authenticated \([0-9]+\)')
n_full=$(life_count 'switching over in full')
n_fail=$(life_count 're-authentication failed|cannot re-authenticate')
ix_log "re-authentications $n_reauth (full switches $n_full, failed $n_fail); ping $LIFE_SENT sent, $LIFE_LOST lost; server IKE SAs at most $maxsrv; client SAs at most $maxsa"
[ "$n_reauth" -ge 2 ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "$n_reauth re-authentications (want >= 2)"; }
[ "$n_fail" = 0 ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "a re-authentication failed"; }
[ "$n_full" = 0 ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "a re-authentication switched in full (another VIP?)"; }
# Make-before-break: the new SA pair existed beside the old one.
[ "$(life_count 'new CHILD SA installed beside the old one')" -ge 2 ] ||
	ix_fail "the new Child SA was not installed beside the old one"
[ "$(life_count 'the old IKE SA is deleted')" -ge 2 ] ||
	{ cat "$IX_DIR/pvpnd.log" >&2; ix_fail "the old IKE SA was not deleted cleanly"; }
# Status: one connect, never reasserting or down.
[ "$(life_count 'connected in [0-9]+ ms')" = 1 ] ||
	{ cat "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd connected more than once"; }
! pv_log_has 'reasserting|disconnected|IKE SA (ended|failed)' ||
	{ cat "$IX_DIR/pvpnd.log" >&2; ix_fail "the status left connected"; }
[ "$LIFE_LOST" -le "$n_reauth" ] ||
	{ cat "$IX_DIR/pvpnd.log" >&2; ix_fail "$LIFE_LOST pings lost over $n_reauth re-authentications"; }
# The server: one IKE SA at the end (each old one deleted), still ours.
ix_check "server has exactly one IKE SA" ix_server_wait_sa 1 10
ix_server_sas | grep -qE 'pvpn: #[0-9]+, reqid [0-9]+, INSTALLED' ||
	{ ix_server_sas >&2; ix_fail "no installed Child SA on the server"; }
VIP1=$(ix_cli ip -4 addr show dev ix-cli | grep -oE '10\.10\.10\.[0-9]+' | head -n 1)
[ -n "$VIP0" ] && [ "$VIP0" = "$VIP1" ] || ix_fail "the virtual IP changed ($VIP0 -> $VIP1)"
ix_check "ping after the re-authentications" pv_ping
pv_stop
[ "$PV_RC" = 0 ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd exit status $PV_RC"; }
pv_assert_clean
ix_check "server has no SA after the DELETE" ix_server_wait_sa 0 10
SUMMARY="re-authentication every ~${REAUTH} s (AUTH_LIFETIME): $n_reauth done, ping $LIFE_SENT sent, $LIFE_LOST lost; server IKE SAs at most $maxsrv, at the end 1"
pv_keep_logs
cp "$IX_DIR/srv/charon.log" "$BUILD/interop-logs/$IX_TEST.ok/" 2>/dev/null
cp "$IX_DIR/pvpnd.log" "$BUILD/interop-logs/$IX_TEST.ok/pvpnd-good.log"

# B. The server refuses the first new IKE SA (its PSK changed under the
# running tunnel), then takes the second attempt (PSK back): the failed
# attempt's SAs go again, the old IKE SA carries the ping meanwhile, the
# retry 5 s later completes make-before-break.  (A server that keeps
# refusing deletes the old IKE SA itself a little after the lifetime.)
ix_log "B: the server will refuse the first re-authentication"
ix_server_load "reauth_time=${REAUTH_B}s"
pv_start "$IX_DIR/client.conf"
pv_wait_up 60
ix_check "B: ping through the tunnel" pv_ping
ix_server_load "reauth_time=${REAUTH_B}s" "psk=another-secret-0123456789"
life_ping_start $((REAUTH_B + 10))
pv__failed() { pv_log_has 're-authentication failed'; }
ix_wait $((REAUTH_B + 10)) pv__failed || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "B: the refused re-authentication did not fail"; }
ix_server_load "reauth_time=${REAUTH_B}s"
pv_log_has 'trying again in' || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "B: no second attempt planned"; }
pv__reauthed() { pv_log_has 're-authenticated \(1\)'; }
ix_wait 30 pv__reauthed || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "B: the second attempt did not complete"; }
# Nothing of the failed attempt nor of the old IKE SA is left: one pair.
n=$(ix_cli ip xfrm state | grep -c '^src' || true)
[ "$n" = 2 ] || { ix_cli ip xfrm state >&2; ix_fail "B: $n SAs in the client's kernel after the retry (want one pair)"; }
life_ping_stop
n_fail=$(life_count 're-authentication failed')
! pv_log_has 'reasserting|disconnected' || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "B: the status left connected"; }
[ "$LIFE_LOST" -le 2 ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "B: $LIFE_LOST pings lost over a failed and a good re-authentication"; }
ix_check "B: server has exactly one IKE SA" ix_server_wait_sa 1 10
ix_check "B: ping after the retry" pv_ping
pv_stop
[ "$PV_RC" = 0 ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "B: pvpnd exit status $PV_RC"; }
pv_assert_clean
SUMMARY="$SUMMARY; first attempt refused by the server: $n_fail failed, the retry completed, ping $LIFE_SENT sent, $LIFE_LOST lost"
cp "$IX_DIR/pvpnd.log" "$BUILD/interop-logs/$IX_TEST.ok/pvpnd-retry.log"
echo "$SUMMARY" >"$BUILD/interop-logs/$IX_TEST.ok/summary"
ix_log "summary: $SUMMARY"
ix_log PASS
