#!/usr/bin/env bash
# Time-travel benchmark (issue: "reverse-stepi latency ... on recordings of 1 s, 10 s and 60 s of
# guest time"): records the soak guests (recording takes as long as the guest runs, ~75 s in all)
# and prints `retrovisor bench-travel`'s table. Figures, not a pass/fail test.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s -C guests
swift build -c release --product retrovisor >/dev/null
bin=.build/release/retrovisor
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for g in soak1 soak10 soak60; do
  "$bin" record guests/build/$g.elf -o "$dir/$g.rvr" >/dev/null
done
"$bin" bench-travel "$dir"/soak1.rvr "$dir"/soak10.rvr "$dir"/soak60.rvr
