extension Session {
  /// Names the current position; `goto(bookmark:)` comes back to it.
  public func bookmark(_ name: String) throws -> Position {
    guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) else {
      throw SessionError.unsupported("a bookmark name is letters, digits, '_', '-' or '.', not '\(name)'")
    }
    let p = try position()
    bookmarks[name] = p
    return p
  }

  public func position(ofBookmark name: String) throws -> Position {
    guard let p = bookmarks[name] else {
      let known = bookmarks.keys.sorted().joined(separator: ", ")
      throw SessionError.invalidPosition("no bookmark '\(name)'" + (known.isEmpty ? "" : " (bookmarks: \(known))"))
    }
    return p
  }

  /// When the `length` bytes at `address` last changed before now, and the instruction that
  /// changed them: the position just before that instruction ran, its pc, the bytes before and
  /// after. nil when they never changed since the start. The session stays where it was.
  public func lastWrite(at address: UInt64, length: Int, physical: Bool = false) throws -> (
    position: Position, pc: UInt64, old: [UInt8], new: [UInt8]
  )? {
    let here = try position()
    let savedBreakpoints = breakpoints
    let savedWatchpoints = watchpoints
    defer {
      breakpoints = savedBreakpoints
      watchpoints = savedWatchpoints
    }
    breakpoints = []
    watchpoints = []
    try addWatchpoint(.write, at: address, length: length, physical: physical)
    let stop = try reverseContinue()
    var result: (Position, UInt64, [UInt8], [UInt8])?
    if case .watchpoint(_, _, _, let old, let new) = stop {
      result = (try position(), try currentPC(), old, new)
    }
    try goto(here)
    return result
  }
}
