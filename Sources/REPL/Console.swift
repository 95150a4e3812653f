import Foundation

/// Where the REPL writes. Results and the guest's console output go to stdout, errors and the
/// progress line to stderr; every write is unbuffered, so a pipe that joins both keeps their
/// order. The progress line (a tty only) is cleared before anything else is written.
public final class Console: @unchecked Sendable {
  public let style: Style
  /// Whether the progress line may be shown (stderr is a terminal).
  public let showsProgress: Bool
  private let sink: @Sendable (Int32, [UInt8]) -> Void
  private let lock = NSLock()
  // Guarded by `lock`.
  private var statusShown = false
  private var atLineStart = true
  private var tickerGeneration = 0

  /// `sink` receives (file descriptor, bytes); the default writes them to the descriptor.
  public init(style: Style, showsProgress: Bool, sink: @escaping @Sendable (Int32, [UInt8]) -> Void = Console.writeAll) {
    self.style = style
    self.showsProgress = showsProgress
    self.sink = sink
  }

  /// One line of REPL output (a newline is added; a guest line left open is closed first).
  public func line(_ text: String) {
    lock.withLock {
      clearStatusLocked()
      if !atLineStart { sink(1, [10]) }
      sink(1, Array((text + "\n").utf8))
      atLineStart = true
    }
  }

  public func lines(_ texts: [String]) { for t in texts { line(t) } }

  /// A one-line error on stderr.
  public func error(_ message: String) {
    lock.withLock {
      clearStatusLocked()
      if !atLineStart {
        sink(1, [10])
        atLineStart = true
      }
      sink(2, Array((style.error("error:") + " " + message + "\n").utf8))
    }
  }

  /// A warning on stderr (start-up notes such as missing symbols).
  public func note(_ message: String) {
    lock.withLock {
      clearStatusLocked()
      sink(2, Array((message + "\n").utf8))
    }
  }

  /// Bytes the guest wrote to its console, as they are.
  public func guest(_ bytes: [UInt8]) {
    guard !bytes.isEmpty else { return }
    lock.withLock {
      clearStatusLocked()
      sink(1, bytes)
      atLineStart = bytes.last == 10
    }
  }

  /// Shows (or with nil clears) the progress line.
  public func status(_ text: String?) {
    guard showsProgress else { return }
    lock.withLock {
      if let text {
        sink(2, Array(("\r\u{1B}[K" + style.dim(text)).utf8))
        statusShown = true
      } else {
        clearStatusLocked()
      }
    }
  }

  private func clearStatusLocked() {
    guard statusShown else { return }
    sink(2, Array("\r\u{1B}[K".utf8))
    statusShown = false
  }

  /// Runs `body` and, on a terminal, shows "LABEL... 1.2 s (Ctrl-C stops)" while it takes
  /// longer than a moment (the engine's run loop is on this thread, so a timer thread draws it).
  public func withTicker<T>(_ label: String, _ body: () throws -> T) rethrows -> T {
    guard showsProgress else { return try body() }
    let generation = lock.withLock { () -> Int in
      tickerGeneration += 1
      return tickerGeneration
    }
    let start = Date()
    Thread.detachNewThread { [self] in
      Thread.sleep(forTimeInterval: 0.2)
      while true {
        let elapsed = Date().timeIntervalSince(start)
        let alive = lock.withLock { () -> Bool in
          guard tickerGeneration == generation else { return false }
          sink(2, Array(("\r\u{1B}[K" + style.dim("\(label)... \(String(format: "%.1f", elapsed)) s (Ctrl-C stops)")).utf8))
          statusShown = true
          return true
        }
        if !alive { return }
        Thread.sleep(forTimeInterval: 0.25)
      }
    }
    defer {
      lock.withLock {
        tickerGeneration += 1
        clearStatusLocked()
      }
    }
    return try body()
  }

  /// Writes all of `bytes` to `fd`, retrying after signals.
  public static let writeAll: @Sendable (Int32, [UInt8]) -> Void = { fd, bytes in
    var offset = 0
    while offset < bytes.count {
      let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
      if n > 0 {
        offset += n
      } else if n < 0 && errno == EINTR {
        continue
      } else {
        return
      }
    }
  }
}

/// Terminal colours: only on a terminal, and never when `NO_COLOR` is set (no-color.org).
public struct Style: Sendable {
  public let enabled: Bool

  public init(enabled: Bool) { self.enabled = enabled }

  /// Colour when `fd` is a terminal and the environment does not say NO_COLOR.
  public static func forTerminal(_ fd: Int32, environment: [String: String] = ProcessInfo.processInfo.environment) -> Style {
    let noColor = environment["NO_COLOR"].map { !$0.isEmpty } ?? false
    return Style(enabled: isatty(fd) == 1 && !noColor && environment["TERM"] != "dumb")
  }

  private func paint(_ code: String, _ text: String) -> String {
    enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
  }

  public func position(_ s: String) -> String { paint("36", s) }
  public func address(_ s: String) -> String { paint("34", s) }
  public func symbol(_ s: String) -> String { paint("33", s) }
  public func stop(_ s: String) -> String { paint("1", s) }
  public func error(_ s: String) -> String { paint("1;31", s) }
  public func dim(_ s: String) -> String { paint("2", s) }
  public func heading(_ s: String) -> String { paint("1", s) }
}
