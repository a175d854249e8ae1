# tests/interop/profiles/pvpn-lib.sh — pvpnd on top of tests/interop/lib.sh.
# Source after lib.sh.  pvpnd runs one-shot in the client namespace; its log
# is $IX_DIR/pvpnd.log, its exit status $PV_RC after pv_stop / pv_wait_exit.
#
#   pv_profile OUT [KEY=VAL...]  render psk.conf.in (ike, esp, psk, server,
#                                server_id, client_id, routes)
#   pv_start PROFILE [ARGS...]   start pvpnd (background), PV_PID
#   pv_wait_up [SECS]            until "CHILD SA installed" (fails if pvpnd exits)
#   pv_wait_exit [SECS]          until pvpnd exits; PV_RC
#   pv_stop                      SIGTERM, wait, PV_RC
#   pv_log_has REGEX             grep -E the pvpnd log
#   pv_assert_clean              nothing of pvpn's left in the client's kernel
#   pv_ping [ADDR]               ping through the tunnel from the client ns

PV_PIDFILE=
PV_PID=
PV_RC=
PV_BIN=${BUILD:?BUILD must be set (tests/run-kernel sets it)}/pvpnd

pv_profile() {
	local out=$1 kv k v
	shift
	local ike=aes256gcm16-prfsha256-x25519 esp=aes256gcm16
	local psk=pvpn-interop-psk-0123456789 server=$IX_SERVER_ADDR
	local server_id=server.pvpn.test client_id=client@pvpn.test routes=$IX_INNER_NET
	for kv in "$@"; do
		k=${kv%%=*}
		v=${kv#*=}
		case "$k" in
		ike | esp | psk | server | server_id | client_id | routes) printf -v "$k" '%s' "$v" ;;
		*) ix_fail "pv_profile: unknown setting '$k'" ;;
		esac
	done
	awk -v IKE="$ike" -v ESP="$esp" -v PSK="$psk" -v SERVER="$server" \
		-v SERVER_ID="$server_id" -v CLIENT_ID="$client_id" -v ROUTES="$routes" '
	{
		gsub(/@IKE@/, IKE); gsub(/@ESP@/, ESP); gsub(/@SERVER@/, SERVER)
		gsub(/@SERVER_ID@/, SERVER_ID); gsub(/@CLIENT_ID@/, CLIENT_ID)
		gsub(/@ROUTES@/, ROUTES)
		if (index($0, "@PSK@")) { sub(/@PSK@/, ""); $0 = $0 PSK }
		print
	}' "$IX_LIB_DIR/profiles/psk.conf.in" >"$out" || ix_fail "cannot render the profile"
	chmod 600 "$out"
}

pv_start() {
	local profile=$1
	shift
	[ -x "$PV_BIN" ] || ix_fail "$PV_BIN missing: build it first (make BUILD=...)"
	PV_T0=$(date +%s%N)
	ip netns exec "$IX_CLI" "$PV_BIN" --foreground --profile "$profile" "$@" \
		>"$IX_DIR/pvpnd.log" 2>&1 &
	PV_PID=$!
	ix_log "pvpnd started in $IX_CLI (pid $PV_PID)"
}

pv__up() {
	grep -q "CHILD SA installed" "$IX_DIR/pvpnd.log" && grep -qE "connected in [0-9]+ ms" "$IX_DIR/pvpnd.log"
}
pv__gone() { ! kill -0 "$PV_PID" 2>/dev/null; }
pv__not_running() { ! kill -0 "$1" 2>/dev/null; }

pv_wait_up() {
	local secs=${1:-60} end
	end=$(($(date +%s) + secs))
	while :; do
		pv__up && break
		if pv__gone; then
			cat "$IX_DIR/pvpnd.log" >&2
			ix_fail "pvpnd exited before the tunnel came up"
		fi
		[ "$(date +%s)" -lt "$end" ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "tunnel not up within ${secs}s"; }
		sleep 0.1
	done
	PV_UP_MS=$((($(date +%s%N) - PV_T0) / 1000000))
	ix_log "tunnel up $PV_UP_MS ms after start ($(grep -oE 'connected in [0-9]+ ms' "$IX_DIR/pvpnd.log"))"
}

pv_wait_exit() {
	local secs=${1:-60} end
	end=$(($(date +%s) + secs))
	while ! pv__gone; do
		[ "$(date +%s)" -lt "$end" ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd still running after ${secs}s"; }
		sleep 0.1
	done
	wait "$PV_PID"
	PV_RC=$?
	PV_PID=
	ix_log "pvpnd exited with status $PV_RC"
}

pv_stop() {
	[ -n "$PV_PID" ] || return 0
	kill -TERM "$PV_PID"
	pv_wait_exit "${1:-15}"
}

pv_log_has() { grep -qE "$1" "$IX_DIR/pvpnd.log"; }

pv_assert_clean() {
	local st pol addr rt
	st=$(ix_cli ip xfrm state)
	pol=$(ix_cli ip xfrm policy | grep -v 'socket ' || true)
	addr=$(ix_cli ip -o addr show | grep -E 'inet 10\.10\.10\.' || true)
	rt=$(ix_cli ip route show table all | grep -E '10\.99\.0\.|src 10\.10\.10\.' || true)
	[ -z "$st" ] || ix_fail "XFRM states left in the client: $st"
	[ -z "$pol" ] || ix_fail "XFRM policies left in the client: $pol"
	[ -z "$addr" ] || ix_fail "virtual IP left in the client: $addr"
	[ -z "$rt" ] || ix_fail "routes left in the client: $rt"
	ix_log "ok: nothing of pvpn's left in the client's kernel"
}

pv_ping() {
	ix_cli ping -c 2 -W 3 "${1:-$IX_INNER_ADDR}" >"$IX_DIR/ping.out" 2>&1 || {
		cat "$IX_DIR/ping.out" >&2
		return 1
	}
}

# The common body of the PSK proposal tests: up, VIP, ping, server SA, down,
# clean.  Args: IKE proposal, ESP proposal (strongSwan syntax, both sides).
pv_basic_test() {
	local ike=$1 esp=$2
	ix_setup
	ix_server_start "ike=$ike" "esp=$esp"
	pv_profile "$IX_DIR/client.conf" "ike=$ike" "esp=$esp"
	pv_start "$IX_DIR/client.conf"
	pv_wait_up 60
	local vip
	vip=$(ix_client_vip)
	[ -n "$vip" ] || ix_fail "the client has no virtual IP from $IX_POOL"
	ix_log "ok: virtual IP $vip"
	ix_check "ping $IX_INNER_ADDR through the tunnel" pv_ping
	ix_check "server lists the SA" ix_server_wait_sa 1 10
	ix_server_sas | grep -q "$vip" || ix_fail "server's SA does not show $vip"
	pv_stop
	[ "$PV_RC" = 0 ] || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd exit status $PV_RC after SIGTERM (want 0)"; }
	pv_assert_clean
	ix_check "server has no SA after the DELETE" ix_server_wait_sa 0 10
	ix_log "pvpnd log:"
	cat "$IX_DIR/pvpnd.log"
	pv_keep_logs
}

# Keep a passing run's logs too (build folder), for timing and reports.
pv_keep_logs() {
	local keep=$BUILD/interop-logs/$IX_TEST.ok
	rm -rf "$keep"
	mkdir -p "$keep"
	cp "$IX_DIR/pvpnd.log" "$IX_DIR"/srv/charon.log "$keep"/ 2>/dev/null
	return 0
}
