import Machine
import Synchronization

/// Stops a running replay from another thread (the gdb stub's Ctrl-C, the REPL's SIGINT
/// handler): sets a flag the run loops check and kicks the vCPU out of `KVM_RUN`.
public final class Interrupter: @unchecked Sendable {
  // HostEvents is internally locked; the flag is atomic.
  private let flag = Atomic<Bool>(false)
  private let events: HostEvents

  init(events: HostEvents) { self.events = events }

  public func request() {
    flag.store(true, ordering: .releasing)
    events.arm(hostDeadline: HostClock.now())
  }

  func clear() { flag.store(false, ordering: .releasing) }
  var isSet: Bool { flag.load(ordering: .acquiring) }
}
