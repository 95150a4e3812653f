import Machine
import Recording
import Testing

@testable import TimeTravel

/// Kicked snapshots skip the guest's run to a kicked point. With a breakpoint armed, replay
/// must run that stretch anyway: a stop there comes at the same instant whether or not the
/// recording holds a snapshot of the point.
@Suite(.serialized)
struct KickedSnapshotStopTests {
  @Test func aBreakpointBeforeAKickedPointIsNotSkipped() throws {
    // Gap 0: every kicked point of `spin` has its snapshot.
    let file = try RecordingCache.shared.recording(of: "spin", options: ["--kicked-snapshot-gap", "0"])
    let archive = try RecordingArchive(path: file)
    let kick = try #require(archive.groups.first { $0.kick != nil }?.kick, "spin recorded no kicked point")
    try #require(!archive.kickedSnapshots.isEmpty, "the recording holds no kicked snapshot")
    // The kicked point's rip lies in the guest's busy loop, which passes it long before the kick.
    let loop = kick.registers.rip

    func firstStop(_ use: Replayer.KickedSnapshotUse) throws -> (stop: Replayer.Stop, observed: String, restored: Int) {
      let replayer = try Replayer(archive: archive, console: { _ in })
      replayer.kickedSnapshotUse = use
      let stop = try replayer.run(breakpoints: [loop])
      let regs = try replayer.platform.vcpu.registers()
      let observed = "position \(replayer.position) rip 0x\(String(regs.rip, radix: 16)) \(try replayer.stateHash())"
      return (stop, observed, replayer.kickedSnapshotsRestored)
    }
    let searched = try firstStop(.never)
    #expect(searched.stop == .breakpoint(loop))
    for use in [Replayer.KickedSnapshotUse.always, .fallback] {
      let restoring = try firstStop(use)
      #expect(restoring.stop == searched.stop, "\(use)")
      #expect(restoring.observed == searched.observed, "\(use)")
      #expect(restoring.restored == 0, "\(use): a kicked snapshot was restored while a breakpoint was armed")
    }
  }
}
