import Foundation
import Machine
import TestSupport
import TimeTravel

@testable import REPL

/// Recordings made once per test process, and in-process REPLs on them.
final class REPLHarness: @unchecked Sendable {
  static let shared = REPLHarness()
  private let lock = NSLock()
  private var files: [String: String] = [:]
  let dir: URL = {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("retrovisor-repl-\(getpid())")
    try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
    return d
  }()

  func recording(of guest: String) throws -> String {
    lock.lock()
    defer { lock.unlock() }
    if let f = files[guest] { return f }
    let file = dir.appendingPathComponent("\(guest).rvr").path
    // The initial snapshot only: the listings and the console output of a seek show where
    // snapshots are. The cost budget's count depends on the host's load, and a 100 ms interval
    // took a second one when the host clock paced the guest past 100 ms before its end.
    let arguments = [
      "record", TestPaths.guest(guest), "-o", file, "--snapshot-interval", "60000", "--snapshot-pages", "0",
      "--snapshot-budget", "1",
    ]
    let run = try ChildProcess.run(TestPaths.retrovisor, arguments, stdin: nil, timeout: 120)
    guard !run.timedOut && FileManager.default.fileExists(atPath: file) else {
      throw REPLError("recording \(guest) failed: status \(run.status)\(run.timedOut ? " (timed out)" : "")")
    }
    files[guest] = file
    return file
  }

  /// A REPL on a recording of `guest`, writing into `sink`.
  func repl(of guest: String, sink: @escaping @Sendable (Int32, [UInt8]) -> Void = { _, _ in }) throws -> REPL {
    let archive = try RecordingArchive(path: try recording(of: guest))
    let output = GuestOutput()
    let session = try REPL.makeSession(archive: archive, output: output)
    let symbols = try Symbols(elf: [UInt8](try Data(contentsOf: URL(fileURLWithPath: TestPaths.guest(guest)))))
    return REPL(
      session: session, guestOutput: output, symbols: symbols,
      console: Console(style: Style(enabled: false), showsProgress: false, sink: sink), interactive: false)
  }
}
