#!/usr/bin/env bash
# Builds the Linux test guest: Debian's stock cloud kernel plus a tiny busybox initramfs.
#
#   bash guests/linux/build.sh [OUTDIR]          (default OUTDIR: guests/build/linux)
#
# Writes into OUTDIR:
#   vmlinuz               the kernel bzImage, copied from /boot/vmlinuz-*-cloud-amd64
#                         (KERNEL=/path/to/bzImage to use another one)
#   initramfs.cpio.gz     busybox-static, /init (init in this directory) and /etc/session
#   cmdline               the kernel command line the checks use (docs/linux-guest.md)
#   System.map            the kernel's symbols, read from its kallsyms table (Debian ships a
#                         stub System.map; the real one is in the 280 MB -dbg package)
#   vmlinux.elf           the decompressed kernel as an ELF with those symbols, for gdb
#   vmlinux               the decompressed kernel with each `rdtsc` rewritten as `in eax, 0xF8`
#                         (Retrovisor's virtual TSC port, guests/linux/patch-rdtsc.py): the image
#                         to record, since rdtsc cannot be replayed (docs/linux-guest.md)
# System.map and vmlinux.elf need vmlinux-to-elf (PyPI), installed into a venv under OUTDIR when missing;
# SYMBOLS=0 skips them.
#
# Installs what is missing with apt-get (linux-image-cloud-amd64, busybox-static, cpio, lz4,
# zstd, xz-utils, python3-venv): run as root on Debian bookworm.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../build/linux}
mkdir -p "$out"
out=$(cd "$out" && pwd)

need=()
ls /boot/vmlinuz-*-cloud-amd64 >/dev/null 2>&1 || [ -n "${KERNEL:-}" ] || need+=(linux-image-cloud-amd64)
# grep reads the whole list: with -q it would stop at the match, busybox would die of SIGPIPE, and
# pipefail would take that for a missing applet (apt-get update on every build).
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -x cttyhack >/dev/null || need+=(busybox-static)
for tool in cpio:cpio lz4:lz4 zstd:zstd xz:xz-utils objdump:binutils; do
    command -v "${tool%%:*}" >/dev/null || need+=("${tool#*:}")
done
if [ "${SYMBOLS:-1}" = 1 ] && ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    need+=(python3-venv)
fi
if [ ${#need[@]} -gt 0 ]; then
    echo "build.sh: installing ${need[*]}" >&2
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
fi

# The newest cloud kernel unless KERNEL names one.
kernel=${KERNEL:-$(ls /boot/vmlinuz-*-cloud-amd64 | sort -V | tail -1)}
[ -f "$kernel" ] || { echo "build.sh: no kernel at $kernel" >&2; exit 2; }
cp "$kernel" "$out/vmlinuz"

# The command line: why each option is there is in docs/linux-guest.md.
cat >"$out/cmdline" <<'EOF'
console=ttyS0 nokaslr norandmaps randomize_kstack_offset=off nolapic noapic acpi=off pci=off nosmp no5lvl lpj=1000000 clocksource=jiffies nowatchdog mitigations=off quiet reboot=k panic=-1
EOF

# The initramfs: busybox with a link per applet the scripts use, /init and /etc/session.
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,root}
cp /bin/busybox "$root/bin/busybox"
for applet in sh ash cat echo ls mount uname grep tr reboot poweroff setsid cttyhack sleep \
    dmesg ps date head tail wc; do
    ln -s busybox "$root/bin/$applet"
done
install -m 0755 "$here/init" "$root/init"
install -m 0644 "$here/session" "$root/etc/session"
# Fixed owners and times: the same inputs give the same archive.
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible) |
    gzip -9n >"$out/initramfs.cpio.gz"

# The bzImage's payload (payload_offset and payload_length in the setup header) is the
# compressed vmlinux ELF; Debian compresses it with LZ4, others use gzip, xz or zstd.
python3 - "$out/vmlinuz" "$out/payload" <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()
setup = (d[0x1F1] or 4) + 1
offset, length = struct.unpack_from('<II', d, 0x248)
start = setup * 512 + offset
open(sys.argv[2], 'wb').write(d[start:start + length])
EOF
case $(od -An -tx1 -N4 "$out/payload" | tr -d ' ') in
    02214c18) lz4 -dc "$out/payload" >"$out/vmlinux" 2>/dev/null || true ;;
    28b52ffd) zstd -dc "$out/payload" >"$out/vmlinux" 2>/dev/null || true ;;
    1f8b*) gzip -dc "$out/payload" >"$out/vmlinux" 2>/dev/null || true ;;
    fd377a58) xz -dc "$out/payload" >"$out/vmlinux" 2>/dev/null || true ;;
    *) echo "build.sh: unknown kernel payload compression" >&2; exit 2 ;;
esac
rm -f "$out/payload"
[ -s "$out/vmlinux" ] || { echo "build.sh: could not decompress the kernel payload" >&2; exit 2; }

if [ "${SYMBOLS:-1}" = 1 ]; then
    if ! command -v vmlinux-to-elf >/dev/null; then
        [ -x "$out/venv/bin/vmlinux-to-elf" ] ||
            { python3 -m venv "$out/venv" && "$out/venv/bin/pip" install -q vmlinux-to-elf; }
        PATH=$out/venv/bin:$PATH
    fi
    kallsyms-finder "$out/vmlinux" 2>/dev/null | grep -E '^[0-9a-f]{16} ' >"$out/System.map"
    vmlinux-to-elf "$out/vmlinux" "$out/vmlinux.elf" >/dev/null 2>&1
    grep -q ' timer_interrupt$' "$out/System.map" ||
        { echo "build.sh: System.map has no timer_interrupt" >&2; exit 2; }
fi

# Every rdtsc (0F 31) becomes in eax, 0xF8 (E5 F8), found by objdump at instruction boundaries
# (text, init text and the alternatives' replacement code).
objdump -d --no-show-raw-insn "$out/vmlinux" |
    awk '$2 == "rdtsc" { sub(":", "", $1); print $1 }' >"$out/rdtsc-sites"
python3 "$here/patch-rdtsc.py" "$out/vmlinux" "$out/rdtsc-sites"
echo "build.sh: $out: $(cd "$out" && ls | grep -v venv | tr '\n' ' ')"
