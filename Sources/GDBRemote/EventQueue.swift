/// A bounded blocking FIFO between the network threads and the serving thread. A full queue
/// makes producers wait (a flooding client cannot grow memory); `close` releases everyone.
final class EventQueue<Element: Sendable>: Sendable {
  private struct State {
    var items: [Element] = []
    var head = 0
    var closed = false
    var count: Int { items.count - head }
  }

  private let state = PThreadLock(State())
  let capacity: Int

  init(capacity: Int = 256) { self.capacity = max(1, capacity) }

  /// Waits for room; drops the element once the queue is closed.
  func push(_ element: Element) {
    _ = state.wait { s -> Bool? in
      if s.closed { return true }
      guard s.count < capacity else { return nil }
      s.items.append(element)
      return true
    }
  }

  /// Waits for the next element; nil once the queue is closed.
  func pop() -> Element? {
    state.wait { s -> Element?? in
      if s.closed { return .some(nil) }
      guard s.count > 0 else { return nil }
      let element = s.items[s.head]
      s.head += 1
      if s.head > 64 && s.head * 2 > s.items.count {
        s.items.removeFirst(s.head)
        s.head = 0
      }
      return .some(element)
    }
  }

  func close() { state.update { $0.closed = true } }
}
