#!/usr/bin/env bash
# Installs what is missing, builds Retrovisor and the test guests, then opens the REPL on a live
# recording of the demo guest (guests/build/corrupt.elf, or the image given as $1): the guest
# runs, recorded, as you go forward, and you travel back over that run. On a terminal you get the prompt;
# otherwise (CI, a pipe) the REPL runs scripts/demo.rv, a session that finds the corrupt
# guest's bug, and exits.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
bash scripts/install-deps.sh
make -s -C guests
swift build --product retrovisor 2>&1 | tail -1
bin=.build/debug/retrovisor
image="${1:-guests/build/corrupt.elf}"

if [ -t 0 ] && [ -t 1 ]; then
  echo "== retrovisor repl $image"
  if [ -z "${1:-}" ]; then
    cat <<'HINT'
The guest stands at its first instruction; it runs, recorded, as you go forward (and panics:
a list node was corrupted). Everything it ran, you can travel back over.
Find the culprit:  break panic   continue   print/x *(uint32_t *)(nodes + 12)
                   watch *(uint32_t *)0x102084   reverse-continue   disassemble
Then wander:       rsi   si   ni   rni   timeline   last-write ADDR   help      (Ctrl-D leaves)
HINT
  fi
  exec "$bin" repl "$image"
fi
echo "== retrovisor repl --batch scripts/demo.rv --echo $image"
exec "$bin" repl --batch scripts/demo.rv --echo "$image"
