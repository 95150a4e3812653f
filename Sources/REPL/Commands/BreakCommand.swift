import Foundation
import TimeTravel

extension Command {
  static let `break` = Command(
    "break", aliases: ["b", "br"], usage: "break [LOCATION]",
    summary: "stop when execution reaches an address",
    details: """
      LOCATION is a symbol (`break panic`), `symbol+offset`, an address (`break 0x1000f4` or
      gdb's `break *0x1000f4`) or any address expression. Without one: the current pc.
      Breakpoints work in both directions (continue and reverse-continue), any number of them.
      """, completion: .expression
  ) { repl, inv in
    let address: UInt64
    if inv.arguments.isEmpty {
      address = try repl.registerSet().pc
    } else {
      var text = Substring(inv.arguments)
      if text.hasPrefix("*") { text = text.dropFirst() }
      address = try repl.evaluate(String(text)).value
    }
    let b = repl.session.addBreakpoint(at: address)
    repl.console.line("breakpoint \(b.id) at " + repl.addressText(address))
  }

  static let delete = Command(
    "delete", aliases: ["d"], usage: "delete [N...]", summary: "remove breakpoints and watchpoints (all without N)"
  ) { repl, inv in
    let words = inv.words
    if words.isEmpty {
      let n = repl.session.breakpoints.count + repl.session.watchpoints.count
      try repl.session.deleteAll()
      repl.console.line("deleted \(n) breakpoint(s) and watchpoint(s)")
      return
    }
    let ids = try words.map { w -> Int in
      guard let id = Int(w) else { throw REPLError("delete takes breakpoint numbers, not '\(w)'") }
      return id
    }
    for id in ids { try repl.session.delete(id) }
    repl.console.line("deleted " + ids.map(String.init).joined(separator: ", "))
  }
}

extension REPL {
  /// `info breakpoints`: both kinds, by number.
  func listBreakpoints() {
    var rows: [(Int, [String])] = []
    for b in session.breakpoints {
      rows.append((b.id, ["\(b.id)", "breakpoint", hex(b.address), symbols.describe(b.address).map { "<\($0)>" } ?? ""]))
    }
    for w in session.watchpoints {
      let what = byteCount(w.length) + symbolSuffix(w.address)
      rows.append((w.id, ["\(w.id)", "\(w.kind.rawValue) watch", hex(w.address), what]))
    }
    guard !rows.isEmpty else {
      console.line("no breakpoints or watchpoints")
      return
    }
    let table = [["Num", "Type", "Address", "What"]] + rows.sorted { $0.0 < $1.0 }.map(\.1)
    console.lines(columns(table))
  }

  private func symbolSuffix(_ address: UInt64) -> String {
    symbols.describe(address).map { " <\($0)>" } ?? ""
  }

  /// Rows of cells, left-aligned in columns two spaces apart (no trailing spaces).
  func columns(_ rows: [[String]]) -> [String] {
    let count = rows.map(\.count).max() ?? 0
    var widths = [Int](repeating: 0, count: count)
    for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
    return rows.map { r in
      r.enumerated().map { i, c in i == r.count - 1 ? c : pad(c, widths[i]) }.joined(separator: "  ")
        .trimmingCharacters(in: .whitespaces)
    }
  }
}
