#!/usr/bin/env python3
"""Rewrites each rdtsc in a vmlinux ELF as `in eax, 0xF8` (Retrovisor's virtual TSC port).

    patch-rdtsc.py VMLINUX SITES

SITES lists the virtual addresses of the rdtsc instructions, one hex number a line (objdump
finds them at instruction boundaries). Both instructions are two bytes (0F 31 -> E5 F8). RDTSC
sets EDX:EAX; the port read sets EAX from guest time and leaves EDX as it was, which is machine
state, so a recording replays (docs/linux-guest.md).
"""
import struct
import sys


def main():
    path, sites_path = sys.argv[1], sys.argv[2]
    sites = [int(line, 16) for line in open(sites_path) if line.strip()]
    elf = bytearray(open(path, 'rb').read())
    if elf[:4] != b'\x7fELF' or elf[4] != 2:
        sys.exit('patch-rdtsc: %s is not an ELF64 file' % path)
    phoff, = struct.unpack_from('<Q', elf, 32)
    phentsize, phnum = struct.unpack_from('<HH', elf, 54)
    segments = []
    for i in range(phnum):
        p_type, _, p_offset, p_vaddr, _, p_filesz = struct.unpack_from('<IIQQQQ', elf, phoff + i * phentsize)
        if p_type == 1:
            segments.append((p_vaddr, p_offset, p_filesz))
    for site in sites:
        for vaddr, offset, size in segments:
            if vaddr <= site and site + 2 <= vaddr + size:
                at = offset + site - vaddr
                if elf[at:at + 2] != b'\x0f\x31':
                    sys.exit('patch-rdtsc: no rdtsc at %x' % site)
                elf[at:at + 2] = b'\xe5\xf8'
                break
        else:
            sys.exit('patch-rdtsc: rdtsc at %x is in no loaded segment' % site)
    open(path, 'wb').write(elf)
    print('patch-rdtsc: %d rdtsc instructions rewritten as in eax, 0xf8' % len(sites), file=sys.stderr)


main()
