#!/usr/bin/env bash
# Installs what is missing, builds Retrovisor and the test guests, then records the demo guest
# (or the image given as $1), describes the recording and replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
bash scripts/install-deps.sh
make -s -C guests
swift build -c release --product retrovisor 2>&1 | tail -1
bin=.build/release/retrovisor
image="${1:-guests/build/corrupt.elf}"
recording="${TMPDIR:-/tmp}/retrovisor-demo.rvr"

echo "== retrovisor record $image -o $recording"
status=0; "$bin" record "$image" -o "$recording" || status=$?
echo "   (guest exit status $status)"
echo "== retrovisor info $recording"
"$bin" info "$recording"
echo "== retrovisor replay $recording"
status=0; "$bin" replay -v "$recording" || status=$?
echo "   (replayed guest exit status $status)"
echo "== retrovisor replay $recording --to 100 --hash"
"$bin" replay "$recording" --to 100 --hash -q
