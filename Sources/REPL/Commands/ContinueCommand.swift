import TimeTravel

extension Command {
  static let continueForward = Command(
    "continue", aliases: ["c", "cont"], usage: "continue",
    summary: "run forward to a breakpoint, a watchpoint or the end of the recording",
    details: """
      The recording is replayed at full speed with the breakpoints in debug registers (more
      than four: one instruction at a time). Ctrl-C stops it where it is.
      """, repeats: true
  ) { repl, inv in
    try inv.expectNothing()
    let stop = try repl.console.withTicker("continuing") { try repl.session.continueForward() }
    try repl.report(stop, reverse: false)
  }

  static let reverseContinue = Command(
    "reverse-continue", aliases: ["rc"], usage: "reverse-continue",
    summary: "run backwards to the last breakpoint hit or watched write before now",
    details: """
      Stops at the latest breakpoint hit or watchpoint change before the current instant, or at
      the start of the recording. A write watchpoint stops just before the instruction that
      wrote: that instruction is the one shown. Ctrl-C stops the search.
      """, repeats: true
  ) { repl, inv in
    try inv.expectNothing()
    let stop = try repl.console.withTicker("searching backwards") { try repl.session.reverseContinue() }
    try repl.report(stop, reverse: true)
  }
}
