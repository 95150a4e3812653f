#!/usr/bin/env bash
# check: gdbstub-tests (the real gdb against `retrovisor debug` on recordings made here)
# needs: gdb
# timeout: 1200
set -euo pipefail
if [ ! -x /usr/bin/gdb ] || [ ! -f /testbed/repo ]; then
  echo "no gdb in this test bed (gdb or Debian's python3 missing on the host): skipped"
  exit 77
fi
# run_tests.py finds the guests and their sources relative to its own place in the tree.
cd "$(cat /testbed/repo)"
python3 gdbstub-tests/run_tests.py
