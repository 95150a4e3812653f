import Machine
import Recording
import Testing

@testable import TimeTravel

/// The fallbacks the engine picks on hosts where debug-register breakpoints do not fire,
/// forced here with `Session.Options.mechanisms` / `Replayer(mechanisms:)`: they must stop at
/// the same instants and replay exactly, like the debug registers do.
@Suite(.serialized)
struct BreakpointMethodTests {
  /// The probed mechanisms with debug-register breakpoints turned off: the `hlt` patch.
  static var haltPatch: HostMechanisms {
    var m = HostProbe.mechanisms()
    m.executeBreakpointFires = ProbeFinding(false, "forced by the test")
    m.executeBreakpointRefires = .unknown("forced by the test")
    return m
  }

  @Test func theProbeFindsAMethodAndTheFallbackIsThePatch() {
    #expect(HostProbe.mechanisms().singleStepWorks.value == true)
    #expect(Self.haltPatch.breakpointMethod == .haltPatch, "\(HostProbe.mechanisms())")
    #expect(Self.haltPatch.stepOverBreakpointHits)
  }

  /// Forward and backward over the first hits of `isr_dispatch` on `ticks`: the patch stops at
  /// the same instants (position, rip, full-state hash) as the probed method.
  @Test func haltPatchBreakpointsStopWhereDebugRegistersDo() throws {
    let symbols = try guestSymbols("ticks")
    let handler = try #require(symbols.symbol(named: "isr_dispatch")).value
    func hits(_ options: Session.Options, count: Int) throws -> [Observation] {
      let session = try RecordingCache.shared.session(of: "ticks", options: options)
      session.addBreakpoint(at: handler)
      var seen: [Observation] = []
      for _ in 0..<count {
        let stop = try session.continueForward()
        guard case .breakpoint = stop else { break }
        seen.append(try session.observe())
      }
      // Back again: the same hits in reverse, then the start.
      for expected in seen.reversed().dropFirst() {
        let stop = try session.reverseContinue()
        guard case .breakpoint = stop else {
          Issue.record("reverse-continue gave \(stop), expected \(expected)")
          break
        }
        #expect(try session.observe() == expected)
      }
      return seen
    }
    var patched = Session.Options()
    patched.mechanisms = Self.haltPatch
    let reference = try hits(Session.Options(), count: 4)
    try #require(reference.count == 4)
    #expect(try hits(patched, count: 4) == reference)
  }

  /// `spin` records kicked points; the patch finds them again and the replay is exact.
  @Test func haltPatchFindsKickedPointsExactly() throws {
    let archive = try RecordingArchive(path: RecordingCache.shared.recording(of: "spin"))
    try #require(archive.groups.contains { $0.kick != nil }, "spin recorded no kicked point")
    let replayer = try Replayer(archive: archive, console: { _ in }, mechanisms: Self.haltPatch)
    let stop = try replayer.run()
    try replayer.verifyEnd(stop)
    #expect(replayer.kickSearchHits > 0)
    #expect(replayer.verifiedSnapshots == archive.snapshots.count - 1)
  }
}
