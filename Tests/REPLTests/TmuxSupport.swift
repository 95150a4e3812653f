import Foundation
import TestSupport

/// A REPL on a pseudo-terminal: a detached tmux session on a private server, driven with
/// `send-keys` and read back with `capture-pane` (the screen as the user sees it).
final class TmuxSession {
  let socket = "rv-test-\(getpid())-\(UUID().uuidString.prefix(8))"
  let width: Int
  let height: Int

  init(_ arguments: [String], environment: [String: String], width: Int = 160, height: Int = 45) throws {
    self.width = width
    self.height = height
    let env = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.quote($0.value))" }.joined(separator: " ")
    let command = "env -u NO_COLOR \(env) " + ([TestPaths.retrovisor] + arguments).map(Self.quote).joined(separator: " ")
    // The server that new-session starts keeps whatever stdout it is given: none, then.
    try tmux(["new-session", "-d", "-s", "t", "-x", "\(width)", "-y", "\(height)", command], capture: false)
    socketPath = try tmux(["display-message", "-p", "-t", "t", "#{socket_path}"]).trimmingCharacters(in: .whitespacesAndNewlines)
  }

  private var socketPath = ""

  /// Kills the REPL and the server outright: the server inherits the test runner's blocked
  /// signals, so `kill-server` (a SIGTERM to itself) would not end it.
  deinit {
    let ids = (try? tmux(["display-message", "-p", "-t", "t", "#{pane_pid} #{pid}"])) ?? ""
    for pid in ids.split(separator: " ") {
      if let n = Int32(pid.trimmingCharacters(in: .whitespacesAndNewlines)) { kill(n, SIGKILL) }
    }
    if !socketPath.isEmpty { try? FileManager.default.removeItem(atPath: socketPath) }
  }

  static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

  @discardableResult
  func tmux(_ arguments: [String], capture: Bool = true) throws -> String {
    let p = Process()
    // Through bash, which first closes every descriptor above 2: the tmux server a client
    // starts keeps the ones it inherits, among them the socket Foundation watches to learn
    // that the client ended.
    p.executableURL = URL(fileURLWithPath: "/bin/bash")
    p.arguments =
      [
        "-c",
        #"for f in /proc/$$/fd/*; do n=${f##*/}; if [ "$n" -gt 2 ]; then eval "exec $n>&-"; fi; done; exec tmux "$@""#,
        "tmux", "-L", socket, "-f", "/dev/null",
      ] + arguments
    p.standardError = FileHandle.nullDevice
    p.standardInput = FileHandle.nullDevice
    guard capture else {
      p.standardOutput = FileHandle.nullDevice
      try p.run()
      p.waitUntilExit()
      return ""
    }
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
  }

  /// Types `text` literally.
  func type(_ text: String) throws { try tmux(["send-keys", "-t", "t", "-l", text]) }

  /// Presses keys by tmux name: Enter, Tab, C-c, C-d, Up.
  func press(_ keys: String...) throws { try tmux(["send-keys", "-t", "t"] + keys) }

  /// The screen's lines, without the blank ones at the bottom.
  func screen(escapes: Bool = false) -> [String] {
    let text = (try? tmux(["capture-pane", "-p", "-t", "t"] + (escapes ? ["-e"] : []))) ?? ""
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    while let last = lines.last, last.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
    return lines
  }

  /// Waits until the screen satisfies `predicate`; false on timeout.
  @discardableResult
  func wait(timeout: TimeInterval = 20, _ predicate: ([String]) -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      if predicate(screen()) { return true }
      Thread.sleep(forTimeInterval: 0.05)
    }
    return predicate(screen())
  }

  /// Waits for the last line to be exactly `line` (a prompt with nothing typed: "(rv)").
  @discardableResult
  func waitForLastLine(_ line: String, timeout: TimeInterval = 20) -> Bool {
    wait(timeout: timeout) { $0.last == line }
  }

  /// Whether the program in the pane is still running.
  var isRunning: Bool {
    let out = (try? tmux(["list-panes", "-t", "t", "-F", "#{pane_dead}"])) ?? ""
    return out.trimmingCharacters(in: .whitespacesAndNewlines) == "0"
  }
}
