/// An uncompressed Linux kernel (`vmlinux`: ELF64, x86-64, with the "Linux" ELF note) entered at
/// its 64-bit entry point `startup_64`, as Firecracker boots one: the segments go to their
/// physical addresses, `boot_params` is built from scratch, and the CPU starts in long mode with
/// RSI = the zero page. No decompressor runs, which is what lets a build step rewrite the
/// kernel's text first (guests/linux/build.sh turns its `rdtsc` into port reads, see
/// docs/linux-guest.md).
///
/// Guest-physical layout: the low area (GDT, zero page, stack, page tables, command line) is
/// LinuxLoader's; the kernel's segments at their `p_paddr` (16 MiB for a stock x86-64 kernel,
/// which must be at or above 1 MiB); the initrd at the top of RAM, as for a bzImage.
enum LinuxELFLoader {
  /// Loaded below this address, a segment would overlap the loader's own structures.
  static let lowestSegment: UInt64 = 0x10_0000
  /// What the kernel accepts for the initrd when no setup header says otherwise (2 GiB - 1).
  static let initrdAddrMax: UInt64 = 0x7FFF_FFFF
  /// The boot protocol version the zero page claims: 2.15, what Linux 6.x writes itself.
  static let protocolVersion: UInt16 = 0x020F
  static let noteTypeLoad: UInt32 = 4

  /// ELF64, x86-64, executable, with a PT_NOTE segment whose notes include one named "Linux".
  static func isVmlinux(_ image: [UInt8]) -> Bool {
    guard ELFFile.hasMagic(image), let elf = try? ELFFile(image) else { return false }
    guard elf.elfClass == .elf64, elf.machine == ELFFile.machineX8664, elf.type == ELFFile.typeExecutable else {
      return false
    }
    let name = Array("Linux".utf8) + [0]
    for header in elf.programHeaders where header.type == noteTypeLoad {
      guard let data = try? elf.data(of: header), data.count >= name.count else { continue }
      let bytes = Array(data)
      for start in 0...(bytes.count - name.count) where bytes[start..<start + name.count].elementsEqual(name) {
        return true
      }
    }
    return false
  }

  static func load(_ image: [UInt8], into memory: any PhysicalMemory, options: LoadOptions)
    throws(ImageLoadError) -> BootState
  {
    let elf = try ELFFile(image)
    let ram = memory.size
    var kernelEnd: UInt64 = 0
    let segments = elf.loadSegments.filter { $0.memorySize > 0 }
    guard !segments.isEmpty else { throw ImageLoadError("vmlinux has no loadable segment") }
    for segment in segments {
      let end = try loaderAdd(segment.physicalAddress, segment.memorySize, "segment \(segment.index) end")
      guard segment.physicalAddress >= lowestSegment else {
        throw ImageLoadError(
          "vmlinux program header \(segment.index) loads at \(loaderHex(segment.physicalAddress)), "
            + "below \(loaderHex(lowestSegment)) where the loader keeps boot_params and page tables")
      }
      guard end <= ram else {
        throw ImageLoadError(
          "guest RAM (\(ram >> 20) MiB) is too small for this kernel: program header \(segment.index) "
            + "ends at \(loaderHex(end)) (at least \((end + 0xFFFFF) >> 20) MiB)")
      }
      kernelEnd = max(kernelEnd, end)
    }
    guard segments.contains(where: { elf.entry >= $0.physicalAddress && elf.entry < $0.physicalAddress + $0.fileSize })
    else {
      throw ImageLoadError("vmlinux entry point \(loaderHex(elf.entry)) is not inside a loaded segment")
    }

    let commandLine = Array(options.commandLine.utf8)
    let cmdlineLimit = LinuxLoader.Layout.commandLineMax - 1
    guard UInt64(commandLine.count) <= cmdlineLimit else {
      throw ImageLoadError("command line is \(commandLine.count) bytes; at most \(cmdlineLimit) fit")
    }

    var ramdisk: (address: UInt64, size: UInt64)? = nil
    if let initrd = options.initrd, !initrd.isEmpty {
      let size = UInt64(initrd.count)
      let top = min(initrdAddrMax + 1, ram)
      guard size <= top, loaderAlignDown(top - size, 0x1000) >= kernelEnd else {
        throw ImageLoadError(
          "initrd (\(initrd.count) bytes) does not fit between the kernel's end \(loaderHex(kernelEnd)) and "
            + "\(loaderHex(top))")
      }
      ramdisk = (loaderAlignDown(top - size, 0x1000), size)
    }

    typealias Field = LinuxLoader.Field
    var params = LoaderBuffer(count: 0x1000)
    params.put(UInt16(0xAA55), at: Field.bootFlag)
    params.put(LinuxLoader.hdrSMagic, at: Field.header)
    params.put(protocolVersion, at: Field.version)
    params.put(UInt32(initrdAddrMax), at: Field.initrdAddrMax)
    params.put(UInt32(0x20_0000), at: Field.kernelAlignment)
    params.put(LinuxLoader.xlfKernel64, at: Field.xloadflags)
    params.put(UInt32(cmdlineLimit), at: Field.cmdlineSize)
    LinuxLoader.fillLoaderFields(&params, loadflags: LinuxLoader.loadedHigh, ramdisk: ramdisk, ram: ram)

    let writer = LoaderWriter(memory: memory)
    var state = try LinuxLoader.writeBootEnvironment(
      params: params, commandLine: commandLine, initrd: options.initrd, ramdisk: ramdisk, entry: elf.entry, writer: writer)
    for segment in segments {
      try writer.write(try elf.data(of: segment), at: segment.physicalAddress, "program header \(segment.index)")
      let bss = segment.memorySize - segment.fileSize
      if bss > 0 {
        try writer.write(
          [UInt8](repeating: 0, count: Int(bss)), at: segment.physicalAddress + segment.fileSize,
          "program header \(segment.index) bss")
      }
    }
    var summary =
      "Linux vmlinux (ELF64), \(segments.count) segments up to \(loaderHex(kernelEnd)), "
      + "64-bit entry \(loaderHex(elf.entry))"
    if let ramdisk { summary += ", initrd at \(loaderHex(ramdisk.address)) (\(ramdisk.size) bytes)" }
    state.summary = summary
    return state
  }
}
