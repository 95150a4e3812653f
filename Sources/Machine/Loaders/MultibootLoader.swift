/// Multiboot v1 (GNU Multiboot Specification 0.6.96): ELF32 kernels, or any image through
/// the a.out kludge (header flag bit 16), entered in 32-bit protected mode with paging off,
/// EAX = 0x2BADB002 and EBX = the Multiboot information structure.
///
/// Guest-physical layout (everything the loader writes below 64 KiB; kernels may not overlap
/// [0x500, 0x10000) nor the legacy area [0x9FC00, 0x100000)):
///
///     0x0500          GDT: null, unused, 0x10 code32 flat, 0x18 data32 flat
///     0x7000          initial ESP (Multiboot leaves it undefined; the stack grows down from here)
///     0x9000          multiboot_info (116 bytes)
///     0x9100          boot_loader_name "retrovisor"
///     0x9140          module list (one 16-byte entry: the initrd)
///     0x9180          memory map (size-prefixed 24-byte entries)
///     0x9300..0x97FF  module string (the initrd's name)
///     0x9800..0xFFFF  kernel command line
///
/// The initrd, if any, becomes module 0, page-aligned after the highest loaded byte (and at
/// or above 1 MiB).
enum MultibootLoader {
  static let bootMagic: UInt32 = 0x2BAD_B002

  enum Layout {
    static let gdt: UInt64 = 0x500
    static let stackTop: UInt64 = 0x7000
    static let info: UInt64 = 0x9000
    static let infoSize = 116
    static let loaderName: UInt64 = 0x9100
    static let modules: UInt64 = 0x9140
    static let mmap: UInt64 = 0x9180
    static let moduleString: UInt64 = 0x9300
    static let moduleStringEnd: UInt64 = 0x9800
    static let commandLine: UInt64 = 0x9800
    static let commandLineEnd: UInt64 = 0x10000
    static let reservedStart: UInt64 = 0x500
    static let reservedEnd: UInt64 = 0x10000
  }

  /// Information structure flag bits.
  enum InfoFlag {
    static let memory: UInt32 = 1 << 0
    static let commandLine: UInt32 = 1 << 2
    static let modules: UInt32 = 1 << 3
    static let memoryMap: UInt32 = 1 << 6
    static let bootLoaderName: UInt32 = 1 << 9
  }

  /// Header flag bits this loader honours: 0 page-align modules (always done), 1 memory
  /// information (always given), 2 video mode (accepted; no video information is passed, so the
  /// kernel sees info flags 11/12 clear and stays in text mode), 16 a.out kludge.
  static let headerAOutKludge: UInt32 = 1 << 16
  static let supportedRequiredFlags: UInt32 = 0x7

  struct Segment {
    var address: UInt64
    var data: ArraySlice<UInt8>
    /// Bytes to zero after the data (bss).
    var zeroCount: UInt64
    var what: String
    var memorySize: UInt64 { UInt64(data.count) + zeroCount }
  }

  static func load(_ image: [UInt8], into memory: any PhysicalMemory, options: LoadOptions)
    throws(ImageLoadError) -> BootState
  {
    guard let headerOffset = ImageLoader.findMultibootHeader(image) else {
      throw missingHeaderError(image)
    }
    let r = ImageReader(image, name: "Multiboot image")
    let flags = try r.u32(at: headerOffset + 4, "Multiboot header flags")
    let unsupported = flags & 0xFFFF & ~supportedRequiredFlags
    if unsupported != 0 {
      throw ImageLoadError(
        "Multiboot header at offset \(loaderHex(headerOffset)) requires features this loader lacks "
          + "(flags \(loaderHex(flags)), unsupported required bits \(loaderHex(unsupported)))")
    }

    let ram = memory.size
    var reserved = [
      LoaderRange(
        start: Layout.reservedStart, end: Layout.reservedEnd,
        name: "the loader's boot-info area (GDT, stack, Multiboot info)"),
      LoaderRange(
        start: E820Entry.lowMemoryEnd, end: E820Entry.highMemoryStart,
        name: "the reserved legacy area (EBDA, VGA, BIOS)"),
    ]
    let writer = LoaderWriter(memory: memory)
    let segments: [Segment]
    let entry: UInt64
    let format: String
    if flags & headerAOutKludge != 0 {
      (segments, entry) = try aOutKludgeSegments(image, headerOffset: headerOffset)
      format = "a.out-kludge"
    } else if ELFFile.hasMagic(image) {
      (segments, entry) = try elfSegments(image)
      format = "ELF32"
    } else {
      throw ImageLoadError(
        "Multiboot image at offset 0 is not ELF and its header (offset \(loaderHex(headerOffset))) "
          + "does not set the a.out kludge (flags bit 16) with load addresses")
    }
    guard !segments.isEmpty else {
      throw ImageLoadError("Multiboot \(format) image has nothing to load (no PT_LOAD segment with p_memsz > 0)")
    }
    var highestEnd: UInt64 = 0
    for segment in segments {
      try writer.checkPlacement(segment.address, segment.memorySize, segment.what, avoiding: reserved)
      highestEnd = max(highestEnd, segment.address + segment.memorySize)
      reserved.append(
        LoaderRange(
          start: segment.address, end: segment.address + segment.memorySize,
          name: segment.what))
    }
    guard entry < ram else {
      throw ImageLoadError("Multiboot entry point \(loaderHex(entry)) is outside guest RAM (\(ram >> 20) MiB)")
    }

    // Module 0: the initrd, page-aligned above the kernel.
    var module: (start: UInt64, end: UInt64)? = nil
    if let initrd = options.initrd {
      let start = try loaderAlignUp(max(highestEnd, E820Entry.highMemoryStart), 0x1000)
      let end = try loaderAdd(start, UInt64(initrd.count), "initrd end")
      guard end <= ram, end <= UInt64(UInt32.max) else {
        throw ImageLoadError(
          "initrd (\(initrd.count) bytes) does not fit after the kernel: it would occupy "
            + "[\(loaderHex(start)), \(loaderHex(end))) but guest RAM ends at \(loaderHex(ram))")
      }
      module = (start, end)
    }

    let commandLine = Array(options.commandLine.utf8) + [0]
    guard UInt64(commandLine.count) <= Layout.commandLineEnd - Layout.commandLine else {
      throw ImageLoadError(
        "command line is \(commandLine.count - 1) bytes; the Multiboot loader has room for "
          + "\(Layout.commandLineEnd - Layout.commandLine - 1)")
    }
    let moduleName = Array(options.initrdName.utf8.prefix(Int(Layout.moduleStringEnd - Layout.moduleString) - 1)) + [0]

    // All checks passed: write.
    var state = BootState(mode: .protected32, rip: entry, summary: "")
    try LoaderGDT.install(code: LoaderGDT.code32, at: Layout.gdt, writer: writer, into: &state)
    for segment in segments {
      try writer.write(segment.data, at: segment.address, segment.what)
      if segment.zeroCount > 0 {
        try writer.zero(
          at: segment.address + UInt64(segment.data.count), count: segment.zeroCount,
          "bss of \(segment.what)")
      }
    }
    if let initrd = options.initrd, let module {
      try writer.write(initrd, at: module.start, "initrd module")
    }

    let map = E820Entry.standardMap(ramSize: ram)
    let mmapBytes = map.flatMap(\.multibootBytes)
    var info = LoaderBuffer(count: Layout.infoSize)
    info.put(
      InfoFlag.memory | InfoFlag.commandLine | InfoFlag.modules | InfoFlag.memoryMap
        | InfoFlag.bootLoaderName, at: 0)
    info.put(UInt32(min(ram / 1024, 640)), at: 4)  // mem_lower, KiB
    let upper = ram > E820Entry.highMemoryStart ? (ram - E820Entry.highMemoryStart) / 1024 : 0
    info.put(UInt32(min(upper, UInt64(UInt32.max))), at: 8)  // mem_upper, KiB
    info.put(UInt32(Layout.commandLine), at: 16)
    info.put(UInt32(module == nil ? 0 : 1), at: 20)  // mods_count
    info.put(UInt32(Layout.modules), at: 24)  // mods_addr
    info.put(UInt32(mmapBytes.count), at: 44)  // mmap_length
    info.put(UInt32(Layout.mmap), at: 48)  // mmap_addr
    info.put(UInt32(Layout.loaderName), at: 64)  // boot_loader_name

    try writer.write(info.bytes, at: Layout.info, "Multiboot info")
    try writer.write(Array("retrovisor".utf8) + [0], at: Layout.loaderName, "boot loader name")
    try writer.write(mmapBytes, at: Layout.mmap, "Multiboot memory map")
    try writer.write(commandLine, at: Layout.commandLine, "command line")
    if let module {
      var entryBytes = LoaderBuffer()
      entryBytes.append(UInt32(module.start))
      entryBytes.append(UInt32(module.end))
      entryBytes.append(UInt32(Layout.moduleString))
      entryBytes.append(UInt32(0))
      try writer.write(entryBytes.bytes, at: Layout.modules, "Multiboot module list")
      try writer.write(moduleName, at: Layout.moduleString, "module name")
    }

    state.rax = UInt64(bootMagic)
    state.rbx = Layout.info
    state.rsp = Layout.stackTop
    let lowest = segments.map(\.address).min() ?? 0
    var summary =
      "Multiboot \(format) kernel: \(segments.count) segment(s) at "
      + "[\(loaderHex(lowest)), \(loaderHex(highestEnd))), entry \(loaderHex(entry))"
    if let module { summary += ", initrd at [\(loaderHex(module.start)), \(loaderHex(module.end)))" }
    state.summary = summary
    return state
  }

  /// Says why no header was found: none at all, or one with a bad checksum.
  static func missingHeaderError(_ image: [UInt8]) -> ImageLoadError {
    let r = ImageReader(image, name: "image")
    var offset = 0
    while offset < ImageLoader.multibootSearchLimit, offset + 4 <= image.count {
      if let magic = try? r.u32(at: offset, "magic"), magic == ImageLoader.multibootHeaderMagic {
        guard let flags = try? r.u32(at: offset + 4, "flags"),
          let checksum = try? r.u32(at: offset + 8, "checksum")
        else {
          return ImageLoadError(
            "Multiboot header at offset \(loaderHex(offset)) is truncated: the image ends at \(image.count) bytes")
        }
        return ImageLoadError(
          "Multiboot header at offset \(loaderHex(offset)) has a bad checksum: magic + flags (\(loaderHex(flags))) "
            + "+ checksum (\(loaderHex(checksum))) = \(loaderHex(magic &+ flags &+ checksum)), must be 0")
      }
      offset += 4
    }
    return ImageLoadError(
      "no Multiboot header (magic 0x1badb002, 4-aligned) in the first \(ImageLoader.multibootSearchLimit) bytes "
        + "of the \(image.count)-byte image")
  }

  /// Header flag bit 16: load `[load_addr, load_end_addr)` from the file position that puts
  /// the header at `header_addr`, zero up to `bss_end_addr`, enter at `entry_addr`.
  static func aOutKludgeSegments(_ image: [UInt8], headerOffset: Int)
    throws(ImageLoadError) -> ([Segment], UInt64)
  {
    let r = ImageReader(image, name: "Multiboot image")
    let at = headerOffset
    guard at + 32 <= image.count else {
      throw ImageLoadError(
        "Multiboot header at offset \(loaderHex(at)) sets the a.out kludge (flags bit 16) but its address "
          + "fields (32 bytes) run past the end of the \(image.count)-byte image")
    }
    let headerAddr = UInt64(try r.u32(at: at + 12, "header_addr"))
    let loadAddr = UInt64(try r.u32(at: at + 16, "load_addr"))
    let loadEndAddr = UInt64(try r.u32(at: at + 20, "load_end_addr"))
    let bssEndAddr = UInt64(try r.u32(at: at + 24, "bss_end_addr"))
    let entryAddr = UInt64(try r.u32(at: at + 28, "entry_addr"))
    let field = "Multiboot header at offset \(loaderHex(at))"
    guard loadAddr <= headerAddr else {
      throw ImageLoadError("\(field): load_addr \(loaderHex(loadAddr)) is above header_addr \(loaderHex(headerAddr))")
    }
    let delta = headerAddr - loadAddr
    guard delta <= UInt64(at) else {
      throw ImageLoadError(
        "\(field): header_addr - load_addr (\(loaderHex(delta))) is larger than the header's file offset, "
          + "so the text would start before the file")
    }
    let fileOffset = UInt64(at) - delta
    let available = UInt64(image.count) - fileOffset
    let loadSize: UInt64
    if loadEndAddr == 0 {
      loadSize = available
    } else {
      guard loadEndAddr >= loadAddr else {
        throw ImageLoadError("\(field): load_end_addr \(loaderHex(loadEndAddr)) is below load_addr \(loaderHex(loadAddr))")
      }
      loadSize = loadEndAddr - loadAddr
      guard loadSize <= available else {
        throw ImageLoadError(
          "\(field): load_end_addr asks for \(loaderHex(loadSize)) bytes from file offset \(loaderHex(fileOffset)), "
            + "but the file has only \(loaderHex(available)) bytes there")
      }
    }
    let loadEnd = loadAddr + loadSize
    var zero: UInt64 = 0
    if bssEndAddr != 0 {
      guard bssEndAddr >= loadEnd else {
        throw ImageLoadError(
          "\(field): bss_end_addr \(loaderHex(bssEndAddr)) is below the end of the loaded image \(loaderHex(loadEnd))")
      }
      zero = bssEndAddr - loadEnd
    }
    let data = try r.slice(fileOffset, loadSize, "a.out kludge image")
    let segment = Segment(
      address: loadAddr, data: data, zeroCount: zero,
      what: "a.out kludge image (load_addr \(loaderHex(loadAddr)))")
    return (segment.memorySize > 0 ? [segment] : [], entryAddr)
  }

  static func elfSegments(_ image: [UInt8]) throws(ImageLoadError) -> ([Segment], UInt64) {
    let elf = try ELFFile(image)
    guard elf.elfClass == .elf32 else {
      throw ImageLoadError(
        "Multiboot v1 loads ELF32 kernels; this is an ELF64 file (set the a.out kludge, header flags "
          + "bit 16, to load it by address, or boot it with the Linux protocol)")
    }
    guard elf.machine == ELFFile.machine386 else {
      throw ImageLoadError("Multiboot ELF32 kernel has e_machine \(elf.machine) at offset 0x12; expected 3 (EM_386)")
    }
    // ET_DYN is accepted (a linker-script kernel linked as PIE) and loaded unrelocated.
    guard elf.type == ELFFile.typeExecutable || elf.type == 3 else {
      throw ImageLoadError(
        "Multiboot ELF32 file has e_type \(elf.type) at offset 0x10; expected 2 (ET_EXEC)"
          + (elf.type == 1 ? ": it is a relocatable object, link it first" : ""))
    }
    var segments: [Segment] = []
    var entry = elf.entry
    var entryTranslated = false
    for header in elf.loadSegments where header.memorySize > 0 {
      let data = try elf.data(of: header)
      segments.append(
        Segment(
          address: header.physicalAddress, data: data, zeroCount: header.memorySize - header.fileSize,
          what: "ELF program header \(header.index) (p_paddr \(loaderHex(header.physicalAddress)), "
            + "p_memsz \(loaderHex(header.memorySize)))"))
      // A higher-half kernel links e_entry at a virtual address: enter at its physical twin.
      if !entryTranslated, elf.entry >= header.virtualAddress,
        elf.entry - header.virtualAddress < header.memorySize
      {
        entry = elf.entry - header.virtualAddress + header.physicalAddress
        entryTranslated = true
      }
    }
    return (segments, entry)
  }
}
