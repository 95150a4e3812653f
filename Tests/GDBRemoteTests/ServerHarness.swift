import Foundation

@testable import GDBRemote

/// Runs a `GDBServer` on an ephemeral loopback port on its own thread, as the engine will.
final class ServerHarness: @unchecked Sendable {
  let server: GDBServer
  let target: FakeTarget
  private let finished = DispatchSemaphore(value: 0)
  private let lock = NSLock()
  private var _outcome: GDBServer.Outcome?
  private var _log: [String] = []

  init(target: FakeTarget = FakeTarget()) throws {
    self.target = target
    let logBox = LogBox()
    server = try GDBServer(port: 0, log: { logBox.append($0) })
    self.logBox = logBox
    Thread.detachNewThread { [self] in
      let outcome = server.serve(target)
      lock.withLock { _outcome = outcome }
      finished.signal()
    }
  }

  private let logBox: LogBox
  var log: [String] { logBox.lines }
  var port: UInt16 { server.port }

  /// Waits (bounded) for `serve` to return.
  func waitForEnd(seconds: Double = 10) -> GDBServer.Outcome? {
    guard finished.wait(timeout: .now() + seconds) == .success else { return nil }
    finished.signal()
    return lock.withLock { _outcome }
  }

  func stop() {
    server.stop()
    _ = waitForEnd()
  }
}

final class LogBox: @unchecked Sendable {
  private let lock = NSLock()
  private var _lines: [String] = []
  func append(_ line: String) { lock.withLock { _lines.append(line) } }
  var lines: [String] { lock.withLock { _lines } }
}
