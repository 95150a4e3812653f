import Testing

@testable import Machine

/// Synthetic guest images for the loader tests, built byte by byte.
enum LoaderFixtures {
  static let multibootMagic: UInt32 = 0x1BAD_B002

  static func put16(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt16) {
    for i in 0..<2 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt16(i))) }
  }
  static func put32(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt32) {
    for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
  }
  static func put64(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt64) {
    for i in 0..<8 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
  }

  static func multibootHeader(flags: UInt32) -> [UInt8] {
    var header = [UInt8](repeating: 0, count: 12)
    put32(&header, 0, multibootMagic)
    put32(&header, 4, flags)
    put32(&header, 8, 0 &- (multibootMagic &+ flags))
    return header
  }

  /// Segment 0 ("text"): file 0x100..0x200 -> paddr 0x100000, starts with the Multiboot header.
  /// Segment 1 ("data"): file 0x200..0x240 -> paddr `dataAddress`, memsz 0x1000 (bss follows).
  /// Sections: null, .symtab, .strtab with symbols `start` (function) and `data_obj`.
  static let textAddress: UInt64 = 0x10_0000
  static let entry: UInt64 = 0x10_000C
  static let dataFileSize = 0x40
  static let dataMemorySize = 0x1000

  static func textBytes() -> [UInt8] {
    multibootHeader(flags: 0x3) + (12..<0x100).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
  }
  static func dataBytes() -> [UInt8] { (0..<dataFileSize).map { UInt8(truncatingIfNeeded: 0xD0 &+ $0) } }

  static func multibootELF32(dataAddress: UInt32 = 0x10_1000, machine: UInt16 = 3) -> [UInt8] {
    var b = [UInt8](repeating: 0, count: 0x318)
    b[0] = 0x7F
    b[1] = 0x45
    b[2] = 0x4C
    b[3] = 0x46
    b[4] = 1
    b[5] = 1
    b[6] = 1  // ELF32, little-endian, version 1
    put16(&b, 16, 2)  // ET_EXEC
    put16(&b, 18, machine)
    put32(&b, 20, 1)
    put32(&b, 24, UInt32(entry))
    put32(&b, 28, 52)  // e_phoff
    put32(&b, 32, 0x2A0)  // e_shoff
    put16(&b, 40, 52)  // e_ehsize
    put16(&b, 42, 32)  // e_phentsize
    put16(&b, 44, 2)  // e_phnum
    put16(&b, 46, 40)  // e_shentsize
    put16(&b, 48, 3)  // e_shnum
    put16(&b, 50, 2)  // e_shstrndx (reusing .strtab)
    func programHeader(_ at: Int, offset: UInt32, address: UInt32, fileSize: UInt32, memorySize: UInt32) {
      put32(&b, at, 1)  // PT_LOAD
      put32(&b, at + 4, offset)
      put32(&b, at + 8, address)  // p_vaddr
      put32(&b, at + 12, address)  // p_paddr
      put32(&b, at + 16, fileSize)
      put32(&b, at + 20, memorySize)
      put32(&b, at + 24, 7)
      put32(&b, at + 28, 0x1000)
    }
    programHeader(52, offset: 0x100, address: UInt32(textAddress), fileSize: 0x100, memorySize: 0x100)
    programHeader(
      84, offset: 0x200, address: dataAddress, fileSize: UInt32(dataFileSize),
      memorySize: UInt32(dataMemorySize))
    b.replaceSubrange(0x100..<0x200, with: textBytes())
    b.replaceSubrange(0x200..<0x240, with: dataBytes())
    // .strtab at 0x240.
    let strings = Array("\0start\0data_obj\0".utf8)
    b.replaceSubrange(0x240..<0x240 + strings.count, with: strings)
    // .symtab at 0x260: null, start, data_obj.
    put32(&b, 0x270, 1)
    put32(&b, 0x274, UInt32(entry))
    put32(&b, 0x278, 0x10)
    b[0x27C] = 0x12  // STB_GLOBAL, STT_FUNC
    put16(&b, 0x27E, 1)
    put32(&b, 0x280, 7)
    put32(&b, 0x284, dataAddress)
    put32(&b, 0x288, 4)
    b[0x28C] = 0x11  // STB_GLOBAL, STT_OBJECT
    put16(&b, 0x28E, 1)
    // Section headers at 0x2A0: [1] .symtab, [2] .strtab.
    put32(&b, 0x2C8 + 4, 2)  // SHT_SYMTAB
    put32(&b, 0x2C8 + 16, 0x260)
    put32(&b, 0x2C8 + 20, 0x30)
    put32(&b, 0x2C8 + 24, 2)  // sh_link -> .strtab
    put32(&b, 0x2C8 + 36, 16)
    put32(&b, 0x2F0 + 4, 3)  // SHT_STRTAB
    put32(&b, 0x2F0 + 16, 0x240)
    put32(&b, 0x2F0 + 20, UInt32(strings.count))
    return b
  }

  /// An ELF64 file with one PT_LOAD carrying a Multiboot header (optionally with the kludge).
  static func multibootELF64(kludge: Bool) -> [UInt8] {
    var b = [UInt8](repeating: 0, count: 0x200)
    b[0] = 0x7F
    b[1] = 0x45
    b[2] = 0x4C
    b[3] = 0x46
    b[4] = 2
    b[5] = 1
    b[6] = 1
    put16(&b, 16, 2)
    put16(&b, 18, 62)
    put64(&b, 24, 0x10_0000 + 0x100)
    put64(&b, 32, 64)
    put16(&b, 54, 56)
    put16(&b, 56, 1)
    put32(&b, 64, 1)
    put64(&b, 64 + 8, 0)  // p_offset
    put64(&b, 64 + 16, 0x10_0000)
    put64(&b, 64 + 24, 0x10_0000)
    put64(&b, 64 + 32, 0x200)
    put64(&b, 64 + 40, 0x200)
    // Header at 0x80; kludge: load the whole file at 0x100000, entry 0x100100.
    let flags: UInt32 = kludge ? 0x10003 : 0x3
    b.replaceSubrange(0x80..<0x8C, with: multibootHeader(flags: flags))
    put32(&b, 0x8C, 0x10_0080)  // header_addr
    put32(&b, 0x90, 0x10_0000)  // load_addr
    put32(&b, 0x94, 0)  // load_end_addr: whole file
    put32(&b, 0x98, 0x10_0400)  // bss_end_addr
    put32(&b, 0x9C, 0x10_0100)  // entry_addr
    return b
  }

  /// A bzImage with setup_sects = 1 and a 4 KiB "kernel" after it.
  static let bzKernelSize = 4096
  static func bzImage(
    version: UInt16 = 0x020F, xloadflags: UInt16 = 0x3, cmdlineSize: UInt32 = 2047,
    prefAddress: UInt64 = 0x100_0000, initSize: UInt32 = 0x30_0000
  ) -> [UInt8] {
    var b = [UInt8](repeating: 0, count: 0x400)
    b[0x1F1] = 1  // setup_sects
    put16(&b, 0x1FE, 0xAA55)
    b[0x200] = 0xEB
    b[0x201] = 0x6A  // header ends at 0x26C
    put32(&b, 0x202, 0x5372_6448)  // "HdrS"
    put16(&b, 0x206, version)
    b[0x211] = 0x01  // LOADED_HIGH
    put32(&b, 0x214, 0x10_0000)  // code32_start
    put32(&b, 0x22C, 0x7FFF_FFFF)  // initrd_addr_max
    put32(&b, 0x230, 0x20_0000)  // kernel_alignment
    b[0x234] = 1  // relocatable_kernel
    put16(&b, 0x236, xloadflags)
    put32(&b, 0x238, cmdlineSize)
    put64(&b, 0x258, prefAddress)
    put32(&b, 0x260, initSize)
    return b + bzKernel()
  }
  static func bzKernel() -> [UInt8] { (0..<bzKernelSize).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) } }

  static func le16(_ m: ArrayMemory, _ a: Int) -> UInt16 { UInt16(m.bytes[a]) | UInt16(m.bytes[a + 1]) << 8 }
  static func le32(_ m: ArrayMemory, _ a: Int) -> UInt32 {
    (0..<4).reduce(UInt32(0)) { $0 | UInt32(m.bytes[a + $1]) << (8 * UInt32($1)) }
  }
  static func le64(_ m: ArrayMemory, _ a: Int) -> UInt64 {
    (0..<8).reduce(UInt64(0)) { $0 | UInt64(m.bytes[a + $1]) << (8 * UInt64($1)) }
  }
  static func cString(_ m: ArrayMemory, _ a: Int) -> String {
    let end = m.bytes[a...].firstIndex(of: 0) ?? m.bytes.count
    return String(decoding: m.bytes[a..<end], as: UTF8.self)
  }
  /// The ImageLoadError message `body` throws, nil when it succeeds.
  static func message(_ body: () throws -> Void) -> String? {
    do {
      try body()
      return nil
    } catch let error as ImageLoadError {
      return error.message
    } catch {
      return "unexpected error type: \(error)"
    }
  }
}

/// Deterministic pseudo-random numbers for mutation tests (SplitMix64).
struct LoaderTestRandom {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

@Suite struct LoaderDetectTests {
  @Test func detectsEachKind() {
    #expect(ImageLoader.detect(LoaderFixtures.multibootELF32()) == .multiboot)
    #expect(ImageLoader.detect(LoaderFixtures.multibootELF64(kludge: true)) == .multiboot)
    #expect(ImageLoader.detect(LoaderFixtures.bzImage()) == .linux)
    #expect(ImageLoader.detect([UInt8](repeating: 0x90, count: 512)) == nil)
    #expect(ImageLoader.detect([]) == nil)
  }

  @Test func multibootHeaderMustBeAlignedAndEarly() {
    var misaligned = [UInt8](repeating: 0, count: 64)
    misaligned.replaceSubrange(2..<14, with: LoaderFixtures.multibootHeader(flags: 0))
    #expect(ImageLoader.detect(misaligned) == nil)
    var late = [UInt8](repeating: 0, count: 8192 + 64)
    late.replaceSubrange(8192..<8204, with: LoaderFixtures.multibootHeader(flags: 0))
    #expect(ImageLoader.detect(late) == nil)
    var lastSlot = [UInt8](repeating: 0, count: 8192 + 64)
    lastSlot.replaceSubrange(8188..<8200, with: LoaderFixtures.multibootHeader(flags: 0))
    #expect(ImageLoader.detect(lastSlot) == .multiboot)
  }

  @Test func badChecksumIsNotDetectedAndLoadSaysWhy() throws {
    var image = LoaderFixtures.multibootELF32()
    image[0x108] ^= 1
    #expect(ImageLoader.detect(image) == nil)
    let message = LoaderFixtures.message {
      _ = try ImageLoader.load(image, kind: .multiboot, into: ArrayMemory(size: 4 << 20), options: LoadOptions())
    }
    #expect(message?.contains("bad checksum") == true)
    #expect(message?.contains("0x100") == true)
  }
}
