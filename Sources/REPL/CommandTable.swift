import Foundation

/// One command line, split: `x/4xw &arena` is name `x`, modifier `4xw`, arguments `&arena`.
public struct Invocation: Sendable {
  public var name: String
  public var modifier: String?
  public var arguments: String

  public var words: [String] { arguments.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }

  public init(parsing line: String) {
    let trimmed = line.trimmingCharacters(in: .whitespaces)
    let end = trimmed.firstIndex { $0 == " " || $0 == "\t" || $0 == "/" } ?? trimmed.endIndex
    name = String(trimmed[..<end])
    var rest = trimmed[end...]
    if rest.first == "/" {
      let modEnd = rest.firstIndex { $0 == " " || $0 == "\t" } ?? rest.endIndex
      modifier = String(rest[rest.index(after: rest.startIndex)..<modEnd])
      rest = rest[modEnd...]
    }
    arguments = rest.trimmingCharacters(in: .whitespaces)
  }

  /// Fails unless the command was given no arguments and no modifier.
  func expectNothing() throws {
    guard arguments.isEmpty, modifier == nil else {
      throw REPLError("\(name) takes no arguments" + (modifier != nil ? " or /FORMAT" : ""))
    }
  }

  /// An optional repeat count (`si 10`).
  func count() throws -> Int {
    guard modifier == nil else { throw REPLError("\(name) takes no /FORMAT") }
    let w = words
    guard !w.isEmpty else { return 1 }
    guard w.count == 1, let n = Int(w[0]), n >= 1 else {
      throw REPLError("\(name) takes a repeat count (a number of at least 1), not '\(arguments)'")
    }
    return n
  }
}

/// An error in what the user typed, reported as one line.
public struct REPLError: Error, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}

/// A REPL command: its names, its help, what its arguments complete to, and what it does.
public struct Command: Sendable {
  public enum Completion: Sendable {
    case nothing
    /// Symbols, and registers after `$`.
    case expression
    case subcommands([String])
    case bookmarks
    case commands
  }

  public var name: String
  public var aliases: [String]
  public var usage: String
  public var summary: String
  public var details: String
  public var completion: Completion
  /// Whether an empty line at the prompt runs it again (as in gdb: stepping commands, `x`).
  public var repeats: Bool
  let run: @Sendable (REPL, Invocation) throws -> Void

  init(
    _ name: String, aliases: [String] = [], usage: String, summary: String, details: String = "",
    completion: Completion = .nothing, repeats: Bool = false, run: @escaping @Sendable (REPL, Invocation) throws -> Void
  ) {
    self.name = name
    self.aliases = aliases
    self.usage = usage
    self.summary = summary
    self.details = details
    self.completion = completion
    self.repeats = repeats
    self.run = run
  }
}

/// Every command, in the order `help` lists them.
public enum CommandTable {
  public static let all: [Command] = [
    .stepi, .nexti, .continueForward, .reverseStepi, .reverseNexti, .reverseContinue,
    .`break`, .delete, .watch, .rwatch, .awatch,
    .info, .print, .examine, .disassemble, .symbols, .set,
    .when, .seek, .goto, .bookmark, .bookmarks, .snapshots, .timeline, .lastWrite, .phys,
    .help, .quit,
  ]

  public enum Lookup {
    case found(Command)
    case unknown
    case ambiguous([String])
  }

  /// By name or alias, else by a unique prefix of a name (`disas`, `rev`).
  public static func lookup(_ word: String) -> Lookup {
    let w = word.lowercased()
    if let c = all.first(where: { $0.name == w || $0.aliases.contains(w) }) { return .found(c) }
    let matches = all.filter { $0.name.hasPrefix(w) || $0.aliases.contains { $0.hasPrefix(w) && $0.count > 1 } }
    if matches.count == 1 { return .found(matches[0]) }
    return matches.isEmpty ? .unknown : .ambiguous(matches.map(\.name))
  }

  /// Names completion offers for the first word: every name and every alias longer than two
  /// letters.
  public static var completionNames: [String] {
    Array(Set(all.flatMap { [$0.name] + $0.aliases.filter { $0.count > 2 } })).sorted()
  }
}
