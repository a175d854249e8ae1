#!/bin/bash
# Revocation by OCSP (RFC 6960): the server's certificates name an OCSP
# responder in their authorityInfoAccess; `openssl ocsp` answers for the
# CA from the server's namespace.  No CRL is given, so EnableRevocationCheck
# asks the responder (only after the chain verified):
#   responder up, certificate good, strict   -> connects ("is good" logged)
#   responder up, certificate revoked         -> "server certificate revoked
#                                                (OCSP)", nothing installed
#   responder silent (takes the connection,
#   never answers), StrictRevocationCheck     -> fails closed after the 3 s
#                                                bound, nothing installed
#   responder down, StrictRevocationCheck     -> fails closed, nothing installed
#   responder down, not strict                -> connects, with a warning
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
. "$(dirname "$0")/certs/lib-auth.sh"

OC_PORT_GOOD=8888
OC_PORT_REVOKED=8889
OC_PIDS=

# oc_responder PORT: openssl's OCSP responder for the test CA in the
# server namespace; waits until it listens.
oc_responder() {
	local port=$1 log=$IX_DIR/ocsp-$1.log i
	(cd "$AU_PKI" && exec ip netns exec "$IX_SRV" openssl ocsp -index index.txt -CA ca.crt \
		-rsigner ca.crt -rkey ca.key -port "$port" -ndays 1) >"$log" 2>&1 &
	OC_PIDS="$OC_PIDS $!"
	for i in $(seq 100); do
		grep -q "waiting for OCSP client" "$log" && break
		sleep 0.1
	done
	grep -q "waiting for OCSP client" "$log" || { cat "$log" >&2; ix_fail "the OCSP responder on port $port did not start"; }
	ix_log "OCSP responder listening on $IX_SERVER_ADDR:$port"
}

oc_responders_stop() {
	local pid
	for pid in $OC_PIDS; do
		ix_stop_pid "$pid"
	done
	OC_PIDS=
}

ix_setup
ix_server_start
AU_PKI=$IX_DIR/pki
"$AU_GEN" "$AU_PKI" ca p256 || ix_fail "cannot make the CA"
GEN_OCSP_URL=http://$IX_SERVER_ADDR:$OC_PORT_GOOD/ \
	"$AU_GEN" "$AU_PKI" leaf server p256 server.pvpn.test DNS:server.pvpn.test ||
	ix_fail "cannot make the server certificate"
GEN_OCSP_URL=http://$IX_SERVER_ADDR:$OC_PORT_REVOKED/ \
	"$AU_GEN" "$AU_PKI" leaf server2 p256 server.pvpn.test DNS:server.pvpn.test ||
	ix_fail "cannot make the second server certificate"
"$AU_GEN" "$AU_PKI" leaf client p256 client.pvpn.test email:client@pvpn.test ||
	ix_fail "cannot make the client certificate"
"$AU_GEN" "$AU_PKI" revoke server2 || ix_fail "cannot revoke"
openssl x509 -in "$AU_PKI/server.crt" -noout -ext authorityInfoAccess | grep -q "OCSP - URI:http://$IX_SERVER_ADDR:$OC_PORT_GOOD/" ||
	ix_fail "the server certificate names no OCSP responder"
oc_responder $OC_PORT_GOOD
oc_responder $OC_PORT_REVOKED

ix_log "--- good certificate, responder up, strict"
au_server pubkey server
au_profile "$IX_DIR/client.conf" cert revocation=strict
au_expect_tunnel
pv_log_has "OCSP: 'server.pvpn.test' is good" || ix_fail "pvpnd did not report the OCSP answer"
grep -q "Received request" "$IX_DIR/ocsp-$OC_PORT_GOOD.log" || ix_fail "the responder saw no request"

ix_log "--- revoked certificate, responder up, not strict"
au_server pubkey server2
au_profile "$IX_DIR/client.conf" cert revocation=yes
au_expect_failure "server certificate invalid"
pv_log_has "server certificate revoked \(OCSP\)" || ix_fail "pvpnd does not say the certificate is revoked (OCSP)"

oc_responders_stop
ix_log "--- responder silent, strict: fails closed after the time bound"
# ip netns exec execs python3 itself, so $! is the listener's pid.
ip netns exec "$IX_SRV" python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", '"$OC_PORT_GOOD"'))
s.listen(8)
time.sleep(600)' >"$IX_DIR/silent.log" 2>&1 &
OC_PIDS="$OC_PIDS $!"
sleep 1
au_server pubkey server
au_profile "$IX_DIR/client.conf" cert revocation=strict
au_expect_failure "server certificate invalid"
pv_log_has "StrictRevocationCheck" || ix_fail "pvpnd does not say why (StrictRevocationCheck)"
pv_log_has "no answer from $IX_SERVER_ADDR within 3000 ms" || ix_fail "pvpnd does not say the responder timed out"
oc_responders_stop

ix_log "--- responder down, strict: fails closed"
au_server pubkey server
au_profile "$IX_DIR/client.conf" cert revocation=strict
au_expect_failure "server certificate invalid"
pv_log_has "StrictRevocationCheck" || ix_fail "pvpnd does not say why (StrictRevocationCheck)"
pv_log_has "cannot connect" || ix_fail "pvpnd does not say the responder did not answer"

ix_log "--- responder down, not strict: connects with a warning"
au_profile "$IX_DIR/client.conf" cert revocation=yes
au_expect_tunnel
pv_log_has "no revocation status for the server's certificate" || ix_fail "no warning about the missing revocation status"
pv_keep_logs
ix_log PASS
