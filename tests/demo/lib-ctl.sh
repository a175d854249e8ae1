# tests/demo/lib-ctl.sh — pvpnd in daemon mode and the pvpn CLI on top of
# tests/interop/lib.sh (source that first).  Used by `make demo`
# (tests/demo/run) and the control-plane interop tests
# (tests/interop/test_ctl_*.sh).
#
#   pc_start [ARGS...]   pvpnd --socket $PC_SOCK --prefs $PC_PREFS in the
#                        client namespace, with its own /run; waits for the
#                        socket; log in $IX_DIR/pvpnd.log
#   pc ARGS...           the pvpn CLI against that daemon (exit status kept)
#   pc_expect RC ARGS... run pvpn, fail the test unless it exits RC; output
#                        in $PC_OUT, errors in $PC_ERR
#   pc_json EXPR ARGS... run `pvpn --json ARGS`, print EXPR evaluated on the
#                        document (Python: d is the parsed JSON)
#   pc_wait_status NAME STATUS [SECS]
#   pc_stop              SIGTERM the daemon, wait, PC_RC
#   pc_profile OUT [KEY=VAL...]   a client profile (pv_profile's settings)

PC_BIN=${PVPN_PVPND_BIN:-${BUILD:?BUILD must be set}/pvpnd}
PC_CLI=${PVPN_CLI_BIN:-$BUILD/pvpn}
PC_PY=/usr/bin/python3
PC_PID=
PC_RC=
PC_SOCK=
PC_PREFS=
PC_OUT=
PC_ERR=

pc_start() {
	[ -x "$PC_BIN" ] || ix_fail "$PC_BIN missing: build it first (make BUILD=...)"
	[ -x "$PC_CLI" ] || ix_fail "$PC_CLI missing: build it first (make BUILD=...)"
	PC_SOCK=$IX_DIR/ctl/control.sock
	PC_PREFS=$IX_DIR/prefs
	PC_OUT=$IX_DIR/pvpn.out
	PC_ERR=$IX_DIR/pvpn.err
	mkdir -p "$IX_DIR/ctl"
	# A private /run (tmpfs) in the client namespace's mount namespace: the
	# daemon's crash-recovery files stay its own.
	ip netns exec "$IX_CLI" sh -c 'mount -t tmpfs -o mode=0755 pc-run /run && exec "$@"' \
		pvpnd "$PC_BIN" --foreground -v --socket "$PC_SOCK" --prefs "$PC_PREFS" "$@" \
		>"$IX_DIR/pvpnd.log" 2>&1 &
	PC_PID=$!
	if ! ix_wait 20 test -S "$PC_SOCK"; then
		cat "$IX_DIR/pvpnd.log" >&2
		ix_fail "pvpnd (daemon mode) did not open $PC_SOCK"
	fi
	kill -0 "$PC_PID" 2>/dev/null || { cat "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd exited at start"; }
	ix_log "pvpnd daemon up in $IX_CLI (pid $PC_PID), socket $PC_SOCK"
}

pc() { "$PC_CLI" --socket "$PC_SOCK" "$@"; }

pc_expect() {
	local want=$1 rc
	shift
	pc "$@" >"$PC_OUT" 2>"$PC_ERR"
	rc=$?
	if [ "$rc" != "$want" ]; then
		echo "--- pvpn $* (exit $rc, want $want)" >&2
		cat "$PC_OUT" "$PC_ERR" >&2
		tail -n 30 "$IX_DIR/pvpnd.log" >&2
		ix_fail "pvpn $* exited $rc (want $want)"
	fi
	return 0
}

pc_json() {
	local expr=$1
	shift
	pc --json "$@" >"$PC_OUT" 2>"$PC_ERR"
	"$PC_PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["version"] == 1, "no version 1 field"
v = eval(sys.argv[2])
print(json.dumps(v) if not isinstance(v, str) else v)' "$PC_OUT" "$expr" ||
		{ cat "$PC_OUT" "$PC_ERR" >&2; ix_fail "pvpn --json $*: $expr"; }
}

pc__status_is() { [ "$(pc_json 'd["connection"]["status"]' status "$1")" = "$2" ]; }

pc_wait_status() {
	ix_wait "${3:-30}" pc__status_is "$1" "$2" || {
		pc status "$1" >&2
		tail -n 30 "$IX_DIR/pvpnd.log" >&2
		ix_fail "$1 did not become $2"
	}
}

pc_stop() {
	[ -n "$PC_PID" ] || return 0
	kill -TERM "$PC_PID" 2>/dev/null
	local i
	for i in $(seq 100); do
		kill -0 "$PC_PID" 2>/dev/null || break
		sleep 0.1
	done
	wait "$PC_PID"
	PC_RC=$?
	PC_PID=
}

pc_profile() { pv_profile "$@"; }
