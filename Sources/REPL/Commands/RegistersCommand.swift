extension REPL {
  /// `info registers [all | NAME...]`: name, hex value, natural value, in gdb's layout.
  func showRegisters(_ names: [String]) throws {
    let r = try registerSet()
    var wanted: [String]
    if names.isEmpty {
      wanted = r.displayed
    } else if names == ["all"] {
      wanted = r.displayed + RegisterSet.control
    } else {
      wanted = names.map { $0.hasPrefix("$") ? String($0.dropFirst()) : $0 }
    }
    var rows: [[String]] = []
    for name in wanted {
      guard let (value, bytes) = r.value(name) else { throw REPLError("no register '\(name)'") }
      rows.append([name.lowercased(), hex(value), naturalValue(name.lowercased(), value, bytes: bytes, pc: r.pc)])
    }
    let lines = rows.map { pad($0[0], 15) + pad($0[1], 19) + $0[2] }
    console.lines(lines)
  }

  /// gdb's third column: code addresses with their symbol, stack pointers in hex, flags by
  /// name, the rest as signed integers.
  private func naturalValue(_ name: String, _ value: UInt64, bytes: Int, pc: UInt64) -> String {
    switch name {
    case "rip", "eip", "ip", "pc": return addressText(pc)
    case "rsp", "esp", "sp", "rbp", "ebp", "fp", "fs_base", "gs_base", "cr0", "cr2", "cr3", "cr4", "cr8", "efer":
      return hex(value)
    case "eflags", "rflags", "flags": return RegisterSet.describeFlags(value)
    default: return String(signExtend(value, bytes: bytes))
    }
  }
}
