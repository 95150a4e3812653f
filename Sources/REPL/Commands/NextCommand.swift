import TimeTravel

extension Command {
  static let nexti = Command(
    "nexti", aliases: ["ni"], usage: "nexti [N]", summary: "like stepi, but a call runs to its return",
    details: """
      On a call instruction, runs until the call returns to the instruction after it at the
      same stack depth (a temporary breakpoint at the return address). Breakpoints and
      watchpoints inside the called function still stop it.
      """, repeats: true
  ) { repl, inv in
    try repl.next(times: try inv.count())
  }

  static let reverseNexti = Command(
    "reverse-nexti", aliases: ["rni"], usage: "reverse-nexti [N]",
    summary: "like reverse-stepi, but back over a whole call",
    details: """
      When the previous instruction was the `ret` of a function called from here, goes back to
      the call instruction itself: the instant the return address was last written (the call
      pushed it) is found with the engine's last-write search.
      """, repeats: true
  ) { repl, inv in
    try repl.reverseNext(times: try inv.count())
  }
}

extension REPL {
  func next(times: Int) throws {
    var stop = SessionStop.stepped
    for _ in 0..<times {
      try checkInterrupt()
      stop = try nextOnce()
      if stop != .stepped { break }
    }
    try report(stop, reverse: false)
  }

  /// One instruction, or a whole call.
  private func nextOnce() throws -> SessionStop {
    let r = try registerSet()
    guard let insn = instruction(at: r.pc, bits: r.bits), insn.isCall else { return try session.stepi() }
    let returnAddress = r.pc &+ UInt64(insn.size)
    let depth = r.sp
    return try session.withTemporaryBreakpoint(at: returnAddress) { temporary in
      while true {
        let stop = try console.withTicker("running the call") { try session.continueForward() }
        guard case .breakpoint(let id, _) = stop, id == temporary.id else { return stop }
        // A recursive call returns here too, deeper in the stack: run on.
        if try registerSet().sp >= depth { return .stepped }
        try checkInterrupt()
      }
    }
  }

  func reverseNext(times: Int) throws {
    var stop = SessionStop.stepped
    for _ in 0..<times {
      try checkInterrupt()
      stop = try reverseNextOnce()
      if stop != .stepped { break }
    }
    try report(stop, reverse: true)
  }

  private func reverseNextOnce() throws -> SessionStop {
    let depth = try registerSet().sp
    let stop = try session.reverseStepi()
    guard stop == .stepped else { return stop }
    let r = try registerSet()
    guard r.sp < depth, let insn = instruction(at: r.pc, bits: r.bits), insn.isReturn else { return stop }
    // Back inside a function this code called: go to the call that pushed the return address
    // the `ret` here pops.
    let slot = r.sp
    let found = try session.preservingStopNumbers {
      try session.lastWrite(at: slot, length: r.pointerBytes, physical: false)
    }
    // Not found, or not written by a call (a hand-made stack): stay on the `ret`.
    guard let found, instruction(at: found.pc, bits: r.bits)?.isCall == true else { return stop }
    return try session.seek(to: found.position) == .interrupted ? .interrupted : .stepped
  }
}
