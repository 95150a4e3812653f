import Testing

@testable import GDBRemote

@Suite struct CommandParserTests {
  private func parse(_ text: String) throws -> GDBCommand { try GDBCommandParser.parse(Array(text.utf8)) }
  private func parse(_ bytes: [UInt8]) throws -> GDBCommand { try GDBCommandParser.parse(bytes) }

  @Test func stateAndRegisters() throws {
    #expect(try parse("?") == .haltReason)
    #expect(try parse("g") == .readRegisters)
    #expect(try parse("G0011aAfF") == .writeRegisters([0x00, 0x11, 0xaa, 0xff]))
    #expect(try parse("p10") == .readRegister(16))
    #expect(try parse("p0") == .readRegister(0))
    #expect(try parse("P10=0010000000000000") == .writeRegister(16, [0, 0x10, 0, 0, 0, 0, 0, 0]))
  }

  @Test func memory() throws {
    #expect(try parse("m1000,4") == .readMemory(address: 0x1000, length: 4))
    #expect(try parse("mffffffff81000000,40") == .readMemory(address: 0xffff_ffff_8100_0000, length: 0x40))
    #expect(try parse("x2000,100") == .readMemoryBinary(address: 0x2000, length: 0x100))
    #expect(try parse("M1000,2:beef") == .writeMemory(address: 0x1000, bytes: [0xbe, 0xef]))
    #expect(try parse("M1000,0:") == .writeMemory(address: 0x1000, bytes: []))
    let binary: [UInt8] = Array("X1000,3:".utf8) + [0x00, 0x3a, 0x7d]
    #expect(try parse(binary) == .writeMemoryBinary(address: 0x1000, bytes: [0x00, 0x3a, 0x7d]))
    #expect(try parse("X1000,0:") == .writeMemoryBinary(address: 0x1000, bytes: []))
  }

  @Test func execution() throws {
    #expect(try parse("c") == .continue(address: nil))
    #expect(try parse("c1234") == .continue(address: 0x1234))
    #expect(try parse("s") == .step(address: nil))
    #expect(try parse("sabc") == .step(address: 0xabc))
    #expect(try parse("bc") == .reverseContinue)
    #expect(try parse("bs") == .reverseStep)
    #expect(try parse("vCont?") == .vContQuery)
    #expect(try parse("vCont;c") == .vCont([GDBVContAction(kind: .continue)]))
    #expect(try parse("vCont;s:1") == .vCont([GDBVContAction(kind: .step, thread: .id(1))]))
    #expect(
      try parse("vCont;s:1;c") == .vCont([GDBVContAction(kind: .step, thread: .id(1)), GDBVContAction(kind: .continue)]))
    #expect(try parse("vCont;C02:-1") == .vCont([GDBVContAction(kind: .continue, signal: 2, thread: .all)]))
    #expect(try parse("vCont;S05:0") == .vCont([GDBVContAction(kind: .step, signal: 5, thread: .any)]))
  }

  @Test func breakpointsAndWatchpoints() throws {
    #expect(try parse("Z0,1000,1") == .insertBreakpoint(GDBBreakpoint(type: .software, address: 0x1000, kind: 1)))
    #expect(
      try parse("Z1,ffffffff81000000,1")
        == .insertBreakpoint(GDBBreakpoint(type: .hardware, address: 0xffff_ffff_8100_0000, kind: 1)))
    #expect(try parse("Z2,2000,4") == .insertBreakpoint(GDBBreakpoint(type: .writeWatchpoint, address: 0x2000, kind: 4)))
    #expect(try parse("Z3,2000,8") == .insertBreakpoint(GDBBreakpoint(type: .readWatchpoint, address: 0x2000, kind: 8)))
    #expect(try parse("Z4,2000,1000") == .insertBreakpoint(GDBBreakpoint(type: .accessWatchpoint, address: 0x2000, kind: 0x1000)))
    #expect(try parse("z0,1000,1") == .removeBreakpoint(GDBBreakpoint(type: .software, address: 0x1000, kind: 1)))
    #expect(try parse("z4,2000,2") == .removeBreakpoint(GDBBreakpoint(type: .accessWatchpoint, address: 0x2000, kind: 2)))
    // Conditions after `;` are ignored; unknown types are unsupported, not errors.
    #expect(try parse("Z0,1000,1;X3,220027") == .insertBreakpoint(GDBBreakpoint(type: .software, address: 0x1000, kind: 1)))
    #expect(try parse("Z5,1000,1") == .unknown("Z5,1000,1"))
  }

  @Test func threads() throws {
    #expect(try parse("Hg0") == .setThread(.general, .any))
    #expect(try parse("Hc-1") == .setThread(.continue, .all))
    #expect(try parse("Hg1") == .setThread(.general, .id(1)))
    #expect(try parse("T1") == .threadAlive(.id(1)))
    #expect(try parse("qC") == .currentThread)
    #expect(try parse("qfThreadInfo") == .threadInfoFirst)
    #expect(try parse("qsThreadInfo") == .threadInfoNext)
    #expect(try parse("qAttached") == .attached)
    #expect(try parse("qAttached:1") == .attached)
  }

  @Test func queriesAndSessionControl() throws {
    #expect(
      try parse("qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386")
        == .supported(features: ["multiprocess+", "swbreak+", "hwbreak+", "xmlRegisters=i386"]))
    #expect(try parse("qSupported") == .supported(features: []))
    #expect(try parse("qRcmd,68656c6c6f20776f726c64") == .monitor("hello world"))
    #expect(try parse("qRcmd,") == .monitor(""))
    #expect(try parse("qXfer:features:read:target.xml:0,ffb") == .readFeatures(annex: "target.xml", offset: 0, length: 0xffb))
    #expect(try parse("qXfer:features:read:i386.xml:7f0,400") == .readFeatures(annex: "i386.xml", offset: 0x7f0, length: 0x400))
    #expect(try parse("QStartNoAckMode") == .startNoAckMode)
    #expect(try parse("D") == .detach)
    #expect(try parse("D;1") == .detach)
    #expect(try parse("k") == .kill)
    #expect(try parse("qOffsets") == .offsets)
    #expect(try parse("qL1200000000000000000") == .legacyThreadList)
    #expect(try parse("qTStatus") == .traceStatus)
    #expect(try parse("vMustReplyEmpty") == .mustReplyEmpty)
  }

  @Test func everythingElseIsUnknown() throws {
    for text in [
      "", "qSymbol::", "vKill;1", "qLaunchGDBServer", "QNonStop:0", "qXfer:memory-map:read::0,100", "vContX", "bz", "Hx0",
      "gg", "??", "kk", "Dx", "qCRC:0,1", "Z9,1,1",
    ] {
      #expect(try parse(text) == .unknown(text), "\(text)")
    }
  }

  @Test func malformedArgumentsAreTypedErrors() {
    let cases: [(String, GDBCommandParseError)] = [
      ("m", .malformedArguments(command: "m", syntax: "'m ADDR,LENGTH'")),
      ("m1000", .malformedArguments(command: "m", syntax: "'m ADDR,LENGTH'")),
      ("m1000,", .malformedArguments(command: "m", syntax: "'m ADDR,LENGTH'")),
      ("mzz,4", .malformedArguments(command: "m", syntax: "'m ADDR,LENGTH'")),
      ("m11112222333344445,4", .malformedArguments(command: "m", syntax: "'m ADDR,LENGTH'")),
      ("m0,ffffffffff", .malformedArguments(command: "m", syntax: "'m ADDR,LENGTH'")),
      ("x1,", .malformedArguments(command: "x", syntax: "'x ADDR,LENGTH'")),
      ("M1000,2:be", .lengthMismatch(command: "M", declared: 2, actual: 1)),
      ("M1000,2:zzzz", .malformedArguments(command: "M", syntax: "'M ADDR,LENGTH:DATA' with data in hex")),
      ("M1000,2", .malformedArguments(command: "M", syntax: "'M ADDR,LENGTH:DATA' with data in hex")),
      ("X1000,2:a", .lengthMismatch(command: "X", declared: 2, actual: 1)),
      ("G", .malformedArguments(command: "G", syntax: "'G' followed by register bytes in hex")),
      ("G123", .malformedArguments(command: "G", syntax: "'G' followed by register bytes in hex")),
      ("p", .malformedArguments(command: "p", syntax: "'p N' with a register number")),
      ("p123456789", .malformedArguments(command: "p", syntax: "'p N' with a register number")),
      ("P10", .malformedArguments(command: "P", syntax: "'P N=VALUE' with the value's bytes in hex")),
      ("P10=", .malformedArguments(command: "P", syntax: "'P N=VALUE' with the value's bytes in hex")),
      ("cxyz", .malformedArguments(command: "c", syntax: "'c' or 'c ADDR'")),
      ("s-1", .malformedArguments(command: "s", syntax: "'s' or 's ADDR'")),
      ("Z0,1000", .malformedArguments(command: "Z", syntax: "'Z TYPE,ADDR,KIND'")),
      ("z0,,1", .malformedArguments(command: "z", syntax: "'z TYPE,ADDR,KIND'")),
      ("Zq,1,1", .malformedArguments(command: "Z", syntax: "'Z TYPE,ADDR,KIND'")),
      ("Hg", .malformedArguments(command: "H", syntax: "a thread-id: -1, 0 or a hex id")),
      ("Hcq", .malformedArguments(command: "H", syntax: "a thread-id: -1, 0 or a hex id")),
      ("T", .malformedArguments(command: "T", syntax: "a thread-id: -1, 0 or a hex id")),
      ("vCont;", .malformedArguments(command: "vCont", syntax: "'vCont;ACTION[:THREAD]...' with actions c, Cxx, s, Sxx")),
      ("vCont;t", .malformedArguments(command: "vCont", syntax: "'vCont;ACTION[:THREAD]...' with actions c, Cxx, s, Sxx")),
      ("vCont;c:", .malformedArguments(command: "vCont", syntax: "'vCont;ACTION[:THREAD]...' with actions c, Cxx, s, Sxx")),
      ("vCont;C5", .malformedArguments(command: "vCont", syntax: "'vCont;ACTION[:THREAD]...' with actions c, Cxx, s, Sxx")),
      ("qRcmd,6", .malformedArguments(command: "qRcmd", syntax: "'qRcmd,COMMAND' with the command in hex")),
      (
        "qXfer:features:read:target.xml",
        .malformedArguments(command: "qXfer:features:read", syntax: "'qXfer:features:read:ANNEX:OFFSET,LENGTH'")
      ),
      (
        "qXfer:features:read::0,10",
        .malformedArguments(command: "qXfer:features:read", syntax: "'qXfer:features:read:ANNEX:OFFSET,LENGTH'")
      ),
      (
        "qXfer:features:read:target.xml:0",
        .malformedArguments(command: "qXfer:features:read", syntax: "'qXfer:features:read:ANNEX:OFFSET,LENGTH'")
      ),
    ]
    for (text, expected) in cases {
      #expect(throws: expected, "\(text)") { try parse(text) }
    }
  }

  @Test func parseErrorsSayWhatWasExpected() {
    #expect(
      GDBCommandParseError.malformedArguments(command: "m", syntax: "'m ADDR,LENGTH'").description
        == "malformed 'm' packet: expected 'm ADDR,LENGTH' (numbers in hex)")
    #expect(
      GDBCommandParseError.lengthMismatch(command: "M", declared: 2, actual: 1).description
        == "'M' packet declares 2 bytes but carries 1")
  }

  @Test func resumeCommandsAreFlagged() throws {
    for text in ["c", "s", "vCont;c", "bc", "bs"] { #expect(try parse(text).isResume, "\(text)") }
    for text in ["?", "g", "vCont?", "m0,1", "Z0,1,1", "k"] { #expect(try !parse(text).isResume, "\(text)") }
  }
}
