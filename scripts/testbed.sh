#!/usr/bin/env bash
# The stock-KVM test bed (issue 8): boots Debian's cloud kernel under QEMU's TCG with an emulated
# AMD-V CPU, loads the stock kvm modules there and runs Retrovisor's checks against that
# /dev/kvm. This machine's own KVM (kvm_pvm) behaves unlike KVM on real hardware; this is how
# the project sees standard KVM. See docs/hosts.md, "Running the suite on stock KVM".
#
#   bash scripts/testbed.sh                    every check (scripts/testbed/checks/*.sh)
#   bash scripts/testbed.sh --smoke            the fast subset CI runs
#   bash scripts/testbed.sh --check NAME ...   only these checks (repeatable or comma list)
#   bash scripts/testbed.sh --run 'CMD'        run one shell command inside, return its status
#   bash scripts/testbed.sh --list             list the checks
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
export PATH="/opt/swift/usr/bin:$PATH"

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  cat <<'EOF'
Options:
  --smoke              run only the checks marked "# smoke: yes", in their fast mode
  --check NAME[,NAME]  run only the named checks (repeatable)
  --run CMD, --shell CMD
                       run CMD with bash inside the test bed instead of the checks; its
                       status is the script's status
  --timeout SECONDS    end the whole QEMU run after this long (default 3600; --smoke 1200)
  --kernel VMLINUZ     boot this kernel in QEMU instead of the newest /boot/vmlinuz-*-cloud-amd64;
                       its modules from ../lib/modules/VERSION beside its boot/ (an extracted
                       .deb works); the Linux guest of the linux check is not changed by it
  --memory SIZE        guest memory for QEMU (default 4G)
  --smp N              QEMU vCPUs (default 2)
  --env NAME=VALUE     export this inside the test bed (repeatable), e.g. RETROVISOR_REPLAYS=3
  --no-build           do not run make/swift build (use what is in .build/debug)
  --list               list the checks and exit
Exit status: 0 all checks passed; 1 a check failed; 124 timeout; 2 set-up failure.
The status of --run is the command's own.
EOF
}

checks_dir=scripts/testbed/checks
smoke=0 build=1 timeout_s="" memory=4G smp=2 run_cmd="" mode=checks kernel=""
selected=() envs=()
while (($#)); do
  case "$1" in
    --smoke) smoke=1 ;;
    --check) IFS=, read -r -a names <<<"$2"; selected+=("${names[@]}"); shift ;;
    --check=*) IFS=, read -r -a names <<<"${1#*=}"; selected+=("${names[@]}") ;;
    --run | --shell) run_cmd=$2; mode=run; shift ;;
    --run=* | --shell=*) run_cmd=${1#*=}; mode=run ;;
    --timeout) timeout_s=$2; shift ;;
    --memory) memory=$2; shift ;;
    --kernel) kernel=$2; shift ;;
    --smp) smp=$2; shift ;;
    --env) envs+=("$2"); shift ;;
    --no-build) build=0 ;;
    --list)
      for f in "$checks_dir"/*.sh; do
        printf '%-14s %s\n' "$(basename "$f" .sh)" "$(sed -n 's/^# check: //p' "$f" | head -1)"
      done
      exit 0 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "testbed: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$timeout_s" ] || { ((smoke)) && timeout_s=1200 || timeout_s=3600; }
for name in "${selected[@]}"; do
  [ -f "$checks_dir/$name.sh" ] || { echo "testbed: no check named '$name' (see --list)" >&2; exit 2; }
done

die() { echo "testbed: FAIL: $*" >&2; exit 2; }
t_start=$(date +%s)
stamp() { echo "testbed: [$(($(date +%s) - t_start))s] $*" >&2; }

# --- 1. Host packages, from Debian only ------------------------------------------------------
bash scripts/testbed/install-host.sh || die "could not install the host packages (see above)"

# The cloud kernel, found by globbing so a new Debian point release needs no edit here.
if [ -n "$kernel" ]; then
  [ -f "$kernel" ] || die "--kernel $kernel: no such file"
  vmlinuz=$(cd "$(dirname "$kernel")" && pwd)/$(basename "$kernel")
  kver=$(basename "$vmlinuz")
  kver=${kver#vmlinuz-}
  moddir=$(dirname "$(dirname "$vmlinuz")")/lib/modules/$kver
else
  vmlinuz=$(ls -1 /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -1)
  [ -n "$vmlinuz" ] || die "no /boot/vmlinuz-*-cloud-amd64 after installing linux-image-cloud-amd64"
  kver=${vmlinuz#/boot/vmlinuz-}
  moddir=/lib/modules/$kver
fi
[ -d "$moddir" ] || die "no $moddir for $vmlinuz"

# --- 2. Build ---------------------------------------------------------------------------------
if ((build)); then
  stamp "building guests and retrovisor (swift build --build-tests, debug)"
  bash scripts/install-deps.sh
  make -s -C guests
  swift build --build-tests -j 2 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\] (Compiling|Emitting|Write)' || true
  [ "${PIPESTATUS[0]}" -eq 0 ] || die "swift build failed"
fi
bin=.build/debug
for f in "$bin/retrovisor" "$bin/RetrovisorPackageTests.xctest"; do
  [ -x "$f" ] || die "$f is missing (run without --no-build)"
done

# --- 3. The initramfs -------------------------------------------------------------------------
# The checks this run will do, to know whether gdb must be inside (--run always gets it).
if ((${#selected[@]})); then
  planned=("${selected[@]}")
else
  planned=()
  for f in "$checks_dir"/*.sh; do
    ((smoke)) && ! grep -q '^# smoke: yes' "$f" && continue
    planned+=("$(basename "$f" .sh)")
  done
fi
with_gdb=0
[ "$mode" = run ] && with_gdb=1
for name in "${planned[@]}"; do
  grep -q '^# needs: gdb' "$checks_dir/$name.sh" && with_gdb=1
done

# The Linux guest is built (about 30 s, packages from Debian and vmlinux-to-elf from PyPI) only
# when the linux check will run.
for name in "${planned[@]}"; do
  [ "$name" = linux ] || continue
  stamp "building the Linux guest (guests/linux/build.sh)"
  bash guests/linux/build.sh >/dev/null || die "guests/linux/build.sh failed"
done

stamp "assembling the initramfs"
out=.build/testbed
mkdir -p "$out"
TESTBED_GDB=$with_gdb bash scripts/testbed/mkinitramfs.sh "$out" "$vmlinuz" "$moddir" "$bin" ||
  die "could not build the initramfs"

# What this run does travels in a small plain cpio put before the big compressed one (the kernel
# unpacks concatenated archives in order), so the big one is reused unchanged between runs.
run_dir=$(mktemp -d "${TMPDIR:-/tmp}/testbed-run.XXXXXX")
qemu_pid=""
cleanup() {
  [ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null || true
  rm -rf "$run_dir"
}
trap cleanup EXIT
# Ctrl-C: background jobs of a script ignore SIGINT, so the EXIT trap stops QEMU.
trap 'echo; echo "testbed: interrupted, stopping QEMU" >&2; exit 130' INT TERM
mkdir -p "$run_dir/root/testbed"
{
  echo "TESTBED_MODE=$mode"
  echo "TESTBED_SMOKE=$smoke"
  printf 'TESTBED_CHECKS=%q\n' "${selected[*]}"
  # Swift Testing colours its output on a terminal; a log (CI) gets it plain.
  [ -t 1 ] || echo "export NO_COLOR=1"
  for e in "${envs[@]}"; do printf 'export %q\n' "$e"; done
} >"$run_dir/root/testbed/run.conf"
[ "$mode" != run ] || printf '%s\n' "$run_cmd" >"$run_dir/root/testbed/run.sh"
(cd "$run_dir/root" && find . | cpio -o -H newc --quiet) >"$run_dir/run.cpio"
parts=("$run_dir/run.cpio" "$out/initramfs.cpio")
((with_gdb)) && [ -f "$out/gdb.cpio" ] && parts+=("$out/gdb.cpio")
cat "${parts[@]}" >"$run_dir/initrd"

# --- 4. Boot ----------------------------------------------------------------------------------
# COM1 is the console, streamed here; COM2 goes to a file and carries only the result lines
# (kernel messages never go there), so the verdict does not depend on parsing the console.
result="$run_dir/result"
: >"$result"
stamp "booting QEMU (TCG, -cpu max, $smp vCPUs, $memory; timeout ${timeout_s}s)"
# stdin is not the terminal: QEMU then leaves the terminal alone and Ctrl-C reaches this script.
qemu-system-x86_64 -accel tcg -cpu max -m "$memory" -smp "$smp" \
  -display none -monitor none -nodefaults -no-reboot \
  -serial stdio -serial "file:$result" \
  -kernel "$vmlinuz" -initrd "$run_dir/initrd" \
  -append "console=ttyS0 panic=-1 loglevel=4 mitigations=off tsc=reliable" </dev/null &
qemu_pid=$!
# A watchdog: a hang inside ends here, with a message, instead of hanging CI.
# It polls, so it leaves no sleeping process behind when QEMU ends first.
(
  for ((i = 0; i < timeout_s; i++)); do
    sleep 1
    kill -0 "$qemu_pid" 2>/dev/null || exit 0
  done
  echo "testbed: timeout after ${timeout_s}s, stopping QEMU" >&2
  touch "$run_dir/timed-out"
  kill "$qemu_pid" 2>/dev/null
) &
watchdog=$!
set +e
wait "$qemu_pid"
qemu_status=$?
set -e
qemu_pid=""
kill "$watchdog" 2>/dev/null || true
wait "$watchdog" 2>/dev/null || true
elapsed=$(($(date +%s) - t_start))

# --- 5. Verdict -------------------------------------------------------------------------------
tr -d '\r' <"$result" >"$run_dir/result.txt"
boot=$(sed -n 's/^boot \([0-9.]*\)$/\1/p' "$run_dir/result.txt")
echo
[ -z "$boot" ] || echo "testbed: guest reached /init after ${boot}s of uptime"
if [ -f "$run_dir/timed-out" ]; then
  echo "testbed: FAIL: timed out after ${timeout_s}s (total ${elapsed}s)"
  exit 124
fi
if [ "$mode" = run ]; then
  status=$(sed -n 's/^run status \([0-9]*\)$/\1/p' "$run_dir/result.txt")
  if [ -z "$status" ]; then
    echo "testbed: FAIL: the guest stopped without a result (QEMU status $qemu_status; see the console above)"
    exit 2
  fi
  echo "testbed: command status $status (total ${elapsed}s)"
  exit "$status"
fi
passed=0 failed=() skipped=()
while read -r word name status secs; do
  [ "$word" = check ] || continue
  case "$status" in
    0) passed=$((passed + 1)); verdict=pass ;;
    77) skipped+=("$name"); verdict=skipped ;;
    *) failed+=("$name"); verdict="FAIL (status $status)" ;;
  esac
  printf 'testbed:   %-14s %-18s %6ss\n' "$name" "$verdict" "$secs"
done <"$run_dir/result.txt"
if ! grep -q '^done$' "$run_dir/result.txt"; then
  echo "testbed: FAIL: the guest stopped before the checks finished (QEMU status $qemu_status; see the console above)"
  exit 2
fi
echo "testbed: $passed passed, ${#failed[@]} failed, ${#skipped[@]} skipped"
count=$((passed + ${#failed[@]} + ${#skipped[@]}))
if ((${#failed[@]})); then
  echo "testbed: FAIL: check ${failed[*]} failed ($count checks, ${elapsed}s)"
  exit 1
fi
if ((passed == 0)); then
  echo "testbed: FAIL: no check passed ($count checks, ${elapsed}s)"
  exit 1
fi
echo "testbed: PASS ($count checks, ${#skipped[@]} skipped, ${elapsed}s)"
