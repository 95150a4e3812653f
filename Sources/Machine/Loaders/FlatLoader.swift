/// A raw binary copied to `--load-address` and entered at `--entry` (default: the load
/// address) in 32-bit protected mode with flat segments, paging off.
///
/// The loader's GDT goes at 0x500 unless the binary covers it; then just past the binary's
/// end, or just before its start. ESP is 0x7000 when that is outside the binary, else 0 (the
/// binary sets its own stack).
enum FlatLoader {
  static let preferredGDT: UInt64 = 0x500
  static let preferredStackTop: UInt64 = 0x7000

  static func load(_ image: [UInt8], into memory: any PhysicalMemory, options: LoadOptions)
    throws(ImageLoadError) -> BootState
  {
    guard let loadAddress = options.loadAddress else {
      throw ImageLoadError(
        "not a Multiboot or Linux image: a raw binary needs --load-address (and optionally --entry)")
    }
    guard !image.isEmpty else { throw ImageLoadError("the raw binary is empty") }
    let ram = memory.size
    let end = try loaderAdd(loadAddress, UInt64(image.count), "--load-address + binary size")
    guard end <= ram else {
      throw ImageLoadError(
        "raw binary (\(image.count) bytes) at --load-address \(loaderHex(loadAddress)) would end at "
          + "\(loaderHex(end)), past the end of guest RAM (\(ram >> 20) MiB, \(loaderHex(ram)))")
    }
    let entry = options.entry ?? loadAddress
    guard entry <= UInt64(UInt32.max) else {
      throw ImageLoadError("--entry \(loaderHex(entry)) is above 4 GiB, unreachable in 32-bit protected mode")
    }
    guard end <= 1 << 32 else {
      throw ImageLoadError(
        "raw binary at [\(loaderHex(loadAddress)), \(loaderHex(end))) extends above 4 GiB, "
          + "unreachable in 32-bit protected mode")
    }
    let binary = LoaderRange(start: loadAddress, end: end, name: "raw binary")
    var candidates: [UInt64] = [preferredGDT, try loaderAlignUp(end, 16)]
    if loadAddress >= LoaderGDT.size { candidates.append(loaderAlignDown(loadAddress - LoaderGDT.size, 16)) }
    guard
      let gdt = candidates.first(where: { base in
        base + LoaderGDT.size <= ram && !binary.overlaps(base, base + LoaderGDT.size)
      })
    else {
      throw ImageLoadError("no room in guest RAM for the loader's 32-byte GDT next to the raw binary")
    }

    let writer = LoaderWriter(memory: memory)
    var state = BootState(mode: .protected32, rip: entry, summary: "")
    try LoaderGDT.install(code: LoaderGDT.code32, at: gdt, writer: writer, into: &state)
    try writer.write(image, at: loadAddress, "raw binary")
    let stackUsed = LoaderRange(start: preferredStackTop - 0x1000, end: preferredStackTop, name: "stack")
    if preferredStackTop <= ram, !binary.overlaps(stackUsed.start, stackUsed.end),
      !stackUsed.overlaps(gdt, gdt + LoaderGDT.size)
    {
      state.rsp = preferredStackTop
    }
    state.summary =
      "raw binary: \(image.count) bytes at \(loaderHex(loadAddress)), entry \(loaderHex(entry)) (32-bit protected mode)"
    return state
  }
}
