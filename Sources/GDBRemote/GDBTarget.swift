/// What the server drives: the seam between the protocol and the time-travel engine.
///
/// Every method is called on the thread that runs `GDBServer.serve`, one at a time; only the
/// `GDBInterruptRequest` handed to `resume` is touched from another thread. The target owns all
/// debugging state (breakpoints, watchpoints, position in time); the server keeps none.
public protocol GDBTarget: AnyObject {
  /// The layout gdb gets (registers, `target.xml`). Read once per connection.
  var architecture: GDBArchitecture { get }

  func readRegisters() throws(GDBTargetError) -> GDBRegisterValues
  /// Sets all registers. `G` and `P` both arrive here: the server applies the change to the values
  /// from `readRegisters` first.
  func writeRegisters(_ values: GDBRegisterValues) throws(GDBTargetError)

  /// Up to `count` bytes at `address`; the target decides whether addresses are virtual or
  /// physical. A shorter result is a partial read; throw when nothing can be read.
  func readMemory(at address: UInt64, count: Int) throws(GDBTargetError) -> [UInt8]
  func writeMemory(at address: UInt64, bytes: [UInt8]) throws(GDBTargetError)

  /// Runs until something stops the guest. Returns `.interrupted` soon after `interrupt` fires.
  /// A thrown error is shown to the user and reported to gdb as a plain stop where the guest is.
  func resume(_ kind: GDBResumeKind, interrupt: GDBInterruptRequest) throws(GDBTargetError) -> GDBStopReason

  /// `Z0`-`Z4`. Throw `.unsupported` for a type the target cannot do: gdb then falls back.
  func insertBreakpoint(_ breakpoint: GDBBreakpoint) throws(GDBTargetError)
  func removeBreakpoint(_ breakpoint: GDBBreakpoint) throws(GDBTargetError)

  /// A `monitor` command line; the returned text is printed by gdb (end lines with "\n").
  func monitor(_ command: String) throws(GDBTargetError) -> String

  /// The debugger left: breakpoints it inserted may still be set (it vanished, or was killed).
  func debuggerDisconnected(_ reason: GDBDisconnectReason)
}

extension GDBTarget {
  public func debuggerDisconnected(_ reason: GDBDisconnectReason) {}
}

public enum GDBResumeKind: Equatable, Sendable {
  case `continue`
  case step
  case reverseContinue
  case reverseStep
}

public enum GDBDisconnectReason: Equatable, Sendable {
  /// gdb sent `D` (detach, or quit after attach).
  case detached
  /// gdb sent `k`: the debugging session is over.
  case killed
  /// The connection closed without either.
  case connectionLost
}

/// What a target reports when it cannot do what gdb asked.
public enum GDBTargetError: Error, Equatable, Sendable, CustomStringConvertible {
  /// Memory at `address` is not mapped or not accessible. Replied as `E0e`.
  case memoryFault(address: UInt64)
  /// Not offered by this target (a breakpoint type, say). Replied empty, so gdb falls back.
  case unsupported(String)
  /// The request failed; the message says why. Replied as `E05`.
  case failed(String)

  public var description: String {
    switch self {
    case .memoryFault(let address): return "cannot access memory at 0x\(String(address, radix: 16))"
    case .unsupported(let what): return "not supported: \(what)"
    case .failed(let message): return message
    }
  }
}
