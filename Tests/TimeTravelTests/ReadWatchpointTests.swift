import Testing

@testable import TimeTravel

/// Read and access watchpoints (pages taken out of KVM's view so accesses exit): every hit going
/// forward, then the same hits going backward, latest first, each one instruction earlier
/// (backward stops before the accessing instruction, forward just after it).
@Suite(.serialized)
struct ReadWatchpointTests {
  @Test(arguments: [WatchKind.read, WatchKind.access])
  func reverseContinueMeetsEveryForwardHit(kind: WatchKind) throws {
    let symbols = try guestSymbols("corrupt")
    let nodes = try #require(symbols.symbol(named: "nodes"))
    let session = try RecordingCache.shared.session(of: "corrupt")
    _ = try session.seek(to: session.endPosition)
    let node3 = UInt64(littleEndian32(try session.readMemory(nodes.value + 3 * 4, count: 4)))
    let end = try session.stateHash()
    _ = try session.seek(to: .start)
    let w = try session.addWatchpoint(kind, at: node3, length: 4)

    var forward: [(Position, SessionStop)] = []
    while true {
      let stop = try session.continueForward()
      guard case .watchpoint = stop else {
        #expect(stop == .endOfHistory(outcome: .debugExit(value: 3)), "forward ended with \(stop)")
        break
      }
      forward.append((try session.position(), stop))
    }
    // The crash is found by reading the field; with `access`, the two writes (the allocation's
    // and the bug's) are hits too.
    print("\(kind) hits: \(forward.map { "\($0.0) \($0.1)" })")
    try #require(!forward.isEmpty, "no \(kind) hit at all")
    let writes = forward.filter { if case .watchpoint(_, _, _, let o, let n) = $0.1 { o != n } else { false } }
    #expect(writes.count == (kind == .access ? 2 : 0), "writes among the hits: \(writes.map(\.0))")
    // The state at the end is unchanged by watching (no guest-visible effect).
    #expect(try session.stateHash() == end)

    for (after, _) in forward.reversed() {
      let stop = try session.reverseContinue()
      guard case .watchpoint(let id, let k, let address, _, _) = stop else {
        Issue.record("reverse-continue gave \(stop); expected the hit before \(after)")
        return
      }
      #expect(id == w.id && k == kind && address == node3)
      let before = try session.position()
      // One step forward from there is the access itself.
      let again = try session.stepi()
      if case .watchpoint(let id2, _, _, _, _) = again { #expect(id2 == w.id) } else { Issue.record("stepi gave \(again)") }
      #expect(try session.position() == after, "the hit found backwards at \(before) is not the one before \(after)")
      _ = try session.seek(to: before)
    }
    #expect(try session.reverseContinue() == .startOfHistory)
  }
}
