import Recording
import Testing

@testable import TimeTravel

/// Random mixes of forward and backward operations, every stop compared with an oracle built by
/// stepping forward once through a window of the recording (issue: "random mixes of 500
/// forward/backward operations compare every stop against the oracle").
@Suite(.serialized)
struct RandomNavigationTests {
  @Test(arguments: [("ticks", UInt64(30), UInt64(70)), ("long64", UInt64(10), UInt64(30))])
  func randomOperationsMatchTheForwardOracle(guest: String, from first: UInt64, to last: UInt64) throws {
    // The oracle: every instant from exit `first` to exit `last`, by forward steps only.
    let oracleSession = try RecordingCache.shared.session(of: guest)
    _ = try oracleSession.seek(to: Position(exit: first))
    var oracle = [try oracleSession.observe()]
    while oracle.last!.position.exit < last {
      try #require(try oracleSession.stepi() == .stepped)
      oracle.append(try oracleSession.observe())
    }
    let index = Dictionary(uniqueKeysWithValues: oracle.enumerated().map { ($0.element.position, $0.offset) })
    let rips = Array(Set(oracle.map(\.rip))).sorted()

    var rng = SplitMix64(seed: 0x7157_0000 ^ UInt64(guest.utf8.count))
    let session = try RecordingCache.shared.session(of: guest)
    _ = try session.seek(to: oracle[0].position)
    var at = 0
    var log: [String] = []
    var op = 0
    while log.count < 500 {
      op += 1
      let choice = rng.next(below: 6)
      var expected: Int
      switch choice {
      case 0:
        guard at + 1 < oracle.count else { continue }
        #expect(try session.stepi() == .stepped)
        expected = at + 1
        log.append("stepi")
      case 1:
        guard at > 0 else { continue }
        #expect(try session.reverseStepi() == .stepped)
        expected = at - 1
        log.append("reverse-stepi")
      case 2, 3:
        // A breakpoint at a rip the window has; the oracle says where the next/previous hit is.
        let rip = rips[rng.next(below: rips.count)]
        let forward = choice == 2
        let hit =
          forward
          ? oracle[(at + 1)...].firstIndex { $0.rip == rip }
          : oracle[..<at].lastIndex { $0.rip == rip }
        guard let hit else { continue }
        try session.deleteAll()
        let b = session.addBreakpoint(at: rip)
        let stop = forward ? try session.continueForward() : try session.reverseContinue()
        try session.deleteAll()
        #expect(
          stop == .breakpoint(id: b.id, address: rip),
          "op \(op): \(forward ? "continue" : "reverse-continue") to 0x\(String(rip, radix: 16)) gave \(stop)")
        expected = hit
        log.append("\(forward ? "continue" : "reverse-continue") 0x\(String(rip, radix: 16))")
      default:
        let target = rng.next(below: oracle.count)
        _ = try session.seek(to: oracle[target].position)
        expected = target
        log.append("seek \(oracle[target].position)")
      }
      let o = try session.observe()
      guard o == oracle[expected] else {
        Issue.record(
          "op \(op) (\(log.last!)) from \(oracle[at]): got \(o), oracle \(oracle[expected]); index \(index[o.position].map(String.init) ?? "none"); last ops: \(log.suffix(8))"
        )
        return
      }
      at = expected
    }
    print("\(guest): \(log.count) random operations over \(oracle.count) instants matched the oracle")
  }
}
