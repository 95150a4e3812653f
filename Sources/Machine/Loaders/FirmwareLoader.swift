/// A firmware image (`--bios`, e.g. SeaBIOS): the platform maps it read-only so that it ends
/// at 4 GiB, and its last min(size, 128 KiB) bytes are copied below 1 MiB (the legacy BIOS area
/// ending at 0xFFFFF), as a PC chipset aliases them. The CPU starts at the reset vector:
/// real mode, CS = 0xF000 with base 0xFFFF0000, IP = 0xFFF0.
enum FirmwareLoader {
  static let minimumSize = 16
  static let maximumSize = 16 << 20
  static let lowAliasMax = 128 << 10
  static let lowAliasEnd: UInt64 = 0x10_0000

  static func load(_ image: [UInt8], into memory: any PhysicalMemory, options: LoadOptions)
    throws(ImageLoadError) -> BootState
  {
    guard image.count >= minimumSize else {
      throw ImageLoadError(
        "firmware image is \(image.count) bytes; it needs at least \(minimumSize) (the reset vector is its last 16 bytes)")
    }
    guard image.count <= maximumSize else {
      throw ImageLoadError("firmware image is \(image.count) bytes; at most 16 MiB fits below 4 GiB here")
    }
    let copyCount = min(image.count, lowAliasMax)
    let copyStart = lowAliasEnd - UInt64(copyCount)
    guard memory.size >= lowAliasEnd else {
      throw ImageLoadError(
        "firmware needs at least 1 MiB of guest RAM for its copy at [\(loaderHex(copyStart)), 0x100000); "
          + "the guest has \(memory.size >> 10) KiB")
    }
    try LoaderWriter(memory: memory).write(
      image[(image.count - copyCount)...], at: copyStart, "firmware low copy")

    var state = BootState(mode: .real, rip: 0xFFF0, summary: "")
    state.codeSelector = 0xF000
    state.codeBase = 0xFFFF_0000
    // The whole image; the platform rounds its mapping up to whole pages, image at the end.
    state.firmware = image
    state.summary =
      "firmware: \(image.count) bytes ending at 4 GiB, last \(copyCount) at "
      + "[\(loaderHex(copyStart)), 0x100000), reset vector F000:FFF0"
    return state
  }
}
