# Helpers for the test bed's checks (scripts/testbed/checks/*.sh), sourced inside the guest.
#
# A check is a bash script run in alphabetical order by /init, in /tmp, as root, with:
#   /dev/kvm          the stock kvm_amd's
#   /testbed/bin      retrovisor and RetrovisorPackageTests.xctest (on PATH)
#   /testbed/guests   the test guests (*.elf)
#   /testbed/linux    Debian's kernel (vmlinuz, System.map) and a static busybox
#   RETROVISOR_BIN, RETROVISOR_GUESTS   for the Swift tests
#   TESTBED_SMOKE=1   when run with --smoke: do the fast version
# Its status: 0 passed, 77 skipped, anything else failed. Header lines the runner reads:
#   # check: ONE-LINE DESCRIPTION     (--list)
#   # smoke: yes                      (part of --smoke)
#   # timeout: SECONDS                (killed after that; default 1800)

# Runs Swift Testing tests from the test binary; arguments are --filter/--skip regexes.
tb_swift_test() {
  local args=() a
  for a in "$@"; do args+=(--filter "$a"); done
  RetrovisorPackageTests.xctest --testing-library swift-testing "${args[@]}" 2>&1 |
    grep -vE '^(Test Case .*started|◇ Test .*started)'
}

smoke() { [ "${TESTBED_SMOKE:-0}" = 1 ]; }
