# tests/interop/lib_life.sh — helpers for the lifecycle interop tests
# (rekeying, dead peers, reconnects, address changes).  Source after lib.sh
# and profiles/pvpn-lib.sh.
#
#   life_server_load CHILD_REKEY CHILD_LIFE [KEY=VAL...]
#       (re)load the server connection with these Child SA rekey_time /
#       life_time (strongSwan durations, e.g. 15s; rekey 0 = never), a
#       short rand_time, and lib.sh's KEY=VAL settings.  Environment:
#       LIFE_IKE_REKEY   the IKE SA's rekey_time (e.g. 20s; unset: charon's
#                        default of 4 h), with over_time LIFE_IKE_OVER (30s)
#       LIFE_RAND        the Child SA's rand_time (default a tenth of rekey)
#       LIFE_IKE_RAND    the IKE SA's rand_time (default a tenth of rekey)
#   life_profile OUT [Key=Value...] [-- pv_profile KEY=VAL...]
#       the pvpnd profile with extra [IKEv2] lines (ChildLifetime = 1m ...)
#   life_ping_start SECS / life_ping_stop   ping every 0.2 s for SECS through
#       the tunnel; life_ping_stop waits and sets LIFE_SENT, LIFE_LOST
#   life_ping_count / life_ping_kill   figures while it runs / stop it early
#   life_count REGEX    how many pvpnd log lines match

life_server_load() {
	local rekey=$1 life=$2 rand ike_rekey=${LIFE_IKE_REKEY:-} ike_rand
	shift 2
	# Jitter a tenth of the rekey time (strongSwan subtracts 0..rand_time).
	rand=${LIFE_RAND:-$(( ${rekey%s} / 10 ))s}
	ike_rand=${ike_rekey:-0s}
	ike_rand=${LIFE_IKE_RAND:-$(( ${ike_rand%s} / 10 ))s}
	awk -v REKEY="$rekey" -v LIFE="$life" -v RAND="$rand" -v IKE_REKEY="$ike_rekey" \
		-v IKE_RAND="$ike_rand" -v IKE_OVER="${LIFE_IKE_OVER:-30s}" '
		{ print }
		/reauth_time = @REAUTH_TIME@/ && IKE_REKEY != "" {
			print "\t\trekey_time = " IKE_REKEY
			print "\t\trand_time = " IKE_RAND
			print "\t\tover_time = " IKE_OVER
		}
		/esp_proposals = @ESP@/ {
			print "\t\t\t\trekey_time = " REKEY
			print "\t\t\t\tlife_time = " LIFE
			print "\t\t\t\trand_time = " RAND
		}' "$IX_LIB_DIR/strongswan/server-swanctl.conf.in" >"$IX_DIR/srv/life-swanctl.conf.in" ||
		ix_fail "cannot write the server template"
	ix_render "$IX_DIR/srv/life-swanctl.conf.in" "$IX_DIR/srv/swanctl.conf" srv "$@"
	ix_swanctl srv --load-all --clear --file "$IX_DIR/srv/swanctl.conf" >"$IX_DIR/srv/load.out" 2>&1 || {
		cat "$IX_DIR/srv/load.out" >&2
		ix_fail "swanctl could not load the server connection"
	}
	ix_log "server: Child rekey_time $rekey, life_time $life, rand_time $rand${ike_rekey:+, IKE rekey_time $ike_rekey rand_time $ike_rand} $*"
}

life_profile() {
	local out=$1 extra=() pv=()
	shift
	while [ $# -gt 0 ]; do
		[ "$1" = -- ] && { shift; pv=("$@"); break; }
		extra+=("$1")
		shift
	done
	pv_profile "$out" "${pv[@]}"
	local tmp=$out.tmp line
	: >"$tmp"
	while IFS= read -r line; do
		printf '%s\n' "$line" >>"$tmp"
		case "$line" in
		ChildProposals*) for kv in "${extra[@]}"; do printf '%s\n' "$kv" >>"$tmp"; done ;;
		esac
	done <"$out"
	mv "$tmp" "$out"
	chmod 600 "$out"
}

LIFE_PING_PID=
# life_ping_start SECS [ADDR]: ping every 0.2 s for SECS seconds (ping's own
# deadline: a background job ignores SIGINT, and SIGTERM loses the summary).
life_ping_start() {
	ix_cli ping -O -i 0.2 -W 1 -w "$1" "${2:-$IX_INNER_ADDR}" >"$IX_DIR/life-ping.out" 2>&1 &
	LIFE_PING_PID=$!
}

# Wait for it; LIFE_SENT, LIFE_LOST.
life_ping_stop() {
	[ -n "$LIFE_PING_PID" ] || return 0
	wait "$LIFE_PING_PID" 2>/dev/null
	LIFE_PING_PID=
	local stats recv
	stats=$(grep -E 'packets transmitted' "$IX_DIR/life-ping.out")
	[ -n "$stats" ] || { cat "$IX_DIR/life-ping.out" >&2; ix_fail "no ping statistics"; }
	LIFE_SENT=$(echo "$stats" | sed -E 's/^([0-9]+) packets transmitted.*/\1/')
	recv=$(echo "$stats" | sed -E 's/.* ([0-9]+) (packets )?received.*/\1/')
	LIFE_LOST=$((LIFE_SENT - recv))
}

# While it runs or after life_ping_kill: LIFE_RECV replies so far and LIFE_LOST
# pings ping gave up on (-O prints "no answer yet" for each).
life_ping_count() {
	LIFE_RECV=$(grep -c 'bytes from' "$IX_DIR/life-ping.out" || true)
	LIFE_LOST=$(grep -c 'no answer yet' "$IX_DIR/life-ping.out" || true)
}

# Stop it early (SIGTERM: no summary; life_ping_count has the figures).
life_ping_kill() {
	[ -n "$LIFE_PING_PID" ] || return 0
	kill -TERM "$LIFE_PING_PID" 2>/dev/null
	wait "$LIFE_PING_PID" 2>/dev/null
	LIFE_PING_PID=
	life_ping_count
}

life_count() { grep -cE "$1" "$IX_DIR/pvpnd.log" || true; }

# life_ping_gaps: after life_ping_stop, count from ping's own lines: LIFE_SENT
# is the highest sequence number answered, LIFE_LOST the ones below it that
# never were (pings still in flight when ping stopped are not losses; with a
# long round trip there are several).
life_ping_gaps() {
	local seqs
	seqs=$(grep -o 'icmp_seq=[0-9]*' "$IX_DIR/life-ping.out" | cut -d= -f2 | sort -nu)
	[ -n "$seqs" ] || { cat "$IX_DIR/life-ping.out" >&2; ix_fail "no ping was answered"; }
	LIFE_SENT=$(echo "$seqs" | tail -1)
	LIFE_LOST=$((LIFE_SENT - $(echo "$seqs" | wc -l)))
}

# life_srv_count REGEX: how many lines of the server's charon log match.
life_srv_count() { grep -cE "$1" "$IX_DIR/srv/charon.log" || true; }

# life_netem_off: the link at full speed again.
life_netem_off() {
	ix_cli tc qdisc del dev ix-cli root 2>/dev/null || true
	ip netns exec "$IX_SRV" tc qdisc del dev ix-srv root 2>/dev/null || true
}

# life_netem DELAY: delay every packet on the link by DELAY each way (tc
# netem on both ends of the veth pair; sch_netem loads on demand).
life_netem() {
	ix_cli tc qdisc replace dev ix-cli root netem delay "$1" ||
		ix_fail "tc netem on the client side failed (sch_netem missing?)"
	ip netns exec "$IX_SRV" tc qdisc replace dev ix-srv root netem delay "$1" ||
		ix_fail "tc netem on the server side failed (sch_netem missing?)"
}
