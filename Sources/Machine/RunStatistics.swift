/// Counters of one run, for `--verbose` and the benchmark.
public struct RunStatistics: Sendable, Equatable {
  public var exits = 0
  public var ioExits = 0
  public var mmioExits = 0
  public var haltExits = 0
  public var windowExits = 0
  /// KVM_RUN returning because the kicker (or input) interrupted a running guest.
  public var interruptedExits = 0
  public var interruptsInjected = 0
  public var hostNanoseconds: UInt64 = 0
  public var guestNanoseconds: UInt64 = 0

  public init() {}

  mutating func count(_ exit: VCPUExitKind) {
    exits += 1
    switch exit {
    case .io: ioExits += 1
    case .mmio: mmioExits += 1
    case .hlt: haltExits += 1
    case .window: windowExits += 1
    case .interrupted: interruptedExits += 1
    case .other: break
    }
  }
}

enum VCPUExitKind { case io, mmio, hlt, window, interrupted, other }
