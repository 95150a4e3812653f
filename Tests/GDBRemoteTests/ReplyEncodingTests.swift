import Testing

@testable import GDBRemote

@Suite struct ReplyEncodingTests {
  private func wire(_ reply: GDBReply) -> String { String(decoding: GDBPacketEncoder.frame(reply), as: UTF8.self) }

  @Test func basicReplies() {
    #expect(wire(.ok) == "$OK#9a")
    #expect(wire(.empty) == "$#00")
    #expect(wire(.error(.badRequest)) == "$E01#a6")
    #expect(GDBReply.error(.memoryFault).description == "E0e")
    #expect(GDBReply.error(.noSuchObject).description == "E00")
    #expect(GDBReply.error(.targetFailure).description == "E05")
    #expect(GDBReply.hex([0x00, 0x7f, 0x80, 0xff]).description == "007f80ff")
  }

  @Test func binaryMemoryRepliesAreEscapedOnTheWire() {
    let reply = GDBReply.binary([0x23, 0x01, 0x7d])
    #expect(reply.payload == [0x62, 0x23, 0x01, 0x7d])
    let framed = GDBPacketEncoder.frame(reply)
    #expect(Array(framed.prefix(7)) == [0x24, 0x62, 0x7d, 0x03, 0x01, 0x7d, 0x5d])
    var decoder = GDBPacketDecoder()
    #expect(decoder.feed(framed) == [.packet(reply.payload)])
  }

  @Test func supportedAdvertisesWhatDesignMdAsks() {
    #expect(
      GDBReply.supported(packetSize: 0x10000).description
        == "PacketSize=10000;QStartNoAckMode+;qXfer:features:read+;swbreak+;hwbreak+;vContSupported+;ReverseStep+;ReverseContinue+"
    )
    #expect(GDBReply.vContActions.description == "vCont;c;C;s;S")
  }

  @Test func xferWindows() {
    let document = Array("0123456789".utf8)
    #expect(GDBReply.xfer(document, offset: 0, length: 4).description == "m0123")
    #expect(GDBReply.xfer(document, offset: 4, length: 4).description == "m4567")
    #expect(GDBReply.xfer(document, offset: 8, length: 4).description == "l89")
    #expect(GDBReply.xfer(document, offset: 6, length: 4).description == "l6789")
    #expect(GDBReply.xfer(document, offset: 10, length: 4).description == "l")
    #expect(GDBReply.xfer(document, offset: 99, length: 4).description == "l")
    #expect(GDBReply.xfer(document, offset: 0, length: 0).description == "m")
  }

  @Test func consoleOutputIsHexAndSplit() {
    #expect(GDBReply.output("hi\n").map(\.description) == ["O68690a"])
    #expect(GDBReply.output("abcde", maximumTextBytes: 2).map(\.description) == ["O6162", "O6364", "O65"])
    #expect(GDBReply.output("").isEmpty)
  }

  @Test func stopReplies() {
    let cases: [(GDBStopReason, String)] = [
      (.breakpoint(.software), "T05thread:1;swbreak:;"),
      (.breakpoint(.hardware), "T05thread:1;hwbreak:;"),
      (.watchpoint(.write, address: 0x2000), "T05thread:1;watch:2000;"),
      (.watchpoint(.read, address: 0xffff_ffff_8100_0010), "T05thread:1;rwatch:ffffffff81000010;"),
      (.watchpoint(.access, address: 0), "T05thread:1;awatch:0;"),
      (.stepped, "T05thread:1;"),
      (.startOfHistory, "T05thread:1;replaylog:begin;"),
      (.endOfHistory, "T05thread:1;replaylog:end;"),
      (.interrupted, "S02"),
      (.exited(code: 0), "W00"),
      (.exited(code: 0x2a), "W2a"),
      (.terminated(signal: 11), "X0b"),
    ]
    for (reason, text) in cases { #expect(GDBStopReply.encode(reason).description == text, "\(reason)") }
    #expect(wire(GDBStopReply.encode(.breakpoint(.software))) == "$T05thread:1;swbreak:;#3b")
    #expect(wire(GDBStopReply.encode(.interrupted)) == "$S02#b5")
  }
}
