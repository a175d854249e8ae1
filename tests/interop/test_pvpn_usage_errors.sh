#!/bin/bash
# Usage and profile errors: exit status 2 with the profile room's file:line
# message, before any socket is opened or packet sent (no namespace needed:
# a profile error must stop pvpnd before it touches the network).
. "$(dirname "$0")/lib.sh"
PV_BIN=${BUILD:?}/pvpnd
[ -x "$PV_BIN" ] || ix_fail "$PV_BIN missing: build it first"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

"$PV_BIN" --bogus >"$dir/out" 2>&1
rc=$?
[ $rc = 2 ] || ix_fail "unknown option: status $rc, want 2"
grep -q "unknown option --bogus" "$dir/out" || ix_fail "unknown option: message: $(cat "$dir/out")"
grep -q "usage:" "$dir/out" || ix_fail "no usage text"

"$PV_BIN" --profile >"$dir/out" 2>&1
[ $? = 2 ] || ix_fail "--profile without argument: want status 2"

printf '[IKEv2]\nServer = 192.0.2.2\nIKEProposals = aes256gcm16-prfsha256-x25519\nBogusKey = 1\n' >"$dir/bad.conf"
"$PV_BIN" --foreground --profile "$dir/bad.conf" >"$dir/out" 2>&1
rc=$?
cat "$dir/out"
[ $rc = 2 ] || ix_fail "bad profile: status $rc, want 2"
grep -q "bad.conf:4" "$dir/out" || ix_fail "bad profile: no file:line in: $(cat "$dir/out")"
grep -q "sending" "$dir/out" && ix_fail "bad profile: something was sent"

"$PV_BIN" --foreground --profile "$dir/missing.conf" >"$dir/out" 2>&1
[ $? = 2 ] || ix_fail "missing profile: want status 2"

"$PV_BIN" --profile "$dir/bad.conf" --socket "$dir/s" >"$dir/out" 2>&1
rc=$?
[ $rc = 2 ] || ix_fail "--profile with --socket: status $rc, want 2"
grep -q "does not take --socket" "$dir/out" || ix_fail "--profile with --socket: message: $(cat "$dir/out")"
ix_log PASS
