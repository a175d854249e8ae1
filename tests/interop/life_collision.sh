#!/bin/bash
# Rekey collisions against strongSwan (RFC 7296 §2.8.1 Child SA, §2.8.2
# IKE SA): both ends rekey the same SA at the same moment, each answers the
# other's request, and the new SA made with the lowest of the four nonces
# is deleted by the end that started it.
#
# How the collision is forced: every packet on the link waits LIFE_NETEM
# (default 2 s) each way (tc netem), and both ends plan the rekey for the
# same moment after the install: strongSwan rekey_time 50 s with
# rand_time 1 s (0 would mean "unset": charon then subtracts up to
# life_time - rekey_time), pvpnd a 60 s lifetime with RekeyMargin 10 s (it rekeys
# 46.7-50 s after its install, which comes one link delay after the
# server's).  The two requests are then always in flight at the same time
# (the difference of the start times is below the delay): see
# docs/testing.md.
#
#   child: the Child SA (IKELifetime long), without PFS
#   ike:   the IKE SA (ChildLifetime long)
# Each phase: at least one collision in pvpnd's log, then exactly one SA
# pair in the client's kernel and one IKE SA with one Child SA on the
# server, the ping goes on (at most one lost ping per rekey, counted in
# the summary), and nothing is left after SIGTERM.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
. "$(dirname "$0")/lib_life.sh"

DELAY=${LIFE_NETEM:-2s}
PHASE_SECS=${LIFE_PHASE_SECS:-115}
SUMMARY=

# Wait (up to SECS) for a quiet moment with exactly one pair on both sides.
one_pair() {
	local end=$(($(date +%s) + $1)) st srv_child
	while [ "$(date +%s)" -lt "$end" ]; do
		st=$(ix_cli ip xfrm state | grep -c '^src' || true)
		srv_child=$(ix_server_sas | grep -cE 'INSTALLED' || true)
		if [ "$st" = 2 ] && [ "$srv_child" = 1 ] && [ "$(ix_server_sa_count)" = 1 ]; then
			return 0
		fi
		sleep 1
	done
	ix_cli ip xfrm state >&2
	ix_server_sas >&2
	return 1
}

phase() {
	local name=$1 kind=$2
	if [ "$kind" = child ]; then
		LIFE_RAND=1s life_server_load 50s 80s
		life_profile "$IX_DIR/client.conf" "ChildLifetime = 60s" "RekeyMargin = 10s" \
			"IKELifetime = 30m"
	else
		LIFE_IKE_REKEY=50s LIFE_IKE_RAND=1s LIFE_IKE_OVER=30s life_server_load 0 30m
		life_profile "$IX_DIR/client.conf" "IKELifetime = 60s" "RekeyMargin = 10s" \
			"ChildLifetime = 30m"
	fi
	pv_start "$IX_DIR/client.conf"
	pv_wait_up 120
	# Two link delays each way and back: pv_ping's 3 s are too short.
	ix_check "$name: ping before the rekeys" ix_cli ping -c 2 -W 10 "$IX_INNER_ADDR"
	# One ping every 0.5 s; an answer takes two link delays and more, so
	# the losses are the gaps below the last answer (life_ping_gaps).
	ix_cli ping -i 0.5 -W 10 -w "$PHASE_SECS" "$IX_INNER_ADDR" >"$IX_DIR/life-ping.out" 2>&1 &
	LIFE_PING_PID=$!
	local what=Child
	[ "$kind" = child ] || what=IKE
	local end=$(($(date +%s) + PHASE_SECS)) extended=
	while :; do
		if [ "$(date +%s)" -ge "$end" ]; then
			# Scheduling jitter in the VM can put the two starts more
			# than a link delay apart in every rekey of one window: one
			# more window (without the ping) before calling it a failure.
			if [ -z "$extended" ] && [ "$(life_count "$what SA rekey collision")" -lt 1 ]; then
				extended=1
				end=$((end + PHASE_SECS))
				ix_log "$name: no collision in the first window; one more"
				continue
			fi
			break
		fi
		sleep 3
		pv__gone && { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "$name: pvpnd exited"; }
	done
	life_ping_stop
	life_ping_gaps
	local coll rekeys srv_coll
	coll=$(life_count "$what SA rekey collision")
	rekeys=$(life_count "$what SA rekeyed")
	srv_coll=$(life_srv_count 'collision')
	ix_log "$name: collisions $coll (server log lines: $srv_coll), rekeys $rekeys; ping $LIFE_SENT sent, $LIFE_LOST lost"
	SUMMARY="$SUMMARY
  $name: collisions $coll, rekeys $rekeys; ping $LIFE_SENT sent, $LIFE_LOST lost"
	[ "$coll" -ge 1 ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "$name: no collision happened"; }
	one_pair 40 || ix_fail "$name: not exactly one SA pair / one IKE SA with one Child SA after the collisions"
	[ "$LIFE_LOST" -le "$rekeys" ] || ix_fail "$name: $LIFE_LOST pings lost over $rekeys rekeys"
	! pv_log_has 'IKE SA (ended|failed)|disconnected' || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "$name: the tunnel went down"; }
	# At full speed again: pv_ping waits 3 s for an answer, and the DELETE
	# at SIGTERM waits for any request outstanding while pvpnd gives it 3 s.
	life_netem_off
	sleep 3
	ix_check "$name: ping after the collisions" pv_ping
	pv_stop 30
	[ "$PV_RC" = 0 ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "$name: pvpnd exit status $PV_RC"; }
	pv_assert_clean
	cp "$IX_DIR/pvpnd.log" "$IX_DIR/pvpnd-$name.log"
	ix_check "$name: server has no SA after the DELETE" ix_server_wait_sa 0 20
	life_netem "$DELAY"
}

ix_setup
ix_server_start retransmit_timeout=10
life_netem "$DELAY"
ix_log "link delay $DELAY each way"
for p in ${PVPN_LIFE_PHASES:-${LIFE_PHASES:-child ike}}; do
	phase "$p-collision" "$p"
done
ix_log "summary:$SUMMARY"
mkdir -p "$BUILD/interop-logs/$IX_TEST.ok"
cp "$IX_DIR"/pvpnd-*.log "$IX_DIR"/srv/charon.log "$BUILD/interop-logs/$IX_TEST.ok/" 2>/dev/null
echo "$SUMMARY" >"$BUILD/interop-logs/$IX_TEST.ok/summary"
ix_log PASS
