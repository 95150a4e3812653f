import Foundation
import TestSupport
import Testing

extension RecordingIntegrationTests {
  /// Damaged recordings: a recorder killed mid-run, a file cut at every length, random bit flips.
  /// `info` and `replay` must report the damage with a message and a documented status, and must
  /// never crash or hang on it.
  @Suite(.serialized)
  struct RecordingDamageTests {
    /// Starts `record` of the ticks guest (~0.5 s) and SIGKILLs it after a random 0.05-0.6 s, over and
    /// over. Whatever file is left must either be refused cleanly (too short to hold the initial
    /// snapshot) or replay without divergence up to where it ends, printing a prefix of the output.
    @Test func recorderKilledAtRandomMomentsLeavesUsableRecordings() throws {
      let kills = ProcessInfo.processInfo.environment["RETROVISOR_KILLS"].flatMap { Int($0) } ?? 12
      try withTemporaryDirectory("sigkill") { dir in
        var rng = SeededGenerator("sigkill")
        var failures: [String] = []
        var outcomes: [String] = []
        for i in 0..<kills {
          let delay = Double.random(in: 0.05...0.6, using: &rng)
          let file = dir.path("killed-\(i).rvr")
          // The run's timeout is the kill: it SIGKILLs the recorder at `delay` if still running.
          let killed = try ChildProcess.run(
            TestPaths.retrovisor, ["record", TestPaths.guest("ticks"), "-o", file], stdin: nil, timeout: delay
          ).timedOut
          let what = String(format: "kill %d after %.3f s", i, delay) + (killed ? "" : " (record had finished)")

          guard let size = (try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? UInt64 else {
            outcomes.append("\(what): no file")
            continue
          }
          let info = try runRetrovisor(["info", file], timeout: 10)
          let replay = try runRetrovisor(["replay", file], timeout: 30)
          var problems: [String] = []
          if info.crashed || info.timedOut { problems.append("info crashed or hung: \(info)") }
          if replay.crashed || replay.timedOut { problems.append("replay crashed or hung: \(replay)") }
          if info.status != 0 && info.status != 3 { problems.append("info: \(info)") }
          if !ticksExpectation.output.hasPrefix(replay.stdout) {
            problems.append("replayed output is not a prefix of the guest's: \(replay.stdout.debugDescription)")
          }
          if let facts = RecordingInfo(info.stdout) {
            // The file holds at least the initial snapshot: replay runs as far as the log goes.
            switch replay.status {
            case 0:
              if !replay.stderr.contains("end of the recorded log at position") || !replay.stderr.contains("cut short") {
                problems.append("replay status 0 without the end-of-log message: \(replay)")
              }
            case 1:
              if replay.stdout != ticksExpectation.output {
                problems.append("replay completed but printed \(replay.stdout.debugDescription)")
              }
            default:
              problems.append("replay: \(replay)")
            }
            if !killed && (info.status != 0 || !facts.complete) {
              problems.append("a finished recording is not intact: \(info.stdout)")
            }
            outcomes.append(
              "\(what): \(size) bytes, \(facts.exits) exits, info \(info.status), replay \(replay.status)")
          } else {
            // Too short for the initial snapshot (or even the header): a clean refusal.
            if info.status != 3 || !info.stderr.contains("retrovisor: ") { problems.append("info: \(info)") }
            if replay.status != 2 || !replay.stderr.contains("retrovisor: ") { problems.append("replay: \(replay)") }
            if !killed { problems.append("record finished but left an unreadable file") }
            outcomes.append(
              "\(what): \(size) bytes, refused: \(info.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
          }
          if !problems.isEmpty { failures.append("\(what) (\(size) bytes): " + problems.joined(separator: "; ")) }
        }
        print("RecordingDamageTests SIGKILL (seed \(testSeed)):\n  " + outcomes.joined(separator: "\n  "))
        #expect(
          failures.isEmpty,
          "\(failures.count) of \(kills) killed recordings failed:\n\(failures.joined(separator: "\n"))")
      }
    }

    /// Cuts a small recording short at many lengths: every byte of the header and around every
    /// chunk frame, and every $RETROVISOR_TRUNCATION_STRIDE-th (default 7) byte inside payloads
    /// (1: every length). `info` must name the torn chunk (status 3), or report a recording cut
    /// between chunks (status 0, "cut short"), never crash or hang; `replay -q` runs on every 97th
    /// length and must replay the intact part or refuse with a message.
    @Test func truncatedRecordingsAreReported() throws {
      let stride =
        ProcessInfo.processInfo.environment["RETROVISOR_TRUNCATION_STRIDE"].flatMap { Int($0) }.map { max(1, $0) } ?? 7
      try withTemporaryDirectory("truncate") { dir in
        var rng = SeededGenerator("truncate")
        let original = dir.path("hello.rvr")
        let recorded = try recordGuest(guestExpectations[0], to: original, using: &rng)
        #expect(recorded.status == 1, "record: \(recorded)")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: original)))
        let full = bytes.count
        let headerLength = recordingHeaderLength(bytes)
        let chunks = recordingChunkOffsets(bytes)
        try #require(chunks.count >= 3, "chunks at \(chunks)")

        var lengths = Set(0...min(headerLength + 48, full))
        for c in chunks + [full] { lengths.formUnion(max(0, c - 8)...min(full, c + 48)) }
        lengths.formUnion(Swift.stride(from: 0, through: full, by: stride))
        for n in Swift.stride(from: 0, through: full, by: 97) { lengths.insert(n) }
        let sorted = lengths.sorted()

        let (results, seconds) = timed {
          concurrentMap(sorted.count) { i -> [String] in
            let n = sorted[i]
            let file = dir.path("cut-\(n).rvr")
            defer { try? FileManager.default.removeItem(atPath: file) }
            var problems: [String] = []
            do {
              try Data(bytes[0..<n]).write(to: URL(fileURLWithPath: file))
              let info = try runRetrovisor(["info", file], timeout: 10)
              let message = RecordingInfo(info.stdout)?.damage ?? info.stderr
              if info.crashed || info.timedOut { problems.append("info crashed or hung: \(info)") }
              if n == full {
                if info.status != 0 { problems.append("info of the whole file: \(info)") }
              } else if n < headerLength {
                if info.status != 3 || !info.stderr.contains("truncated header") { problems.append("info: \(info)") }
              } else if chunks.contains(n) || n == full {
                // Cut between two chunks: intact but unfinished, or without the initial snapshot.
                let cleanCut = info.status == 0 && info.stdout.contains("cut short")
                let refused = info.status == 3 && info.stderr.contains("no initial snapshot")
                if !cleanCut && !refused { problems.append("info of a cut between chunks: \(info)\n\(info.stdout)") }
              } else {
                // Cut inside a chunk: that chunk is named as truncated.
                let torn = chunkContaining(n - 1, chunkOffsets: chunks)!
                let named = reportedChunk(message)
                if info.status != 3 || !message.contains("truncated") || named?.index != torn.index
                  || named?.offset != torn.offset
                {
                  problems.append(
                    "info should report chunk \(torn.index) at byte offset \(torn.offset) truncated: \(info)\n\(info.stdout)"
                  )
                }
              }
              if n % 97 == 0 {
                let replay = try runRetrovisor(["replay", "-q", file], timeout: 10)
                if replay.crashed || replay.timedOut { problems.append("replay crashed or hung: \(replay)") }
                switch replay.status {
                case 0:
                  if !replay.stderr.contains("end of the recorded log at position") {
                    problems.append("replay status 0 without the end-of-log message: \(replay)")
                  }
                case 1: break  // the intact part reaches the guest's exit
                case 2:
                  if !replay.stderr.contains("retrovisor: ") { problems.append("replay status 2 without a message") }
                default: problems.append("replay: \(replay)")
                }
              }
            } catch {
              problems.append("\(error)")
            }
            return problems.map { "length \(n) of \(full): \($0)" }
          }
        }
        print(
          String(format: "RecordingDamageTests truncation: %d of %d lengths in %.1f s", sorted.count, full + 1, seconds)
        )
        let failures = results.flatMap { $0 }
        #expect(failures.isEmpty, "\(failures.count) problems:\n\(failures.prefix(30).joined(separator: "\n"))")
      }
    }

    /// Flips one random bit of the ticks recording, 1000 times ($RETROVISOR_BITFLIPS): `info` must
    /// find every flip (all of the file is checksummed) and name the chunk that holds it, by index
    /// and byte offset (docs/recording-format.md).
    /// `replay -q` on 50 of them must refuse or report divergence, never crash or hang.
    @Test func randomBitFlipsAreDetected() throws {
      let count = ProcessInfo.processInfo.environment["RETROVISOR_BITFLIPS"].flatMap { Int($0) } ?? 1000
      let replayCount = min(50, count)
      try withTemporaryDirectory("bitflip") { dir in
        var rng = SeededGenerator("bitflip")
        let original = dir.path("ticks.rvr")
        let ticks = guestExpectations.first { $0.name == "ticks" }!
        let recorded = try recordGuest(ticks, to: original, using: &rng)
        #expect(recorded.status == 1, "record: \(recorded)")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: original)))
        let headerLength = recordingHeaderLength(bytes)
        let chunks = recordingChunkOffsets(bytes)
        let flips = (0..<count).map { _ in
          (offset: Int.random(in: 0..<bytes.count, using: &rng), bit: UInt8.random(in: 0..<8, using: &rng))
        }

        struct Outcome: Sendable {
          var problems: [String] = []
          var infoStatus: Int32 = -1
          var replayStatus: Int32?
          var replayMessage = ""
        }
        let (results, seconds) = timed {
          concurrentMap(count) { i -> Outcome in
            let (offset, bit) = flips[i]
            let what = "flip \(i): bit \(bit) of byte \(offset) (\(offset < headerLength ? "header" : "chunks"))"
            let file = dir.path("flip-\(i).rvr")
            defer { try? FileManager.default.removeItem(atPath: file) }
            var outcome = Outcome()
            do {
              var damaged = bytes
              damaged[offset] ^= 1 << bit
              try Data(damaged).write(to: URL(fileURLWithPath: file))
              let info = try runRetrovisor(["info", file], timeout: 10)
              outcome.infoStatus = info.status
              if info.crashed || info.timedOut { outcome.problems.append("\(what): info crashed or hung: \(info)") }
              let message = (RecordingInfo(info.stdout)?.damage ?? info.stderr)
              if info.status != 3 {
                outcome.problems.append("\(what): not detected: info \(info)")
              } else if let chunk = chunkContaining(offset, chunkOffsets: chunks) {
                // Documented: a flip is reported at the chunk containing it.
                let named = reportedChunk(message)
                if named?.index != chunk.index || named?.offset != chunk.offset {
                  outcome.problems.append(
                    "\(what): should be reported at chunk \(chunk.index) at byte offset \(chunk.offset): \(message)")
                }
              } else if message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                outcome.problems.append("\(what): status 3 without a message")
              }
              if i < replayCount {
                let replay = try runRetrovisor(["replay", "-q", file], timeout: 10)
                outcome.replayStatus = replay.status
                outcome.replayMessage = "\(what): \(replay)"
                if replay.crashed || replay.timedOut {
                  outcome.problems.append("\(what): replay crashed or hung: \(replay)")
                }
                if !replay.stderr.contains("retrovisor: ") {
                  outcome.problems.append("\(what): replay gave no message")
                }
              }
            } catch {
              outcome.problems.append("\(what): \(error)")
            }
            return outcome
          }
        }
        print(
          String(
            format: "RecordingDamageTests bit flips: %d info + %d replay runs in %.1f s", count, replayCount, seconds))
        let failures = results.flatMap(\.problems)
        #expect(failures.isEmpty, "\(failures.count) problems:\n\(failures.prefix(30).joined(separator: "\n"))")

        // A damaged recording must not replay as a success: it is refused (2, 3) or diverges (5).
        let accepted = results.filter { $0.replayStatus.map { ![2, 3, 5].contains($0) } ?? false }
        #expect(
          accepted.isEmpty,
          "\(accepted.count) of \(replayCount) replays of a bit-flipped recording exited with another status than 2, 3 or 5:\n\(accepted.prefix(10).map(\.replayMessage).joined(separator: "\n"))"
        )
      }
    }
  }
}
