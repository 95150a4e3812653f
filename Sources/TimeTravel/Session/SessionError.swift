/// A session request that cannot be carried out, in words the user can act on.
public enum SessionError: Error, CustomStringConvertible, Equatable {
  case invalidPosition(String)
  case unmappedAddress(UInt64)
  case unsupported(String)
  case noSuchBreakpoint(Int)
  /// `requestInterrupt()` stopped the operation.
  case interrupted

  public var description: String {
    switch self {
    case .invalidPosition(let s): return s
    case .unmappedAddress(let a): return "address 0x\(String(a, radix: 16)) is not mapped to RAM"
    case .unsupported(let s): return s
    case .noSuchBreakpoint(let id): return "no breakpoint or watchpoint number \(id)"
    case .interrupted: return "interrupted"
    }
  }
}
