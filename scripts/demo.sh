#!/usr/bin/env bash
# Installs what is missing, builds Retrovisor and the demo guests, and boots the demo guest.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
bash scripts/install-deps.sh
make -s -C guests
swift build -c release --product retrovisor 2>&1 | grep -E "error|warning: unre|Compiling retrovisor" || true
swift build -c release --product retrovisor >/dev/null
exec .build/release/retrovisor run guests/build/ticks.elf "$@"
