#!/usr/bin/env bash
# Benchmark QEMU's own record/replay on the Retrovisor test guests, as a
# reference point for Retrovisor's recording overhead (docs/performance.md).
#
#   scripts/bench-qemu.sh [GUEST...]        default: ticks spin mixed
#
# For each guest, RUNS times (default 3) each:
#   plain   qemu-system-x86_64 -accel tcg ...          (as guests/run-qemu.sh)
#   icount  ... -icount shift=auto                     (instruction counting only)
#   record  ... -icount shift=auto,rr=record,rrfile=F
#   replay  ... -icount shift=auto,rr=replay,rrfile=F  (F from the matching record run)
# and prints the median wall-clock times (QEMU start-up of ~0.1 s included),
# ratios to plain, the median record-log size, and log bytes per second of
# guest time. "guest s" is the time the guest itself waits for (ticks: 50
# timer ticks = 0.5 s, spin: 0.2 s, mixed: 1.0 s); it excludes firmware boot.
#
# Checks: every run must end with the guest's debug exit 0 (QEMU status 1);
# each replay's serial output must equal its recording's, and the recording's
# must equal the plain run's. Exit status 0 if all checks pass, 1 otherwise,
# 2 on usage errors. Every QEMU run is bounded by TIMEOUT seconds (default 60).
set -u

RUNS=${RUNS:-3}
TIMEOUT=${TIMEOUT:-60}
QEMU=${QEMU:-qemu-system-x86_64}

here=$(cd "$(dirname "$0")/.." && pwd)
guests_dir=$here/guests
[ $# -gt 0 ] && guests=("$@") || guests=(ticks spin mixed)

command -v "$QEMU" >/dev/null || { echo "$0: $QEMU not found" >&2; exit 2; }
case $RUNS in ''|*[!0-9]*|0) echo "$0: RUNS must be a positive integer" >&2; exit 2 ;; esac
make -s -C "$guests_dir" >/dev/null || { echo "$0: make -C guests failed" >&2; exit 2; }

# Seconds of guest time each guest spends waiting on its 100 Hz timer.
guest_seconds() {
    case $1 in
        ticks) echo 0.5 ;;
        spin) echo 0.2 ;;
        mixed) echo 1.0 ;;
        long64) echo 0.1 ;;
        corrupt) echo 0.05 ;;
        *) echo 0 ;;
    esac
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-qemu.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

now_ns() { date +%s%N; }

# run_qemu ELF OUTFILE [EXTRA-ARGS...]: runs QEMU once, prints the wall time
# in seconds; returns QEMU's exit status (124 on timeout).
run_qemu() {
    local elf=$1 out=$2 t0 t1 st
    shift 2
    t0=$(now_ns)
    timeout --kill-after=5 "$TIMEOUT" "$QEMU" \
        -accel tcg -m 64M -nodefaults -no-reboot \
        -display none -monitor none -serial "file:$out" \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -kernel "$elf" "$@" </dev/null >"$out.qemu-stdout" 2>"$out.qemu-stderr"
    st=$?
    t1=$(now_ns)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }'
    return $st
}

# median of the numbers on stdin
median() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "nan"; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ok=1
all_identical=yes
rows=()
notes=()

for g in "${guests[@]}"; do
    elf=$guests_dir/build/$g.elf
    if [ ! -f "$elf" ]; then
        echo "$0: $elf not found" >&2
        ok=0
        continue
    fi
    : >"$tmp/$g.times.plain" >"$tmp/$g.times.icount" >"$tmp/$g.times.record" >"$tmp/$g.times.replay"
    : >"$tmp/$g.sizes"
    identical=yes
    for i in $(seq 1 "$RUNS"); do
        rr=$tmp/$g.$i.rr
        for mode in plain icount record replay; do
            case $mode in
                plain) extra=() ;;
                icount) extra=(-icount shift=auto) ;;
                record) extra=(-icount "shift=auto,rr=record,rrfile=$rr") ;;
                replay) extra=(-icount "shift=auto,rr=replay,rrfile=$rr") ;;
            esac
            out=$tmp/$g.$i.$mode.out
            t=$(run_qemu "$elf" "$out" "${extra[@]}")
            st=$?
            echo "$t" >>"$tmp/$g.times.$mode"
            if [ $st -ne 1 ]; then
                if [ $st -eq 124 ] || [ $st -eq 137 ]; then
                    notes+=("$g $mode run $i: timed out after ${TIMEOUT}s")
                else
                    notes+=("$g $mode run $i: QEMU exit status $st (want 1)$(head -c 300 "$out.qemu-stderr" | tr '\n' ' ' | sed 's/^./: &/')")
                fi
                ok=0
            fi
        done
        [ -f "$rr" ] && stat -c %s "$rr" >>"$tmp/$g.sizes"
        if ! cmp -s "$tmp/$g.$i.record.out" "$tmp/$g.$i.replay.out"; then
            identical=no
            notes+=("$g run $i: replay output differs from record output")
        fi
        if ! cmp -s "$tmp/$g.$i.plain.out" "$tmp/$g.$i.record.out"; then
            notes+=("$g run $i: record output differs from plain output")
            ok=0
        fi
    done
    [ $identical = yes ] || { all_identical=no; ok=0; }

    p=$(median <"$tmp/$g.times.plain")
    c=$(median <"$tmp/$g.times.icount")
    r=$(median <"$tmp/$g.times.record")
    y=$(median <"$tmp/$g.times.replay")
    sz=$(median <"$tmp/$g.sizes")
    gs=$(guest_seconds "$g")
    rows+=("$(awk -v g="$g" -v p="$p" -v c="$c" -v r="$r" -v y="$y" -v sz="$sz" -v gs="$gs" -v id="$identical" 'BEGIN {
        bps = (gs > 0 && sz != "nan") ? sprintf("%.0f", sz / gs) : "-"
        printf "%-7s %8.3f %8.3f %8.3f %8.3f %7.2fx %7.2fx %7.2fx %9s %7.2f %10s  %s\n",
            g, p, c, r, y, (p > 0 ? r / p : 0), (p > 0 ? y / p : 0), (r > 0 ? y / r : 0),
            sz, gs, bps, id }')")
done

echo "QEMU record/replay, $($QEMU --version | head -1), TCG, median of $RUNS runs (wall s, incl. QEMU start)"
echo "icount/record/replay use -icount shift=auto; rrfile = record log size; guest s = timed guest run"
echo
printf "%-7s %8s %8s %8s %8s %8s %8s %8s %9s %7s %10s  %s\n" \
    guest plain icount record replay rec/pln rep/pln rep/rec "rrfile B" "guest s" "B/guest-s" identical
printf "%-7s %8s %8s %8s %8s %8s %8s %8s %9s %7s %10s  %s\n" \
    ------- -------- -------- -------- -------- -------- -------- -------- --------- ------- ---------- ---------
for row in "${rows[@]}"; do
    printf "%s\n" "$row"
done
echo
echo "replay output identical: $all_identical"
if [ ${#notes[@]} -gt 0 ]; then
    echo
    printf "problem: %s\n" "${notes[@]}"
fi
[ $ok = 1 ] && exit 0 || exit 1
