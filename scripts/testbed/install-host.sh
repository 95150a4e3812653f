#!/usr/bin/env bash
# Installs what the stock-KVM test bed needs on the host, from Debian packages only:
# the cloud kernel (its bzImage and kvm modules go into the test bed), busybox-static, cpio,
# and QEMU >= 9.1 from bookworm-backports (bookworm's QEMU 7.2 does not fire debug-register
# breakpoints in nested guests). Quick and silent when everything is already there.
set -euo pipefail
min_qemu=9.1
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
# Another apt run (another engineer's script) may hold the lock: wait for it, do not fail.
apt_opts=(-o DPkg::Lock::Timeout=600 -q)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
qemu_version() { dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null | sed 's/^[0-9]*://'; }
qemu_ok() { installed qemu-system-x86 && dpkg --compare-versions "$(qemu_version)" ge "$min_qemu"; }

missing=()
for p in linux-image-cloud-amd64 busybox-static cpio zstd; do installed "$p" || missing+=("$p"); done
if ((${#missing[@]} == 0)) && qemu_ok; then exit 0; fi

if ! qemu_ok; then
  # Backports is opt-in per package: adding the source changes nothing else on the machine.
  if ! grep -rqs '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "testbed: adding bookworm-backports (/etc/apt/sources.list.d/testbed-backports.list)" >&2
    echo "deb http://deb.debian.org/debian bookworm-backports main" |
      $SUDO tee /etc/apt/sources.list.d/testbed-backports.list >/dev/null
  fi
fi
qemu_ok || missing_qemu="qemu-system-x86>=$min_qemu (bookworm-backports)"
echo "testbed: installing ${missing[*]} ${missing_qemu:-}" >&2
$SUDO apt-get "${apt_opts[@]}" update >&2
export DEBIAN_FRONTEND=noninteractive
if ((${#missing[@]})); then
  $SUDO apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}" >&2
fi
if ! qemu_ok; then
  $SUDO apt-get "${apt_opts[@]}" install -y --no-install-recommends -t bookworm-backports qemu-system-x86 >&2 ||
    { echo "testbed: could not install qemu-system-x86 from bookworm-backports (is deb.debian.org reachable?)" >&2; exit 1; }
fi
qemu_ok || { echo "testbed: qemu-system-x86 $(qemu_version) is older than $min_qemu" >&2; exit 1; }
