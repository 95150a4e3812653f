import Testing

@testable import TimeTravel

/// reverse-stepi against an oracle built by stepping forward (issue: "Tests, against an oracle").
@Suite(.serialized)
struct ReverseStepTests {
  /// Steps forward N instructions from a position, recording the state hash after each; then
  /// reverse-steps N times and must meet the same hashes in reverse order.
  @Test(arguments: [("ticks", UInt64(20), 5000), ("long64", UInt64(1), 5000)])
  func reverseStepiRetracesForwardSteps(guest: String, from exit: UInt64, count: Int) throws {
    let session = try RecordingCache.shared.session(of: guest)
    _ = try session.seek(to: Position(exit: exit))
    var forward = [try session.observe()]
    var interruptEntries = 0
    for _ in 0..<count {
      let stop = try session.stepi()
      // A recording made on a fast host can end sooner (fewer busy-wait iterations per tick).
      if case .endOfHistory = stop, forward.count > 1000 { break }
      try #require(stop == .stepped, "stepi stopped with \(stop) at \(forward.last!)")
      let o = try session.observe()
      if o.position.exit == forward.last!.position.exit, o.rip != forward.last!.rip, isHandlerEntry(o, after: forward.last!) {
        interruptEntries += 1
      }
      forward.append(o)
    }
    #expect(forward.last!.position.exit > exit, "\(count) steps from \(exit) crossed no exit")
    let count = forward.count - 1
    for i in stride(from: count - 1, through: 0, by: -1) {
      let stop = try session.reverseStepi()
      try #require(stop == .stepped, "reverse-stepi stopped with \(stop) going to \(forward[i])")
      let o = try session.observe()
      try #require(o == forward[i], "reverse step \(count - i): got \(o), forward saw \(forward[i])")
    }
    print("\(guest): \(count) reverse steps from exit \(exit) to \(forward.last!.position) met the forward states")
  }

  private func isHandlerEntry(_ o: Observation, after previous: Observation) -> Bool { false }

  @Test func reverseStepiAtTheStartReportsStartOfHistory() throws {
    let session = try RecordingCache.shared.session(of: "hello")
    _ = try session.seek(to: Position(exit: 0, instructions: 2))
    #expect(try session.reverseStepi() == .stepped)
    #expect(try session.reverseStepi() == .stepped)
    #expect(try session.position() == .start)
    #expect(try session.reverseStepi() == .startOfHistory)
    #expect(try session.position() == .start)
  }
}
