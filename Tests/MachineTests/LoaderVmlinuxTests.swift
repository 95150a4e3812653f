import Testing

@testable import Machine

/// A vmlinux-shaped ELF64: one PT_LOAD at 16 MiB (text, then bss), one PT_NOTE with a "Linux" note.
enum VmlinuxFixture {
  typealias F = LoaderFixtures
  static let loadAddress: UInt64 = 0x100_0000
  static let textSize = 0x100
  static let bssSize = 0x80

  static func text() -> [UInt8] { (0..<textSize).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) } }

  static func image(noteName: String = "Linux", entry: UInt64 = loadAddress) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: 0x300)
    bytes.replaceSubrange(0..<4, with: [0x7F, 0x45, 0x4C, 0x46])
    bytes[4] = 2  // ELF64
    bytes[5] = 1  // little-endian
    bytes[6] = 1
    F.put16(&bytes, 16, 2)  // ET_EXEC
    F.put16(&bytes, 18, 62)  // x86-64
    F.put64(&bytes, 24, entry)
    F.put64(&bytes, 32, 64)  // e_phoff
    F.put16(&bytes, 54, 56)
    F.put16(&bytes, 56, 2)
    // PT_LOAD: file 0x200, text then bss.
    F.put32(&bytes, 64, 1)
    F.put32(&bytes, 68, 5)
    F.put64(&bytes, 72, 0x200)
    F.put64(&bytes, 80, 0xFFFF_FFFF_8100_0000)
    F.put64(&bytes, 88, loadAddress)
    F.put64(&bytes, 96, UInt64(textSize))
    F.put64(&bytes, 104, UInt64(textSize + bssSize))
    // PT_NOTE at 0x180: namesz 6, descsz 4, type 1, name, desc.
    F.put32(&bytes, 120, 4)
    F.put64(&bytes, 128, 0x180)
    F.put64(&bytes, 152, 24)
    F.put64(&bytes, 160, 24)
    F.put32(&bytes, 0x180, 6)
    F.put32(&bytes, 0x184, 4)
    F.put32(&bytes, 0x188, 1)
    let name = Array(noteName.utf8.prefix(5))
    bytes.replaceSubrange(0x18C..<0x18C + name.count, with: name)
    bytes.replaceSubrange(0x200..<0x200 + textSize, with: text())
    return bytes
  }
}

@Suite struct LoaderVmlinuxTests {
  typealias F = LoaderFixtures
  typealias V = VmlinuxFixture

  @Test func detectsVmlinuxByItsLinuxNote() {
    #expect(ImageLoader.detect(V.image()) == .linux)
    #expect(ImageLoader.detect(V.image(noteName: "Xen")) == nil)
  }

  @Test func loadsSegmentsAndBuildsBootParams() throws {
    let memory = ArrayMemory(size: 32 << 20)
    var options = LoadOptions()
    options.commandLine = "console=ttyS0"
    options.initrd = [UInt8](repeating: 0x5A, count: 5000)
    let state = try ImageLoader.load(V.image(), kind: .linux, into: memory, options: options)
    #expect(state.mode == .long64)
    #expect(state.rip == V.loadAddress)
    #expect(state.rsi == 0x7000)
    #expect(state.pageTableRoot == 0x9000)
    let at = Int(V.loadAddress)
    #expect(Array(memory.bytes[at..<at + V.textSize]) == V.text())
    #expect(memory.bytes[at + V.textSize..<at + V.textSize + V.bssSize].allSatisfy { $0 == 0 })
    let bp = 0x7000
    #expect(F.le16(memory, bp + 0x1FE) == 0xAA55)
    #expect(F.le32(memory, bp + 0x202) == 0x5372_6448)
    #expect(F.le16(memory, bp + 0x206) == 0x020F)
    #expect(memory.bytes[bp + 0x210] == 0xFF)
    #expect(F.le32(memory, bp + 0x228) == 0x20000)
    #expect(F.cString(memory, 0x20000) == "console=ttyS0")
    #expect(F.le32(memory, bp + 0x218) == 0x1FF_E000)
    #expect(F.le32(memory, bp + 0x21C) == 5000)
    #expect(memory.bytes[bp + 0x1E8] == 4)  // e820 entries
    #expect(state.summary.contains("vmlinux"))
  }

  @Test func refusesTooLittleRAMAndBadEntry() {
    let small = F.message {
      _ = try ImageLoader.load(V.image(), kind: .linux, into: ArrayMemory(size: 16 << 20), options: LoadOptions())
    }
    #expect(small?.contains("too small") == true)
    let entry = F.message {
      _ = try ImageLoader.load(
        V.image(entry: 0x200_0000), kind: .linux, into: ArrayMemory(size: 64 << 20), options: LoadOptions())
    }
    #expect(entry?.contains("entry point") == true)
  }
}

@Suite struct VirtualTSCPortTests {
  @Test func readsGuestTimeOncePerAccess() {
    let clock = VirtualClock()
    let port = VirtualTSCPort(clock: clock)
    #expect(port.portRanges == [0xF8...0xFB])
    clock.advance(to: 0x1_2345_6789)
    #expect(port.read(port: 0xF8, size: 4) == 0x2345_6789)  // the low 32 bits of guest ns
    #expect(port.read(port: 0xF8, size: 2) == 0x6789)
    #expect(port.read(port: 0xF9, size: 1) == 0x67)
    port.write(port: 0xF8, size: 4, value: 0)  // ignored
    clock.advance(to: 0x1_2345_6800)
    #expect(port.read(port: 0xF8, size: 4) == 0x2345_6800)
    #expect(port.stateBytes().isEmpty)  // no state of its own: time is the clock's
  }
}
