import Synchronization

/// A stop request set from another thread (the gdb stub's Ctrl-C, the REPL's SIGINT handler).
struct InterruptFlag: ~Copyable {
  private let value = Atomic<Bool>(false)
  func set() { value.store(true, ordering: .releasing) }
  func clear() { value.store(false, ordering: .releasing) }
  var isSet: Bool { value.load(ordering: .acquiring) }
}
