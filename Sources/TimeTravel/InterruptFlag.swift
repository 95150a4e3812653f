import Machine
import Synchronization

/// Stops a running replay or live run from another thread (the gdb stub's Ctrl-C, the REPL's
/// SIGINT handler): sets a flag the run loops check and kicks the vCPUs out of `KVM_RUN`.
public final class Interrupter: Sendable {
  private let flag = Atomic<Bool>(false)
  private let targets = Mutex<[HostEvents]>([])

  public init() {}

  /// A vCPU (through its kicker) that `request()` must kick.
  func add(_ events: HostEvents) { targets.withLock { $0.append(events) } }
  func remove(_ events: HostEvents) { targets.withLock { $0.removeAll { $0 === events } } }

  public func request() {
    flag.store(true, ordering: .releasing)
    for events in targets.withLock({ $0 }) { events.kickNow() }
  }

  func clear() { flag.store(false, ordering: .releasing) }
  var isSet: Bool { flag.load(ordering: .acquiring) }
}
