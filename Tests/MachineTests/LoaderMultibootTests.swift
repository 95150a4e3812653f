import Foundation
import Testing

@testable import Machine

@Suite struct LoaderMultibootTests {
  typealias F = LoaderFixtures

  @Test func loadsELFSegmentsZeroesBssAndFillsInfo() throws {
    let memory = ArrayMemory(size: 8 << 20)
    // Garbage where bss goes, to see it zeroed.
    try memory.write([UInt8](repeating: 0xCC, count: 0x2000), at: 0x10_1000)
    var options = LoadOptions()
    options.commandLine = "console=ttyS0 debug"
    options.initrd = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 3) }
    options.initrdName = "initrd.img"
    let state = try ImageLoader.load(F.multibootELF32(), kind: .multiboot, into: memory, options: options)

    #expect(state.mode == .protected32)
    #expect(state.rip == F.entry)
    #expect(state.rax == 0x2BAD_B002)
    #expect(state.rbx == 0x9000)
    #expect(state.rsp == 0x7000)
    #expect(state.gdtBase == 0x500)
    #expect(state.gdtLimit == 31)
    #expect(state.codeSegmentSelector == 0x10)
    #expect(state.dataSegmentSelector == 0x18)
    #expect(F.le64(memory, 0x510) == 0x00CF_9B00_0000_FFFF)
    #expect(F.le64(memory, 0x518) == 0x00CF_9300_0000_FFFF)
    #expect(F.le64(memory, 0x500) == 0)

    #expect(Array(memory.bytes[0x10_0000..<0x10_0100]) == F.textBytes())
    #expect(Array(memory.bytes[0x10_1000..<0x10_1040]) == F.dataBytes())
    #expect(memory.bytes[0x10_1040..<0x10_2000].allSatisfy { $0 == 0 })

    let info = 0x9000
    #expect(F.le32(memory, info) == 0x24D)  // mem, cmdline, mods, mmap, boot_loader_name
    #expect(F.le32(memory, info + 4) == 640)
    #expect(F.le32(memory, info + 8) == (8 * 1024 - 1024))
    #expect(F.cString(memory, Int(F.le32(memory, info + 16))) == "console=ttyS0 debug")
    #expect(F.cString(memory, Int(F.le32(memory, info + 64))) == "retrovisor")

    // Module: page-aligned after the highest loaded byte (0x102000).
    #expect(F.le32(memory, info + 20) == 1)
    let mods = Int(F.le32(memory, info + 24))
    #expect(F.le32(memory, mods) == 0x10_2000)
    #expect(F.le32(memory, mods + 4) == 0x10_2000 + 5000)
    #expect(F.cString(memory, Int(F.le32(memory, mods + 8))) == "initrd.img")
    #expect(Array(memory.bytes[0x10_2000..<0x10_2000 + 5000]) == options.initrd)

    // Memory map: size-prefixed 24-byte entries.
    let length = Int(F.le32(memory, info + 44))
    let mmap = Int(F.le32(memory, info + 48))
    #expect(length == 4 * 24)
    var entries: [(UInt64, UInt64, UInt32)] = []
    var at = mmap
    while at < mmap + length {
      #expect(F.le32(memory, at) == 20)
      entries.append((F.le64(memory, at + 4), F.le64(memory, at + 12), F.le32(memory, at + 20)))
      at += 24
    }
    #expect(entries.map(\.0) == [0, 0x9FC00, 0xF0000, 0x10_0000])
    #expect(entries.map(\.1) == [0x9FC00, 0x400, 0x10000, (8 << 20) - 0x10_0000])
    #expect(entries.map(\.2) == [1, 2, 2, 1])
  }

  @Test func noInitrdMeansNoModules() throws {
    let memory = ArrayMemory(size: 4 << 20)
    _ = try ImageLoader.load(F.multibootELF32(), kind: .multiboot, into: memory, options: LoadOptions())
    #expect(F.le32(memory, 0x9000 + 20) == 0)
    #expect(F.cString(memory, Int(F.le32(memory, 0x9000 + 16))) == "")
  }

  @Test func symbolsFromSymtab() throws {
    let elf = try ELFFile(F.multibootELF32())
    #expect(elf.elfClass == .elf32)
    #expect(elf.loadSegments.count == 2)
    let symbols = try elf.symbols()
    #expect(
      symbols == [
        ELFSymbol(name: "start", value: F.entry, size: 0x10, isFunction: true),
        ELFSymbol(name: "data_obj", value: 0x10_1000, size: 4, isFunction: false),
      ])
    let table = ELFSymbolTable(symbols)
    let hit = table.symbol(containing: F.entry + 4)
    #expect(hit?.symbol.name == "start")
    #expect(hit?.offset == 4)
    #expect(table.symbol(containing: F.entry + 0x10) == nil)
    #expect(table.symbol(named: "data_obj")?.value == 0x10_1000)
  }

  @Test func aOutKludgeLoadsByAddress() throws {
    let memory = ArrayMemory(size: 4 << 20)
    try memory.write([UInt8](repeating: 0xCC, count: 0x400), at: 0x10_0200)
    let image = F.multibootELF64(kludge: true)
    let state = try ImageLoader.load(image, kind: .multiboot, into: memory, options: LoadOptions())
    #expect(state.rip == 0x10_0100)
    #expect(Array(memory.bytes[0x10_0000..<0x10_0200]) == image)
    #expect(memory.bytes[0x10_0200..<0x10_0400].allSatisfy { $0 == 0 })
    #expect(memory.bytes[0x10_0400] == 0xCC)
  }

  @Test func elf64WithoutKludgeIsRejected() {
    let message = F.message {
      _ = try ImageLoader.load(
        F.multibootELF64(kludge: false), kind: .multiboot,
        into: ArrayMemory(size: 4 << 20), options: LoadOptions())
    }
    #expect(message?.contains("ELF64") == true)
  }

  @Test func segmentOutsideRAMIsRejected() {
    let message = F.message {
      _ = try ImageLoader.load(
        F.multibootELF32(dataAddress: 0x40_0000), kind: .multiboot,
        into: ArrayMemory(size: 4 << 20), options: LoadOptions())
    }
    #expect(message?.contains("ELF program header 1") == true)
    #expect(message?.contains("outside guest RAM") == true)
  }

  @Test func segmentOverBootInfoIsRejected() {
    let message = F.message {
      _ = try ImageLoader.load(
        F.multibootELF32(dataAddress: 0x9000), kind: .multiboot,
        into: ArrayMemory(size: 4 << 20), options: LoadOptions())
    }
    #expect(message?.contains("boot-info area") == true)
  }

  @Test func wrongMachineIsRejected() {
    let message = F.message {
      _ = try ImageLoader.load(
        F.multibootELF32(machine: 40), kind: .multiboot,
        into: ArrayMemory(size: 4 << 20), options: LoadOptions())
    }
    #expect(message?.contains("e_machine 40") == true)
  }

  @Test func initrdThatDoesNotFitIsRejected() {
    var options = LoadOptions()
    options.initrd = [UInt8](repeating: 1, count: 3 << 20)
    let message = F.message {
      _ = try ImageLoader.load(
        F.multibootELF32(), kind: .multiboot, into: ArrayMemory(size: 4 << 20),
        options: options)
    }
    #expect(message?.contains("initrd") == true)
  }

  @Test func truncatedPHDRDataNamesTheHeader() {
    let image = Array(F.multibootELF32().prefix(0x220))
    let message = F.message {
      _ = try ImageLoader.load(image, kind: .multiboot, into: ArrayMemory(size: 4 << 20), options: LoadOptions())
    }
    #expect(message == "ELF program header 1 extends past end of file (offset 0x200, size 0x40, file is 544 bytes)")
  }

  @Test func everyTruncationThrowsOrLoads() {
    let image = F.multibootELF32()
    let memory = ArrayMemory(size: 4 << 20)
    var failures = 0
    for length in 0..<image.count {
      let prefix = Array(image.prefix(length))
      _ = ImageLoader.detect(prefix)
      do {
        _ = try ImageLoader.load(prefix, kind: .multiboot, into: memory, options: LoadOptions())
      } catch {
        failures += 1
        #expect(!error.message.isEmpty)
      }
      if let elf = try? ELFFile(prefix) { _ = try? elf.symbols() }
    }
    // Every prefix shorter than the last PT_LOAD's file data must fail.
    #expect(failures >= 0x240)
  }

  /// The project's real test guests (guests/build), when they have been built.
  static let guestBuild = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("guests/build")
  static let helloPath = guestBuild.appendingPathComponent("hello.elf").path

  @Test(.enabled(if: FileManager.default.fileExists(atPath: helloPath)))
  func loadsBuiltHelloGuest() throws {
    let image = try #require(FileManager.default.contents(atPath: Self.helloPath)).map { $0 }
    let elf = try ELFFile(image)
    #expect(ImageLoader.detect(image) == .multiboot)
    let memory = ArrayMemory(size: 64 << 20)
    let state = try ImageLoader.load(image, kind: .multiboot, into: memory, options: LoadOptions())
    #expect(state.mode == .protected32)
    #expect(state.rip == elf.entry)
    #expect(state.rax == 0x2BAD_B002)
    for segment in elf.loadSegments {
      let start = Int(segment.physicalAddress)
      #expect(Array(memory.bytes[start..<start + Int(segment.fileSize)]) == Array(try elf.data(of: segment)))
      let bssEnd = start + Int(segment.memorySize)
      #expect(memory.bytes[start + Int(segment.fileSize)..<bssEnd].allSatisfy { $0 == 0 })
    }
    let symbols = ELFSymbolTable(try elf.symbols())
    #expect(symbols.symbol(named: "kmain")?.isFunction == true)
    #expect(symbols.symbol(containing: elf.entry)?.symbol.name == "_start")
  }

  /// Every built guest: ELF32 images load; ELF64 ones are refused with a clear message.
  @Test(.enabled(if: FileManager.default.fileExists(atPath: helloPath)))
  func loadsEveryBuiltGuest() throws {
    let names = try FileManager.default.contentsOfDirectory(atPath: Self.guestBuild.path)
      .filter { $0.hasSuffix(".elf") || $0.hasSuffix(".elf64") }
    for name in names {
      let path = Self.guestBuild.appendingPathComponent(name).path
      let image = try #require(FileManager.default.contents(atPath: path)).map { $0 }
      let elf = try ELFFile(image)
      #expect(ImageLoader.detect(image) == .multiboot, "\(name)")
      let memory = ArrayMemory(size: 64 << 20)
      do {
        let state = try ImageLoader.load(image, kind: .multiboot, into: memory, options: LoadOptions())
        #expect(elf.elfClass == .elf32, "\(name)")
        #expect(state.rip == elf.entry, "\(name)")
      } catch {
        #expect(elf.elfClass == .elf64, "\(name): \(error)")
        #expect(error.message.contains("ELF64"), "\(name)")
      }
    }
  }
}
