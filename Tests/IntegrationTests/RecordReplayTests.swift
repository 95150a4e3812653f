import Foundation
import TestSupport
import Testing

extension RecordingIntegrationTests {
  /// Records every test guest once and replays the recording many times on /dev/kvm: the console
  /// output must come back byte for byte, with the recorded exit status, every snapshot hash
  /// verified, and the replay must end at the position `info` reports.
  @Suite(.serialized)
  struct RecordReplayTests {
    @Test(arguments: recordedGuests)
    func recordingReplaysIdentically(_ guest: GuestExpectation) throws {
      try withTemporaryDirectory("replay-\(guest.name)") { dir in
        var rng = SeededGenerator("record-\(guest.name)")
        let file = dir.path("\(guest.name).rvr")

        let recorded = try recordGuest(guest, to: file, using: &rng)
        #expect(!recorded.timedOut && !recorded.crashed, "record: \(recorded)")
        #expect(recorded.stdout == guest.output, "record: \(recorded)")
        #expect(recorded.status == guest.status, "record: \(recorded)")

        let info = try runRetrovisor(["info", file], timeout: 30)
        #expect(info.status == 0, "info: \(info)\n\(info.stdout)")
        let facts = try #require(RecordingInfo(info.stdout), "info printed no exits line:\n\(info.stdout)")
        #expect(facts.complete)
        #expect(facts.damage == nil)
        #expect(facts.snapshots >= 1)
        #expect(facts.chunkCount > 0)
        #expect(facts.verifiedChunks == facts.chunkCount, "checksums line:\n\(info.stdout)")
        // spin and mixed test kicked points (contract point 4): interrupts where no exit is.
        if spinningGuestNames.contains(guest.name) {
          #expect(facts.kickedPoints > 0, "no kicked points in a spinning guest:\n\(info.stdout)")
        }

        // Replay N times; collect the failures so an intermittent one is reported with its rate.
        var failures: [String] = []
        var replays = 0
        var hangs = 0
        // A replay takes about as long as the guest ran (at most ~1 s): 15 s means it hangs.
        let timeout: TimeInterval = 15
        // Hangs cost the whole timeout each; after two, stop replaying this recording.
        while replays < replaysPerRecording && hangs < 2 {
          replays += 1
          let i = replays
          let replay = try runRetrovisor(["replay", "-v", file], timeout: timeout)
          var problems: [String] = []
          if replay.timedOut {
            hangs += 1
            problems.append("hung: killed after \(Int(timeout)) s")
          } else if replay.crashed {
            problems.append("crashed")
          }
          if replay.status != guest.status { problems.append("status \(replay.status), expected \(guest.status)") }
          if replay.stdoutData != recorded.stdoutData {
            problems.append("console output differs: \(replay.stdout.debugDescription)")
          }
          if let v = replayVerification(replay.stderr) {
            if v.position != facts.exits {
              problems.append("replayed to position \(v.position), info says \(facts.exits) exits")
            }
            // Every snapshot after the initial one (position 0, the starting state) is checked.
            if v.verified < facts.snapshots - 1 {
              problems.append("\(v.verified) snapshot hashes verified of \(facts.snapshots - 1)")
            }
          } else if replay.status == guest.status {
            problems.append("no \"snapshot hashes verified\" line")
          }
          if !problems.isEmpty {
            failures.append("replay \(i): \(problems.joined(separator: "; ")); \(replay)")
          }
        }
        #expect(
          failures.isEmpty,
          """
          \(failures.count) of \(replays) replays of \(guest.name) failed\(hangs >= 2 ? " (stopped after 2 hangs)" : "") \
          (seed \(testSeed)):
          \(failures.joined(separator: "\n"))
          """
        )
      }
    }

    @Test func replayRefusesAnotherImageAndAcceptsTheRecordedOne() throws {
      try withTemporaryDirectory("replay-image") { dir in
        var rng = SeededGenerator("image")
        let file = dir.path("hello.rvr")
        let recorded = try recordGuest(guestExpectations[0], to: file, using: &rng)
        #expect(recorded.status == 1, "record: \(recorded)")

        let wrong = try runRetrovisor(["replay", file, "--image", TestPaths.guest("ticks")], timeout: 30)
        #expect(wrong.status == 2, "\(wrong)")
        #expect(wrong.stderr.contains("is not the image this recording was made from"), "\(wrong)")
        #expect(wrong.stdout.isEmpty, "a refused replay printed console output: \(wrong.stdout.debugDescription)")
        #expect(!wrong.crashed)

        let right = try runRetrovisor(["replay", file, "--image", TestPaths.guest("hello")], timeout: 30)
        #expect(right.status == 1, "\(right)")
        #expect(right.stdout == "Hello from Retrovisor guest\n")
      }
    }

    @Test func quietReplayPrintsNoConsoleOutputButKeepsTheStatus() throws {
      try withTemporaryDirectory("replay-quiet") { dir in
        var rng = SeededGenerator("quiet")
        let file = dir.path("corrupt.rvr")
        let corrupt = guestExpectations.first { $0.name == "corrupt" }!
        let recorded = try recordGuest(corrupt, to: file, using: &rng)
        #expect(recorded.status == corrupt.status, "record: \(recorded)")

        let quiet = try runRetrovisor(["replay", "-q", file], timeout: 30)
        #expect(quiet.status == corrupt.status, "\(quiet)")
        #expect(quiet.stdoutData.isEmpty, "replay -q printed \(quiet.stdout.debugDescription)")
      }
    }
  }
}
