extension Session {
  /// Executes one instruction (or enters one interrupt handler).
  public func stepi() throws -> SessionStop {
    _ = try position()  // count this interval first if run mode left it uncounted
    let before = watchpoints.isEmpty ? [] : watchedValues()
    switch try stepCounted() {
    case .instruction, .interruptEntry, .exit:
      if let (w, _) = accessedWatchpoint(replayer.lastStepAccesses) {
        return accessStop(w)
      }
      if let (w, old, new) = changedWatchpoint(before, watchedValues()) {
        return .watchpoint(id: w.id, kind: w.kind, address: w.address, old: old, new: new)
      }
      return .stepped
    case .finished(let outcome): return .endOfHistory(outcome: outcome)
    case .endOfLog: return live == nil ? .endOfHistory(outcome: nil) : try stepLive()
    }
  }

  /// Goes back exactly one instruction (or out of an interrupt entry to the interrupted one).
  public func reverseStepi() throws -> SessionStop {
    let here = try position()
    guard let previous = try predecessor(of: here) else { return .startOfHistory }
    try goto(previous)
    return .stepped
  }

  /// The instant one step before `p`, nil at the start of the recording.
  func predecessor(of p: Position) throws -> Position? {
    if p.instructions > 0 { return Position(exit: p.exit, instructions: p.instructions - 1) }
    guard p.exit > 0 else { return nil }
    let length = try intervalLength(p.exit - 1)
    return Position(exit: p.exit - 1, instructions: length - 1)
  }
}
