import Testing

@testable import GDBRemote

@Suite struct PacketCodecTests {
  private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

  @Test func checksumIsTheModuloSumOfTheWireBytes() {
    #expect(PacketChecksum.compute(bytes("OK")) == 0x9a)
    #expect(PacketChecksum.compute(bytes("QStartNoAckMode")) == 0xb0)
    #expect(PacketChecksum.compute([]) == 0)
    #expect(PacketChecksum.compute([0xff, 0xff, 0x03]) == 0x01)
  }

  @Test func framingAddsDollarHashAndChecksum() {
    #expect(GDBPacketEncoder.frame(bytes("OK")) == bytes("$OK#9a"))
    #expect(GDBPacketEncoder.frame([]) == bytes("$#00"))
    #expect(GDBPacketEncoder.frame(bytes("m1000,4")) == bytes("$m1000,4#8e"))
  }

  @Test func framingEscapesTheFourSpecialBytesAndSumsTheEscapedForm() {
    // # $ } * become } followed by the byte xor 0x20.
    let framed = GDBPacketEncoder.frame([0x23, 0x24, 0x7d, 0x2a, 0x41])
    #expect(framed == [0x24, 0x7d, 0x03, 0x7d, 0x04, 0x7d, 0x5d, 0x7d, 0x0a, 0x41, 0x23] + bytes("a3"))
    #expect(PacketChecksum.compute([0x7d, 0x03, 0x7d, 0x04, 0x7d, 0x5d, 0x7d, 0x0a, 0x41]) == 0xa3)
  }

  @Test func decodesOnePacket() {
    var decoder = GDBPacketDecoder()
    #expect(decoder.feed(bytes("$OK#9a")) == [.packet(bytes("OK"))])
    #expect(!decoder.isInsideFrame)
  }

  @Test func decodesAPacketSplitAcrossEveryPossibleChunkBoundary() {
    let wire = bytes("+$m1000,4#8e")
    for cut in 0...wire.count {
      var decoder = GDBPacketDecoder()
      let events = decoder.feed(wire[..<cut]) + decoder.feed(wire[cut...])
      #expect(events == [.ack, .packet(bytes("m1000,4"))], "cut at \(cut)")
    }
    var decoder = GDBPacketDecoder()
    var events: [GDBFrameEvent] = []
    for byte in wire { events += decoder.feed([byte]) }
    #expect(events == [.ack, .packet(bytes("m1000,4"))])
  }

  @Test func decodesSeveralPacketsAndControlBytesInOneRead() {
    var decoder = GDBPacketDecoder()
    let events = decoder.feed(bytes("$g#67+$OK#9a-") + [0x03] + bytes("$#00"))
    #expect(events == [.packet(bytes("g")), .ack, .packet(bytes("OK")), .nack, .interrupt, .packet([])])
  }

  @Test func skipsGarbageBeforeAPacket() {
    var decoder = GDBPacketDecoder()
    #expect(decoder.feed(bytes("hello\r\n#41 xyz$OK#9a")) == [.packet(bytes("OK"))])
  }

  @Test func interruptByteInsideAPacketIsData() {
    var decoder = GDBPacketDecoder()
    let payload: [UInt8] = bytes("X1000,1:") + [0x03]
    #expect(decoder.feed(GDBPacketEncoder.frame(payload)) == [.packet(payload)])
  }

  @Test func reportsBadChecksumWithThePayload() {
    var decoder = GDBPacketDecoder()
    #expect(decoder.feed(bytes("$OK#00")) == [.badChecksum(bytes("OK"))])
    // A non-hex checksum digit ends the frame; a `$` there starts the next one.
    #expect(decoder.feed(bytes("$OK#9$g#67")) == [.badChecksum(bytes("OK")), .packet(bytes("g"))])
    #expect(decoder.feed(bytes("$OK#zz")) == [.badChecksum(bytes("OK"))])
  }

  @Test func checksumDigitsMayBeUpperCase() {
    var decoder = GDBPacketDecoder()
    #expect(decoder.feed(bytes("$OK#9A")) == [.packet(bytes("OK"))])
  }

  @Test func dollarInsideAFrameRestartsIt() {
    var decoder = GDBPacketDecoder()
    #expect(decoder.feed(bytes("$garbage$OK#9a")) == [.packet(bytes("OK"))])
  }

  @Test func unescapesBinaryData() {
    var decoder = GDBPacketDecoder()
    let payload: [UInt8] = bytes("X0,4:") + [0x23, 0x24, 0x7d, 0x2a]
    #expect(decoder.feed(GDBPacketEncoder.frame(payload)) == [.packet(payload)])
  }

  @Test func expandsRunLengths() {
    var decoder = GDBPacketDecoder()
    // "0* " is '0' plus 32 - 29 = 3 more: "0000".
    let wire = "0* "
    let framed = bytes("$\(wire)#") + Hex.byte(PacketChecksum.compute(bytes(wire)))
    #expect(decoder.feed(framed) == [.packet(bytes("0000"))])
    // '~' (126) repeats 97 more times.
    let long = "a*~b"
    let framedLong = bytes("$\(long)#") + Hex.byte(PacketChecksum.compute(bytes(long)))
    #expect(decoder.feed(framedLong) == [.packet(Array(repeating: UInt8(ascii: "a"), count: 98) + bytes("b"))])
  }

  @Test func runLengthWithoutAPreviousByteOrCutShortIsBad() {
    var decoder = GDBPacketDecoder()
    for wire in ["* ", "a*", "a}", "a*\u{1}"] {
      let framed = bytes("$\(wire)#") + Hex.byte(PacketChecksum.compute(bytes(wire)))
      let events = decoder.feed(framed)
      #expect(events.count == 1, "\(wire)")
      if case .badChecksum = events.first {} else { Issue.record("\(wire) gave \(events)") }
    }
  }

  @Test func oversizedPacketsAreDiscardedAndDecodingResumes() {
    var decoder = GDBPacketDecoder(maximumPayload: 16)
    let big = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
    #expect(decoder.feed(GDBPacketEncoder.frame(big)) == [.oversized(limit: 16)])
    #expect(decoder.feed(bytes("$OK#9a")) == [.packet(bytes("OK"))])
    // Exactly the limit is fine.
    let exact = [UInt8](repeating: UInt8(ascii: "b"), count: 16)
    #expect(decoder.feed(GDBPacketEncoder.frame(exact)) == [.packet(exact)])
    // Run-length expansion counts against the limit too.
    let wire = "a*~"
    #expect(decoder.feed(bytes("$\(wire)#") + Hex.byte(PacketChecksum.compute(bytes(wire)))) == [.oversized(limit: 16)])
  }

  @Test func anEndlessFrameNeverBuffersMoreThanTheLimit() {
    var decoder = GDBPacketDecoder(maximumPayload: 64)
    _ = decoder.feed(bytes("$"))
    for _ in 0..<1000 { #expect(decoder.feed([UInt8](repeating: 0x41, count: 1000)).isEmpty) }
    #expect(decoder.isInsideFrame)
    #expect(decoder.feed(bytes("#00")) == [.oversized(limit: 64)])
  }

  @Test func roundTripsArbitraryBinaryPayloads() {
    var rng = SplitMix64(seed: 7)
    var decoder = GDBPacketDecoder()
    for length in [0, 1, 2, 17, 255, 4096] {
      let payload = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
      #expect(decoder.feed(GDBPacketEncoder.frame(payload)) == [.packet(payload)])
    }
  }
}

/// Deterministic RNG (SplitMix64) so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
