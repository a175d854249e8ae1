#!/bin/bash
# pvpnd against strongSwan, PSK, IKE aes128-sha256-modp2048 / ESP aes128-sha256: the tunnel comes up, the
# client gets a virtual IP from the pool, a ping crosses, the server lists the
# SA; after SIGTERM nothing of pvpn's is left and the server has no SA.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
pv_basic_test aes128-sha256-modp2048 aes128-sha256
pv_keep_logs
ix_log PASS
