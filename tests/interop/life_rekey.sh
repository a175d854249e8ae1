#!/bin/bash
# Child SA rekeying against strongSwan (RFC 7296 §1.3.3, §2.8) with a
# continuous ping (every 0.2 s) through the tunnel:
#   A. the server rekeys every ~15 s, with PFS (x25519);
#   B. pvpnd rekeys (ChildLifetime 1m, RekeyMargin 40s: every ~7-20 s), no PFS;
#   C. pvpnd rekeys with PFS;
#   D. pvpnd rekeys the IKE SA (IKELifetime 1m: every ~20-33 s; the
#      server's IKE rekey_time 50 s is longer, so it is always ours), the
#      Child SA moves along;
#   E. the server rekeys the IKE SA (rekey_time 15 s, shorter than our
#      1m IKELifetime) and the Child SA (25 s, PFS x25519) on each new
#      IKE SA: we answer as the responder of record;
#   F. both: the server rekeys the IKE SA (15 s), pvpnd the Child SA
#      (no PFS) on the IKE SAs the server made.
# Each phase: several rekeys, the tunnel stays up, at most one lost ping per
# rekey, never more than two SA pairs in the kernel; after SIGTERM nothing
# is left.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
. "$(dirname "$0")/lib_life.sh"

# pvpnd's rekey falls 6.7-20 s after an install (60 s lifetime, 40 s margin
# less up to a third of it), so two rekeys can take 40 s: a phase must be
# longer than that or "want >= 2" fails on an unlucky draw.
PHASE_SECS=${LIFE_PHASE_SECS:-45}
SUMMARY=

phase() {
	local name=$1 who=$2 srv_rekey=$3 esp_srv=$4 esp_cli=$5
	shift 5
	life_server_load "$srv_rekey" 120s "esp=$esp_srv"
	life_profile "$IX_DIR/client.conf" "$@" -- "esp=$esp_cli"
	pv_start "$IX_DIR/client.conf"
	pv_wait_up 60
	ix_check "ping before the rekeys" pv_ping
	life_ping_start "$PHASE_SECS"
	local end=$(($(date +%s) + PHASE_SECS)) maxsa=0 n
	while [ "$(date +%s)" -lt "$end" ]; do
		sleep 2
		n=$(ix_cli ip xfrm state | grep -c '^src' || true)
		[ "$n" -gt "$maxsa" ] && maxsa=$n
		pv__gone && { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "$name: pvpnd exited"; }
	done
	life_ping_stop
	local by_us by_srv ike_us ike_srv
	by_us=$(life_count 'Child SA rekeyed \(by us\)')
	by_srv=$(life_count 'Child SA rekeyed \(by the server\)')
	ike_us=$(life_count 'IKE SA rekeyed \(by us\)')
	ike_srv=$(life_count 'IKE SA rekeyed \(by the server\)')
	ix_log "$name: rekeys by us $by_us, by the server $by_srv; ping $LIFE_SENT sent, $LIFE_LOST lost; at most $maxsa SAs"
	SUMMARY="$SUMMARY
  $name: rekeys by us $by_us, by the server $by_srv; ping $LIFE_SENT sent, $LIFE_LOST lost"
	local by_ike
	by_ike=$(life_count 'IKE SA rekeyed')
	[ "$by_ike" = 0 ] || ix_log "$name: IKE SA rekeys by us $ike_us, by the server $ike_srv"
	SUMMARY="$SUMMARY, IKE SA rekeys by us $ike_us, by the server $ike_srv"
	local rekeys=$((by_us + by_srv + by_ike))
	if [ "$who" = ike ]; then
		[ "$ike_us" -ge 2 ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "$name: pvpnd rekeyed the IKE SA $ike_us times (want >= 2)"; }
		# The server keeps exactly one IKE SA: each old one was deleted.
		[ "$(ix_server_sa_count)" = 1 ] || { ix_server_sas >&2; ix_fail "$name: the server does not have exactly one IKE SA"; }
	elif [ "$who" = srv-ike ] || [ "$who" = srv-ike-us ]; then
		[ "$ike_srv" -ge 2 ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "$name: the server rekeyed the IKE SA $ike_srv times (want >= 2)"; }
		[ "$(ix_server_sa_count)" = 1 ] || { ix_server_sas >&2; ix_fail "$name: the server does not have exactly one IKE SA"; }
		if [ "$who" = srv-ike ]; then
			[ "$by_srv" -ge 1 ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "$name: the server never rekeyed the Child SA on a new IKE SA"; }
		else
			[ "$by_us" -ge 1 ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "$name: pvpnd never rekeyed the Child SA on an IKE SA the server made"; }
		fi
	elif [ "$who" = us ]; then
		[ "$by_us" -ge 2 ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "$name: pvpnd rekeyed $by_us times (want >= 2)"; }
	else
		[ "$by_srv" -ge 2 ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "$name: the server rekeyed $by_srv times (want >= 2)"; }
	fi
	[ "$LIFE_LOST" -le "$rekeys" ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "$name: $LIFE_LOST pings lost over $rekeys rekeys"; }
	[ "$maxsa" -le 4 ] || ix_fail "$name: $maxsa SAs at once in the client's kernel"
	[ "$who" = ike ] || [ "$who" = srv-ike ] || pv_log_has 'removed the replaced CHILD SA' || ix_fail "$name: the replaced SAs were never removed"
	! pv_log_has 'IKE SA (ended|failed)|disconnected' || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "$name: the tunnel went down"; }
	ix_check "$name: server still has the IKE SA" ix_server_wait_sa 1 5
	# The server's view: one Child SA installed, the rekeyed one.
	ix_server_sas | grep -qE 'pvpn: #[0-9]+, reqid [0-9]+, INSTALLED' || { ix_server_sas >&2; ix_fail "$name: no installed Child SA on the server"; }
	pv_stop
	[ "$PV_RC" = 0 ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "$name: pvpnd exit status $PV_RC"; }
	pv_assert_clean
	cp "$IX_DIR/pvpnd.log" "$IX_DIR/pvpnd-$name.log"
	ix_check "$name: server has no SA after the DELETE" ix_server_wait_sa 0 10
}

ix_setup
ix_server_start
want() { case " ${PVPN_LIFE_PHASES:-${LIFE_PHASES:-A B C D E F}} " in *" $1 "*) return 0 ;; esac; return 1; }
want A && phase A-server-pfs server 15s aes256gcm16-x25519 aes256gcm16-x25519 "ChildLifetime = 30m"
want B && phase B-client-nopfs us 0 aes256gcm16 aes256gcm16 "ChildLifetime = 1m" "RekeyMargin = 40s"
want C && phase C-client-pfs us 0 aes256gcm16-x25519 aes256gcm16-x25519 "ChildLifetime = 1m" "RekeyMargin = 40s"
want D && LIFE_IKE_REKEY=50s phase D-client-ike ike 0 aes256gcm16 aes256gcm16 "IKELifetime = 1m" "ChildLifetime = 30m" "RekeyMargin = 40s"
want E && LIFE_IKE_REKEY=15s phase E-server-ike srv-ike 25s aes256gcm16-x25519 aes256gcm16-x25519 "IKELifetime = 1m" "ChildLifetime = 30m" "RekeyMargin = 10s"
want F && LIFE_IKE_REKEY=15s phase F-server-ike-client-child srv-ike-us 0 aes256gcm16 aes256gcm16 "IKELifetime = 30m" "ChildLifetime = 1m" "RekeyMargin = 40s"
ix_log "summary:$SUMMARY"
mkdir -p "$BUILD/interop-logs/$IX_TEST.ok"
cp "$IX_DIR"/pvpnd-*.log "$IX_DIR"/srv/charon.log "$BUILD/interop-logs/$IX_TEST.ok/" 2>/dev/null
echo "$SUMMARY" >"$BUILD/interop-logs/$IX_TEST.ok/summary"
ix_log PASS
