#!/bin/bash
# Harness self-test, NAT variant: the client sits behind a namespace that
# masquerades with nftables.  strongSwan to strongSwan must detect the NAT,
# float to port 4500 and install UDP-encapsulated ESP SAs; the ping crosses.
set -u
. "$(dirname "$0")/lib.sh"

ix_setup nat
ix_server_start
ix_client_start
ix_client_initiate

vip=$(ix_client_vip)
ix_check "client got a virtual IP from the pool (got '${vip}')" grep -Eq '^10\.10\.10\.([1-9]|1[0-4])$' <<<"$vip"
ix_check "ping from the client to $IX_INNER_ADDR crosses the tunnel" \
	ix_cli ping -c 2 -W 5 -q "$IX_INNER_ADDR"
sas=$(ix_server_sas)
echo "$sas"
ix_check "server sees the client behind the NAT at $IX_CLIENT_ADDR:4500" \
	grep -q "remote 'client@pvpn.test' @ $IX_CLIENT_ADDR\[4500\]" <<<"$sas"
ix_check "server's ESP SAs are UDP-encapsulated (espinudp)" \
	bash -c "[ \$(ip -n $IX_SRV xfrm state | grep -c 'encap type espinudp sport 4500') = 2 ]"
ix_check "client's ESP SAs are UDP-encapsulated (espinudp)" \
	bash -c "[ \$(ip -n $IX_CLI xfrm state | grep -c 'encap type espinudp') = 2 ]"
ix_check "the NAT namespace masqueraded the traffic" \
	bash -c "ip netns exec $IX_NAT nft list table ip ixnat | grep -Eq 'packets [1-9]'"

ix_client_terminate
ix_check "server SA gone after terminate" ix_server_wait_sa 0 30
ix_check_clean "$IX_CLI" "client after terminate"
ix_check_clean "$IX_SRV" "server after terminate"

nat=$IX_NAT
ix_cleanup
ix_check "NAT namespace removed" bash -c "! ip netns list | grep -q '^$nat'"
ix_log "PASS"
