import Testing

@testable import GDBRemote

@Suite struct RegisterFileTests {
  private func layout(_ file: GDBRegisterFile) -> [String] {
    file.registers.map { "\($0.number):\($0.name)@\($0.byteOffset)/\($0.byteSize)" }
  }

  @Test func amd64NumbersNamesAndOffsets() {
    let file = GDBRegisterFile.amd64
    #expect(file.registers.count == 65)
    #expect(file.packetByteCount == 600)
    let names = file.registers.map(\.name)
    #expect(
      Array(names[0..<24]) == [
        "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
        "rip", "eflags", "cs", "ss", "ds", "es", "fs", "gs",
      ])
    let expected = [
      "0:rax@0/8", "15:r15@120/8", "16:rip@128/8", "17:eflags@136/4", "18:cs@140/4", "23:gs@160/4", "24:st0@164/10",
      "31:st7@234/10", "32:fctrl@244/4", "39:fop@272/4", "40:xmm0@276/16", "55:xmm15@516/16", "56:mxcsr@532/4",
      "57:fs_base@536/8", "58:gs_base@544/8", "59:cr0@552/8", "60:cr2@560/8", "61:cr3@568/8", "62:cr4@576/8",
      "63:cr8@584/8", "64:efer@592/8",
    ]
    let all = Set(layout(file))
    for entry in expected { #expect(all.contains(entry), "\(entry)") }
  }

  @Test func i386NumbersNamesAndOffsets() {
    let file = GDBRegisterFile.i386
    #expect(file.registers.count == 48)
    #expect(file.packetByteCount == 340)
    #expect(
      Array(file.registers.map(\.name)[0..<10]) == ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip", "eflags"])
    let expected = [
      "0:eax@0/4", "1:ecx@4/4", "3:ebx@12/4", "7:edi@28/4", "8:eip@32/4", "9:eflags@36/4", "10:cs@40/4", "15:gs@60/4",
      "16:st0@64/10", "23:st7@134/10", "24:fctrl@144/4", "31:fop@172/4", "32:xmm0@176/16", "39:xmm7@288/16",
      "40:mxcsr@304/4", "41:cr0@308/4", "42:cr2@312/4", "43:cr3@316/4", "44:cr4@320/4", "45:fs_base@324/4",
      "46:gs_base@328/4", "47:efer@332/8",
    ]
    let all = Set(layout(file))
    for entry in expected { #expect(all.contains(entry), "\(entry)") }
  }

  static func sampleValues() -> GDBRegisterValues {
    var v = GDBRegisterValues()
    v.rax = 0x1122_3344_5566_7788
    v.rcx = 0xdead_beef
    v.rip = 0xffff_ffff_8100_0000
    v.rflags = 0x246
    v.cs = 0x10
    v.gs = 0x18
    v.st[0] = 0x3fff_8000_0000_0000_0000  // 1.0
    v.xmm[1] = 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100
    v.mxcsr = 0x1f80
    v.fsBase = 0x7fff_0000_1000
    v.cr0 = 0x8005_0033
    v.cr3 = 0x1000
    v.cr8 = 0xf
    v.efer = 0xd01
    return v
  }

  @Test func amd64EncodesLittleEndianAtTheRightOffsets() {
    let bytes = GDBRegisterFile.amd64.encode(Self.sampleValues())
    #expect(bytes.count == 600)
    #expect(Array(bytes[0..<8]) == [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11])
    #expect(Array(bytes[16..<24]) == [0xef, 0xbe, 0xad, 0xde, 0, 0, 0, 0])
    #expect(Array(bytes[128..<136]) == [0, 0, 0, 0x81, 0xff, 0xff, 0xff, 0xff])
    #expect(Array(bytes[136..<140]) == [0x46, 0x02, 0, 0])
    #expect(Array(bytes[140..<144]) == [0x10, 0, 0, 0])
    #expect(Array(bytes[160..<164]) == [0x18, 0, 0, 0])
    #expect(Array(bytes[164..<174]) == [0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f])
    #expect(Array(bytes[244..<248]) == [0x7f, 0x03, 0, 0])  // fctrl default
    #expect(Array(bytes[292..<308]) == Array(0...15))  // xmm1
    #expect(Array(bytes[532..<536]) == [0x80, 0x1f, 0, 0])
    #expect(Array(bytes[536..<544]) == [0, 0x10, 0, 0, 0xff, 0x7f, 0, 0])
    #expect(Array(bytes[552..<560]) == [0x33, 0, 0x05, 0x80, 0, 0, 0, 0])
    #expect(Array(bytes[584..<592]) == [0x0f, 0, 0, 0, 0, 0, 0, 0])
    #expect(Array(bytes[592..<600]) == [0x01, 0x0d, 0, 0, 0, 0, 0, 0])
  }

  @Test func i386EncodesTheLowHalves() {
    let bytes = GDBRegisterFile.i386.encode(Self.sampleValues())
    #expect(bytes.count == 340)
    #expect(Array(bytes[0..<4]) == [0x88, 0x77, 0x66, 0x55])  // eax
    #expect(Array(bytes[4..<8]) == [0xef, 0xbe, 0xad, 0xde])  // ecx
    #expect(Array(bytes[32..<36]) == [0, 0, 0, 0x81])  // eip
    #expect(Array(bytes[308..<312]) == [0x33, 0, 0x05, 0x80])  // cr0
    #expect(Array(bytes[324..<328]) == [0, 0x10, 0, 0])  // fs_base, low half
    #expect(Array(bytes[332..<340]) == [0x01, 0x0d, 0, 0, 0, 0, 0, 0])  // efer stays 64-bit
  }

  @Test func decodeRoundTripsEveryBitButTheSelectorsUpperHalves() {
    var rng = SplitMix64(seed: 42)
    for file in [GDBRegisterFile.amd64, .i386] {
      let selectors = file.registers.filter { ["cs", "ss", "ds", "es", "fs", "gs"].contains($0.name) }
      #expect(selectors.count == 6)
      for _ in 0..<50 {
        var bytes = (0..<file.packetByteCount).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        // Selectors travel as 32 bits but are 16-bit values.
        for s in selectors { bytes[s.byteOffset + 2..<s.byteOffset + 4] = [0, 0] }
        let values = try? file.decode(bytes, over: GDBRegisterValues())
        let same = values.map(file.encode) == bytes
        #expect(same, "\(file.architecture)")
      }
    }
  }

  @Test func amd64DecodeRecoversTheValues() throws {
    let values = Self.sampleValues()
    let bytes = GDBRegisterFile.amd64.encode(values)
    #expect(try GDBRegisterFile.amd64.decode(bytes, over: GDBRegisterValues()) == values)
  }

  @Test func narrowRegistersKeepTheUpperBits() throws {
    let base = Self.sampleValues()
    var bytes = GDBRegisterFile.i386.encode(base)
    bytes[0..<4] = [7, 0, 0, 0]
    let decoded = try GDBRegisterFile.i386.decode(bytes, over: base)
    #expect(decoded.rax == 0x1122_3344_0000_0007)
    #expect(decoded.rip == base.rip)
    // Echoing `g` back as `G` changes nothing, in either layout.
    #expect(try GDBRegisterFile.i386.decode(GDBRegisterFile.i386.encode(base), over: base) == base)
    #expect(try GDBRegisterFile.amd64.decode(GDBRegisterFile.amd64.encode(base), over: base) == base)
  }

  @Test func singleRegisters() throws {
    let file = GDBRegisterFile.amd64
    let values = Self.sampleValues()
    #expect(try file.encode(values, register: 16) == [0, 0, 0, 0x81, 0xff, 0xff, 0xff, 0xff])
    #expect(try file.encode(values, register: 17) == [0x46, 0x02, 0, 0])
    let updated = try file.decode(register: 61, bytes: [0, 0x20, 0, 0, 0, 0, 0, 0], over: values)
    #expect(updated.cr3 == 0x2000)
    var expected = values
    expected.cr3 = 0x2000
    #expect(updated == expected)
    #expect(throws: GDBRegisterError.noSuchRegister(number: 65, architecture: .amd64)) { try file.encode(values, register: 65) }
    #expect(throws: GDBRegisterError.noSuchRegister(number: -1, architecture: .amd64)) {
      try file.decode(register: -1, bytes: [], over: values)
    }
    #expect(throws: GDBRegisterError.wrongRegisterLength(name: "rip", expected: 8, actual: 4)) {
      try file.decode(register: 16, bytes: [1, 2, 3, 4], over: values)
    }
  }

  @Test func partialAndWrongLengthGPackets() throws {
    let file = GDBRegisterFile.amd64
    let base = Self.sampleValues()
    // A prefix ending on a register boundary sets just those registers.
    let decoded = try file.decode([1, 0, 0, 0, 0, 0, 0, 0], over: base)
    #expect(decoded.rax == 1)
    #expect(decoded.rbx == base.rbx && decoded.rip == base.rip)
    #expect(throws: GDBRegisterError.wrongPacketLength(expected: 600, actual: 5)) {
      try file.decode([1, 2, 3, 4, 5], over: base)
    }
    #expect(throws: GDBRegisterError.wrongPacketLength(expected: 600, actual: 601)) {
      try file.decode([UInt8](repeating: 0, count: 601), over: base)
    }
  }

  @Test func missingArrayEntriesReadAsZeroAndNeverTrap() {
    var values = GDBRegisterValues()
    values.st = []
    values.xmm = [5]
    let bytes = GDBRegisterFile.amd64.encode(values)
    #expect(Array(bytes[164..<174]) == Array(repeating: 0, count: 10))
    #expect(bytes[276] == 5)
    #expect(Array(bytes[292..<308]) == Array(repeating: 0, count: 16))
    values[.xmm(9)] = 1  // Ignored, not a crash.
    #expect(values.xmm == [5])
  }

  @Test func errorsDescribeTheProblem() {
    #expect(
      GDBRegisterError.noSuchRegister(number: 99, architecture: .i386).description
        == "register 99 does not exist in the i386 layout")
    #expect(
      GDBRegisterError.wrongRegisterLength(name: "rip", expected: 8, actual: 4).description == "register rip takes 8 bytes, got 4"
    )
  }
}
