#!/usr/bin/env bash
# Builds the test bed's initramfs: OUT/initramfs.cpio (newc, zstd-compressed) from a staging
# tree OUT/root. Usage: mkinitramfs.sh OUT VMLINUZ MODULES_DIR BUILD_DIR
#
# Inside: busybox (and bash for the checks), the stock kvm modules, retrovisor and the Swift
# test binary with every shared library ldd names, the test guests, the checks, and the
# Linux guest of guests/linux/build.sh under /testbed/linux for the linux check.
set -euo pipefail
out=$1 vmlinuz=$2 moddir=$3 bin=$4
root=$out/root
cache=$out/stripped
testbed=scripts/testbed
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,run,testbed/{bin,guests,modules,linux}} "$cache"

# A copy without debug info, made again only when the source changed: the debug build's test
# binary carries hundreds of MB of DWARF, which would only slow the unpacking under TCG.
stripped() {
  local src=$1 dst
  dst=$cache/$(echo "$src" | tr / _)
  if [ ! -f "$dst" ] || [ "$src" -nt "$dst" ]; then
    strip --strip-debug -o "$dst.tmp" "$src" 2>/dev/null || cp -L "$src" "$dst.tmp"
    mv "$dst.tmp" "$dst"
  fi
  echo "$dst"
}

# A file at the same absolute path inside (libraries, the loader), following symlinks.
add_same_path() {
  local src=$1
  [ -e "$root$src" ] && return 0
  mkdir -p "$root$(dirname "$src")"
  cp "$(stripped "$(readlink -f "$src")")" "$root$src"
}

# Every shared library an executable needs (ldd resolves RUNPATH, e.g. /opt/swift/.../linux).
add_libs() {
  local lib
  for lib in $(ldd "$1" | awk '/=> \// { print $3 } /^\t\// { print $1 }'); do
    add_same_path "$lib"
  done
}

add_exe() { # SRC DEST-IN-ROOT
  cp "$(stripped "$1")" "$root$2"
  chmod 755 "$root$2"
  add_libs "$1"
}

# busybox: the applets as symlinks, made here rather than at every boot.
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list-full); do
  [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
rm -f "$root/bin/bash"
add_exe /bin/bash /bin/bash

# The stock kvm modules, loaded in this order by /init. Debian compresses modules in newer
# kernels; busybox insmod wants them plain.
for m in kernel/virt/lib/irqbypass kernel/arch/x86/kvm/kvm kernel/arch/x86/kvm/kvm-amd; do
  f=$(ls "$moddir/$m.ko"* 2>/dev/null | head -1)
  [ -n "$f" ] || { echo "mkinitramfs: $moddir/$m.ko not found" >&2; exit 1; }
  case "$f" in
    *.ko) cp "$f" "$root/testbed/modules/" ;;
    *.ko.xz) xz -dc "$f" >"$root/testbed/modules/$(basename "$m").ko" ;;
    *.ko.zst) zstd -qdc "$f" >"$root/testbed/modules/$(basename "$m").ko" ;;
    *.ko.gz) gzip -dc "$f" >"$root/testbed/modules/$(basename "$m").ko" ;;
    *) echo "mkinitramfs: unknown module format: $f" >&2; exit 1 ;;
  esac
done

add_exe "$bin/retrovisor" /testbed/bin/retrovisor
add_exe "$bin/RetrovisorPackageTests.xctest" /testbed/bin/RetrovisorPackageTests.xctest
cp guests/build/*.elf "$root/testbed/guests/"

# For the Linux-guest check: what guests/linux/build.sh made (testbed.sh runs it when the check
# is planned): the stock bzImage, the vmlinux to record, its initramfs, command line and the
# System.map read from kallsyms (Debian's own System.map is a stub without the kernel's symbols).
linux=guests/build/linux
if [ -f "$linux/vmlinux" ]; then
  for f in vmlinuz vmlinux initramfs.cpio.gz cmdline System.map; do
    [ ! -f "$linux/$f" ] || cp "$linux/$f" "$root/testbed/linux/"
  done
fi

# gdb and python3 (the stdlib gdb needs too), for the gdbstub tests and for checks that attach
# gdb to a recording, go into a second archive, OUT/gdb.cpio (~30 MB compressed, a few seconds
# more to boot), which testbed.sh adds when a check says "# needs: gdb". The tests and the
# guests' sources sit at this tree's own path, where the guests' debug info and run_tests.py
# look for them.
build_gdb_archive() {
  local root=$out/gdbroot pylib so repo
  # Its inputs rarely change: keep it unless the tests or the guests did.
  if [ -f "$out/gdb.cpio" ] && [ -z "$(find gdbstub-tests guests -newer "$out/gdb.cpio" | head -1)" ]; then
    return 0
  fi
  rm -rf "$root" "$out/gdb.cpio"
  [ -x /usr/bin/gdb ] && [ -x /usr/bin/python3 ] || return 0
  mkdir -p "$root"/{usr/bin,usr/share,etc,testbed}
  add_exe /usr/bin/gdb /usr/bin/gdb
  add_exe "$(readlink -f /usr/bin/python3)" /usr/bin/python3
  cp -a /usr/share/gdb "$root/usr/share/"
  [ ! -d /etc/gdb ] || cp -a /etc/gdb "$root/etc/"
  # Debian's python (the one gdb links), not whatever python3 is first on PATH.
  pylib=$(/usr/bin/python3 -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')
  mkdir -p "$root$pylib"
  tar -C "$pylib" --exclude=./test --exclude=./idlelib --exclude=./tkinter --exclude=./ensurepip \
    --exclude=./lib2to3 --exclude=./config-\* -cf - . | tar -C "$root$pylib" -xf -
  for so in "$pylib"/lib-dynload/*.so; do add_libs "$so"; done
  repo=$(pwd)
  mkdir -p "$root$repo"
  tar -cf - gdbstub-tests guests | tar -C "$root$repo" -xf -
  echo "$repo" >"$root/testbed/repo"
  (cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | zstd -q -T2 -3 >"$out/gdb.cpio.tmp"
  mv "$out/gdb.cpio.tmp" "$out/gdb.cpio"
}

cp "$testbed/init" "$root/init"
cp "$testbed/lib.sh" "$testbed/known-failures" "$root/testbed/"
mkdir -p "$root/testbed/checks"
cp "$testbed"/checks/*.sh "$root/testbed/checks/"
chmod 755 "$root/init" "$root"/testbed/checks/*.sh
echo "root:x:0:0:root:/root:/bin/bash" >"$root/etc/passwd"
echo "root:x:0:" >"$root/etc/group"

# zstd: the kernel (CONFIG_RD_ZSTD) unpacks it faster under TCG than gzip, and the archive is
# a third of the plain size.
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | zstd -q -T2 -3 >"$out/initramfs.cpio.tmp"
mv "$out/initramfs.cpio.tmp" "$out/initramfs.cpio"
echo "mkinitramfs: $(du -sh "$root" | cut -f1) in $(du -h "$out/initramfs.cpio" | cut -f1) ($out/initramfs.cpio)" >&2
if [ "${TESTBED_GDB:-0}" = 1 ]; then
  build_gdb_archive
  [ ! -f "$out/gdb.cpio" ] || echo "mkinitramfs: gdb, python3: $(du -h "$out/gdb.cpio" | cut -f1) ($out/gdb.cpio)" >&2
fi
