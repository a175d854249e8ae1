#!/bin/bash
# Child SA rekeys against strongSwan: started by the server with PFS (A), by pvpnd without (B) and with PFS (C).
# The phases are in life_rekey.sh (PVPN_LIFE_PHASES picks others); split in two
# tests so the interop suite can run them side by side.
# interop: timeout 420
LIFE_PHASES="A B C" exec bash "$(dirname "$0")/life_rekey.sh"
