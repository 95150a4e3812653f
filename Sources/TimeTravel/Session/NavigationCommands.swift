/// The navigation words every front end offers with the same meaning and output: gdb's
/// `monitor ...` and the REPL's commands of the same names (design.md: the protocol has no seek).
public struct NavigationCommands {
  public struct Command: Sendable {
    public var name: String
    public var arguments: String
    public var help: String
  }

  public static let commands: [Command] = [
    Command(name: "when", arguments: "", help: "print the current position (exit+instructions)"),
    Command(name: "seek", arguments: "POS", help: "go to a position: N, N+I, start or end"),
    Command(name: "goto", arguments: "NAME|POS", help: "go to a bookmark or a position"),
    Command(name: "bookmark", arguments: "NAME", help: "name the current position"),
    Command(name: "bookmarks", arguments: "", help: "list the bookmarks"),
    Command(name: "snapshots", arguments: "", help: "list the recording's snapshots and the navigation checkpoints"),
    Command(name: "info", arguments: "", help: "summarize the recording"),
    Command(name: "phys", arguments: "on|off", help: "read memory at physical (on) or virtual (off) addresses"),
    Command(name: "help", arguments: "", help: "list these commands"),
  ]

  /// Runs one command line; the output lines, or a `SessionError` naming what is wrong.
  public static func execute(_ line: String, on session: Session) throws -> [String] {
    let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
    guard let word = words.first else { return help() }
    let rest = words.dropFirst().joined(separator: " ")
    switch word {
    case "help": return help()
    case "when":
      let p = try session.position()
      let live = session.live.map { $0.outcome == nil } ?? false
      let end = live ? " (the live guest stands here: going forward runs it, recorded)" : " (end)"
      let atEnd = live ? try p == session.liveFrontier() : p == session.endPosition
      return ["position \(p)" + (atEnd ? end : p == .start ? " (start)" : "")]
    case "seek", "goto":
      guard !rest.isEmpty else { throw SessionError.unsupported("\(word) needs a position (N, N+I, start, end)") }
      let target: Position
      if let spec = try? PositionSpec(parsing: rest) {
        switch spec {
        case .at(let p): target = p
        case .end: target = session.endPosition
        }
      } else if word == "goto" {
        target = try session.position(ofBookmark: rest)
      } else {
        throw SessionError.invalidPosition(PositionError(text: rest).description)
      }
      _ = try session.seek(to: target)
      return ["position \(try session.position())"]
    case "bookmark":
      guard !rest.isEmpty else { throw SessionError.unsupported("bookmark needs a name") }
      return ["bookmark \(rest) at position \(try session.bookmark(rest))"]
    case "bookmarks":
      let marks = session.bookmarks.sorted { $0.value < $1.value }
      return marks.isEmpty ? ["no bookmarks"] : marks.map { "\($0.key)  \($0.value)" }
    case "snapshots":
      let positions = session.archive.snapshotPositions
      var out = ["\(positions.count) recording snapshot(s) at positions " + positions.map(String.init).joined(separator: ", ")]
      let kicked = session.archive.kickedSnapshots
      if !kicked.isEmpty {
        let after = Set(kicked.map(\.record.position)).sorted().map(String.init).joined(separator: ", ")
        out.append("\(kicked.count) kicked snapshot(s), at kicked points after exits \(after)")
      }
      out.append(
        "\(session.checkpointCount) navigation checkpoint(s), \(session.checkpointBytes >> 10) KiB of \(session.options.checkpointBudget >> 20) MiB"
      )
      return out
    case "info":
      var lines = session.archive.summaryLines(path: session.archive.path)
      if let live = session.live, live.outcome == nil, let i = lines.firstIndex(where: { $0.hasPrefix("outcome ") }) {
        lines[i] = "outcome        none yet: recording live, the guest stands at the end"
      }
      return lines
    case "phys":
      switch rest {
      case "on": session.physicalAddresses = true
      case "off": session.physicalAddresses = false
      case "": break
      default: throw SessionError.unsupported("phys takes on or off, not '\(rest)'")
      }
      return ["memory addresses are \(session.physicalAddresses ? "physical" : "virtual (through the guest's page tables)")"]
    default:
      throw SessionError.unsupported("unknown command '\(word)': try help")
    }
  }

  public static func help() -> [String] {
    commands.map { c in
      let usage = c.arguments.isEmpty ? c.name : "\(c.name) \(c.arguments)"
      return usage.padding(toLength: 18, withPad: " ", startingAt: 0) + c.help
    }
  }
}
