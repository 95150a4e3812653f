#!/bin/sh
# check: a real Linux kernel (guests/linux): boot, record, replay exactly, gdb at its timer interrupt
# needs: gdb
# timeout: 2400
#
# Test-bed check: Debian's stock kernel with the busybox initramfs of guests/linux, on stock KVM.
#
#   1. `retrovisor run` boots the stock bzImage to the shell prompt on ttyS0, then the vmlinux
#      whose rdtsc instructions build.sh rewrote (docs/linux-guest.md); each session ends with a
#      reset;
#   2. `retrovisor record` records the vmlinux boot;
#   3. `retrovisor replay` replays it: byte-identical console output, every snapshot hash equal;
#   4. if gdb is there: `retrovisor debug` serves the recording, gdb breaks in the kernel's timer
#      interrupt handler (its address from System.map), steps on, reverse-steps and
#      reverse-continues back to the breakpoint;
#   5. prints the figures (FIGURE lines) and exits non-zero when a step failed.
#
# Runs inside the test bed (POSIX sh, busybox is enough). Inputs, from the environment:
#   LINUX_DIR   where guests/linux/build.sh put its output: default /testbed/linux when it
#               holds the guest, else guests/build/linux in the tree /testbed/repo names
#   RETROVISOR  the retrovisor binary                          (default: retrovisor on PATH)
#   WORK        scratch directory for the recording and logs   (default /tmp/linux-check)
#   LINUX_TIMEOUT  seconds allowed for each step               (default 600)
# LINUX_DIR holds vmlinuz, vmlinux, initramfs.cpio.gz, cmdline and, for the gdb step, System.map.
set -u
if [ -z "${LINUX_DIR:-}" ]; then
    LINUX_DIR=/testbed/linux
    if [ ! -f "$LINUX_DIR/vmlinux" ] && [ -f /testbed/repo ]; then
        LINUX_DIR="$(cat /testbed/repo)/guests/build/linux"
    fi
fi
RETROVISOR=${RETROVISOR:-retrovisor}
WORK=${WORK:-/tmp/linux-check}
LINUX_TIMEOUT=${LINUX_TIMEOUT:-600}
MEMORY=128M
# Snapshots bound what each kicked point hashes (the pages written since the last snapshot):
# every 2048 pages, with up to half the run allowed for snapshots (docs/linux-guest.md).
RECORD_OPTIONS="--snapshot-pages 2048 --snapshot-budget 0.5"

mkdir -p "$WORK"
failures=0
fail() { echo "linux: FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "linux: ok: $*"; }
now() { date +%s.%N 2>/dev/null | cut -c1-14; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# Without the guest (bash guests/linux/build.sh on the host) the check is skipped (status 77).
for f in vmlinuz vmlinux initramfs.cpio.gz cmdline; do
    [ -f "$LINUX_DIR/$f" ] || { echo "linux: skipped: $LINUX_DIR/$f missing (bash guests/linux/build.sh)"; exit 77; }
done
cmdline=$(cat "$LINUX_DIR/cmdline")
set -- --memory "$MEMORY" --append "$cmdline" --initrd "$LINUX_DIR/initramfs.cpio.gz"

# The session ends with these lines: the shell ran its commands and the guest reset itself.
expect_session() {
    grep -q '^=== retrovisor linux guest ===' "$1" && grep -q '^/ # hello from the shell' "$1" &&
        grep -q '^/ # bye' "$1"
}

# 1. plain runs: the stock bzImage, then the patched vmlinux that the next steps record
for image in vmlinuz vmlinux; do
    t0=$(now)
    timeout "$LINUX_TIMEOUT" "$RETROVISOR" run -v "$@" "$LINUX_DIR/$image" </dev/null >"$WORK/run.out" 2>"$WORK/run.err"
    status=$?
    t1=$(now)
    if [ $status -eq 0 ] && expect_session "$WORK/run.out"; then
        pass "run $image: shell prompt reached, guest reset itself ($(elapsed "$t0" "$t1") s)"
    else
        fail "run $image: status $status; console tail:"; tail -5 "$WORK/run.out"; tail -5 "$WORK/run.err"
    fi
    echo "FIGURE linux.run.$image.seconds $(elapsed "$t0" "$t1")"
    grep -E 'exits|guest time' "$WORK/run.err" | sed "s/^/linux: run $image: /"
done

# 2. record
rm -f "$WORK/linux.rvr"
t0=$(now)
# shellcheck disable=SC2086
timeout "$LINUX_TIMEOUT" "$RETROVISOR" record $RECORD_OPTIONS -o "$WORK/linux.rvr" "$@" "$LINUX_DIR/vmlinux" \
    </dev/null >"$WORK/record.out" 2>"$WORK/record.err"
status=$?
t1=$(now)
if [ $status -eq 0 ] && expect_session "$WORK/record.out"; then
    pass "record: shell prompt reached ($(elapsed "$t0" "$t1") s)"
else
    fail "record: status $status; console tail:"; tail -5 "$WORK/record.out"; tail -5 "$WORK/record.err"
fi
echo "FIGURE linux.record.seconds $(elapsed "$t0" "$t1")"
[ -f "$WORK/linux.rvr" ] && echo "FIGURE linux.recording.bytes $(wc -c <"$WORK/linux.rvr")"
"$RETROVISOR" info "$WORK/linux.rvr" >"$WORK/info.txt" 2>&1
sed -n '/^exits/,/^checksums/p' "$WORK/info.txt" | sed 's/^/linux: info: /'

# 3. replay
t0=$(now)
timeout "$LINUX_TIMEOUT" "$RETROVISOR" replay -v "$WORK/linux.rvr" >"$WORK/replay.out" 2>"$WORK/replay.err"
status=$?
t1=$(now)
echo "FIGURE linux.replay.seconds $(elapsed "$t0" "$t1")"
if [ $status -eq 0 ] && cmp -s "$WORK/record.out" "$WORK/replay.out"; then
    pass "replay: console byte-identical, $(grep -o '[0-9]* snapshot hashes verified.*' "$WORK/replay.err")"
else
    fail "replay: status $status"; tail -3 "$WORK/replay.err"
    cmp "$WORK/record.out" "$WORK/replay.out"
fi

# 4. gdb: break in timer_interrupt, reverse-stepi, reverse-continue
if ! command -v gdb >/dev/null; then
    echo "linux: gdb: skipped (no gdb here)"
elif [ ! -f "$LINUX_DIR/System.map" ]; then
    echo "linux: gdb: skipped (no System.map in $LINUX_DIR)"
else
    addr=$(awk '$3 == "timer_interrupt" { print $1; exit }' "$LINUX_DIR/System.map")
    port=$((20000 + $$ % 20000))
    "$RETROVISOR" debug "$WORK/linux.rvr" --gdb "127.0.0.1:$port" >"$WORK/debug.out" 2>&1 &
    stub=$!
    # Until the stub listens: opening a 55 MB recording took longer than a fixed 2 s once, and
    # gdb's connection then timed out.
    waited=0
    until grep -q 'listening on' "$WORK/debug.out" 2>/dev/null; do
        kill -0 "$stub" 2>/dev/null && [ "$waited" -lt "$LINUX_TIMEOUT" ] || break
        sleep 1
        waited=$((waited + 1))
    done
    # The first hit of the handler, three instructions on, one back, then back to the hit.
    timeout "$LINUX_TIMEOUT" gdb -nx -batch \
        -ex 'set pagination off' -ex 'set architecture i386:x86-64' \
        -ex "target remote 127.0.0.1:$port" \
        -ex "break *0x$addr" -ex continue -ex 'monitor when' -ex 'p/x $pc' \
        -ex 'stepi 3' -ex reverse-stepi -ex 'p/x $pc' -ex 'monitor when' \
        -ex reverse-continue -ex 'p/x $pc' -ex 'monitor when' -ex kill \
        >"$WORK/gdb.out" 2>&1
    kill "$stub" 2>/dev/null
    wait "$stub" 2>/dev/null
    pcs=$(grep -o '^\$[0-9]* = 0x[0-9a-f]*' "$WORK/gdb.out" | sed 's/.* = //' | tr '\n' ' ')
    hits=$(grep -c "Breakpoint 1, 0x0*$addr" "$WORK/gdb.out")
    grep -E '^position|^Breakpoint|diverged' "$WORK/gdb.out" | sed 's/^/linux: gdb: /'
    set -- $pcs
    if [ $# -eq 3 ] && [ "$1" = "0x$addr" ] && [ "$2" != "0x$addr" ] && [ "$3" = "0x$addr" ] &&
        [ "$hits" -ge 2 ]; then
        pass "gdb: breakpoint at timer_interrupt (0x$addr), stepi 3, reverse-stepi to $2, reverse-continue back to it"
    else
        fail "gdb: expected pcs 0x$addr, another, 0x$addr; got '$pcs' ($hits hits); see $WORK/gdb.out"
        tail -20 "$WORK/gdb.out"
    fi
fi

if [ $failures -eq 0 ]; then
    echo "linux: PASS"
    exit 0
fi
echo "linux: FAIL ($failures step(s))"
exit 1
