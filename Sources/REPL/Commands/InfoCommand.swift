import TimeTravel

extension Command {
  static let infoSubcommands = ["registers", "breakpoints", "watchpoints", "recording", "symbol", "bookmarks", "snapshots"]

  static let info = Command(
    "info", aliases: ["i"], usage: "info WHAT",
    summary: "registers [all|NAME...], breakpoints, recording, symbol ADDR, bookmarks, snapshots",
    details: """
      info registers         general registers, rip/eip, eflags, segment selectors
      info registers all     the same plus cr0, cr2, cr3, cr4, cr8, efer
      info registers rax...  just those (with or without $)
      info breakpoints       breakpoints and watchpoints (also: info watchpoints)
      info recording         the recording: image, exits, outcome, events, snapshots
      info symbol ADDR       the symbol and offset an address is at
      info bookmarks         same as bookmarks;  info snapshots: same as snapshots
      Subcommands may be shortened (info reg, info b).
      """, completion: .subcommands(infoSubcommands)
  ) { repl, inv in
    let words = inv.words
    guard let first = words.first else {
      throw REPLError("info needs a subcommand: " + infoSubcommands.joined(separator: ", "))
    }
    let matches = infoSubcommands.filter { $0.hasPrefix(first.lowercased()) }
    guard matches.count == 1 || (first == "r" || first == "b") else {
      throw REPLError(
        matches.isEmpty
          ? "info has no subcommand '\(first)': try " + infoSubcommands.joined(separator: ", ")
          : "'info \(first)' is ambiguous: " + matches.joined(separator: ", "))
    }
    let sub = first == "r" ? "registers" : first == "b" ? "breakpoints" : matches[0]
    let rest = Array(words.dropFirst())
    switch sub {
    case "registers": try repl.showRegisters(rest)
    case "breakpoints", "watchpoints":
      guard rest.isEmpty else { throw REPLError("info \(sub) takes no arguments") }
      repl.listBreakpoints()
    case "recording":
      guard rest.isEmpty else { throw REPLError("info recording takes no arguments") }
      repl.console.lines(try NavigationCommands.execute("info", on: repl.session))
    case "symbol":
      guard !rest.isEmpty else { throw REPLError("info symbol needs an address") }
      let address = try repl.evaluate(rest.joined(separator: " ")).value
      if let s = repl.symbols.describe(address) {
        repl.console.line("\(hex(address)) is \(s)")
      } else {
        repl.console.line("no symbol matches \(hex(address))")
      }
    default:
      guard rest.isEmpty else { throw REPLError("info \(sub) takes no arguments") }
      repl.console.lines(try NavigationCommands.execute(sub, on: repl.session))
    }
  }
}
