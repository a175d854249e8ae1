#!/bin/bash
# A wrong PSK: pvpnd exits 1 with an authentication error; nothing installed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
ix_setup
ix_server_start
pv_profile "$IX_DIR/client.conf" psk=not-the-right-secret-at-all
pv_start "$IX_DIR/client.conf"
pv_wait_exit 60
cat "$IX_DIR/pvpnd.log"
[ "$PV_RC" = 1 ] || ix_fail "pvpnd exit status $PV_RC (want 1)"
pv_log_has "authentication failed" || ix_fail "no 'authentication failed' in the log"
pv_log_has "not-the-right-secret" && ix_fail "the PSK appears in the log"
pv_assert_clean
ix_check "server has no SA" ix_server_wait_sa 0 10
pv_keep_logs
ix_log PASS
