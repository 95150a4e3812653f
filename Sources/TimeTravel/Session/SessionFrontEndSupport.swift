/// Small additions the REPL needs from the engine (additive: nothing here changes how the
/// engine navigates).
extension Session {
  /// Runs `body` with an execution breakpoint that is not the user's (nexti's return-address
  /// stop): it is removed afterwards and its number is given out again.
  public func withTemporaryBreakpoint<T>(at address: UInt64, _ body: (Breakpoint) throws -> T) rethrows -> T {
    try preservingStopNumbers {
      let b = addBreakpoint(at: address)
      defer { breakpoints.removeAll { $0.id == b.id } }
      return try body(b)
    }
  }

  /// Runs `body` (which may add and remove breakpoints or watchpoints of its own, as
  /// `lastWrite` does) so that the numbers it used are given out again afterwards.
  public func preservingStopNumbers<T>(_ body: () throws -> T) rethrows -> T {
    let saved = nextID
    defer { nextID = max(saved, (breakpoints.map(\.id) + watchpoints.map(\.id)).max().map { $0 + 1 } ?? saved) }
    return try body()
  }

  /// Where a seek to `target` starts replaying from: here when that is on the way, otherwise
  /// the latest snapshot or checkpoint at or before it. For front ends that show progress.
  public func seekStart(for target: Position) -> Position {
    let best = anchor(atOrBefore: target) ?? .start
    if let steps = replayer.stepsSinceExit {
      let here = Position(exit: replayer.position, instructions: steps)
      if here <= target, best <= here { return here }
    }
    return best
  }
}

extension RecordingArchive {
  /// The recorded deliveries (timer deadlines, serial input, kicked points), in order.
  public var eventGroups: [EventGroup] { groups }
}
