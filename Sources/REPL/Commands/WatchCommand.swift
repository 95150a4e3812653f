import Foundation
import TimeTravel

extension Command {
  static let watch = Command(
    "watch", usage: "watch EXPR [LEN]", summary: "stop when memory changes (a write watchpoint)",
    details: """
      EXPR names the memory: `*(uint32_t *)0x102040` or `*ADDR` watches what it reads, a symbol
      watches the symbol (its size), an address watches LEN bytes there (default: a pointer's
      width). Any number of watchpoints, any length. Forward, continue stops just after the
      write; reverse-continue stops just before the instruction that wrote. gdb's `-l` is
      accepted and ignored (watchpoints always watch the location). rwatch (reads) and awatch
      (reads and writes) take the same arguments.
      """, completion: .expression
  ) { repl, inv in
    try repl.addWatchpoint(.write, inv)
  }

  static let rwatch = Command(
    "rwatch", usage: "rwatch EXPR [LEN]", summary: "stop when memory is read (a read watchpoint)",
    completion: .expression
  ) { repl, inv in
    try repl.addWatchpoint(.read, inv)
  }

  static let awatch = Command(
    "awatch", usage: "awatch EXPR [LEN]", summary: "stop when memory is read or written (an access watchpoint)",
    completion: .expression
  ) { repl, inv in
    try repl.addWatchpoint(.access, inv)
  }
}

extension REPL {
  /// Resolves `EXPR [LEN]` to the memory it names: an lvalue's address and size, a symbol's
  /// address and size, or an address and LEN (default: a pointer's width).
  func memoryOperand(_ arguments: String, command: String) throws -> (address: UInt64, length: Int) {
    var text = arguments
    for flag in ["-location ", "-l "] where text.hasPrefix(flag) { text = String(text.dropFirst(flag.count)) }
    guard !text.isEmpty else { throw REPLError("\(command) needs an address or an expression such as *(uint32_t *)ADDR") }
    var explicitLength: Int?
    var value: ExpressionValue
    do {
      value = try evaluate(text)
    } catch let firstError {
      var words = text.split(separator: " ")
      guard words.count >= 2, let n = Int(words.last!) else { throw firstError }
      guard n >= 1 else { throw REPLError("\(command): the length must be at least 1, not \(n)") }
      words.removeLast()
      explicitLength = n
      text = words.joined(separator: " ")
      value = try evaluate(text)
    }
    if let location = value.location { return (location.address, explicitLength ?? location.bytes) }
    if let s = symbols.named(text.trimmingCharacters(in: .whitespaces)), s.size > 0 {
      return (s.value, explicitLength ?? Int(min(s.size, 1 << 24)))
    }
    let width = try registerSet().pointerBytes
    return (value.value, explicitLength ?? width)
  }

  func addWatchpoint(_ kind: WatchKind, _ inv: Invocation) throws {
    let (address, length) = try memoryOperand(inv.arguments, command: inv.name)
    let w = try session.addWatchpoint(kind, at: address, length: length, physical: session.physicalAddresses)
    console.line("watchpoint \(w.id): \(kind.rawValue) of \(byteCount(length)) at " + addressText(address))
  }
}
