#if canImport(Glibc)
  import Glibc
#endif

/// Host monotonic time in nanoseconds. Only the live pacing code reads it: devices never do.
public enum HostClock {
  public static func now() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
  }
}

/// Live time: guest time follows host time since power-on.
public struct HostPacedClockSource: ClockSource {
  public let start: UInt64
  public init(start: UInt64 = HostClock.now()) { self.start = start }
  public func elapsed() -> UInt64 { HostClock.now() &- start }
  public func sample(current: UInt64) -> UInt64 { max(current, elapsed()) }
}
