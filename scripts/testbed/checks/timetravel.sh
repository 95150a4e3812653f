#!/usr/bin/env bash
# check: TimeTravelTests (stepping, breakpoints, watchpoints and reverse execution on recordings)
# smoke: yes
# timeout: 2400
set -euo pipefail
. /testbed/lib.sh
# One suite at a time: run side by side, their VMs made the test bed's own kernel panic
# ("corrupted stack end detected inside scheduler") in most full runs, and each suite took
# minutes instead of seconds (docs/hosts.md, "Running the suite on stock KVM").
tb_swift_test --no-parallel '^TimeTravelTests\.'
