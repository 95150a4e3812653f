/// Guest image loading: format detection, dispatch, and the helpers every loader shares.
///
/// Every loader parses untrusted bytes: all reads go through `ImageReader` (bounds-checked,
/// errors name the field and offset) and all address arithmetic through `checkedAdd`, so a
/// truncated or malformed image ends in an `ImageLoadError`, never a trap.

public enum ImageKind: String, Sendable {
  case multiboot, linux, flat, firmware
}

/// Why an image could not be loaded, naming the header or field and where it is.
public struct ImageLoadError: Error, CustomStringConvertible, Equatable {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

public enum ImageLoader {
  /// Multiboot v1 headers must lie 4-aligned within the first 8 KiB of the image.
  static let multibootSearchLimit = 8192
  static let multibootHeaderMagic: UInt32 = 0x1BAD_B002

  /// Looks at the bytes and picks a loader: a Multiboot v1 header (magic 0x1BADB002 in the
  /// first 8192 bytes, 4-aligned, valid checksum) -> `.multiboot`; a Linux setup header ("HdrS"
  /// at 0x202 and 0xAA55 at 0x1FE) or a vmlinux ELF (a "Linux" ELF note) -> `.linux`; otherwise nil (a raw binary needs
  /// --load-address, a firmware image needs --bios).
  public static func detect(_ image: [UInt8]) -> ImageKind? {
    if findMultibootHeader(image) != nil { return .multiboot }
    if isLinuxBzImage(image) || LinuxELFLoader.isVmlinux(image) { return .linux }
    return nil
  }

  /// Writes the image (and boot information, GDT, page tables as its protocol needs) into
  /// guest RAM and returns the register state to start it with.
  public static func load(
    _ image: [UInt8], kind: ImageKind, into memory: any PhysicalMemory, options: LoadOptions
  ) throws(ImageLoadError) -> BootState {
    switch kind {
    case .multiboot: return try MultibootLoader.load(image, into: memory, options: options)
    case .linux:
      if ELFFile.hasMagic(image) { return try LinuxELFLoader.load(image, into: memory, options: options) }
      return try LinuxLoader.load(image, into: memory, options: options)
    case .flat: return try FlatLoader.load(image, into: memory, options: options)
    case .firmware: return try FirmwareLoader.load(image, into: memory, options: options)
    }
  }

  /// Offset of the first valid Multiboot v1 header, if any.
  static func findMultibootHeader(_ image: [UInt8]) -> Int? {
    let reader = ImageReader(image, name: "image")
    var offset = 0
    while offset < multibootSearchLimit, offset + 12 <= image.count {
      if let magic = try? reader.u32(at: offset, "magic"), magic == multibootHeaderMagic,
        let flags = try? reader.u32(at: offset + 4, "flags"),
        let checksum = try? reader.u32(at: offset + 8, "checksum"),
        magic &+ flags &+ checksum == 0
      {
        return offset
      }
      offset += 4
    }
    return nil
  }

  static func isLinuxBzImage(_ image: [UInt8]) -> Bool {
    let reader = ImageReader(image, name: "image")
    guard let bootFlag = try? reader.u16(at: 0x1FE, "boot_flag"),
      let header = try? reader.u32(at: 0x202, "header")
    else { return false }
    return bootFlag == 0xAA55 && header == LinuxLoader.hdrSMagic
  }
}

// MARK: - Shared helpers

/// Bounds-checked little-endian reads from an untrusted image.
struct ImageReader {
  let bytes: [UInt8]
  /// What the bytes are, for messages ("ELF file", "bzImage").
  let name: String

  init(_ bytes: [UInt8], name: String) {
    self.bytes = bytes
    self.name = name
  }

  var count: Int { bytes.count }

  func require(_ offset: Int, _ length: Int, _ field: String) throws(ImageLoadError) {
    guard offset >= 0, length >= 0, offset <= bytes.count, length <= bytes.count - offset else {
      throw ImageLoadError(
        "\(name) is truncated: \(field) at offset \(loaderHex(offset)) needs \(length) bytes, "
          + "the file is \(bytes.count) bytes")
    }
  }

  func u8(at offset: Int, _ field: String) throws(ImageLoadError) -> UInt8 {
    try require(offset, 1, field)
    return bytes[offset]
  }

  func u16(at offset: Int, _ field: String) throws(ImageLoadError) -> UInt16 {
    try UInt16(truncatingIfNeeded: integer(at: offset, size: 2, field))
  }

  func u32(at offset: Int, _ field: String) throws(ImageLoadError) -> UInt32 {
    try UInt32(truncatingIfNeeded: integer(at: offset, size: 4, field))
  }

  func u64(at offset: Int, _ field: String) throws(ImageLoadError) -> UInt64 {
    try integer(at: offset, size: 8, field)
  }

  private func integer(at offset: Int, size: Int, _ field: String) throws(ImageLoadError) -> UInt64 {
    try require(offset, size, field)
    var value: UInt64 = 0
    for index in 0..<size {
      value |= UInt64(bytes[offset + index]) << (8 * UInt64(index))
    }
    return value
  }

  /// `length` bytes from `offset`, with offsets that may come from 64-bit header fields.
  func slice(_ offset: UInt64, _ length: UInt64, _ field: String) throws(ImageLoadError) -> ArraySlice<UInt8> {
    guard offset <= UInt64(bytes.count), length <= UInt64(bytes.count) - offset else {
      throw ImageLoadError(
        "\(name) is truncated: \(field) at offset \(loaderHex(offset)) needs \(length) bytes, "
          + "the file is \(bytes.count) bytes")
    }
    return bytes[Int(offset)..<Int(offset + length)]
  }
}

func loaderHex<T: BinaryInteger>(_ value: T) -> String {
  "0x" + String(value, radix: 16)
}

/// `a + b`, or an error naming what overflowed.
func loaderAdd(_ a: UInt64, _ b: UInt64, _ what: @autoclosure () -> String) throws(ImageLoadError) -> UInt64 {
  let (sum, overflow) = a.addingReportingOverflow(b)
  if overflow { throw ImageLoadError("\(what()) overflows: \(loaderHex(a)) + \(loaderHex(b))") }
  return sum
}

func loaderAlignUp(_ value: UInt64, _ alignment: UInt64) throws(ImageLoadError) -> UInt64 {
  let mask = alignment - 1
  return try loaderAdd(value, mask, "aligning \(loaderHex(value)) to \(loaderHex(alignment))") & ~mask
}

func loaderAlignDown(_ value: UInt64, _ alignment: UInt64) -> UInt64 {
  value & ~(alignment - 1)
}

/// A half-open guest-physical range.
struct LoaderRange {
  var start: UInt64
  var end: UInt64
  var name: String

  func overlaps(_ start: UInt64, _ end: UInt64) -> Bool {
    start < self.end && self.start < end
  }

  var text: String { "[\(loaderHex(start)), \(loaderHex(end)))" }
}

/// Guest RAM writes that report failures as `ImageLoadError` with what was being written.
struct LoaderWriter {
  let memory: any PhysicalMemory

  func write(_ bytes: [UInt8], at address: UInt64, _ what: String) throws(ImageLoadError) {
    do {
      try memory.write(bytes, at: address)
    } catch {
      throw ImageLoadError("writing \(what) at \(loaderHex(address)): \(error)")
    }
  }

  func write(_ bytes: ArraySlice<UInt8>, at address: UInt64, _ what: String) throws(ImageLoadError) {
    try write(Array(bytes), at: address, what)
  }

  /// Zero-fills in bounded chunks so a large bss does not need one huge host buffer.
  func zero(at address: UInt64, count: UInt64, _ what: String) throws(ImageLoadError) {
    let chunk: UInt64 = 1 << 20
    let zeros = [UInt8](repeating: 0, count: Int(min(count, chunk)))
    var done: UInt64 = 0
    while done < count {
      let n = min(count - done, chunk)
      let at = try loaderAdd(address, done, what)
      try write(n == UInt64(zeros.count) ? zeros : Array(zeros[0..<Int(n)]), at: at, what)
      done += n
    }
  }

  /// Checks `[start, start+length)` lies in RAM and avoids every reserved range.
  func checkPlacement(
    _ start: UInt64, _ length: UInt64, _ what: String, avoiding reserved: [LoaderRange]
  ) throws(ImageLoadError) {
    let end = try loaderAdd(start, length, "end of \(what)")
    guard end <= memory.size else {
      throw ImageLoadError(
        "\(what) at [\(loaderHex(start)), \(loaderHex(end))) is outside guest RAM "
          + "(\(memory.size >> 20) MiB, ends at \(loaderHex(memory.size)))")
    }
    for range in reserved where range.overlaps(start, end) {
      throw ImageLoadError(
        "\(what) at [\(loaderHex(start)), \(loaderHex(end))) overlaps \(range.name) at \(range.text)")
    }
  }
}

/// The small flat GDT the loaders write for 32-bit and 64-bit entry.
enum LoaderGDT {
  /// 0x10: flat 4 GiB code32 (G=1, D=1), type execute/read, accessed.
  static let code32: UInt64 = 0x00CF_9B00_0000_FFFF
  /// 0x10 for long mode: 64-bit code (L=1, D=0).
  static let code64: UInt64 = 0x00AF_9B00_0000_FFFF
  /// 0x18: flat 4 GiB data (G=1, B=1), read/write, accessed.
  static let data: UInt64 = 0x00CF_9300_0000_FFFF
  /// Null, unused 0x08, code 0x10, data 0x18.
  static let size: UInt64 = 32

  static func bytes(code: UInt64) -> [UInt8] {
    var out: [UInt8] = []
    for entry in [0, 0, code, data] as [UInt64] {
      withUnsafeBytes(of: entry.littleEndian) { out.append(contentsOf: $0) }
    }
    return out
  }

  /// Writes the GDT and points the boot state at it (selectors 0x10/0x18).
  static func install(
    code: UInt64, at base: UInt64, writer: LoaderWriter, into state: inout BootState
  ) throws(ImageLoadError) {
    try writer.write(bytes(code: code), at: base, "GDT")
    state.gdtBase = base
    state.gdtLimit = UInt16(size - 1)
    state.codeSegmentSelector = 0x10
    state.dataSegmentSelector = 0x18
  }
}

/// Little-endian appends for building boot structures.
struct LoaderBuffer {
  var bytes: [UInt8]
  init(count: Int = 0) { bytes = [UInt8](repeating: 0, count: count) }

  mutating func append<T: FixedWidthInteger>(_ value: T) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
  }

  /// Stores at a fixed offset (the buffer must already be large enough).
  mutating func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
    withUnsafeBytes(of: value.littleEndian) { raw in
      for (index, byte) in raw.enumerated() { bytes[offset + index] = byte }
    }
  }
}
