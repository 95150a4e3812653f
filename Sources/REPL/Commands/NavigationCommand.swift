import TimeTravel

/// The time-navigation words the gdb stub's `monitor` also has: their output is the engine's
/// shared `NavigationCommands` output, then (after a move) the new location.
extension Command {
  private static func navigation(
    _ name: String, aliases: [String] = [], details: String = "", completion: Completion = .nothing,
    moves: Bool = false
  ) -> Command {
    let shared = NavigationCommands.commands.first { $0.name == name }!
    return Command(
      name, aliases: aliases, usage: shared.arguments.isEmpty ? name : "\(name) \(shared.arguments)", summary: shared.help,
      details: details, completion: completion
    ) { repl, inv in
      guard inv.modifier == nil else { throw REPLError("\(name) takes no /FORMAT") }
      if moves, let target = repl.resolveTarget(inv.arguments, bookmarks: name == "goto") {
        try repl.travel(to: target)
      }
      repl.console.lines(try NavigationCommands.execute("\(name) \(inv.arguments)", on: repl.session))
      guard moves else { return }
      if Interrupts.isPending { repl.console.line(repl.style.stop("interrupted")) }
      try repl.showLocation()
    }
  }

  static let when = navigation("when")
  static let seek = navigation(
    "seek", details: "Positions: N (right after exit N), N+I (I instructions later), start, end.", moves: true)
  static let goto = navigation(
    "goto", details: "A bookmark name, or a position as for seek.", completion: .bookmarks, moves: true)
  static let bookmark = navigation("bookmark", details: "Names: letters, digits, '_', '-', '.'.")
  static let bookmarks = navigation("bookmarks")
  static let snapshots = navigation("snapshots")
  static let phys = navigation(
    "phys", details: "Applies to x, print's memory reads, watch and last-write; breakpoints stay virtual.")
}

extension REPL {
  /// The position a seek or goto argument names, nil when it names none (the shared command
  /// then reports the error).
  func resolveTarget(_ text: String, bookmarks: Bool) -> Position? {
    if let spec = try? PositionSpec(parsing: text) {
      switch spec {
      case .at(let p): return p
      case .end: return session.endPosition
      }
    }
    return bookmarks ? try? session.position(ofBookmark: text) : nil
  }

  /// Moves close to `target` in stages when it is far from where replay would start, showing
  /// progress on a terminal and stopping between stages at Ctrl-C. The engine does each stage.
  func travel(to target: Position) throws {
    guard target.exit <= session.endPosition.exit else { return }
    let start = session.seekStart(for: target)
    guard target.exit > start.exit, target.exit - start.exit >= seekStageExits else { return }
    let distance = target.exit - start.exit
    let stage = max(seekStageExits / 8, distance / 40)
    defer { console.status(nil) }
    var exit = start.exit + stage
    while exit < target.exit {
      try checkInterrupt()
      let done = (exit - start.exit) * 100 / distance
      console.status("seeking to \(target): at \(exit - stage) of \(target.exit) exits (\(done)%), Ctrl-C stops")
      if try session.seek(to: Position(exit: exit)) == .interrupted { throw Interrupted() }
      exit += stage
    }
    try checkInterrupt()
  }
}
