import TimeTravel

extension Command {
  static let lastWrite = Command(
    "last-write", usage: "last-write EXPR [LEN]",
    summary: "when this memory last changed before now, and which instruction changed it",
    details: """
      The memory is named as for watch: *(uint32_t *)ADDR, a symbol, or ADDR [LEN]. Prints the
      position just before the writing instruction, that instruction, and the bytes before and
      after. Stays where it is: `goto POS` goes there.
      """, completion: .expression
  ) { repl, inv in
    let (address, length) = try repl.memoryOperand(inv.arguments, command: "last-write")
    let physical = repl.session.physicalAddresses
    let found = try repl.console.withTicker("searching backwards") {
      try repl.session.preservingStopNumbers {
        try repl.session.lastWrite(at: address, length: length, physical: physical)
      }
    }
    try repl.checkInterrupt()
    let what = repl.addressText(address) + " (\(byteCount(length)))"
    guard let found else {
      repl.console.line("\(what) did not change between the start of the recording and now")
      return
    }
    let bits = try repl.registerSet().bits
    let insn = repl.instruction(at: found.pc, bits: bits).map(repl.instructionText) ?? "?"
    repl.console.line("\(what) last changed at " + repl.style.position("[\(found.position)]") + ", by")
    repl.console.line("  " + repl.addressText(found.pc) + ": " + insn)
    repl.console.line("  \(watchedValue(found.old)) -> \(watchedValue(found.new))   (goto \(found.position) to go there)")
  }
}
