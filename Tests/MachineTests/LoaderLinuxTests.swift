import Testing

@testable import Machine

@Suite struct LoaderLinuxTests {
  typealias F = LoaderFixtures

  @Test func loadsBzImageWithBootParamsAndPageTables() throws {
    let memory = ArrayMemory(size: 32 << 20)
    var options = LoadOptions()
    options.commandLine = "console=ttyS0 earlyprintk=serial"
    options.initrd = (0..<10000).map { UInt8(truncatingIfNeeded: $0 &* 5) }
    let image = F.bzImage()
    let state = try ImageLoader.load(image, kind: .linux, into: memory, options: options)

    #expect(state.mode == .long64)
    #expect(state.rip == 0x10_0200)
    #expect(state.rsi == 0x7000)
    #expect(state.rsp == 0x9000)
    #expect(state.pageTableRoot == 0x9000)
    #expect(state.gdtBase == 0x500)
    #expect(state.gdtLimit == 31)
    #expect(state.codeSegmentSelector == 0x10)
    #expect(state.dataSegmentSelector == 0x18)
    #expect(F.le64(memory, 0x510) == 0x00AF_9B00_0000_FFFF)  // 64-bit code, L=1
    #expect(F.le64(memory, 0x518) == 0x00CF_9300_0000_FFFF)

    // Protected-mode kernel at 1 MiB.
    #expect(Array(memory.bytes[0x10_0000..<0x10_0000 + F.bzKernelSize]) == F.bzKernel())

    // boot_params.
    let bp = 0x7000
    #expect(F.le32(memory, bp + 0x202) == 0x5372_6448)
    #expect(F.le16(memory, bp + 0x206) == 0x020F)
    #expect(F.le16(memory, bp + 0x1FE) == 0xAA55)
    #expect(memory.bytes[bp + 0x1F1] == 1)
    #expect(F.le32(memory, bp + 0x260) == 0x30_0000)
    #expect(memory.bytes[bp + 0x210] == 0xFF)  // type_of_loader
    #expect(memory.bytes[bp + 0x211] == 0x81)  // LOADED_HIGH | CAN_USE_HEAP
    #expect(F.le16(memory, bp + 0x224) == 0xFE00)
    #expect(F.le32(memory, bp + 0x228) == 0x20000)
    #expect(F.cString(memory, 0x20000) == "console=ttyS0 earlyprintk=serial")
    #expect(F.le32(memory, bp + 0x218) == 0x1FF_D000)  // page-aligned below the top of RAM
    #expect(F.le32(memory, bp + 0x21C) == 10000)
    #expect(Array(memory.bytes[0x1FF_D000..<0x1FF_D000 + 10000]) == options.initrd)
    #expect(memory.bytes[bp + 0x1E8] == 4)
    var e820: [(UInt64, UInt64, UInt32)] = []
    for index in 0..<4 {
      let at = bp + 0x2D0 + index * 20
      e820.append((F.le64(memory, at), F.le64(memory, at + 8), F.le32(memory, at + 16)))
    }
    #expect(e820.map(\.0) == [0, 0x9FC00, 0xF0000, 0x10_0000])
    #expect(e820.map(\.1) == [0x9FC00, 0x400, 0x10000, (32 << 20) - 0x10_0000])
    #expect(e820.map(\.2) == [1, 2, 2, 1])

    // Identity map with 2 MiB pages.
    #expect(F.le64(memory, 0x9000) == 0xA003)
    #expect(F.le64(memory, 0x9008) == 0)
    #expect(F.le64(memory, 0xA000) == 0xB003)
    #expect(F.le64(memory, 0xA018) == 0xE003)
    #expect(F.le64(memory, 0xA020) == 0)
    #expect(F.le64(memory, 0xB000) == 0x83)
    #expect(F.le64(memory, 0xB008) == 0x20_0083)
    #expect(F.le64(memory, 0xEFF8) == 0xFFE0_0083)
  }

  @Test func protocolTooOld() {
    let image = F.bzImage(version: 0x020B)
    #expect(ImageLoader.detect(image) == .linux)
    let message = F.message {
      _ = try ImageLoader.load(image, kind: .linux, into: ArrayMemory(size: 32 << 20), options: LoadOptions())
    }
    #expect(message?.contains("2.11") == true)
    #expect(message?.contains("too old") == true)
  }

  @Test func needs64BitEntry() {
    let message = F.message {
      _ = try ImageLoader.load(
        F.bzImage(xloadflags: 0), kind: .linux, into: ArrayMemory(size: 32 << 20),
        options: LoadOptions())
    }
    #expect(message?.contains("XLF_KERNEL_64") == true)
  }

  @Test func ramTooSmallForDecompression() {
    let message = F.message {
      _ = try ImageLoader.load(F.bzImage(), kind: .linux, into: ArrayMemory(size: 16 << 20), options: LoadOptions())
    }
    #expect(message?.contains("too small") == true)
    #expect(message?.contains("init_size") == true)
  }

  @Test func commandLineLongerThanCmdlineSize() {
    var options = LoadOptions()
    options.commandLine = "0123456789ABC"
    let message = F.message {
      _ = try ImageLoader.load(
        F.bzImage(cmdlineSize: 10), kind: .linux, into: ArrayMemory(size: 32 << 20),
        options: options)
    }
    #expect(message?.contains("cmdline_size") == true)
  }

  @Test func initrdThatDoesNotFit() {
    var options = LoadOptions()
    options.initrd = [UInt8](repeating: 7, count: 14 << 20)
    let message = F.message {
      _ = try ImageLoader.load(F.bzImage(), kind: .linux, into: ArrayMemory(size: 32 << 20), options: options)
    }
    #expect(message?.contains("initrd") == true)
  }

  @Test func everyTruncationThrowsOrLoads() {
    let image = F.bzImage()
    let memory = ArrayMemory(size: 32 << 20)
    // The kernel starts at 0x400: every shorter prefix lacks it or part of the header.
    for length in 0...0x400 {
      let prefix = Array(image.prefix(length))
      #expect(throws: ImageLoadError.self) {
        _ = try ImageLoader.load(prefix, kind: .linux, into: memory, options: LoadOptions())
      }
    }
  }
}
