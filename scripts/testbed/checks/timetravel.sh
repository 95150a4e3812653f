#!/usr/bin/env bash
# check: TimeTravelTests (stepping, breakpoints, watchpoints and reverse execution on recordings)
# smoke: yes
# timeout: 2400
set -euo pipefail
. /testbed/lib.sh
tb_swift_test '^TimeTravelTests\.'
