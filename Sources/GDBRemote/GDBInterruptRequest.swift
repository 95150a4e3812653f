/// The interrupt channel of one resume. The server makes a fresh one per resume and fires it
/// from its network thread when gdb sends Ctrl-C (or vanishes); the target, running the resume
/// on the server's thread, polls `isRequested` or registers a handler that kicks its vCPU.
///
/// One object per resume means a Ctrl-C that arrives after a resume ended can never stop the
/// next one, and one that arrives before the resume started is not lost.
public final class GDBInterruptRequest: Sendable {
  private struct State {
    var requested = false
    var handler: (@Sendable () -> Void)?
  }

  private let state = PThreadLock(State())

  public init() {}

  public var isRequested: Bool { state.withLock { $0.requested } }

  /// Registers what to do when the interrupt comes: called once, on the requesting thread, or
  /// right away on this thread if the request already came. Replaces an earlier handler.
  public func onRequest(_ handler: @escaping @Sendable () -> Void) {
    let runNow = state.withLock { s -> Bool in
      if s.requested { return true }
      s.handler = handler
      return false
    }
    if runNow { handler() }
  }

  /// Asks the resume to stop. Idempotent; callable from any thread.
  public func request() {
    let handler = state.withLock { s -> (@Sendable () -> Void)? in
      guard !s.requested else { return nil }
      s.requested = true
      defer { s.handler = nil }
      return s.handler
    }
    handler?()
  }
}
