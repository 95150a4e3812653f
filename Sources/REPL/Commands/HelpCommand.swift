extension Command {
  static let help = Command(
    "help", aliases: ["h"], usage: "help [COMMAND]", summary: "list the commands, or explain one",
    completion: .commands
  ) { repl, inv in
    if inv.arguments.isEmpty {
      repl.console.lines(helpOverview())
      return
    }
    switch CommandTable.lookup(inv.arguments) {
    case .found(let c): repl.console.lines(helpText(c))
    case .unknown: throw REPLError("no command '\(inv.arguments)': help lists them")
    case .ambiguous(let names): throw REPLError("'\(inv.arguments)' is ambiguous: \(names.joined(separator: ", "))")
    }
  }

  static let quit = Command("quit", aliases: ["q", "exit"], usage: "quit", summary: "leave the REPL (Ctrl-D too)") { _, _ in }

  static func helpOverview() -> [String] {
    var lines = ["Commands (gdb's names; short forms in parentheses):"]
    let names = CommandTable.all.map { c in
      c.aliases.isEmpty ? c.usage : "\(c.usage) (\(c.aliases.joined(separator: ", ")))"
    }
    let width = names.map(\.count).max() ?? 0
    for (c, n) in zip(CommandTable.all, names) { lines.append("  " + pad(n, width) + "  " + c.summary) }
    lines.append("Positions: N (after exit N), N+I (I instructions later), start, end. Ctrl-C stops a command.")
    lines.append("help COMMAND explains one. Commands may be shortened when unambiguous (disas, reverse-c).")
    return lines
  }

  static func helpText(_ c: Command) -> [String] {
    var lines = ["usage: \(c.usage)"]
    if !c.aliases.isEmpty { lines.append("short forms: \(c.aliases.joined(separator: ", "))") }
    lines.append(c.summary)
    if !c.details.isEmpty { lines += c.details.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
    return lines
  }
}
