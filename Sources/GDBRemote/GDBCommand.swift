/// A packet from gdb, parsed. Numbers are as gdb sent them (hex on the wire); data is raw bytes.
public enum GDBCommand: Equatable, Sendable {
  /// `?`: why did the target stop?
  case haltReason
  /// `g`: all registers in `g`-packet layout.
  case readRegisters
  /// `G XX...`: all registers, the raw `g`-packet bytes.
  case writeRegisters([UInt8])
  /// `p n`: one register by gdb number.
  case readRegister(Int)
  /// `P n=XX...`: one register by gdb number, raw little-endian bytes.
  case writeRegister(Int, [UInt8])
  /// `m addr,len`: memory, answered in hex.
  case readMemory(address: UInt64, length: Int)
  /// `M addr,len:XX...`
  case writeMemory(address: UInt64, bytes: [UInt8])
  /// `x addr,len`: memory, answered in binary.
  case readMemoryBinary(address: UInt64, length: Int)
  /// `X addr,len:bin`: memory from binary data (`X addr,0:` is gdb's probe for support).
  case writeMemoryBinary(address: UInt64, bytes: [UInt8])
  /// `c [addr]`
  case `continue`(address: UInt64?)
  /// `s [addr]`
  case step(address: UInt64?)
  /// `vCont?`
  case vContQuery
  /// `vCont;action[:thread];...`
  case vCont([GDBVContAction])
  /// `bc`: reverse continue.
  case reverseContinue
  /// `bs`: reverse step (one instruction).
  case reverseStep
  /// `Z type,addr,kind`
  case insertBreakpoint(GDBBreakpoint)
  /// `z type,addr,kind`
  case removeBreakpoint(GDBBreakpoint)
  /// `Hg thread` / `Hc thread`
  case setThread(GDBThreadOperation, GDBThreadID)
  /// `T thread`: is the thread alive?
  case threadAlive(GDBThreadID)
  /// `qC`
  case currentThread
  /// `qfThreadInfo`
  case threadInfoFirst
  /// `qsThreadInfo`
  case threadInfoNext
  /// `qAttached[:pid]`
  case attached
  /// `qSupported[:feature;...]`: gdb's own features, as sent.
  case supported(features: [String])
  /// `qRcmd,hex`: a `monitor` command, hex-decoded.
  case monitor(String)
  /// `qXfer:features:read:ANNEX:offset,length`
  case readFeatures(annex: String, offset: Int, length: Int)
  /// `QStartNoAckMode`
  case startNoAckMode
  /// `D[;pid]`
  case detach
  /// `k`
  case kill
  /// `qOffsets`
  case offsets
  /// `qL...`: the obsolete thread list query.
  case legacyThreadList
  /// `qTStatus`: tracepoint status.
  case traceStatus
  /// `vMustReplyEmpty`: gdb checks that unknown `v` packets get an empty reply.
  case mustReplyEmpty
  /// Anything else; answered with an empty packet, which gdb reads as "not supported".
  case unknown(String)

  /// True for the commands that run the target until a stop reply.
  public var isResume: Bool {
    switch self {
    case .continue, .step, .vCont, .reverseContinue, .reverseStep: return true
    default: return false
    }
  }
}

/// A thread-id as gdb writes it: `-1` for all threads, `0` for any, otherwise a positive id.
public enum GDBThreadID: Equatable, Sendable {
  case all
  case any
  case id(UInt64)
}

/// Which operations a `H` packet selects the thread for.
public enum GDBThreadOperation: Equatable, Sendable {
  /// `Hg`: register and memory access.
  case general
  /// `Hc`: step and continue.
  case `continue`
}

/// One `vCont` action. Signals are accepted (gdb requires `C`/`S` before it uses vCont) and
/// ignored: a guest under replay receives no host signals.
public struct GDBVContAction: Equatable, Sendable {
  public enum Kind: Equatable, Sendable {
    case `continue`
    case step
  }

  public var kind: Kind
  public var signal: UInt8?
  /// nil when the action names no thread (it applies to all).
  public var thread: GDBThreadID?

  public init(kind: Kind, signal: UInt8? = nil, thread: GDBThreadID? = nil) {
    self.kind = kind
    self.signal = signal
    self.thread = thread
  }
}

/// The `type` of a `Z`/`z` packet.
public enum GDBBreakpointType: Int, Equatable, Sendable, CaseIterable {
  case software = 0
  case hardware = 1
  case writeWatchpoint = 2
  case readWatchpoint = 3
  case accessWatchpoint = 4

  public var isWatchpoint: Bool { rawValue >= 2 }
}

/// A `Z`/`z` request: `kind` is the breakpoint's byte length (x86: 1) or the watched length.
public struct GDBBreakpoint: Equatable, Sendable {
  public var type: GDBBreakpointType
  public var address: UInt64
  public var kind: UInt64

  public init(type: GDBBreakpointType, address: UInt64, kind: UInt64) {
    self.type = type
    self.address = address
    self.kind = kind
  }
}
