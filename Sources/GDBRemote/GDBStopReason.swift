/// Why a resume ended, as the target reports it to the server.
public enum GDBStopReason: Equatable, Sendable {
  /// A `Z0` (software) or `Z1` (hardware) breakpoint was hit.
  case breakpoint(GDBBreakpointHit)
  /// A watchpoint triggered on `address` (for reverse execution: stopped before the access).
  case watchpoint(GDBWatchpointKind, address: UInt64)
  /// A single step finished (forward or reverse) without hitting anything else.
  case stepped
  /// Reverse execution reached the start of the recording.
  case startOfHistory
  /// Forward execution reached the end of the recording.
  case endOfHistory
  /// Stopped because the server asked (Ctrl-C in gdb).
  case interrupted
  /// The guest ended with an exit code (for example through the debug-exit port).
  case exited(code: UInt8)
  /// The guest ended abnormally; `signal` is the Unix signal number gdb should show.
  case terminated(signal: UInt8)
}

public enum GDBBreakpointHit: Equatable, Sendable {
  case software
  case hardware
}

public enum GDBWatchpointKind: Equatable, Sendable {
  case write
  case read
  case access
}
