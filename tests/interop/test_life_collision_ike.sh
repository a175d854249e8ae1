#!/bin/bash
# A forced IKE SA rekey collision against strongSwan (RFC 7296 §2.8.2): exactly one new IKE SA survives.
# The phases are in life_collision.sh (PVPN_LIFE_PHASES picks others); split in two
# tests so the interop suite can run them side by side.
# interop: timeout 600
LIFE_PHASES="ike" exec bash "$(dirname "$0")/life_collision.sh"
