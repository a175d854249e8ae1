# tests/interop/lib.sh — the strongSwan harness for interop tests.
# Source it from a bash test script:   . "$(dirname "$0")/lib.sh"
#
# Topology (ix_setup):
#
#   $IX_CLI (client)  veth  $IX_SRV (server)  dummy ix-inner
#   192.0.2.1/24 ---------- 192.0.2.2/24      10.99.0.1/24  (IX_INNER_ADDR)
#
# NAT variant (ix_setup nat): the client sits behind a third namespace that
# masquerades (nftables) onto the server link; the server sees 192.0.2.1.
#
#   $IX_CLI            $IX_NAT                        $IX_SRV
#   198.51.100.2/24 -- 198.51.100.1/24 | 192.0.2.1/24 -- 192.0.2.2/24
#
# The server (ix_server_start) is Debian's charon with its own strongswan.conf
# (env STRONGSWAN_CONF), its own /run (tmpfs in a private mount namespace)
# and its vici socket in its own folder; it hands out 10.10.10.0/28 with DNS
# 10.99.0.53 and tunnels 10.99.0.0/24.  ix_client_start runs strongSwan as
# the initiator in the client namespace the same way.
#
# Cleanup is trap-based: namespaces, daemons and temp files go away when the
# test exits, also on failure or a signal.  IX_KEEP=1 keeps the logs.
#
# Functions (all fail the test with a message on error):
#   ix_setup [nat]               namespaces, links, addresses, trap
#   ix_cli CMD... / ix_srv CMD... / ix_nat CMD...   run in that namespace
#   ix_server_start [KEY=VAL...] start charon + load the connection
#   ix_server_load [KEY=VAL...]  (re)load the connection with new values
#   ix_client_start [KEY=VAL...] strongSwan as initiator (not initiated yet)
#   ix_client_initiate           swanctl --initiate, waits for the result
#   ix_client_terminate          swanctl --terminate the IKE SA
#   ix_client_vip                the virtual IP the client was given
#   ix_server_sas / ix_client_sas  swanctl --list-sas output
#   ix_server_sa_count           number of ESTABLISHED IKE SAs on the server
#   ix_server_wait_sa N [SECS]   wait until the server has N IKE SAs
#   ix_server_stop / ix_client_stop   stop one charon (SIGTERM, then KILL)
#   ix_cleanup                   everything, now (also run by the trap)
#   ix_log MSG / ix_fail MSG / ix_check DESC CMD...   reporting
#   ix_wait SECS CMD...          poll CMD until it succeeds or time runs out
#
# KEY=VAL for the server/client configuration (defaults in brackets):
#   ike=[aes256gcm16-prfsha256-x25519]  esp=[aes256gcm16]
#   psk=[pvpn-interop-psk-0123456789]
#   server_id=[server.pvpn.test]  client_id=[client@pvpn.test]
#   cookie=[0] (charon.cookie_threshold: the server answers an IKE_SA_INIT
#     with COOKIE while at least this many half-open IKE SAs exist, not
#     counting the one being asked for, and for a few seconds after; 0 =
#     never.  With 1, a retransmitted IKE_SA_INIT, whose first copy left a
#     half-open SA, gets COOKIE.)
#   dos=[yes] (charon.dos_protection)
#   retransmit_timeout=[4.0] retransmit_tries=[5] (charon as initiator)
#   pool=[10.10.10.0/28]  dns=[10.99.0.53]  local_ts=[10.99.0.0/24]
#   server_addrs=[%any]  log_enc=[1] (3 dumps the decrypted messages)
#   reauth_time=[0s] (the server's connection: re-authentication time; set,
#     strongSwan as responder sends AUTH_LIFETIME, RFC 4478; 0s = none)

IX_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IX_REPO=$(cd "$IX_LIB_DIR/../.." && pwd)
IX_CHARON=${IX_CHARON:-/usr/lib/ipsec/charon}
IX_SWANCTL=${IX_SWANCTL:-swanctl}
IX_ID=${IX_ID:-$$}
IX_CLI=pvpn-cli-$IX_ID
IX_SRV=pvpn-srv-$IX_ID
IX_NAT=pvpn-nat-$IX_ID
IX_CLIENT_ADDR=192.0.2.1
IX_SERVER_ADDR=192.0.2.2
IX_INNER_ADDR=10.99.0.1
IX_INNER_NET=10.99.0.0/24
IX_POOL=10.10.10.0/28
IX_DNS=10.99.0.53
IX_MODE=
IX_DIR=
IX_SRV_PID=
IX_CLI_PID=
IX_NAMESPACES=
IX_TEST=${IX_TEST:-$(basename "$0" .sh)}

ix_log() { echo "[$(date +%H:%M:%S)] ${IX_TEST:-interop}: $*"; }

ix_fail() {
	echo "[$(date +%H:%M:%S)] ${IX_TEST:-interop}: FAIL: $*" >&2
	ix_dump_logs
	exit 1
}

# ix_check DESCRIPTION CMD... — run CMD, fail the test naming DESCRIPTION.
ix_check() {
	local what=$1
	shift
	if "$@"; then
		ix_log "ok: $what"
	else
		ix_fail "$what"
	fi
}

# ix_wait SECS CMD... — poll every 0.2 s.
ix_wait() {
	local secs=$1 end
	shift
	end=$(($(date +%s) + secs))
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# ix__do CMD... — a setup step that must work.
ix__do() { "$@" || ix_fail "setup step failed: $*"; }

ix_cli() { ip netns exec "$IX_CLI" "$@"; }
ix_srv() { ip netns exec "$IX_SRV" "$@"; }
ix_nat() { ip netns exec "$IX_NAT" "$@"; }

ix_dump_logs() {
	[ -n "$IX_DIR" ] && [ -d "$IX_DIR" ] || return 0
	local f
	for f in "$IX_DIR"/srv/charon.log "$IX_DIR"/cli/charon.log; do
		[ -s "$f" ] || continue
		echo "----- last lines of $f" >&2
		tail -n "${IX_LOG_LINES:-40}" "$f" >&2
	done
}

ix_setup() {
	IX_MODE=${1:-direct}
	[ "$(id -u)" = 0 ] || ix_fail "must run as root (network namespaces)"
	command -v "$IX_SWANCTL" >/dev/null || ix_fail "swanctl missing (strongswan-swanctl); run scripts/install-deps"
	[ -x "$IX_CHARON" ] || ix_fail "$IX_CHARON missing (strongswan-charon); run scripts/install-deps"
	IX_DIR=$(mktemp -d "${TMPDIR:-/tmp}/pvpn-ix.XXXXXX") || ix_fail "mktemp"
	# Each charon mounts a private /run; its files must stay visible.
	case "$IX_DIR" in /run/* | /var/run/*) ix_fail "TMPDIR must not be under /run (got $IX_DIR)" ;; esac
	mkdir -p "$IX_DIR/srv" "$IX_DIR/cli"
	trap ix_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	ix__do ip netns add "$IX_CLI"
	IX_NAMESPACES="$IX_CLI"
	ix__do ip netns add "$IX_SRV"
	IX_NAMESPACES="$IX_NAMESPACES $IX_SRV"
	ix__do ip -n "$IX_CLI" link set lo up
	ix__do ip -n "$IX_SRV" link set lo up

	case "$IX_MODE" in
	direct)
		ix__do ip link add ix-cli netns "$IX_CLI" type veth peer name ix-srv netns "$IX_SRV"
		ix__do ip -n "$IX_CLI" addr add "$IX_CLIENT_ADDR/24" dev ix-cli
		ix__do ip -n "$IX_CLI" link set ix-cli up
		;;
	nat)
		ix__do ip netns add "$IX_NAT"
		IX_NAMESPACES="$IX_NAMESPACES $IX_NAT"
		ix__do ip -n "$IX_NAT" link set lo up
		ix__do ip link add ix-cli netns "$IX_CLI" type veth peer name ix-lan netns "$IX_NAT"
		ix__do ip link add ix-wan netns "$IX_NAT" type veth peer name ix-srv netns "$IX_SRV"
		ix__do ip -n "$IX_CLI" addr add 198.51.100.2/24 dev ix-cli
		ix__do ip -n "$IX_CLI" link set ix-cli up
		ix__do ip -n "$IX_NAT" addr add 198.51.100.1/24 dev ix-lan
		ix__do ip -n "$IX_NAT" addr add "$IX_CLIENT_ADDR/24" dev ix-wan
		ix__do ip -n "$IX_NAT" link set ix-lan up
		ix__do ip -n "$IX_NAT" link set ix-wan up
		ix__do ip -n "$IX_CLI" route add default via 198.51.100.1
		ix__do ip netns exec "$IX_NAT" sysctl -qw net.ipv4.ip_forward=1
		ix_nat nft -f - <<-NFT || ix_fail "nftables masquerade rule failed (nf_tables, nft_masq, nft_chain_nat?)"
			table ip ixnat {
				chain post {
					type nat hook postrouting priority srcnat; policy accept;
					oifname "ix-wan" counter masquerade
				}
			}
		NFT
		;;
	*) ix_fail "ix_setup: unknown mode $IX_MODE (direct or nat)" ;;
	esac
	ix__do ip -n "$IX_SRV" addr add "$IX_SERVER_ADDR/24" dev ix-srv
	ix__do ip -n "$IX_SRV" link set ix-srv up
	# The inner network behind the server, and the way back to the pool:
	# without a route, replies fail before XFRM ever sees them.
	ix__do ip -n "$IX_SRV" link add ix-inner type dummy
	ix__do ip -n "$IX_SRV" addr add "$IX_INNER_ADDR/24" dev ix-inner
	ix__do ip -n "$IX_SRV" link set ix-inner up
	ix__do ip -n "$IX_SRV" route add "$IX_POOL" dev ix-srv
	ix_log "namespaces up ($IX_MODE): client $IX_CLI, server $IX_SRV; files in $IX_DIR"
}

# Escape a value for a quoted strongSwan string.
ix_quote() {
	local v=${1//\\/\\\\}
	printf '"%s"' "${v//\"/\\\"}"
}

# ix_render TEMPLATE OUT ROLE [KEY=VAL...]
ix_render() {
	local tpl=$1 out=$2 role=$3 kv k v
	shift 3
	local ike=aes256gcm16-prfsha256-x25519 esp=aes256gcm16
	local psk=pvpn-interop-psk-0123456789 server_id=server.pvpn.test
	local client_id=client@pvpn.test cookie=0 dos=yes
	local retransmit_timeout=4.0 retransmit_tries=5
	local pool=$IX_POOL dns=$IX_DNS local_ts=$IX_INNER_NET server_addrs=%any
	local log_enc=1 reauth_time=0s
	for kv in "$@"; do
		k=${kv%%=*}
		v=${kv#*=}
		case "$k" in
		ike | esp | psk | server_id | client_id | cookie | dos | retransmit_timeout | \
			retransmit_tries | pool | dns | local_ts | server_addrs | log_enc | reauth_time)
			printf -v "$k" '%s' "$v" ;;
		*) ix_fail "unknown harness setting '$k' (see tests/interop/lib.sh)" ;;
		esac
	done
	local dir=$IX_DIR/$role
	# Values go through awk, not sed, so any PSK text is safe.
	awk -v IKE="$ike" -v ESP="$esp" -v PSK="$(ix_quote "$psk")" \
		-v SERVER_ID="$(ix_quote "$server_id")" -v CLIENT_ID="$(ix_quote "$client_id")" \
		-v COOKIE_THRESHOLD="$cookie" -v DOS_PROTECTION="$dos" \
		-v RETRANSMIT_TIMEOUT="$retransmit_timeout" -v RETRANSMIT_TRIES="$retransmit_tries" \
		-v POOL="$pool" -v DNS="$dns" -v LOCAL_TS="$local_ts" -v SERVER_ADDRS="$server_addrs" \
		-v SERVER_ADDR="$IX_SERVER_ADDR" -v DIR="$dir" -v ROLE="$role" -v LOG_ENC="$log_enc" \
		-v REAUTH_TIME="$reauth_time" '
	{
		n = split("IKE ESP PSK SERVER_ID CLIENT_ID COOKIE_THRESHOLD DOS_PROTECTION RETRANSMIT_TIMEOUT RETRANSMIT_TRIES POOL DNS LOCAL_TS SERVER_ADDRS SERVER_ADDR DIR ROLE LOG_ENC REAUTH_TIME", names, " ")
		vals["IKE"] = IKE; vals["ESP"] = ESP; vals["PSK"] = PSK
		vals["SERVER_ID"] = SERVER_ID; vals["CLIENT_ID"] = CLIENT_ID
		vals["COOKIE_THRESHOLD"] = COOKIE_THRESHOLD; vals["DOS_PROTECTION"] = DOS_PROTECTION
		vals["RETRANSMIT_TIMEOUT"] = RETRANSMIT_TIMEOUT; vals["RETRANSMIT_TRIES"] = RETRANSMIT_TRIES
		vals["POOL"] = POOL; vals["DNS"] = DNS; vals["LOCAL_TS"] = LOCAL_TS
		vals["SERVER_ADDRS"] = SERVER_ADDRS; vals["SERVER_ADDR"] = SERVER_ADDR
		vals["DIR"] = DIR; vals["ROLE"] = ROLE; vals["LOG_ENC"] = LOG_ENC
		vals["REAUTH_TIME"] = REAUTH_TIME
		line = $0
		for (i = 1; i <= n; i++) {
			key = "@" names[i] "@"
			while ((p = index(line, key)) > 0)
				line = substr(line, 1, p - 1) vals[names[i]] substr(line, p + length(key))
		}
		if (line ~ /@[A-Z_]+@/) { print "unfilled field: " line > "/dev/stderr"; bad = 1 }
		print line
	}
	END { exit bad }' "$tpl" >"$out" || ix_fail "cannot render $tpl"
	chmod 600 "$out"
}

# ix_swanctl ROLE ARGS... — swanctl against that role's charon.
ix_swanctl() {
	local role=$1 ns
	shift
	[ "$role" = srv ] && ns=$IX_SRV || ns=$IX_CLI
	STRONGSWAN_CONF=$IX_DIR/$role/strongswan.conf \
		ip netns exec "$ns" "$IX_SWANCTL" "$@" --uri "unix://$IX_DIR/$role/charon.vici"
}

# ix_charon_start ROLE NS — charon with a private /run; sets IX_SRV_PID or
# IX_CLI_PID.
ix_charon_start() {
	local role=$1 ns=$2 dir=$IX_DIR/$1 pid
	rm -f "$dir/charon.vici"
	# ip netns exec gives a private mount namespace: the tmpfs on /run (pid
	# file, anything else charon keeps there) is this charon's alone.
	STRONGSWAN_CONF=$dir/strongswan.conf ip netns exec "$ns" \
		sh -c 'mount -t tmpfs -o mode=0755 ix-run /run && exec "$0"' "$IX_CHARON" \
		>"$dir/charon.out" 2>&1 &
	pid=$!
	if [ "$role" = srv ]; then IX_SRV_PID=$pid; else IX_CLI_PID=$pid; fi
	if ! ix_wait "${IX_START_TIMEOUT:-60}" test -S "$dir/charon.vici"; then
		cat "$dir/charon.out" >&2
		ix_fail "charon ($role) did not open its vici socket within ${IX_START_TIMEOUT:-60}s"
	fi
	kill -0 "$pid" 2>/dev/null || ix_fail "charon ($role) exited at start; see $dir/charon.out"
}

ix_server_load() {
	ix_render "$IX_LIB_DIR/strongswan/server-swanctl.conf.in" "$IX_DIR/srv/swanctl.conf" srv "$@"
	ix_swanctl srv --load-all --clear --file "$IX_DIR/srv/swanctl.conf" >"$IX_DIR/srv/load.out" 2>&1 || {
		cat "$IX_DIR/srv/load.out" >&2
		ix_fail "swanctl could not load the server connection"
	}
}

ix_server_start() {
	[ -n "$IX_DIR" ] || ix_fail "call ix_setup first"
	ix_render "$IX_LIB_DIR/strongswan/strongswan.conf.in" "$IX_DIR/srv/strongswan.conf" srv "$@"
	ix_charon_start srv "$IX_SRV"
	ix_server_load "$@"
	ix_log "strongSwan server up in $IX_SRV (pid $IX_SRV_PID, log $IX_DIR/srv/charon.log)"
}

ix_client_start() {
	[ -n "$IX_DIR" ] || ix_fail "call ix_setup first"
	ix_render "$IX_LIB_DIR/strongswan/strongswan.conf.in" "$IX_DIR/cli/strongswan.conf" cli "$@"
	ix_render "$IX_LIB_DIR/strongswan/client-swanctl.conf.in" "$IX_DIR/cli/swanctl.conf" cli "$@"
	ix_charon_start cli "$IX_CLI"
	ix_swanctl cli --load-all --clear --file "$IX_DIR/cli/swanctl.conf" >"$IX_DIR/cli/load.out" 2>&1 || {
		cat "$IX_DIR/cli/load.out" >&2
		ix_fail "swanctl could not load the client connection"
	}
	ix_log "strongSwan client up in $IX_CLI (pid $IX_CLI_PID, log $IX_DIR/cli/charon.log)"
}

ix_client_initiate() {
	ix_swanctl cli --initiate --child pvpn --timeout "${IX_INITIATE_TIMEOUT:-60}" \
		>"$IX_DIR/cli/initiate.out" 2>&1 || {
		tail -n 20 "$IX_DIR/cli/initiate.out" >&2
		ix_fail "strongSwan client could not bring the tunnel up"
	}
}

ix_client_terminate() {
	ix_swanctl cli --terminate --ike pvpn --timeout "${IX_INITIATE_TIMEOUT:-60}" \
		>"$IX_DIR/cli/terminate.out" 2>&1 || {
		tail -n 20 "$IX_DIR/cli/terminate.out" >&2
		ix_fail "strongSwan client could not terminate the IKE SA"
	}
}

ix_client_vip() {
	ip -n "$IX_CLI" -4 -o addr show | awk '{split($4, a, "/"); print a[1]}' |
		grep -E '^10\.10\.10\.' | head -n 1
}

# ix_xfrm_left NS — print the XFRM states and policies left in NS; per-socket
# policies (a running daemon's IKE sockets) do not count.  Empty = clean.
ix_xfrm_left() {
	ip -n "$1" xfrm state
	ip -n "$1" xfrm policy | awk '
		/^[^ \t]/ { if (blk != "" && blk !~ /socket (in|out)/) printf "%s", blk; blk = "" }
		{ blk = blk $0 "\n" }
		END { if (blk != "" && blk !~ /socket (in|out)/) printf "%s", blk }'
}

# ix_check_clean NS WHAT — fail the test when NS still has XFRM state.
ix_check_clean() {
	local left
	left=$(ix_xfrm_left "$1")
	if [ -n "$left" ]; then
		echo "$left" >&2
		ix_fail "$2: XFRM states or policies left in $1"
	fi
	ix_log "ok: $2: no XFRM states or policies left in $1"
}

ix_server_sas() { ix_swanctl srv --list-sas; }
ix_client_sas() { ix_swanctl cli --list-sas; }

ix_server_sa_count() {
	ix_server_sas 2>/dev/null | grep -c ': #[0-9]*, ESTABLISHED' || true
}

ix_server_wait_sa() {
	local want=$1 secs=${2:-30}
	ix_wait "$secs" ix__sa_count_is "$want"
}
ix__sa_count_is() { [ "$(ix_server_sa_count)" = "$1" ]; }

ix_stop_pid() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

ix_server_stop() {
	ix_stop_pid "$IX_SRV_PID"
	IX_SRV_PID=
}
ix_client_stop() {
	ix_stop_pid "$IX_CLI_PID"
	IX_CLI_PID=
}

ix_cleanup() {
	local rc=$? ns
	trap - EXIT
	ix_client_stop
	ix_server_stop
	# Anything else a test started in our namespaces (pvpnd, tcpdump, ping).
	for ns in $IX_NAMESPACES; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
	done
	for ns in $IX_NAMESPACES; do
		ip netns del "$ns" 2>/dev/null
	done
	IX_NAMESPACES=
	if [ -n "$IX_DIR" ] && [ -d "$IX_DIR" ]; then
		# A failed run's files outlive the VM's tmpfs in the build folder.
		if [ "$rc" != 0 ] && [ -n "${BUILD:-}" ] && [ -d "$BUILD" ]; then
			local keep=$BUILD/interop-logs/$IX_TEST
			rm -rf "$keep"
			mkdir -p "$keep"
			# Regular files only: 9p refuses to copy the vici sockets.
			(cd "$IX_DIR" && find . -type f -exec cp --parents {} "$keep"/ \;)
			ix_log "logs of the failed run kept in $keep"
		fi
		if [ "${IX_KEEP:-0}" = 1 ]; then
			ix_log "kept $IX_DIR"
		else
			rm -rf "$IX_DIR"
		fi
	fi
	IX_DIR=
	return $rc
}
