import Foundation
import Testing

@testable import TimeTravel

@Suite(.serialized)
struct SessionControlTests {
  /// A continue through a long recording stops promptly when another thread asks.
  @Test func requestInterruptStopsAContinue() throws {
    let session = try RecordingCache.shared.session(of: "mixed")
    let asked = Date()
    let handle = session.interrupter
    let interrupter = Thread {
      Thread.sleep(forTimeInterval: 0.05)
      handle.request()
    }
    interrupter.start()
    let stop = try session.continueForward()
    let took = Date().timeIntervalSince(asked)
    #expect(stop == .interrupted, "continue ended with \(stop) after \(took) s")
    #expect(try session.position() < session.endPosition)
    // The next continue is not interrupted by the old request.
    #expect(try session.continueForward() == .endOfHistory(outcome: .debugExit(value: 0)))
  }

  /// With a small checkpoint budget, many reverse steps still meet the forward states, and the
  /// checkpoints kept stay within a few times the budget.
  @Test func thinningKeepsCheckpointsNearTheBudget() throws {
    var options = Session.Options()
    options.checkpointBudget = 1 << 20
    let session = try RecordingCache.shared.session(of: "long64", options: options)
    _ = try session.seek(to: Position(exit: 10))
    var forward = [try session.observe()]
    for _ in 0..<2000 {
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
      #expect(session.checkpointBytes <= 2 * options.checkpointBudget, "\(session.checkpointBytes) bytes of checkpoints")
    }
    #expect(session.checkpointCount >= 2, "no checkpoints were made: the test does not exercise thinning")
    print("thinning: \(session.checkpointCount) checkpoints, \(session.checkpointBytes >> 10) KiB")
  }
}
