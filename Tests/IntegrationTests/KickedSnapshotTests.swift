import Foundation
import TestSupport
import Testing

extension RecordingIntegrationTests {
  /// Snapshots at kicked points (`record --kicked-snapshot-gap`, `replay --kicked-snapshots`):
  /// a replay that restores them instead of finding the points by breakpoint hits must come out
  /// exactly as one that finds every point: same console output, status, verified snapshots,
  /// and the same full-state hash at the end.
  @Suite(.serialized)
  struct KickedSnapshotTests {
    let spin = guestExpectations.first { $0.name == "spin" }!

    @Test func restoringKickedSnapshotsReplaysLikeFindingThePoints() throws {
      try withTemporaryDirectory("kicked-snapshots") { dir in
        let file = dir.path("spin.rvr")
        let recorded = try runRetrovisor(
          ["record", TestPaths.guest("spin"), "-o", file, "--kicked-snapshot-gap", "0"], timeout: 60)
        try #require(recorded.status == spin.status && recorded.stdout == spin.output, "record: \(recorded)")

        let info = try runRetrovisor(["info", file], timeout: 30)
        let facts = try #require(RecordingInfo(info.stdout), "info:\n\(info.stdout)")
        #expect(facts.verifiedChunks == facts.chunkCount, "checksums line:\n\(info.stdout)")
        try #require(facts.kickedPoints > 0, "no kicked points in the spin guest:\n\(info.stdout)")
        // Gap 0: every kicked point has its snapshot.
        let kicked = info.stdout.firstMatch(of: /(?m)^kicked +(\d+) snapshots at kicked points/).flatMap { Int($0.1) }
        #expect(kicked == facts.kickedPoints, "info:\n\(info.stdout)")

        var ends: [String: String] = [:]
        for use in ["never", "always", "fallback"] {
          let replay = try runRetrovisor(["replay", "-v", "--kicked-snapshots", use, file], timeout: 30)
          #expect(replay.status == spin.status && !replay.crashed, "\(use): \(replay)")
          #expect(replay.stdoutData == recorded.stdoutData, "\(use): \(replay)")
          let v = replayVerification(replay.stderr)
          #expect(v?.position == facts.exits, "\(use): \(replay)")
          #expect(v?.verified == facts.snapshots - 1, "\(use): \(replay)")
          let restored = replay.stderr.firstMatch(of: /(\d+) kicked snapshot\(s\) restored/).flatMap { Int($0.1) }
          switch use {
          case "never": #expect(restored == 0, "\(replay)")
          case "always": #expect(restored == kicked, "\(replay)")
          default: #expect(restored == 0, "the spin guest's points are found in time: \(replay)")
          }
          // The last exit comes after every kicked point: the state there must not depend on
          // how they were reached.
          let at = try runRetrovisor(
            ["replay", "-q", "--to", "\(facts.exits - 1)", "--hash", "--kicked-snapshots", use, file], timeout: 30)
          #expect(at.status == 0, "\(use): \(at)")
          ends[use] = stateReport(at.stdout)
        }
        #expect(ends["never"] != nil && ends["always"] == ends["never"] && ends["fallback"] == ends["never"], "\(ends)")
      }
    }

    @Test func badKickedSnapshotOptionsAreRefused() throws {
      let replay = try runRetrovisor(["replay", "--kicked-snapshots", "sometimes", "/nonexistent.rvr"], timeout: 30)
      #expect(replay.status == 64 && replay.stderr.contains("sometimes"), "\(replay)")
      let record = try runRetrovisor(
        ["record", TestPaths.guest("spin"), "-o", "/dev/null", "--kicked-snapshot-gap=-1"], timeout: 30)
      #expect(record.status == 64 && record.stderr.contains("--kicked-snapshot-gap"), "\(record)")
    }
  }
}
