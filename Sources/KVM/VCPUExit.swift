/// Why `KVM_RUN` returned, decoded from kvm_run.
public enum VCPUExit: Sendable, Equatable {
  /// Port I/O. The data (size * count bytes) is in `VCPU.ioData`.
  case io(IOExit)
  /// A guest access to an address no memory slot covers (or a read-only slot written).
  case mmio(MMIOExit)
  case hlt
  /// Triple fault or another shutdown condition.
  case shutdown
  /// A debug exit: single-step, hardware or software breakpoint.
  case debug(DebugEvent)
  /// The guest can take an interrupt now (`request_interrupt_window` was set).
  case interruptWindowOpen
  /// KVM could not emulate or handle something (`suberror`, plus up to 16 words of detail).
  case internalError(suberror: UInt32, data: [UInt64])
  /// VM entry failed (invalid guest state); `reason` is the hardware reason code.
  case failEntry(reason: UInt64, cpu: UInt32)
  /// A system event (reset, shutdown, crash) requested by the hypervisor.
  case systemEvent(type: UInt32)
  /// `KVM_RUN` returned EINTR: a signal (our kick) or `immediate_exit`.
  case interrupted
  case unknown(reason: UInt32)
}

public struct IOExit: Sendable, Equatable {
  public var isWrite: Bool
  public var port: UInt16
  /// Bytes per access: 1, 2 or 4.
  public var size: Int
  /// Repetitions (`rep ins`/`rep outs`).
  public var count: Int
}

public struct MMIOExit: Sendable, Equatable {
  public var address: UInt64
  public var isWrite: Bool
  public var length: Int
  public var data: UInt64
}

public struct DebugEvent: Sendable, Equatable {
  public var pc: UInt64
  public var exception: UInt32
  public var dr6: UInt64
  public var dr7: UInt64

  public init(pc: UInt64, exception: UInt32, dr6: UInt64, dr7: UInt64) {
    self.pc = pc
    self.exception = exception
    self.dr6 = dr6
    self.dr7 = dr7
  }
}
