#!/bin/bash
# IKE SA rekeys against strongSwan: ours (D), the server's with its Child rekeys (E), the server's IKE rekeys with our Child rekeys (F).
# The phases are in life_rekey.sh (PVPN_LIFE_PHASES picks others); split in two
# tests so the interop suite can run them side by side.
# interop: timeout 420
LIFE_PHASES="D E F" exec bash "$(dirname "$0")/life_rekey.sh"
