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
public final class HostPacedClockSource: ClockSource {
  /// Host time that counts as guest time 0; moves later by every stretch the run was held.
  public private(set) var start: UInt64
  private var heldSince: UInt64?
  private var stalledSince: UInt64?
  /// Host time; tests pass a clock that moves at every reading, to make timing races certain.
  private let now: () -> UInt64
  public init(start: UInt64? = nil, now: @escaping () -> UInt64 = HostClock.now) {
    self.now = now
    self.start = start ?? now()
  }
  public func elapsed() -> UInt64 { (heldSince ?? stalledSince ?? now()) &- start }
  public func sample(current: UInt64) -> UInt64 { max(current, elapsed()) }

  /// The guest is paused (a debugger stopped a live run): guest time stands still until
  /// `release()`, as QEMU's virtual clock does while the VM is stopped. Without this, a long
  /// stop would hand the guest every timer tick it missed at once on resume.
  public func hold() {
    stall(false)
    if heldSince == nil { heldSince = now() }
  }

  /// While stalled, guest time stands still, as while held; the Runner stalls it while the
  /// guest services a timer tick (`Runner.tickService`). A guest slower than its own timer
  /// (the interrupt path alone taking longer than a period, as a Linux kernel's does under
  /// nested virtualization) would otherwise find the next tick due each time it enables
  /// interrupts, and spend all its time in the timer interrupt.
  public func stall(_ on: Bool) {
    if on {
      if stalledSince == nil, heldSince == nil { stalledSince = now() }
    } else if let since = stalledSince {
      start &+= now() &- since
      stalledSince = nil
    }
  }

  public var isStalled: Bool { stalledSince != nil }

  /// Guest time may fall behind host time by at most `maxLag`: a guest (or a recorder) too slow
  /// to keep up with its timer would otherwise get each overdue tick at once after the last,
  /// spend all its time in the timer interrupt and never catch up. Past that lag, the host time
  /// beyond `guestTime` is dropped, as the run were held for it: guest time then follows host
  /// time again from `guestTime`, and the next tick comes a whole period later in host time.
  /// Live pacing only: replay never consults host time.
  public func limitLag(guestTime: UInt64, maxLag: UInt64) {
    guard heldSince == nil, stalledSince == nil else { return }
    let current = now()
    let elapsed = current &- start
    guard elapsed > guestTime, elapsed - guestTime > maxLag else { return }
    start = current &- guestTime
  }

  /// Host time spent on the engine's own work (a recorder's snapshot or kicked-point hash) is
  /// not guest time: the run counts as held for it. A recorder slower than the guest's timer
  /// period would otherwise show its cost to the guest as time passing, and a busy guest would
  /// get a tick at every exit and run nothing else.
  public func exclude(_ nanoseconds: UInt64) {
    guard heldSince == nil, stalledSince == nil else { return }
    start &+= nanoseconds
  }

  public func release() {
    guard let since = heldSince else { return }
    start &+= now() &- since
    heldSince = nil
  }
}
