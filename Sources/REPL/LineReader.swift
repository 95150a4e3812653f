import CReadline
import Foundation

/// Where command lines come from.
public protocol LineSource: AnyObject {
  /// The next line without its newline; nil at the end of the input.
  func nextLine(prompt: String) -> String?
}

/// Lines from a file descriptor that is not a terminal (a pipe, a command file): no prompt,
/// no editing.
public final class PlainLineSource: LineSource {
  private let handle: FileHandle
  private var buffer: [UInt8] = []
  private var atEnd = false

  public init(fileDescriptor: Int32 = STDIN_FILENO) {
    handle = FileHandle(fileDescriptor: fileDescriptor, closeOnDealloc: false)
  }

  public init?(path: String) {
    guard let h = FileHandle(forReadingAtPath: path) else { return nil }
    handle = h
  }

  public func nextLine(prompt: String) -> String? {
    while true {
      if let nl = buffer.firstIndex(of: 10) {
        let line = Array(buffer[..<nl])
        buffer.removeSubrange(...nl)
        return String(decoding: line, as: UTF8.self)
      }
      if atEnd {
        guard !buffer.isEmpty else { return nil }
        defer { buffer.removeAll() }
        return String(decoding: buffer, as: UTF8.self)
      }
      var chunk = [UInt8](repeating: 0, count: 4096)
      let fd = handle.fileDescriptor
      let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n > 0 {
        buffer += chunk[..<n]
      } else if n < 0 && errno == EINTR {
        continue
      } else {
        atEnd = true
      }
    }
  }
}

/// GNU readline on a terminal: editing, history kept in a file, tab completion.
///
/// Uses readline's callback interface with a `poll` loop, as Python's readline module does, so
/// that Ctrl-C at the prompt interrupts the wait (the REPL's SIGINT handler does not restart
/// it) and cancels the line instead of ending the program.
public final class ReadlineSource: LineSource {
  /// Given the text before the word being completed and the word, the candidates.
  public typealias Completer = (_ before: String, _ word: String) -> [String]

  private let historyPath: String?
  private var lastRemembered: String?
  nonisolated(unsafe) fileprivate static var completer: Completer?
  nonisolated(unsafe) fileprivate static var finished = false
  nonisolated(unsafe) fileprivate static var line: String?

  public init(historyPath: String?, completer: @escaping Completer) {
    self.historyPath = historyPath
    Self.completer = completer
    crl_configure("retrovisor", readlineCompleter, " \t\n(),+*&")
    using_history()
    stifle_history(2000)
    if let historyPath {
      let dir = (historyPath as NSString).deletingLastPathComponent
      try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
      if !FileManager.default.fileExists(atPath: historyPath) {
        _ = FileManager.default.createFile(atPath: historyPath, contents: nil)
      }
      _ = read_history(historyPath)
    }
  }

  public func nextLine(prompt: String) -> String? {
    Self.finished = false
    Self.line = nil
    rl_callback_handler_install(prompt, readlineLineHandler)
    while !Self.finished {
      var fds = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
      let r = poll(&fds, 1, -1)
      if r < 0 {
        guard errno == EINTR else {
          rl_callback_handler_remove()
          return nil
        }
        if Interrupts.take() {
          crl_cancel_line()
          Console.writeAll(1, [10])
          rl_callback_handler_install(prompt, readlineLineHandler)
        }
        continue
      }
      rl_callback_read_char()
    }
    guard let line = Self.line else {
      Console.writeAll(1, [10])
      return nil
    }
    remember(line)
    return line
  }

  /// Adds a line to the history (not blank ones, not a repeat of the last) and to the file.
  private func remember(_ line: String) {
    guard !line.trimmingCharacters(in: .whitespaces).isEmpty, line != lastRemembered else { return }
    lastRemembered = line
    add_history(line)
    if let historyPath {
      _ = append_history(1, historyPath)
      _ = history_truncate_file(historyPath, 2000)
    }
  }

  /// `$XDG_STATE_HOME/retrovisor/history`, else `~/.local/state/retrovisor/history`.
  public static func defaultHistoryPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
    if let state = environment["XDG_STATE_HOME"], !state.isEmpty { return state + "/retrovisor/history" }
    guard let home = environment["HOME"], !home.isEmpty else { return nil }
    return home + "/.local/state/retrovisor/history"
  }
}

private let readlineLineHandler: @convention(c) (UnsafeMutablePointer<CChar>?) -> Void = { text in
  if let text {
    ReadlineSource.line = String(cString: text)
    free(text)
  } else {
    ReadlineSource.line = nil
  }
  ReadlineSource.finished = true
  // Leave callback mode now: the command runs with the terminal as the program found it, and
  // readline shows no prompt until the next line is asked for.
  rl_callback_handler_remove()
}

private let readlineCompleter:
  @convention(c) (UnsafePointer<CChar>?, Int32, Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = {
    text, start, _ in
    crl_completion_over()
    guard let text, let completer = ReadlineSource.completer else { return nil }
    let word = String(cString: text)
    let buffer = Array(String(cString: crl_line_buffer()).utf8)
    let before = String(decoding: buffer.prefix(max(0, Int(start))), as: UTF8.self)
    let matches = completer(before, word)
    guard !matches.isEmpty else { return nil }
    // readline wants [substitution, match..., NULL], all malloc'ed; the substitution is the
    // matches' longest common prefix.
    var common = matches[0]
    for m in matches.dropFirst() {
      while !m.hasPrefix(common) { common.removeLast() }
    }
    let entries = matches.count == 1 ? matches : [common] + matches
    let slot = MemoryLayout<UnsafeMutablePointer<CChar>?>.stride
    guard let raw = malloc(slot * (entries.count + 1)) else { return nil }
    let array = raw.bindMemory(to: UnsafeMutablePointer<CChar>?.self, capacity: entries.count + 1)
    for (i, e) in entries.enumerated() { array[i] = strdup(e) }
    array[entries.count] = nil
    return array
  }
