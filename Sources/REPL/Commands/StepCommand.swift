import TimeTravel

extension Command {
  static let stepi = Command(
    "stepi", aliases: ["si"], usage: "stepi [N]", summary: "execute one instruction (or N), then show the next",
    details: """
      Entering an interrupt handler counts as one step: the next instruction is then the
      handler's first. Stops early at a watchpoint or at the end of the recording.
      """, repeats: true
  ) { repl, inv in
    try repl.step(times: try inv.count(), reverse: false)
  }

  static let reverseStepi = Command(
    "reverse-stepi", aliases: ["rsi"], usage: "reverse-stepi [N]", summary: "go back one instruction (or N)",
    details: """
      The machine is rebuilt exactly as it was one instruction earlier (from the nearest
      snapshot or checkpoint, replayed forward). Stops at the start of the recording.
      """, repeats: true
  ) { repl, inv in
    try repl.step(times: try inv.count(), reverse: true)
  }
}

extension REPL {
  func step(times: Int, reverse: Bool) throws {
    var stop = SessionStop.stepped
    for _ in 0..<times {
      try checkInterrupt()
      stop = reverse ? try session.reverseStepi() : try session.stepi()
      if stop != .stepped { break }
    }
    try report(stop, reverse: reverse)
  }
}
