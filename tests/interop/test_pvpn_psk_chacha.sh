#!/bin/bash
# pvpnd against strongSwan, PSK, IKE chacha20poly1305-prfsha256-ecp256 / ESP chacha20poly1305: the tunnel comes up, the
# client gets a virtual IP from the pool, a ping crosses, the server lists the
# SA; after SIGTERM nothing of pvpn's is left and the server has no SA.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
pv_basic_test chacha20poly1305-prfsha256-ecp256 chacha20poly1305
pv_keep_logs
ix_log PASS
