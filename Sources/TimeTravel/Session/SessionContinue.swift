import Machine

extension Session {
  /// Asks a running continue, reverse-continue or seek to stop (from another thread: use
  /// `interrupter` there, which is Sendable; the session itself belongs to one thread).
  public func requestInterrupt() { interrupter.request() }

  /// Runs forward to the next breakpoint or watchpoint, the end of the recording, or an
  /// interrupt request.
  public func continueForward() throws -> SessionStop {
    replayer.clearInterruptRequest()
    let stop = try continueInHistory()
    if stop == .endOfHistory(outcome: nil), let live, live.outcome == nil { return try continueLive() }
    return stop
  }

  /// Forward from the frontier of a live session: the live guest runs and is recorded.
  private func continueLive() throws -> SessionStop {
    guard let live else { return .endOfHistory(outcome: nil) }
    let start = try position()
    let values = watchedValues()
    let flag = interrupter
    let result = try live.advance(
      breakpoints: breakpoints.map(\.address), singleStep: false, watchedPages: watchedPages,
      stopAtAccess: accessFilter ?? { _ in false },
      pauseRequested: { flag.isSet || self.changedWatchpoint(values, self.watchedValues(live: live)) != nil })
    interrupter.clear()
    let changed = changedWatchpoint(values, watchedValues(live: live)) != nil
    try reloadRecording()
    if changed { return try locateForwardWrite(from: start, values: values) }
    return try liveStop(result)
  }

  /// Runs a live session's guest from the frontier until `condition` holds (checked at every
  /// exit and timer kick) or the guest ends; the session then stands at the new frontier.
  public func runLiveUntil(_ condition: () -> Bool) throws {
    guard let live, live.outcome == nil else { return }
    _ = try live.advance(breakpoints: [], singleStep: false, pauseRequested: condition)
    try reloadRecording()
  }

  /// One step at the frontier of a live session.
  func stepLive() throws -> SessionStop {
    guard let live, live.outcome == nil else { return .endOfHistory(outcome: live?.outcome) }
    let before = watchedValues()
    let result = try live.advance(
      breakpoints: [], singleStep: true, watchedPages: watchedPages, stopAtAccess: accessFilter ?? { _ in false },
      pauseRequested: { false })
    try reloadRecording()
    if let (w, old, new) = changedWatchpoint(before, watchedValues()) {
      return .watchpoint(id: w.id, kind: w.kind, address: w.address, old: old, new: new)
    }
    return try liveStop(result)
  }

  private func liveStop(_ result: RunAdvance) throws -> SessionStop {
    switch result {
    case .ended: return .endOfHistory(outcome: live?.outcome)
    case .paused(.breakpoint(let address)):
      if let b = breakpoint(at: address) { return .breakpoint(id: b.id, address: b.address) }
      return .interrupted
    case .paused(.stepped): return .stepped
    case .paused(.requested): return .interrupted
    case .paused(.accessed(let done)):
      guard let (w, _) = accessedWatchpoint(done.accesses) else { return .interrupted }
      return accessStop(w, prior: done.priorBytes)
    }
  }

  private func continueInHistory() throws -> SessionStop {
    // Leave the current instruction first: a breakpoint here must not stop at once.
    let first = try stepi()
    guard first == .stepped else { return first }
    if let b = breakpoint(at: try platform.vcpu.registers().rip) { return .breakpoint(id: b.id, address: b.address) }
    if breakpoints.count > replayer.breakpointCapacity { return try continueByStepping() }
    let values = watchedValues()
    var intervalStart = try position()
    while true {
      var changedFrom: Position?
      let stop = try replayer.run(
        until: nil, breakpoints: breakpoints.map(\.address), stopAtAccess: accessFilter,
        afterExit: {
          guard !self.watchpoints.isEmpty else { return false }
          if self.changedWatchpoint(values, self.watchedValues()) != nil {
            changedFrom = intervalStart
            return true
          }
          intervalStart = Position(exit: self.replayer.position)
          return false
        })
      if let from = changedFrom { return try locateForwardWrite(from: from, values: values) }
      switch stop {
      case .breakpoint(let address):
        // A write earlier in this interval comes first.
        if changedWatchpoint(values, watchedValues()) != nil {
          return try locateForwardWrite(from: intervalStart, values: values)
        }
        if let b = breakpoint(at: address) { return .breakpoint(id: b.id, address: b.address) }
      case .finished(let outcome): return .endOfHistory(outcome: outcome)
      case .endOfLog, .reached: return .endOfHistory(outcome: nil)
      case .interrupted: return .interrupted
      case .checked: break
      case .watchedAccess(let accesses):
        if changedWatchpoint(values, watchedValues()) != nil {
          return try locateForwardWrite(from: intervalStart, values: values)
        }
        if let (w, _) = accessedWatchpoint(accesses) {
          return accessStop(w)
        }
      }
    }
  }

  /// Forward with more breakpoints than debug registers: one instruction at a time.
  private func continueByStepping() throws -> SessionStop {
    while true {
      if replayer.isInterruptRequested { return .interrupted }
      let stop = try stepi()
      guard stop == .stepped else { return stop }
      if let b = breakpoint(at: try platform.vcpu.registers().rip) { return .breakpoint(id: b.id, address: b.address) }
    }
  }

  /// Steps from `start` (where the watched bytes were `values`) to the first instruction that
  /// changes them, and stops just after it.
  func locateForwardWrite(from start: Position, values: [[UInt8]]) throws -> SessionStop {
    try goto(start)
    var before = values
    while true {
      let step = try stepCounted()
      let after = watchedValues()
      if let (w, old, new) = changedWatchpoint(before, after) {
        return .watchpoint(id: w.id, kind: w.kind, address: w.address, old: old, new: new)
      }
      before = after
      switch step {
      case .finished(let outcome): return .endOfHistory(outcome: outcome)
      case .endOfLog: return .endOfHistory(outcome: nil)
      default: continue
      }
    }
  }

  /// Runs backwards to the last breakpoint hit or watched write before now, or to the start.
  /// Scans forward from anchors, one stretch between anchors at a time, latest stretch first.
  public func reverseContinue() throws -> SessionStop {
    replayer.clearInterruptRequest()
    var end = try position()
    while let start = anchor(before: end) {
      if replayer.isInterruptRequested {
        try goto(end)
        return .interrupted
      }
      if let found = try lastEvent(from: start, before: end) {
        try goto(found.position)
        return found.stop
      }
      end = start
    }
    try goto(.start)
    return .startOfHistory
  }

  /// The latest anchor strictly before `p`, nil when `p` is the start.
  func anchor(before p: Position) -> Position? {
    if p.instructions > 0 { return anchor(atOrBefore: Position(exit: p.exit, instructions: p.instructions - 1)) }
    guard p.exit > 0 else { return nil }
    return anchor(atOrBefore: Position(exit: p.exit - 1, instructions: .max))
  }

  struct FoundEvent {
    var position: Position
    var stop: SessionStop
  }

  /// The last breakpoint hit or watched write in [start, end). Whole exit intervals are scanned
  /// in run mode to learn which stretch holds the last event; only that one is single-stepped.
  private func lastEvent(from start: Position, before end: Position) throws -> FoundEvent? {
    try goto(start)
    var lastStretch: Position?
    if end.exit > start.exit {
      if breakpoints.count > replayer.breakpointCapacity {
        lastStretch = start
      } else {
        var values = watchedValues()
        var intervalStart = start
        scan: while replayer.position < end.exit {
          let stop = try replayer.run(
            until: end.exit, breakpoints: breakpoints.map(\.address), stopAtAccess: accessFilter,
            afterExit: {
              if !self.watchpoints.isEmpty {
                let now = self.watchedValues()
                if self.changedWatchpoint(values, now) != nil { lastStretch = intervalStart }
                values = now
              }
              intervalStart = Position(exit: self.replayer.position)
              return false
            })
          switch stop {
          case .breakpoint:
            lastStretch = intervalStart
            // Step off the breakpoint and scan on.
            if try replayer.step() == .exit {
              if watchedValues() != values {
                values = watchedValues()
              }
              intervalStart = Position(exit: replayer.position)
            }
          case .watchedAccess:
            lastStretch = intervalStart
          case .interrupted:
            return FoundEvent(position: intervalStart, stop: .interrupted)
          case .reached, .finished, .endOfLog, .checked:
            break scan
          }
        }
      }
    }
    let tail = max(start, Position(exit: end.exit))
    if let found = try stepScan(from: tail, to: end) { return found }
    if let stretch = lastStretch {
      return try stepScan(from: stretch, to: min(end, Position(exit: stretch.exit + 1)))
    }
    return nil
  }

  /// Steps from `from` to `to` (exclusive) and returns the last event: a breakpoint at an
  /// instant in the range, or a watched write made by an instruction that starts in it.
  private func stepScan(from: Position, to: Position) throws -> FoundEvent? {
    guard from < to else { return nil }
    try goto(from)
    var last: FoundEvent?
    if let b = breakpoint(at: try platform.vcpu.registers().rip) {
      last = FoundEvent(position: from, stop: .breakpoint(id: b.id, address: b.address))
    }
    var values = watchedValues()
    var here = from
    while true {
      let previous = here
      switch try stepCounted() {
      case .finished, .endOfLog: return last
      default: break
      }
      here = Position(exit: replayer.position, instructions: replayer.stepsSinceExit ?? 0)
      let now = watchedValues()
      if let (w, _) = accessedWatchpoint(replayer.lastStepAccesses) {
        last = FoundEvent(position: previous, stop: accessStop(w))
      }
      if let (w, old, new) = changedWatchpoint(values, now) {
        last = FoundEvent(
          position: previous, stop: .watchpoint(id: w.id, kind: w.kind, address: w.address, old: old, new: new))
      }
      values = now
      if here >= to { return last }
      if let b = breakpoint(at: try platform.vcpu.registers().rip) {
        last = FoundEvent(position: here, stop: .breakpoint(id: b.id, address: b.address))
      }
    }
  }
}
