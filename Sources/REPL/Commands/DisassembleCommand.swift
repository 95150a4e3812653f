import Foundation

extension Command {
  static let disassemble = Command(
    "disassemble", aliases: ["disas"], usage: "disassemble[/r] [ADDR|RANGE]",
    summary: "list instructions: the function around the pc or ADDR, or a range",
    details: """
      RANGE is START,END or START,+LENGTH. Without a range, the whole function (sized symbol) that contains the pc or ADDR, else 12
      instructions from there. `=> ` marks the next instruction to run. /r adds the raw bytes.
      The mode (16, 32, 64-bit) is the CPU's now; the syntax is AT&T unless
      `set disassembly-flavor intel`.
      """, completion: .expression
  ) { repl, inv in
    try repl.disassemble(inv)
  }

  static let symbols = Command(
    "symbols", usage: "symbols [TEXT]", summary: "list the guest's symbols (those whose name contains TEXT)",
    completion: .expression
  ) { repl, inv in
    guard !repl.symbols.names.isEmpty else { throw REPLError("no symbols loaded: give the guest image with --image") }
    let filter = inv.arguments
    let matches = repl.symbols.table.symbols.filter { filter.isEmpty || $0.name.contains(filter) }
    guard !matches.isEmpty else {
      repl.console.line("no symbol contains '\(filter)'")
      return
    }
    repl.console.lines(
      repl.columns(
        matches.map { s in
          [paddedHex(s.value, bytes: 4), s.name, s.size > 0 ? "\(s.size) bytes" : "", s.isFunction ? "function" : ""]
        }))
  }

  static let set = Command(
    "set", usage: "set disassembly-flavor att|intel", summary: "change a setting: the disassembly syntax",
    completion: .subcommands(["disassembly-flavor"])
  ) { repl, inv in
    let words = inv.words
    guard words.count == 2, "disassembly-flavor".hasPrefix(words[0]), words[0].count >= 4 else {
      throw REPLError("set knows: disassembly-flavor att|intel")
    }
    guard let syntax = Disassembler.Syntax(rawValue: words[1].lowercased()) else {
      throw REPLError("disassembly-flavor is att or intel, not '\(words[1])'")
    }
    repl.disassembler.syntax = syntax
    repl.console.line("disassembly syntax: \(syntax == .att ? "AT&T" : "Intel")")
  }
}

extension REPL {
  func disassemble(_ inv: Invocation) throws {
    let raw: Bool
    switch inv.modifier {
    case nil: raw = false
    case "r": raw = true
    case let m?: throw REPLError("disassemble/\(m): the only modifier is /r (raw bytes)")
    }
    let r = try registerSet()
    var start: UInt64
    var end: UInt64?
    let parts = inv.arguments.split(separator: ",", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
    if parts.isEmpty {
      start = r.pc
    } else {
      start = try evaluate(parts[0]).value
      if parts.count == 2 {
        if parts[1].hasPrefix("+") {
          end = start &+ (try evaluate(String(parts[1].dropFirst())).value)
        } else {
          end = try evaluate(parts[1]).value
        }
        guard let e = end, e > start, e - start <= 1 << 16 else {
          throw REPLError("disassemble: the range must be 1 byte to 64 KiB long")
        }
      }
    }
    if end == nil, let f = symbols.enclosing(start), f.size <= 1 << 16 {
      start = f.value
      end = f.value &+ f.size
    }
    var insns: [Disassembler.Instruction]
    if let end {
      let bytes = try readMemory(start, count: Int(end - start))
      insns = disassembler.disassemble(bytes, at: start, bits: r.bits, count: bytes.count)
    } else {
      insns = instructions(at: start, bits: r.bits, count: 12)
    }
    guard !insns.isEmpty else {
      _ = try readMemory(start, count: 1)
      throw REPLError("no instruction decodes at \(hex(start))")
    }
    console.lines(listing(insns, pc: r.pc, raw: raw))
  }
}
