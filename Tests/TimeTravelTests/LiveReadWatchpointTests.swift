import Foundation
import Testing

@testable import TimeTravel

/// Read and access watchpoints past the recorded end: the live machine takes the watched pages
/// out of KVM's view as replay does, so a live continue stops at the same accesses a replay of
/// a finished recording stops at, and the recording it writes still replays exactly.
@Suite(.serialized)
struct LiveReadWatchpointTests {
  struct Hit: Equatable, CustomStringConvertible {
    var rip: UInt64
    var old: [UInt8]
    var new: [UInt8]
    var description: String { "rip 0x\(String(rip, radix: 16)) \(old) -> \(new)" }
  }

  /// Every hit of a watchpoint on the field the `corrupt` guest smashes, going forward.
  func hits(_ session: Session, _ id: Int) throws -> ([Hit], [Observation], SessionStop) {
    var hits: [Hit] = []
    var observed: [Observation] = []
    while true {
      let stop = try session.continueForward()
      guard case .watchpoint(let hitID, _, _, let old, let new) = stop, hitID == id else { return (hits, observed, stop) }
      hits.append(Hit(rip: try session.registers().rip, old: old, new: new))
      observed.append(try session.observe())
    }
  }

  @Test(arguments: [WatchKind.read, WatchKind.access])
  func liveContinueStopsWhereReplayDoes(kind: WatchKind) throws {
    let symbols = try guestSymbols("corrupt")
    let nodes = try #require(symbols.symbol(named: "nodes"))
    // The oracle: the same watchpoint over a finished recording of the same guest.
    let oracle = try RecordingCache.shared.session(of: "corrupt")
    _ = try oracle.seek(to: oracle.endPosition)
    let node3 = UInt64(littleEndian32(try oracle.readMemory(nodes.value + 3 * 4, count: 4)))
    _ = try oracle.seek(to: .start)
    let expected = try hits(oracle, try oracle.addWatchpoint(kind, at: node3, length: 4).id).0
    try #require(!expected.isEmpty)

    let file = FileManager.default.temporaryDirectory.appendingPathComponent("live-\(kind)watch-\(getpid()).rvr").path
    defer { try? FileManager.default.removeItem(atPath: file) }
    let session = try liveSession("corrupt", file: file)
    let w = try session.addWatchpoint(kind, at: node3, length: 4)
    let (live, observed, end) = try hits(session, w.id)
    #expect(live == expected, "live hits \(live), replayed hits \(expected)")
    #expect(end == .endOfHistory(outcome: .debugExit(value: 3)))
    let endHash = try session.stateHash()

    // Backwards over what was recorded live: the same hits, latest first, one step earlier.
    for after in observed.reversed() {
      let stop = try session.reverseContinue()
      guard case .watchpoint(w.id, kind, node3, _, _) = stop else {
        Issue.record("reverse-continue gave \(stop); expected the hit before \(after)")
        return
      }
      let before = try session.position()
      _ = try session.stepi()
      #expect(try session.observe() == after)
      _ = try session.seek(to: before)
    }

    // The file written while watching replays exactly, to the same hits.
    let replay = try Session(archive: RecordingArchive(path: file))
    #expect(replay.archive.isComplete)
    let again = try hits(replay, try replay.addWatchpoint(kind, at: node3, length: 4).id)
    #expect(again.1 == observed)
    #expect(again.2 == end)
    #expect(try replay.stateHash() == endHash)
  }
}
