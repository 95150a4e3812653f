/// Routes Ctrl-C from a connection's reader thread to the resume it belongs to.
///
/// The reader sees the byte stream in order, so it knows whether a resume packet precedes the
/// Ctrl-C; the serving thread knows when the resume actually runs. A Ctrl-C after a resume packet
/// but before the resume starts is kept for it; one with no resume outstanding is stale and
/// dropped, so it cannot stop a later resume.
final class InterruptGate: Sendable {
  private struct State {
    var outstanding = false
    var pending = false
    var running: GDBInterruptRequest?
  }

  private let state = PThreadLock(State())

  /// Reader: a resume packet was decoded and queued.
  func resumeQueued() { state.withLock { $0.outstanding = true } }

  /// Reader: gdb sent Ctrl-C. False when no resume was outstanding (ignored).
  @discardableResult
  func interrupt() -> Bool {
    let (applies, running) = state.withLock { s -> (Bool, GDBInterruptRequest?) in
      if let running = s.running { return (true, running) }
      guard s.outstanding else { return (false, nil) }
      s.pending = true
      return (true, nil)
    }
    running?.request()
    return applies
  }

  /// Reader: the connection is gone; a running resume should stop too.
  func connectionLost() {
    let running = state.withLock { s -> GDBInterruptRequest? in
      s.pending = s.outstanding
      return s.running
    }
    running?.request()
  }

  /// Server: a resume starts now; the request is already fired if Ctrl-C came first.
  func beginResume() -> GDBInterruptRequest {
    let request = GDBInterruptRequest()
    let pending = state.withLock { s -> Bool in
      s.running = request
      defer { s.pending = false }
      return s.pending
    }
    if pending { request.request() }
    return request
  }

  /// Server: the resume returned; later Ctrl-Cs are stale until the next resume packet.
  func endResume() {
    state.withLock { s in
      s.running = nil
      s.outstanding = false
      s.pending = false
    }
  }
}
