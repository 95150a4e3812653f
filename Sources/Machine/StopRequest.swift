/// A device asked for the run to end (debug-exit port, reset line). Shared between the
/// devices' callbacks and the run loop, both on the vCPU thread.
public final class StopLatch {
  public private(set) var request: StopRequest?
  public init() {}
  public func request(_ r: StopRequest) {
    if request == nil { request = r }
  }
  public func clear() { request = nil }
}

public enum StopRequest: Sendable, Equatable {
  /// The guest wrote `value` to the debug-exit port.
  case debugExit(value: UInt32)
  /// The guest pulsed a reset line (i8042 command 0xFE, port 0x92 bit 0).
  case reset(source: String)
}
