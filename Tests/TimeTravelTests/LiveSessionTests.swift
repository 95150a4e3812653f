import Foundation
import Machine
import Recording
import Testing

@testable import TimeTravel

/// Live sessions: the guest runs (and is recorded) only as the session moves forward past the
/// recorded end; everything behind is replayed from the file being written.
@Suite(.serialized)
struct LiveSessionTests {
  /// Live steps forward, then back over what they recorded: the same states; then breakpoint
  /// hits forward (live) and backward (replayed) agree; the finished file replays to the same end.
  @Test func liveStepsAndBreakpointsAgreeWithTheirReplay() throws {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("live-\(getpid()).rvr").path
    defer { try? FileManager.default.removeItem(atPath: file) }
    let session = try liveSession("ticks", file: file)
    var forward = [try session.observe()]
    for _ in 0..<300 {
      #expect(try session.stepi() == .stepped)
      forward.append(try session.observe())
    }
    for i in stride(from: forward.count - 2, through: 0, by: -1) {
      #expect(try session.reverseStepi() == .stepped)
      let o = try session.observe()
      guard o == forward[i] else {
        Issue.record("reverse step to \(forward[i]) gave \(o)")
        return
      }
    }
    #expect(try session.reverseStepi() == .startOfHistory)

    let handler = try #require(try guestSymbols("ticks").symbol(named: "isr_dispatch"))
    session.addBreakpoint(at: handler.value)
    var hits: [Observation] = []
    for _ in 0..<5 {
      let stop = try session.continueForward()
      guard case .breakpoint = stop else {
        Issue.record("continue gave \(stop)")
        return
      }
      hits.append(try session.observe())
    }
    for expected in hits.dropLast().reversed() {
      let stop = try session.reverseContinue()
      guard case .breakpoint = stop else {
        Issue.record("reverse-continue gave \(stop), not the hit at \(expected)")
        return
      }
      let o = try session.observe()
      #expect(o == expected, "reverse-continue reached \(o)")
    }
    try session.deleteAll()
    #expect(try session.continueForward() == .endOfHistory(outcome: .debugExit(value: 0)))
    let end = try session.stateHash()
    let replayed = try Session(archive: RecordingArchive(path: file))
    _ = try replayed.seek(to: replayed.endPosition)
    #expect(try replayed.stateHash() == end)
    #expect(replayed.archive.isComplete)
  }

  /// Past the recorded end, more breakpoints than debug registers still stop where the same
  /// breakpoints stop in a replay of the finished file.
  @Test func fiveBreakpointsPastTheRecordedEnd() throws {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("live5-\(getpid()).rvr").path
    defer { try? FileManager.default.removeItem(atPath: file) }
    let session = try liveSession("ticks", file: file)
    let handler = try #require(try guestSymbols("ticks").symbol(named: "isr_dispatch"))
    session.addBreakpoint(at: handler.value)
    var hits: [Observation] = []
    for round in 0..<3 {
      // The first hit with one breakpoint (debug registers), the next ones with five (stepping).
      if round == 1 {
        for a in [0xFFF0_0000, 0xFFF0_0010, 0xFFF0_0020, 0xFFF0_0030] as [UInt64] { session.addBreakpoint(at: a) }
      }
      let stop = try session.continueForward()
      guard case .breakpoint(_, let address) = stop, address == handler.value else {
        Issue.record("continue gave \(stop)")
        return
      }
      hits.append(try session.observe())
    }
    try session.deleteAll()
    #expect(try session.continueForward() == .endOfHistory(outcome: .debugExit(value: 0)))
    let replay = try Session(archive: RecordingArchive(path: file))
    for a in [handler.value, 0xFFF0_0000, 0xFFF0_0010, 0xFFF0_0020, 0xFFF0_0030] { replay.addBreakpoint(at: a) }
    for expected in hits {
      _ = try replay.continueForward()
      #expect(try replay.observe() == expected)
    }
  }

  /// Live steps while timer deadlines keep passing: a clock that moves 1 ms at every reading
  /// puts a deadline between any two readings of one loop turn now and then. The live loop once
  /// read it twice (is a delivery due, so note a kicked point? then: deliver what is due), so a
  /// deadline passing in between was delivered with no kicked point, and replay handed it over
  /// at the exit before. Every state the live steps reach must be met again by replay.
  @Test func liveStepsWhileDeadlinesPassReplayExactly() throws {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("livehurry-\(getpid()).rvr").path
    defer { try? FileManager.default.removeItem(atPath: file) }
    let clock = HurriedHostClock(step: 1_000_000)
    let session = try liveSession("ticks", file: file, pacer: HostPacedClockSource(now: clock.now))
    // To the first timer interrupt: from there on the timer keeps firing.
    let handler = try #require(try guestSymbols("ticks").symbol(named: "isr_dispatch"))
    session.addBreakpoint(at: handler.value)
    guard case .breakpoint = try session.continueForward() else {
      Issue.record("no timer interrupt")
      return
    }
    try session.deleteAll()
    var forward = [try session.observe()]
    for _ in 0..<150 {
      #expect(try session.stepi() == .stepped)
      forward.append(try session.observe())
    }
    let replay = try Session(archive: RecordingArchive(path: file))
    #expect(try replay.seek(to: forward[0].position) == .arrived)
    #expect(try replay.observe() == forward[0])
    for expected in forward.dropFirst() {
      #expect(try replay.stepi() == .stepped)
      let o = try replay.observe()
      guard o == expected else {
        Issue.record("the replay stepped to \(o), the live steps to \(expected)")
        return
      }
    }
  }

  /// KVM reports whether the guest can take an interrupt (`ready_for_interrupt_injection`) only
  /// when KVM_RUN returns. Replay injects on that word right after restoring a snapshot or a
  /// checkpoint, so a restore must bring it up to date: it once still described the state
  /// before the restore, and an interrupt went in with IF clear.
  @Test func restoringAStateRefreshesInterruptReadiness() throws {
    let replayer = try RecordingCache.shared.session(of: "ticks").replayer
    let vcpu = replayer.platform.vcpu
    #expect(try replayer.run(afterExit: { vcpu.readyForInterruptInjection }) == .checked)
    try replayer.restoreSnapshot(atOrBefore: 0)
    #expect(try vcpu.registers().rflags & 0x200 == 0)
    #expect(!vcpu.readyForInterruptInjection)
  }
}
