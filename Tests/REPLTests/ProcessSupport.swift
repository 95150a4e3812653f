import Foundation
import TestSupport

/// A retrovisor process with a pipe for stdin and one pipe for both stdout and stderr (the
/// REPL writes unbuffered, so their order is kept).
final class RunningREPL: @unchecked Sendable {
  let process = Process()
  private let input = Pipe()
  private let output = Pipe()
  private let lock = NSLock()
  private var collected = Data()
  private let done = DispatchSemaphore(value: 0)

  init(_ arguments: [String], environment: [String: String] = [:]) throws {
    process.executableURL = URL(fileURLWithPath: TestPaths.retrovisor)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["NO_COLOR"] = nil
    for (k, v) in environment { env[k] = v }
    process.environment = env
    process.standardInput = input
    process.standardOutput = output
    process.standardError = output
    output.fileHandleForReading.readabilityHandler = { [weak self] h in
      let d = h.availableData
      guard let self else { return }
      if d.isEmpty {
        h.readabilityHandler = nil
        self.done.signal()
      } else {
        self.lock.withLock { self.collected.append(d) }
      }
    }
    try process.run()
  }

  var text: String { lock.withLock { String(decoding: collected, as: UTF8.self) } }

  func send(_ text: String) { input.fileHandleForWriting.write(Data(text.utf8)) }

  func closeInput() { try? input.fileHandleForWriting.close() }

  /// Waits until the output so far satisfies `predicate`; false on timeout.
  func wait(timeout: TimeInterval = 20, until predicate: (String) -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      if predicate(text) { return true }
      Thread.sleep(forTimeInterval: 0.02)
    }
    return predicate(text)
  }

  /// Waits for the process to end (killing it after `timeout`): its status and all output.
  func finish(timeout: TimeInterval = 60) -> (status: Int32, output: String) {
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
    if process.isRunning {
      process.terminate()
      process.waitUntilExit()
    }
    // End of output: EOF, or (when a sibling process spawned meanwhile inherited the pipe)
    // no more bytes for a moment after the exit.
    var seen = -1
    while done.wait(timeout: .now() + 0.2) == .timedOut {
      let count = lock.withLock { collected.count }
      if count == seen { break }
      seen = count
    }
    return (process.terminationStatus, text)
  }
}

/// Runs `retrovisor ARGS` with `script` on stdin: status and merged output.
func runREPL(_ arguments: [String], script: String, environment: [String: String] = [:], timeout: TimeInterval = 60)
  throws -> (status: Int32, output: String)
{
  let p = try RunningREPL(arguments, environment: environment)
  p.send(script)
  p.closeInput()
  return p.finish(timeout: timeout)
}

/// The script's lines joined with newlines (and a final one).
func script(_ lines: String...) -> String { lines.joined(separator: "\n") + "\n" }
