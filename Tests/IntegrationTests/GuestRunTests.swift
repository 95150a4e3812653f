import Foundation
import TestSupport
import Testing

/// Boots every test guest with `retrovisor run` on /dev/kvm and checks its exact console output.
@Suite(.serialized)
struct GuestRunTests {
  @Test(arguments: guestExpectations)
  func guestRunsToItsExpectedOutput(_ guest: GuestExpectation) throws {
    let result = try retrovisor(["run", TestPaths.guest(guest.name)], stdin: guest.input.map { Data($0.utf8) }, timeout: 30)
    #expect(!result.timedOut)
    #expect(result.stdout == guest.output)
    #expect(result.status == guest.status, "stderr: \(result.stderr)")
  }

  @Test func echoTakesInputArrivingWhileItRuns() throws {
    // Input through a shell pipe that trickles lines in with pauses, not all at once.
    let script =
      "(sleep 0.3; printf 'one\\n'; sleep 0.2; printf 'two\\nquit\\n') | '\(TestPaths.retrovisor)' run '\(TestPaths.guest("echo"))'"
    let result = try runProcess("/bin/sh", ["-c", script], timeout: 30)
    #expect(result.stdout == "echo ready\necho: one\necho: two\nbye\n")
    #expect(result.status == 1)
  }

  @Test func verboseReportsStatisticsAndTheSpinGuestWasPreempted() throws {
    let result = try retrovisor(["run", "--verbose", TestPaths.guest("spin")], timeout: 30)
    #expect(result.status == 1)
    #expect(result.stderr.contains("Multiboot ELF32 kernel"))
    // The spin guest never exits on its own while waiting: most of its ticks arrive through
    // kicks (one due while it prints arrives at that exit instead; how many varies with load).
    let kicked = result.stderr.firstMatch(of: /kicked (\d+)\)/).flatMap { Int($0.1) } ?? 0
    #expect(kicked >= 5, "stderr: \(result.stderr)")
    // The guest leaves its loop at its 20th tick, so it takes at least 20. It may take more
    // before its `cli`: a spinning guest is kicked only `Runner.kickGrace` (20 ms, two periods)
    // past a deadline, so guest time then lags host time and the next ticks are already due at
    // the handler's EOI exit. Whether one is due when the 20th returns depends on host timing
    // (20 here, 21 on nested stock KVM), and the lag is capped at `Runner.maxLag` (50 ms: five
    // periods), which bounds how many can come at once.
    let injected = result.stderr.firstMatch(of: /interrupts injected (\d+)/).flatMap { Int($0.1) } ?? 0
    #expect((20...25).contains(injected), "stderr: \(result.stderr)")
  }
}
