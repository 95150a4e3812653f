/// Linux x86 boot protocol (Documentation/arch/x86/boot.rst), 64-bit entry: the protected-mode
/// kernel of a bzImage is loaded at 1 MiB and entered at its 64-bit entry point
/// (load address + 0x200) in long mode, with RSI = the zero page (boot_params).
///
/// Guest-physical layout:
///
///     0x00500          GDT: null, unused, 0x10 code64 (L=1), 0x18 data
///     0x07000-0x07FFF  boot_params (zero page)
///     0x08000-0x08FFF  initial stack (RSP = 0x9000; the kernel switches to its own at once)
///     0x09000          PML4
///     0x0A000          PDPT
///     0x0B000-0x0EFFF  4 page directories: identity map of 0-4 GiB with 2 MiB pages
///                      (1 GiB pages do not work on every KVM host)
///     0x20000          kernel command line (NUL-terminated, at most cmdline_size bytes)
///     0x100000         protected-mode kernel (the bytes after the setup sectors)
///     top of RAM       initrd, page-aligned, below min(initrd_addr_max + 1, RAM, 4 GiB)
enum LinuxLoader {
  static let hdrSMagic: UInt32 = 0x5372_6448  // "HdrS"
  static let minimumVersion: UInt16 = 0x020C  // 2.12: xloadflags and the 64-bit entry

  enum Layout {
    static let gdt: UInt64 = 0x500
    static let bootParams: UInt64 = 0x7000
    static let stackTop: UInt64 = 0x9000
    static let pml4: UInt64 = 0x9000
    static let pdpt: UInt64 = 0xA000
    static let pageDirectories: UInt64 = 0xB000
    static let commandLine: UInt64 = 0x20000
    /// Room reserved for the command line.
    static let commandLineMax: UInt64 = 0x10000
    static let kernel: UInt64 = 0x10_0000
  }

  /// Offsets in the setup header / boot_params.
  enum Field {
    static let e820Entries = 0x1E8
    static let setupSects = 0x1F1
    static let bootFlag = 0x1FE
    static let jump = 0x200
    static let header = 0x202
    static let version = 0x206
    static let typeOfLoader = 0x210
    static let loadflags = 0x211
    static let ramdiskImage = 0x218
    static let ramdiskSize = 0x21C
    static let heapEndPtr = 0x224
    static let cmdLinePtr = 0x228
    static let initrdAddrMax = 0x22C
    static let kernelAlignment = 0x230
    static let relocatableKernel = 0x234
    static let xloadflags = 0x236
    static let cmdlineSize = 0x238
    static let prefAddress = 0x258
    static let initSize = 0x260
    /// End of the setup header area in boot_params (edd_mbr_sig_buffer follows).
    static let setupHeaderLimit = 0x290
    static let e820Table = 0x2D0
    static let e820MaxEntries = 128
  }

  static let loadedHigh: UInt8 = 0x01
  static let canUseHeap: UInt8 = 0x80
  static let xlfKernel64: UInt16 = 0x01

  static func load(_ image: [UInt8], into memory: any PhysicalMemory, options: LoadOptions)
    throws(ImageLoadError) -> BootState
  {
    let r = ImageReader(image, name: "bzImage")
    let bootFlag = try r.u16(at: Field.bootFlag, "boot_flag")
    guard bootFlag == 0xAA55 else {
      throw ImageLoadError("bzImage boot_flag at offset 0x1fe is \(loaderHex(bootFlag)), expected 0xaa55")
    }
    let magic = try r.u32(at: Field.header, "setup header magic")
    guard magic == hdrSMagic else {
      throw ImageLoadError("bzImage has no \"HdrS\" setup header magic at offset 0x202 (found \(loaderHex(magic)))")
    }
    let version = try r.u16(at: Field.version, "boot protocol version")
    guard version >= minimumVersion else {
      throw ImageLoadError(
        "Linux boot protocol \(versionText(version)) (offset 0x206) is too old: 64-bit boot needs 2.12 or later")
    }
    let headerEnd = Field.header + Int(try r.u8(at: Field.jump + 1, "setup header length (jump offset at 0x201)"))
    try r.require(Field.setupSects, headerEnd - Field.setupSects, "setup header (0x1f1 up to the end given at 0x201)")
    guard headerEnd >= Field.initSize + 4 else {
      throw ImageLoadError(
        "bzImage setup header ends at \(loaderHex(headerEnd)) (from the byte at 0x201), before init_size at 0x260, "
          + "which protocol \(versionText(version)) has")
    }
    let loadflags = try r.u8(at: Field.loadflags, "loadflags")
    guard loadflags & loadedHigh != 0 else {
      throw ImageLoadError(
        "bzImage loadflags (offset 0x211) = \(loaderHex(loadflags)) lacks LOADED_HIGH: a zImage is not supported")
    }
    let xloadflags = try r.u16(at: Field.xloadflags, "xloadflags")
    guard xloadflags & xlfKernel64 != 0 else {
      throw ImageLoadError(
        "kernel has no 64-bit entry point (xloadflags at 0x236 = \(loaderHex(xloadflags)), XLF_KERNEL_64 clear); "
          + "32-bit-only kernels are not supported")
    }
    var setupSects = Int(try r.u8(at: Field.setupSects, "setup_sects"))
    if setupSects == 0 { setupSects = 4 }
    let kernelOffset = (setupSects + 1) * 512
    guard kernelOffset < image.count else {
      throw ImageLoadError(
        "bzImage setup_sects (\(setupSects), offset 0x1f1) puts the protected-mode kernel at \(loaderHex(kernelOffset)), "
          + "past the end of the \(image.count)-byte image")
    }
    let kernel = image[kernelOffset...]
    let initrdAddrMax = UInt64(try r.u32(at: Field.initrdAddrMax, "initrd_addr_max"))
    let kernelAlignment = UInt64(try r.u32(at: Field.kernelAlignment, "kernel_alignment"))
    let relocatable = try r.u8(at: Field.relocatableKernel, "relocatable_kernel") != 0
    let cmdlineSize = UInt64(try r.u32(at: Field.cmdlineSize, "cmdline_size"))
    let prefAddress = try r.u64(at: Field.prefAddress, "pref_address")
    let initSize = UInt64(try r.u32(at: Field.initSize, "init_size"))

    // The decompressor runs at max(load address aligned to kernel_alignment, pref_address)
    // (a non-relocatable kernel moves itself to pref_address) and needs init_size bytes there.
    let ram = memory.size
    var runAddress = Layout.kernel
    if relocatable, kernelAlignment.nonzeroBitCount == 1 {
      runAddress = try loaderAlignUp(runAddress, kernelAlignment)
    }
    runAddress = max(runAddress, prefAddress)
    let decompressEnd = try loaderAdd(runAddress, initSize, "pref_address + init_size")
    let kernelEnd = Layout.kernel + UInt64(kernel.count)
    let needed = max(decompressEnd, kernelEnd)
    guard needed <= ram else {
      throw ImageLoadError(
        "guest RAM (\(ram >> 20) MiB) is too small for this kernel: it runs at \(loaderHex(runAddress)) "
          + "(pref_address \(loaderHex(prefAddress))) and needs init_size \(loaderHex(initSize)) bytes there "
          + "and \(kernel.count) bytes at \(loaderHex(Layout.kernel)), up to \(loaderHex(needed)) "
          + "(at least \((needed + 0xFFFFF) >> 20) MiB)")
    }

    let commandLine = Array(options.commandLine.utf8)
    let cmdlineLimit = min(cmdlineSize, Layout.commandLineMax - 1)
    guard UInt64(commandLine.count) <= cmdlineLimit else {
      throw ImageLoadError(
        "command line is \(commandLine.count) bytes; the kernel accepts at most \(cmdlineLimit) "
          + "(cmdline_size at 0x238 = \(cmdlineSize))")
    }

    // The initrd goes as high as allowed, above everything the kernel uses.
    var ramdisk: (address: UInt64, size: UInt64)? = nil
    if let initrd = options.initrd, !initrd.isEmpty {
      let size = UInt64(initrd.count)
      let top = min(initrdAddrMax + 1, ram, 1 << 32)
      let floor = needed
      guard size <= top, loaderAlignDown(top - size, 0x1000) >= floor else {
        throw ImageLoadError(
          "initrd (\(initrd.count) bytes) does not fit between the kernel's end \(loaderHex(floor)) and "
            + "\(loaderHex(top)) (min of initrd_addr_max + 1 = \(loaderHex(initrdAddrMax + 1)) and RAM)")
      }
      ramdisk = (loaderAlignDown(top - size, 0x1000), size)
    }

    // boot_params: the setup header as in the image, then what the loader fills in.
    var params = LoaderBuffer(count: 0x1000)
    let copyEnd = min(headerEnd, Field.setupHeaderLimit)
    for offset in Field.setupSects..<copyEnd { params.bytes[offset] = image[offset] }
    fillLoaderFields(&params, loadflags: loadflags, ramdisk: ramdisk, ram: ram)

    let writer = LoaderWriter(memory: memory)
    var state = try writeBootEnvironment(
      params: params, commandLine: commandLine, initrd: options.initrd, ramdisk: ramdisk, entry: Layout.kernel + 0x200,
      writer: writer)
    try writer.write(kernel, at: Layout.kernel, "protected-mode kernel")
    var summary =
      "Linux bzImage, boot protocol \(versionText(version)): \(kernel.count)-byte kernel at "
      + "\(loaderHex(Layout.kernel)), 64-bit entry \(loaderHex(state.rip))"
    if let ramdisk { summary += ", initrd at \(loaderHex(ramdisk.address)) (\(ramdisk.size) bytes)" }
    state.summary = summary
    return state
  }

  /// What the loader itself puts in boot_params, for a bzImage and a vmlinux alike: the loader
  /// type, heap, command line and initrd pointers, and the e820 map.
  static func fillLoaderFields(
    _ params: inout LoaderBuffer, loadflags: UInt8, ramdisk: (address: UInt64, size: UInt64)?, ram: UInt64
  ) {
    params.put(UInt8(0xFF), at: Field.typeOfLoader)
    params.put(loadflags | canUseHeap, at: Field.loadflags)
    // Offset of the heap end from the real-mode code minus 0x200, as QEMU and Firecracker set it.
    params.put(UInt16(0xFE00), at: Field.heapEndPtr)
    params.put(UInt32(Layout.commandLine), at: Field.cmdLinePtr)
    if let ramdisk {
      params.put(UInt32(ramdisk.address), at: Field.ramdiskImage)
      params.put(UInt32(ramdisk.size), at: Field.ramdiskSize)
    }
    let map = E820Entry.standardMap(ramSize: ram)
    params.put(UInt8(map.count), at: Field.e820Entries)
    var e820Offset = Field.e820Table
    for entry in map.prefix(Field.e820MaxEntries) {
      for byte in entry.linuxBytes {
        params.bytes[e820Offset] = byte
        e820Offset += 1
      }
    }
  }

  /// Writes everything but the kernel (GDT, boot_params, page tables, command line, initrd) and
  /// returns the 64-bit entry state at `entry`, with RSI at boot_params.
  static func writeBootEnvironment(
    params: LoaderBuffer, commandLine: [UInt8], initrd: [UInt8]?, ramdisk: (address: UInt64, size: UInt64)?,
    entry: UInt64, writer: LoaderWriter
  ) throws(ImageLoadError) -> BootState {
    var state = BootState(mode: .long64, rip: entry, summary: "")
    try LoaderGDT.install(code: LoaderGDT.code64, at: Layout.gdt, writer: writer, into: &state)
    try writer.write(params.bytes, at: Layout.bootParams, "boot_params (zero page)")
    try writePageTables(writer)
    try writer.write(commandLine + [0], at: Layout.commandLine, "kernel command line")
    if let initrd, let ramdisk {
      try writer.write(initrd, at: ramdisk.address, "initrd")
    }
    state.rsi = Layout.bootParams
    state.rsp = Layout.stackTop
    state.pageTableRoot = Layout.pml4
    return state
  }

  /// Identity map of the first 4 GiB with 2 MiB pages: PML4[0] -> PDPT, PDPT[0..3] -> PDs.
  static func writePageTables(_ writer: LoaderWriter) throws(ImageLoadError) {
    let present: UInt64 = 0x1
    let writable: UInt64 = 0x2
    let largePage: UInt64 = 0x80
    var pml4 = LoaderBuffer(count: 0x1000)
    pml4.put(Layout.pdpt | present | writable, at: 0)
    var pdpt = LoaderBuffer(count: 0x1000)
    for index in 0..<4 {
      pdpt.put((Layout.pageDirectories + UInt64(index) * 0x1000) | present | writable, at: index * 8)
    }
    var directories = LoaderBuffer(count: 0x4000)
    for index in 0..<2048 {
      directories.put(UInt64(index) << 21 | present | writable | largePage, at: index * 8)
    }
    try writer.write(pml4.bytes, at: Layout.pml4, "PML4")
    try writer.write(pdpt.bytes, at: Layout.pdpt, "PDPT")
    try writer.write(directories.bytes, at: Layout.pageDirectories, "page directories")
  }

  static func versionText(_ version: UInt16) -> String {
    let minor = version & 0xFF
    return "\(version >> 8).\(minor < 10 ? "0" : "")\(minor)"
  }
}
