#!/bin/bash
# Harness self-test: strongSwan initiator to strongSwan responder with PSK,
# AES-256-GCM + X25519.  Proves the namespaces, the server template, the
# pool and the inner network work before any pvpn test relies on them.
set -u
. "$(dirname "$0")/lib.sh"

ix_setup
ix_server_start ike=aes256gcm16-prfsha256-x25519 esp=aes256gcm16
ix_client_start ike=aes256gcm16-prfsha256-x25519 esp=aes256gcm16
t0=$(date +%s.%N)
ix_client_initiate
ix_log "tunnel up in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}')s"

vip=$(ix_client_vip)
ix_check "client got a virtual IP from the pool (got '${vip}')" \
	bash -c "[[ '$vip' =~ ^10\.10\.10\.([0-9]+)$ ]] && [ \${BASH_REMATCH[1]} -ge 1 ] && [ \${BASH_REMATCH[1]} -le 14 ]"
ix_check "ping from the client to $IX_INNER_ADDR crosses the tunnel" \
	ix_cli ping -c 2 -W 5 -q "$IX_INNER_ADDR"
ix_check "server lists one ESTABLISHED IKE SA" ix__sa_count_is 1
sas=$(ix_server_sas)
echo "$sas"
ix_check "server's CHILD_SA is INSTALLED with AES_GCM_16-256" \
	grep -q 'INSTALLED, TUNNEL.*ESP:AES_GCM_16-256' <<<"$sas"
ix_check "server SA names the client identity" grep -q "remote 'client@pvpn.test'" <<<"$sas"
ix_check "server SA gave out $vip" grep -q "\[$vip\]" <<<"$sas"
ix_check "ESP SAs on both sides (2 each)" bash -c \
	"[ \$(ip -n $IX_SRV xfrm state | grep -c '^src') = 2 ] && [ \$(ip -n $IX_CLI xfrm state | grep -c '^src') = 2 ]"
# The ping really went through ESP: an SA on the server counted packets.
ix_check "the server's ESP SAs counted the ping" \
	bash -c "ip -n $IX_SRV -s xfrm state | grep -Eq '[1-9][0-9]*\(bytes\), [1-9][0-9]*\(packets\)'"

# Teardown: terminate, then nothing left on either side.
ix_client_terminate
ix_check "server SA gone after terminate" ix_server_wait_sa 0 30
ix_check_clean "$IX_CLI" "client after terminate"
ix_check_clean "$IX_SRV" "server after terminate"
ix_check "client virtual IP removed" bash -c "[ -z \"\$(ip -n $IX_CLI -4 -o addr show | grep 10.10.10.)\" ]"

srv=$IX_SRV cli=$IX_CLI spid=$IX_SRV_PID
ix_cleanup
ix_check "namespaces removed" bash -c "! ip netns list | grep -Eq '^($srv|$cli)( |\$)'"
ix_check "server charon stopped" bash -c "! kill -0 $spid 2>/dev/null"
ix_log "PASS"
