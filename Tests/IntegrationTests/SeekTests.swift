import Foundation
import Testing

extension RecordingIntegrationTests {
  /// Seeking (restoring the nearest snapshot, then running forward) must reach exactly the state
  /// that replaying straight from position 0 reaches.
  @Suite(.serialized)
  struct SeekTests {
    @Test func seekingReachesTheSameStateAsReplayingFromTheStart() throws {
      let count = ProcessInfo.processInfo.environment["RETROVISOR_SEEKS"].flatMap { Int($0) } ?? 50
      try withTemporaryDirectory("seek") { dir in
        var rng = SeededGenerator("seek")
        let file = dir.path("ticks.rvr")
        let recorded = try recordGuest(ticksExpectation, to: file, using: &rng)
        #expect(recorded.status == ticksExpectation.status, "record: \(recorded)")
        let info = try runRetrovisor(["info", file], timeout: 30)
        let facts = try #require(RecordingInfo(info.stdout), "info: \(info)")
        let final = facts.exits
        try #require(final > 1)
        try requireCleanReplay(file, of: ticksExpectation)
        // Random positions, plus the first and the last one before the guest's exit.
        let positions = [1, final - 1] + (0..<max(0, count - 2)).map { _ in UInt64.random(in: 1..<final, using: &rng) }

        let (results, seconds) = timed {
          concurrentMap(positions.count) { i -> [String] in
            let n = positions[i]
            do {
              let seek = try runRetrovisor(["replay", file, "--to", "\(n)", "--hash", "-q"], timeout: 30)
              let straight = try runRetrovisor(
                ["replay", file, "--to", "\(n)", "--hash", "--from-start", "-q"], timeout: 30)
              var problems: [String] = []
              for (name, r) in [("seek", seek), ("from start", straight)] {
                if r.status != 0 || r.crashed || r.timedOut {
                  problems.append("\(name): \(r)")
                } else if !r.stdout.hasPrefix("position \(n)\nstate hash ") {
                  problems.append("\(name) printed \(r.stdout.debugDescription)")
                }
              }
              if problems.isEmpty && seek.stdout != straight.stdout {
                problems.append(
                  "seek and replay from the start differ:\n\(seek.stdout)--- from the start:\n\(straight.stdout)")
              }
              return problems.map { "position \(n): \($0)" }
            } catch {
              return ["position \(n): \(error)"]
            }
          }
        }
        print(String(format: "SeekTests: %d positions (2 replays each) in %.1f s", positions.count, seconds))
        let failures = results.flatMap { $0 }
        #expect(
          failures.isEmpty,
          "\(failures.count) problems (seed \(testSeed)):\n\(failures.prefix(20).joined(separator: "\n"))")
      }
    }

    /// `replay --to N` stops at N, exits 0 and prints the registers; the same seek with and without
    /// -q prints the same report, and without -q the console output before it is a piece of the
    /// guest's output (from the snapshot the seek started at, not necessarily from the start).
    @Test func seekingTwiceToAPositionPrintsTheSameRegisters() throws {
      let count = 6
      try withTemporaryDirectory("seek-repeat") { dir in
        var rng = SeededGenerator("seek-repeat")
        let file = dir.path("ticks.rvr")
        let recorded = try recordGuest(ticksExpectation, to: file, using: &rng)
        #expect(recorded.status == ticksExpectation.status, "record: \(recorded)")
        let info = try runRetrovisor(["info", file], timeout: 30)
        let facts = try #require(RecordingInfo(info.stdout), "info: \(info)")
        try #require(facts.exits > 1)
        try requireCleanReplay(file, of: ticksExpectation)
        let positions = (0..<count).map { _ in UInt64.random(in: 1..<facts.exits, using: &rng) }

        let results = concurrentMap(positions.count) { i -> [String] in
          let n = positions[i]
          do {
            let first = try runRetrovisor(["replay", file, "--to", "\(n)", "-q"], timeout: 30)
            let second = try runRetrovisor(["replay", file, "--to", "\(n)"], timeout: 30)
            var problems: [String] = []
            for (name, r) in [("first", first), ("second", second)] {
              if r.status != 0 || r.crashed || r.timedOut { problems.append("\(name): \(r)") }
            }
            if !problems.isEmpty { return problems.map { "position \(n): \($0)" } }
            // -q: only the report; without it the console output up to N comes first.
            if !first.stdout.hasPrefix("position \(n)\n") {
              problems.append("-q printed \(first.stdout.debugDescription)")
            }
            if !first.stdout.contains(/(?m)^rax +[0-9a-f]{16}/) || !first.stdout.contains(/(?m)^.*rip +[0-9a-f]{16}/) {
              problems.append("no registers in \(first.stdout.debugDescription)")
            }
            if stateReport(second.stdout) != first.stdout {
              problems.append("the two seeks differ:\n\(first.stdout)--- second:\n\(second.stdout)")
            }
            if let report = stateReport(second.stdout), let r = second.stdout.range(of: report, options: .backwards) {
              let console = String(second.stdout[..<r.lowerBound])
              if !console.isEmpty && !ticksExpectation.output.contains(console) {
                problems.append("console output before the stop: \(console.debugDescription)")
              }
            }
            return problems.map { "position \(n): \($0)" }
          } catch {
            return ["position \(n): \(error)"]
          }
        }
        let failures = results.flatMap { $0 }
        #expect(failures.isEmpty, "\(failures.count) problems (seed \(testSeed)):\n\(failures.joined(separator: "\n"))")
      }
    }
  }
}
