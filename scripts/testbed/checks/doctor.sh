#!/usr/bin/env bash
# check: retrovisor doctor (what the mechanism probes find on stock KVM), when it exists
# smoke: yes
# timeout: 300
set -euo pipefail
# `doctor` is being added on another branch; until it lands this check is skipped.
if ! retrovisor --help 2>&1 | grep -qw doctor; then
  echo "retrovisor has no 'doctor' command yet: skipped"
  exit 77
fi
retrovisor doctor
