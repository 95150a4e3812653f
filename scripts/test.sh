#!/usr/bin/env bash
# Installs what is missing, builds the test guests and runs every test.
# This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
bash scripts/install-deps.sh
make -s -C guests
# The code must stay `swift format` clean (.swift-format holds the settings).
swift format lint --strict -r Sources Tests Package.swift
swift build --build-tests
# pipefail keeps swift test's own status through the pipe.
swift test 2>&1 | grep -vE '^(Test Case .*started|◇ Test .*started)'
# The real gdb against the stub (gdbstub-tests/).
python3 gdbstub-tests/run_tests.py
