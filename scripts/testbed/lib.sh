# Helpers for the test bed's checks (scripts/testbed/checks/*.sh), sourced inside the guest.
#
# A check is a bash script run in alphabetical order by /init, in /tmp, as root, with:
#   /dev/kvm          the stock kvm_amd's
#   /testbed/bin      retrovisor and RetrovisorPackageTests.xctest (on PATH)
#   /testbed/guests   the test guests (*.elf)
#   /testbed/linux    the Linux guest of guests/linux/build.sh (vmlinuz, vmlinux, initramfs, System.map)
#   RETROVISOR_BIN, RETROVISOR_GUESTS   for the Swift tests
#   TESTBED_SMOKE=1   when run with --smoke: do the fast version
# Its status: 0 passed, 77 skipped, anything else failed. Header lines the runner reads:
#   # check: ONE-LINE DESCRIPTION     (--list)
#   # smoke: yes                      (part of --smoke)
#   # timeout: SECONDS                (killed after that; default 1800)
#   # needs: gdb                      (gdb, python3, gdbstub-tests and the guests' sources inside;
#                                      /testbed/repo names the tree they sit in)

# Runs Swift Testing tests from the test binary; arguments are --filter regexes, or --skip REGEX
# and --no-parallel (passed through). With --smoke,
# the tests listed in /testbed/known-failures (failing on stock KVM today, each with its
# reason) are skipped, so CI guards what passes; the full run runs and reports them all.
tb_swift_test() {
  local args=() a
  while (($#)); do
    case "$1" in
      --skip) args+=(--skip "$2"); shift ;;
      --no-parallel) args+=(--no-parallel) ;;
      *) args+=(--filter "$1") ;;
    esac
    shift
  done
  if smoke; then
    while read -r a _; do
      [ -z "$a" ] || [ "${a:0:1}" = "#" ] || args+=(--skip "$a")
    done </testbed/known-failures
  fi
  RetrovisorPackageTests.xctest --testing-library swift-testing "${args[@]}" 2>&1 |
    grep -vE '^(Test Case .*started|◇ Test .*started)'
}

smoke() { [ "${TESTBED_SMOKE:-0}" = 1 ]; }
