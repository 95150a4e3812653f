/// Why a session operation stopped where it did.
public enum SessionStop: Equatable, Sendable {
  /// stepi / reverse-stepi did its one instruction; seek arrived.
  case stepped
  case arrived
  /// An execution breakpoint at `address`: the instruction there has not run yet.
  case breakpoint(id: Int, address: UInt64)
  /// A watchpoint: forward, the state just after the access; in reverse, the state just before
  /// the instruction that made it. `old` and `new` are the watched bytes before and after it.
  case watchpoint(id: Int, kind: WatchKind, address: UInt64, old: [UInt8], new: [UInt8])
  /// Going backwards reached the first instant of the recording.
  case startOfHistory
  /// Going forwards reached the last instant the recording holds; `outcome` when the guest
  /// ended the run there (debug-exit, reset, fault), nil when the log just ends.
  case endOfHistory(outcome: RecordedOutcome?)
  /// `requestInterrupt()` stopped a running operation.
  case interrupted
}

/// What a watchpoint reacts to.
public enum WatchKind: String, Sendable, CaseIterable {
  case write, read, access
}

public struct Watchpoint: Equatable, Sendable {
  public var id: Int
  public var kind: WatchKind
  /// The address as given (guest-virtual unless `physical`).
  public var address: UInt64
  public var length: Int
  /// Guest-physical address of each watched byte, resolved when the watchpoint was set.
  var physical: [UInt64]

  /// The watched physical bytes as contiguous ranges.
  var ranges: [Range<UInt64>] {
    var out: [Range<UInt64>] = []
    for a in physical {
      if let last = out.last, last.upperBound == a {
        out[out.count - 1] = last.lowerBound..<(a + 1)
      } else {
        out.append(a..<(a + 1))
      }
    }
    return out
  }

  func overlaps(_ address: UInt64, length: Int) -> Bool {
    let r = address..<(address + UInt64(length))
    return ranges.contains { $0.overlaps(r) }
  }
}

public struct Breakpoint: Equatable, Sendable {
  public var id: Int
  /// Linear (guest-virtual) address of the instruction.
  public var address: UInt64
}
