import Testing

@testable import GDBRemote

/// Random and mutated traffic through decoder, parser and dispatcher: nothing may trap, hang
/// or grow without bound.
@Suite struct PacketFuzzTests {
  static let seeds = [
    "?", "g", "G" + String(repeating: "00", count: 600), "p10", "P10=0010000000000000", "m1000,40", "M1000,2:beef", "x1000,40",
    "X1000,2:ab", "c", "c1000", "s", "s1000", "vCont?", "vCont;c", "vCont;s:1", "vCont;s:1;c", "vCont;C02:-1", "bc", "bs",
    "Z0,1000,1", "z0,1000,1", "Z2,2000,4", "z4,2000,8", "Hg0", "Hc-1", "T1", "qC", "qfThreadInfo", "qsThreadInfo", "qAttached",
    "qSupported:multiprocess+;swbreak+", "qRcmd,68656c6c6f", "qXfer:features:read:target.xml:0,ffb", "QStartNoAckMode",
    "qOffsets", "qL1200000000000000000", "qTStatus", "vMustReplyEmpty", "qSymbol::",
  ].map { Array($0.utf8) }

  static let special: [UInt8] = Array("#$}*+-:,;=".utf8) + [0x03, 0x00, 0xff]

  private func mutate(_ packet: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
    var p = packet
    for _ in 0..<Int(rng.next() % 4) {
      let choice = rng.next() % 7
      let index = p.isEmpty ? 0 : Int(rng.next() % UInt64(p.count))
      switch choice {
      case 0 where !p.isEmpty: p[index] = UInt8(truncatingIfNeeded: rng.next())
      case 1: p.insert(Self.special[Int(rng.next() % UInt64(Self.special.count))], at: index)
      case 2 where !p.isEmpty: p.removeSubrange(index...)
      case 3: p.insert(contentsOf: Array("ffffffffffffffffff".utf8), at: index)
      case 4: p += p
      case 5: p.insert(contentsOf: (0..<Int(rng.next() % 40)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: index)
      default: p = Array(p.reversed())
      }
    }
    return p
  }

  @Test(.timeLimit(.minutes(2)))
  func twentyThousandPacketsThroughTheWholePipeline() {
    var rng = SplitMix64(seed: 0x6764_6273)
    let limit = 4096
    let dispatcher = GDBCommandDispatcher(target: FakeTarget(), maximumPayload: limit)
    var decoder = GDBPacketDecoder(maximumPayload: limit)
    var counts: [String: Int] = [:]
    for round in 0..<20_000 {
      // Build a wire chunk: mostly framed (possibly mutated) packets, sometimes raw noise,
      // corrupted checksums or oversized frames.
      var wire: [UInt8] = []
      let kind = rng.next() % 10
      switch kind {
      case 0:
        wire = (0..<Int(rng.next() % 200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
      case 1:
        wire = GDBPacketEncoder.frame([UInt8](repeating: 0x61, count: limit + Int(rng.next() % 100)))
      case 2:
        wire = GDBPacketEncoder.frame(mutate(Self.seeds[Int(rng.next() % UInt64(Self.seeds.count))], &rng))
        wire[wire.count - 1] ^= 0x01
      default:
        let seed = Self.seeds[Int(rng.next() % UInt64(Self.seeds.count))]
        wire = GDBPacketEncoder.frame(rng.next() % 2 == 0 ? seed : mutate(seed, &rng))
      }
      if rng.next() % 8 == 0 { wire = mutate(wire, &rng) }
      // Feed it in random chunks, as reads would deliver it.
      var events: [GDBFrameEvent] = []
      var start = 0
      while start < wire.count {
        let end = min(wire.count, start + 1 + Int(rng.next() % 64))
        events += decoder.feed(wire[start..<end])
        start = end
      }
      for event in events {
        switch event {
        case .packet(let payload), .badChecksum(let payload):
          #expect(payload.count <= limit, "round \(round)")
          let outcome = dispatcher.handle(payload: payload)
          for reply in outcome.replies {
            #expect(GDBPacketEncoder.frame(reply).count <= limit + 8200, "round \(round)")
          }
          counts["packets", default: 0] += 1
        case .oversized: counts["oversized", default: 0] += 1
        default: counts["other", default: 0] += 1
        }
      }
    }
    // The mix really exercised each path.
    #expect(counts["packets", default: 0] > 10_000)
    #expect(counts["oversized", default: 0] > 1_000)
    #expect(counts["other", default: 0] > 100)
  }

  @Test func randomPayloadsNeverTrapTheParser() {
    var rng = SplitMix64(seed: 99)
    var parsed = 0
    for _ in 0..<20_000 {
      let first = Array("?gGpPmMxXcsbvZzHTqQDk".utf8)[Int(rng.next() % 21)]
      let rest = (0..<Int(rng.next() % 24)).map { _ in
        let alphabet = Array("0123456789abcdefABCDEF,:;=-?#$}*xyzcsSCt.".utf8)
        return rng.next() % 5 == 0 ? UInt8(truncatingIfNeeded: rng.next()) : alphabet[Int(rng.next() % UInt64(alphabet.count))]
      }
      if (try? GDBCommandParser.parse([first] + rest)) != nil { parsed += 1 }
    }
    #expect(parsed > 1000)
  }
}
