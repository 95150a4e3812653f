#!/usr/bin/env bash
# Installs the system packages Retrovisor builds and tests with (Debian bookworm).
# Idempotent: skips apt entirely when everything is already present.
set -euo pipefail
pkgs=(gcc make libreadline-dev libcapstone-dev libzstd-dev libxxhash-dev gdb qemu-system-x86 python3 tmux)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi
