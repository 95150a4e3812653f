import Machine
import Testing

@testable import TimeTravel

@Suite(.serialized)
struct BreakpointWatchpointTests {
  /// The forward oracle: every instant where rip is at the breakpoint, going forward from the start.
  @Test func reverseContinueStopsAtTheLastBreakpointHitSeenForward() throws {
    let symbols = try guestSymbols("ticks")
    let handler = try #require(symbols.symbol(named: "isr_dispatch"), "ticks has no isr_dispatch")
    let session = try RecordingCache.shared.session(of: "ticks")
    session.addBreakpoint(at: handler.value)
    // Forward: collect every hit with continue.
    var hits: [Observation] = []
    while true {
      let stop = try session.continueForward()
      if case .breakpoint(_, let address) = stop {
        #expect(address == handler.value)
        #expect(try session.registers().rip == handler.value)
        hits.append(try session.observe())
      } else {
        #expect(stop == .endOfHistory(outcome: .debugExit(value: 0)), "forward ended with \(stop)")
        break
      }
    }
    try #require(hits.count >= 10, "only \(hits.count) hits of isr_dispatch")
    // Backward from the end: the same hits, latest first, then the start.
    for expected in hits.reversed() {
      let stop = try session.reverseContinue()
      guard case .breakpoint = stop else {
        Issue.record("reverse-continue gave \(stop), expected the hit at \(expected)")
        return
      }
      #expect(try session.observe() == expected)
    }
    #expect(try session.reverseContinue() == .startOfHistory)
    #expect(try session.position() == .start)
  }

  @Test func reverseContinueWithoutBreakpointsStopsAtTheStart() throws {
    let session = try RecordingCache.shared.session(of: "ticks")
    _ = try session.seek(to: Position(exit: 150, instructions: 3))
    #expect(try session.reverseContinue() == .startOfHistory)
    #expect(try session.position() == .start)
    #expect(try session.stateHash() == (try RecordingCache.shared.session(of: "ticks").stateHash()))
  }

  /// The corrupt guest's bug: a write watchpoint on node 3's magic field, then reverse-continue
  /// from the crash, stops on the buggy store in fill_scratch; forward, the same watchpoint
  /// stops right after that same instruction.
  @Test func watchpointFindsTheCorruptGuestsBuggyStore() throws {
    let symbols = try guestSymbols("corrupt")
    let nodes = try #require(symbols.symbol(named: "nodes"))
    let fill = try #require(symbols.symbol(named: "fill_scratch"))
    let session = try RecordingCache.shared.session(of: "corrupt")
    _ = try session.seek(to: session.endPosition)
    let node3 = UInt64(littleEndian32(try session.readMemory(nodes.value + 3 * 4, count: 4)))
    #expect(littleEndian32(try session.readMemory(node3, count: 4)) == 0xDEAD_BEEF)
    try session.addWatchpoint(.write, at: node3, length: 4)

    let stop = try session.reverseContinue()
    guard case .watchpoint(_, .write, let address, let old, let new) = stop else {
      Issue.record("reverse-continue gave \(stop)")
      return
    }
    #expect(address == node3)
    #expect(littleEndian32(old) == 0x4E4F_4445)  // "NODE"
    #expect(littleEndian32(new) == 0xDEAD_BEEF)
    let rip = try session.registers().rip
    #expect((fill.value..<fill.value + fill.size).contains(rip), "stopped at 0x\(String(rip, radix: 16)), not in fill_scratch")
    // Before the store: the field still holds the magic.
    #expect(littleEndian32(try session.readMemory(node3, count: 4)) == 0x4E4F_4445)
    let buggyStore = try session.position()

    // Forward from the start: first the allocation's store, then the bug.
    _ = try session.seek(to: .start)
    guard case .watchpoint(_, _, _, _, let firstNew) = try session.continueForward() else {
      Issue.record("forward: no first write")
      return
    }
    #expect(littleEndian32(firstNew) == 0x4E4F_4445)
    guard case .watchpoint(_, _, _, let old2, let new2) = try session.continueForward() else {
      Issue.record("forward: no second write")
      return
    }
    #expect(littleEndian32(old2) == 0x4E4F_4445 && littleEndian32(new2) == 0xDEAD_BEEF)
    #expect(try session.reverseStepi() == .stepped)
    #expect(try session.position() == buggyStore)
  }
}
