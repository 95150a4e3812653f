extension Command {
  static let examine = Command(
    "x", usage: "x[/NFU] [ADDR]", summary: "examine memory: N units of size U in format F",
    details: """
      As in gdb. N: how many (default 1). F: x hex, d signed, u unsigned, o octal, t binary,
      a address (with its symbol), c character, s NUL-terminated string, i instruction.
      U: b byte, h halfword (2), w word (4), g giant (8). F and U are remembered; without ADDR,
      x goes on after the last unit it showed. ADDR is an expression (a symbol, 0x102040,
      $esp + 8, ...). Memory is guest-virtual unless `phys on`.
      Examples: x/4xw &arena   x/s 0x100a00   x/6i $pc   x/2g $rsp
      """, completion: .expression, repeats: true
  ) { repl, inv in
    try repl.examine(inv)
  }
}

extension REPL {
  func examine(_ inv: Invocation) throws {
    var count = 1
    var format = examineFormat.format
    var size = examineFormat.size
    if let modifier = inv.modifier {
      let digits = modifier.prefix { $0.isNumber }
      if !digits.isEmpty {
        guard let n = Int(digits), n >= 1, n <= 4096 else { throw REPLError("x: the count must be 1 to 4096, not \(digits)") }
        count = n
      }
      for c in modifier.dropFirst(digits.count) {
        if let f = Format(rawValue: c) {
          format = f
        } else if let s = ["b": 1, "h": 2, "w": 4, "g": 8][String(c)] {
          size = s
        } else {
          throw REPLError("x/\(modifier): '\(c)' is not a format (x d u o t a c s i) or a size (b h w g)")
        }
      }
    }
    if format == .char && inv.modifier?.contains(where: { "bhwg".contains($0) }) != true { size = 1 }
    if format == .address { size = try registerSet().pointerBytes }
    let address: UInt64
    if inv.arguments.isEmpty {
      guard let next = examineNext else { throw REPLError("x needs an address the first time") }
      address = next
    } else {
      address = try evaluate(inv.arguments).value
    }
    examineFormat = (format, size)
    repeatLine = "x"
    switch format {
    case .instruction: examineNext = try examineInstructions(at: address, count: count)
    case .string: examineNext = try examineStrings(at: address, count: count)
    default: examineNext = try examineUnits(at: address, count: count, size: size, format: format)
    }
  }

  private func examineUnits(at address: UInt64, count: Int, size: Int, format: Format) throws -> UInt64 {
    let bytes = try readMemory(address, count: count * size)
    let perLine = format == .address ? 2 : size == 8 ? 2 : size == 4 ? 4 : 8
    var lines: [String] = []
    var i = 0
    while i < count {
      let lineAddress = address &+ UInt64(i * size)
      var cells: [String] = []
      for j in i..<min(count, i + perLine) {
        let v = littleEndian(Array(bytes[j * size..<(j + 1) * size]))
        if format == .address {
          cells.append(hex(v) + (symbols.describe(v).map { " <\($0)>" } ?? ""))
        } else {
          cells.append(formatNumber(v, bytes: size, format: format, padded: format == .hex || format == .binary))
        }
      }
      lines.append(addressText(lineAddress) + ":  " + cells.joined(separator: "  "))
      i += perLine
    }
    console.lines(lines)
    return address &+ UInt64(count * size)
  }

  private func examineStrings(at address: UInt64, count: Int) throws -> UInt64 {
    var a = address
    for _ in 0..<count {
      var text: [UInt8] = []
      var ended = false
      while text.count < 200 {
        let b = try readMemory(a &+ UInt64(text.count), count: 1)[0]
        if b == 0 {
          ended = true
          break
        }
        text.append(b)
      }
      console.line(addressText(a) + ":  \"" + escaped(text) + "\"" + (ended ? "" : "..."))
      a = a &+ UInt64(text.count + (ended ? 1 : 0))
    }
    return a
  }

  private func examineInstructions(at address: UInt64, count: Int) throws -> UInt64 {
    let r = try registerSet()
    let insns = instructions(at: address, bits: r.bits, count: count)
    guard !insns.isEmpty else {
      _ = try readMemory(address, count: 1)  // names the unmapped address
      throw REPLError("no instruction decodes at \(hex(address))")
    }
    console.lines(listing(insns, pc: r.pc, raw: false))
    return insns.last.map { $0.address &+ UInt64($0.size) } ?? address
  }

  /// Instructions as `disassemble` and `x/i` list them: `=> ` marks the pc, the address
  /// column is as wide as its widest entry.
  func listing(_ insns: [Disassembler.Instruction], pc: UInt64, raw: Bool) -> [String] {
    let heads = insns.map { insn -> (String, Int) in
      let sym = symbols.describe(insn.address).map { " <\($0)>" } ?? ""
      let plain = hex(insn.address) + sym + ":"
      let styled = style.address(hex(insn.address)) + (sym.isEmpty ? "" : " " + style.symbol(String(sym.dropFirst()))) + ":"
      return (styled, plain.count)
    }
    let width = heads.map(\.1).max() ?? 0
    let rawWidth = raw ? (insns.map(\.size).max() ?? 0) * 3 : 0
    return zip(insns, heads).map { insn, head in
      let marker = insn.address == pc ? "=> " : "   "
      let bytes =
        raw ? pad(insn.bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " "), rawWidth) + " " : ""
      return marker + head.0 + String(repeating: " ", count: width - head.1) + "  " + bytes + instructionText(insn)
    }
  }
}
