import Testing

@testable import GDBRemote

@Suite struct CommandDispatcherTests {
  /// Replies as text for one packet given as text.
  private func send(_ dispatcher: GDBCommandDispatcher, _ packet: String) -> [String] {
    dispatcher.handle(payload: Array(packet.utf8)).replies.map(\.description)
  }

  @Test func handshakeLikeGDB() {
    let target = FakeTarget()
    let d = GDBCommandDispatcher(target: target)
    #expect(
      send(d, "qSupported:multiprocess+;swbreak+;hwbreak+")
        == [
          "PacketSize=10000;QStartNoAckMode+;qXfer:features:read+;swbreak+;hwbreak+;vContSupported+;ReverseStep+;ReverseContinue+"
        ])
    #expect(send(d, "vMustReplyEmpty") == [""])
    #expect(d.handle(payload: Array("QStartNoAckMode".utf8)) == .init(replies: [.ok], action: .enableNoAck))
    #expect(send(d, "Hg0") == ["OK"])
    #expect(send(d, "qTStatus") == [""])
    #expect(send(d, "?") == ["T05thread:1;"])
    #expect(send(d, "qfThreadInfo") == ["m1"])
    #expect(send(d, "qsThreadInfo") == ["l"])
    #expect(send(d, "qAttached") == ["1"])
    #expect(send(d, "qC") == ["QC1"])
    #expect(send(d, "Hc-1") == ["OK"])
    #expect(send(d, "Hg2") == ["E01"])
    #expect(send(d, "T1") == ["OK"])
    #expect(send(d, "qOffsets") == [""])
    #expect(send(d, "qL1200000000000000000") == [""])
    #expect(send(d, "vCont?") == ["vCont;c;C;s;S"])
    #expect(send(d, "qSymbol::") == [""])
  }

  @Test func targetXMLReadInWindows() {
    let d = GDBCommandDispatcher(target: FakeTarget())
    var document: [UInt8] = []
    var offset = 0
    while true {
      let reply = d.handle(payload: Array("qXfer:features:read:target.xml:\(String(offset, radix: 16)),3e8".utf8)).replies[0]
        .payload
      document += reply.dropFirst()
      offset += reply.count - 1
      if reply.first == UInt8(ascii: "l") { break }
      #expect(reply.first == UInt8(ascii: "m"))
      #expect(reply.count == 1001)
    }
    #expect(String(decoding: document, as: UTF8.self) == GDBTargetDescription.xml(for: .amd64))
    #expect(send(d, "qXfer:features:read:other.xml:0,100") == ["E00"])
  }

  @Test func registers() {
    let target = FakeTarget()
    let d = GDBCommandDispatcher(target: target)
    let g = send(d, "g")[0]
    #expect(g.count == 1200)
    #expect(g.hasPrefix("8877665544332211"))
    #expect(send(d, "p10") == ["0010000000000000"])  // rip
    #expect(send(d, "p3d") == ["0000100000000000"])  // cr3
    #expect(send(d, "p41") == ["E01"])
    #expect(send(d, "P10=0020000000000000") == ["OK"])
    #expect(target.registers.rip == 0x2000)
    #expect(send(d, "P10=00") == ["E01"])
    #expect(send(d, "P99=00") == ["E01"])
    // G with the g bytes changed in rbx.
    let changed = String(g.prefix(16)) + "0100000000000000" + String(g.dropFirst(32))
    #expect(send(d, "G" + changed) == ["OK"])
    #expect(target.registers.rbx == 1)
    #expect(send(d, "G00") == ["E01"])
  }

  @Test func memory() {
    let target = FakeTarget()
    let d = GDBCommandDispatcher(target: target)
    #expect(send(d, "m1000,4") == ["00010203"])
    #expect(send(d, "m10fe,4") == ["feff0001"])
    #expect(send(d, "m10ffe,10") == ["feff"])  // Partial read at the end.
    #expect(send(d, "m0,4") == ["E0e"])
    #expect(send(d, "m1000,0") == [""])
    #expect(d.handle(payload: Array("x1023,3".utf8)).replies[0].payload == [UInt8(ascii: "b"), 0x23, 0x24, 0x25])
    #expect(send(d, "M1000,2:beef") == ["OK"])
    #expect(send(d, "m1000,2") == ["beef"])
    #expect(d.handle(payload: Array("X1002,2:".utf8) + [0x7d, 0x23]).replies == [.ok])
    #expect(send(d, "m1002,2") == ["7d23"])
    #expect(send(d, "X0,0:") == ["OK"])  // gdb's probe: no target call.
    #expect(send(d, "M0,1:00") == ["E0e"])
    #expect(target.calls.filter { $0.hasPrefix("writeMemory") } == ["writeMemory 1000 2", "writeMemory 1002 2"])
  }

  @Test func hugeReadsAreClampedToOnePacket() {
    let d = GDBCommandDispatcher(target: FakeTarget(), maximumPayload: 64)
    #expect(d.maximumMemoryTransfer == 24)
    #expect(send(d, "m1000,7fffffff")[0].count == 48)
    #expect(send(d, "qSupported")[0].hasPrefix("PacketSize=40;"))
  }

  @Test func breakpointsGoToTheTarget() {
    let target = FakeTarget()
    let d = GDBCommandDispatcher(target: target)
    for packet in ["Z0,1010,1", "Z1,1020,1", "Z2,2000,4", "Z3,2000,8", "Z4,3000,1", "z0,1010,1", "z4,3000,1"] {
      #expect(send(d, packet) == ["OK"], "\(packet)")
    }
    #expect(
      target.calls == [
        "insert software 1010 1", "insert hardware 1020 1", "insert writeWatchpoint 2000 4", "insert readWatchpoint 2000 8",
        "insert accessWatchpoint 3000 1", "remove software 1010 1", "remove accessWatchpoint 3000 1",
      ])
    #expect(send(d, "Z7,1,1") == [""])
  }

  @Test func resumesMapToKindsAndStopReplies() {
    let target = FakeTarget()
    let d = GDBCommandDispatcher(target: target)
    target.script([.breakpoint(.hardware), .watchpoint(.write, address: 0x2000), .startOfHistory, .exited(code: 1)])
    #expect(send(d, "c") == ["T05thread:1;hwbreak:;"])
    #expect(send(d, "vCont;c") == ["T05thread:1;watch:2000;"])
    #expect(send(d, "?") == ["T05thread:1;watch:2000;"])
    #expect(send(d, "vCont;s:1") == ["T05thread:1;"])
    #expect(send(d, "bs") == ["T05thread:1;"])
    #expect(send(d, "bc") == ["T05thread:1;replaylog:begin;"])
    #expect(send(d, "vCont;C02:1") == ["W01"])
    #expect(send(d, "s") == ["T05thread:1;"])
    #expect(
      target.calls == [
        "resume continue", "resume continue", "resume step", "resume reverseStep", "resume reverseContinue", "resume continue",
        "resume step",
      ])
  }

  @Test func resumeAtAnAddressMovesThePCFirst() {
    let target = FakeTarget()
    let d = GDBCommandDispatcher(target: target)
    #expect(send(d, "s4000") == ["T05thread:1;"])
    #expect(target.registers.rip == 0x4001)
    #expect(target.calls == ["writeRegisters", "resume step"])
  }

  @Test func anInterruptBeforeTheResumeStopsWithoutRunning() {
    let target = FakeTarget()
    let d = GDBCommandDispatcher(target: target)
    let interrupt = GDBInterruptRequest()
    interrupt.request()
    #expect(d.handle(.continue(address: nil), interrupt: interrupt).replies == [GDBReply("S02")])
    #expect(target.calls.isEmpty)
    #expect(send(d, "?") == ["S02"])
  }

  @Test func monitorCommands() {
    let d = GDBCommandDispatcher(target: FakeTarget())
    // "echo: hi\n" in hex, then OK.
    #expect(send(d, "qRcmd,6869") == ["O6563686f3a2068690a", "OK"])
    // A failing command prints its message, then fails the gdb command.
    #expect(send(d, "qRcmd,6661696c") == ["O6d6f6e69746f7220636f6d6d616e64206661696c65640a", "E05"])
  }

  @Test func sessionControl() {
    let d = GDBCommandDispatcher(target: FakeTarget())
    #expect(d.handle(payload: Array("D".utf8)) == .init(replies: [.ok], action: .detach))
    #expect(d.handle(payload: Array("D;1".utf8)) == .init(replies: [.ok], action: .detach))
    #expect(d.handle(payload: Array("k".utf8)) == .init(replies: [], action: .kill))
  }

  @Test func malformedPacketsGetE01AndUnknownOnesNothing() {
    let d = GDBCommandDispatcher(target: FakeTarget())
    for packet in ["m", "M1000,2:b", "Zq", "vCont;x", "p", "qRcmd,zz"] { #expect(send(d, packet) == ["E01"], "\(packet)") }
    for packet in ["", "qFooBar", "vFile:open:", "!", "QNonStop:1"] { #expect(send(d, packet) == [""], "\(packet)") }
  }

  @Test func targetErrorsMapToReplies() {
    final class FailingTarget: GDBTarget {
      let architecture = GDBArchitecture.i386
      func readRegisters() throws(GDBTargetError) -> GDBRegisterValues { throw .failed("no vCPU") }
      func writeRegisters(_ values: GDBRegisterValues) throws(GDBTargetError) { throw .failed("no vCPU") }
      func readMemory(at address: UInt64, count: Int) throws(GDBTargetError) -> [UInt8] { [] }
      func writeMemory(at address: UInt64, bytes: [UInt8]) throws(GDBTargetError) { throw .failed("read-only") }
      func resume(_ kind: GDBResumeKind, interrupt: GDBInterruptRequest) throws(GDBTargetError) -> GDBStopReason {
        throw .failed("replay diverged at event 12")
      }
      func insertBreakpoint(_ breakpoint: GDBBreakpoint) throws(GDBTargetError) { throw .unsupported("read watchpoints") }
      func removeBreakpoint(_ breakpoint: GDBBreakpoint) throws(GDBTargetError) {}
      func monitor(_ command: String) throws(GDBTargetError) -> String { throw .unsupported("monitor") }
    }
    let d = GDBCommandDispatcher(target: FailingTarget())
    #expect(send(d, "g") == ["E05"])
    #expect(send(d, "p0") == ["E05"])
    #expect(send(d, "P0=00000000") == ["E05"])
    #expect(send(d, "m1000,4") == ["E0e"])  // Nothing readable.
    #expect(send(d, "M1000,1:00") == ["E05"])
    #expect(send(d, "Z3,1000,4") == [""])
    #expect(send(d, "qRcmd,6869") == ["O6e6f7420737570706f727465643a206d6f6e69746f720a", ""])
    // A failed resume is shown, then reported as a plain stop so gdb stays in sync.
    let replies = send(d, "c")
    #expect(replies.count == 2)
    #expect(replies.last == "T05thread:1;")
    let text = String(decoding: Hex.decodeBytes(Array(replies[0].utf8.dropFirst())) ?? [], as: UTF8.self)
    #expect(text == "retrovisor: replay diverged at event 12\n")
  }
}
