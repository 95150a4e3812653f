/// Guest time, owned by the engine (design.md, determinism contract point 2).
///
/// Devices never read the host clock: they ask this clock. Time moves only when the engine
/// moves it: `advance(to:)` when a timer deadline is delivered, and `observe()` when the guest
/// reads a time-dependent register. While running live, `observe()` samples the `source`
/// (host-paced); a recorder wraps the source to log each value and a replayer substitutes one
/// that feeds logged values back, so a device's view of time is identical in replay.
public final class VirtualClock {
  /// Nanoseconds of guest time since power-on.
  public private(set) var now: UInt64 = 0
  public var source: any ClockSource

  public init(source: any ClockSource = FrozenClockSource()) {
    self.source = source
  }

  /// Moves time forward to `time` (never backward).
  public func advance(to time: UInt64) {
    if time > now { now = time }
  }

  /// The guest is looking at the time: let the source move it forward, then answer.
  @discardableResult
  public func observe() -> UInt64 {
    advance(to: source.sample(current: now))
    return now
  }

  /// Restores the clock from a snapshot.
  public func reset(to time: UInt64) {
    now = time
  }
}

/// Where guest time comes from when the guest observes it.
public protocol ClockSource {
  /// The new guest time, given the current one. Must be >= `current`.
  mutating func sample(current: UInt64) -> UInt64
}

/// Time that moves only through `advance(to:)`: unit tests and pure replays use it.
public struct FrozenClockSource: ClockSource {
  public init() {}
  public func sample(current: UInt64) -> UInt64 { current }
}
