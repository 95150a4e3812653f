extension Command {
  static let print = Command(
    "print", aliases: ["p"], usage: "print[/FMT] EXPR",
    summary: "evaluate an expression: registers, symbols, memory",
    details: """
      EXPR: numbers (10, 0x1f), registers ($rax, $eip, $pc, $sp, $cr3...), symbols (their
      address), + - *, parentheses, and memory reads: *ADDR reads a pointer's width,
      *(uint32_t *)ADDR four bytes (uint8_t, uint16_t, uint64_t, char, int, long...).
      FMT: x hex (default, with the symbol an address is in), d signed, u unsigned, o octal,
      t binary, c character, a address.
      Examples: print $eax   print/x $rip   print *(uint32_t *)(nodes + 12)
      """, completion: .expression
  ) { repl, inv in
    guard !inv.arguments.isEmpty else { throw REPLError("print needs an expression") }
    let format = try printFormat(inv.modifier)
    let v = try repl.evaluate(inv.arguments)
    let text: String
    switch format {
    case .hex, .address:
      text = hex(v.value) + (repl.symbols.describe(v.value).map { " <\($0)>" } ?? "")
    default:
      text = formatNumber(v.value, bytes: v.bytes, format: format, padded: false)
    }
    repl.console.line("\(inv.arguments) = \(text)")
  }

  private static func printFormat(_ modifier: String?) throws -> Format {
    guard let modifier else { return .hex }
    guard modifier.count == 1, let f = Format(rawValue: modifier.first!), f != .string, f != .instruction else {
      throw REPLError("print/\(modifier): the format is one of x, d, u, o, t, c, a")
    }
    return f
  }
}
