#!/bin/sh
# Run a Retrovisor test guest under QEMU (TCG) with its serial port on
# stdin/stdout, and exit with QEMU's exit status.
#
#   guests/run-qemu.sh GUEST [STDIN-FILE]
#
# GUEST is a name (hello, ticks, ...) or a path to an .elf file. Stdout is
# exactly the guest's serial output: -nodefaults/-display none/-monitor none
# leave no monitor, VGA or firmware console on stdio, so QEMU writes nothing
# else there. Input comes from STDIN-FILE ("-" = this script's stdin), or
# /dev/null if omitted. No delay is needed for piped input: the guests keep
# the UART FIFO off, so QEMU passes one byte at a time and only after the
# guest has read the previous one; nothing is dropped before the guest is up.
# Exit status: (V << 1) | 1 for a guest `out` of V to port 0xf4 (debug
# exit), 124 if TIMEOUT seconds (default 20) pass first.
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 GUEST [STDIN-FILE]" >&2
    exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
case $1 in
    */*|*.elf) elf=$1 ;;
    *) elf=$here/build/$1.elf ;;
esac
input=${2:-/dev/null}
[ "$input" = - ] && input=/dev/stdin
[ -f "$elf" ] || { echo "$0: $elf not found (run make -C guests)" >&2; exit 2; }
[ -r "$input" ] || { echo "$0: cannot read $input" >&2; exit 2; }

set +e
timeout "${TIMEOUT:-20}" qemu-system-x86_64 \
    -accel tcg -m 64M -nodefaults -no-reboot \
    -display none -monitor none -serial stdio \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -kernel "$elf" <"$input"
