import KVM
import Machine
import Recording

/// Replays a recording on a fresh machine: restores a snapshot, then runs forward handing the
/// guest exactly what the recording says at exactly the recorded positions, and checks the
/// full state hash at every snapshot it passes (design.md, contract point 7).
public final class Replayer {
  public enum Stop: Equatable, Sendable {
    /// Reached the position asked for.
    case reached(UInt64)
    /// The guest ended the run as recorded.
    case finished(RecordedOutcome)
    /// The event log ends here (a recording cut short): nothing is known past this position.
    case endOfLog(UInt64)
  }

  public let archive: RecordingArchive
  public let platform: Platform
  public let tap: OutputTap
  let tracker: PageTracker
  let msrIndices: [UInt32]
  private var snapshotAt: [UInt64: Int] = [:]

  public private(set) var position: UInt64 = 0
  private var nextGroup = 0
  private var samples: SampleFeed
  /// Snapshots whose hash was checked on the way (for reports and tests).
  public private(set) var verifiedSnapshots = 0
  /// Breakpoint hits needed to find kicked points (for the benchmark).
  public private(set) var kickSearchHits = 0
  /// Kicked points that had to be found again by single-stepping (a breakpoint hit was missed).
  public private(set) var kickSearchRetries = 0
  private var carefulKickGroup: Int?
  /// Kicks the vCPU when a kicked-point search overruns its budget: a missed hit in a guest
  /// that then spins without exits would otherwise never return from KVM_RUN.
  private let watchdog = HostEvents()

  public init(archive: RecordingArchive, console: @escaping ([UInt8]) -> Void, kvmPath: String = "/dev/kvm") throws {
    self.archive = archive
    tap = OutputTap(forward: console)
    samples = SampleFeed(values: archive.samples)
    platform = try Platform(configuration: archive.setup.configuration, kvmPath: kvmPath, console: tap.write)
    platform.clock.source = samples
    tracker = PageTracker(memory: platform.memory, vm: platform.vm)
    msrIndices = try platform.kvm.msrIndexList()
    for (i, s) in archive.snapshots.enumerated() { snapshotAt[s.position] = i }
    if !archive.snapshots[0].firmware.isEmpty { try platform.mapFirmware(archive.snapshots[0].firmware) }
    try restore(snapshot: 0)
    watchdog.attach(vcpu: platform.vcpu.kickHandle)
  }

  deinit { watchdog.stop() }

  /// Host time a replay may run without an exit before it is declared astray.
  static let exitBudget: UInt64 = 20_000_000_000

  // MARK: Snapshots

  private func restore(snapshot index: Int) throws {
    let s = archive.snapshots[index]
    let state: MachineState
    do { state = try MachineState(decoding: s.state, baseOffset: 0) } catch {
      throw ReplayError.damaged("snapshot at position \(s.position): \(error)")
    }
    try tracker.harvest()
    try tracker.restore(to: archive.pageMap(atSnapshot: index)) {
      // Pages that were zero at the first snapshot are never stored.
      self.archive.pages[$0] ?? ($0 == PageTracker.zeroPageHash ? PageTracker.zeroPage : nil)
    }
    try tracker.discardKVMDirtyLog()
    try state.restore(into: platform)
    position = s.position
    nextGroup = Int(s.groupIndex)
    samples.index = Int(s.sampleIndex)
    platform.clock.source = samples
    if index == 0 && s.outputBytes == 0 { tap.resetToStart() } else { tap.reset(count: s.outputBytes) }
  }

  /// The full-state hash at the current position (the one snapshots store).
  public func stateHash() throws -> Hash128 {
    try tracker.harvest()
    _ = tracker.settle()
    return StateHashing.hash(try MachineState.capture(platform, msrIndices: msrIndices), tracker)
  }

  private func verifySnapshot(_ index: Int) throws {
    let s = archive.snapshots[index]
    let hash = try stateHash()
    guard hash == s.stateHash else {
      var detail = ""
      if let recorded = try? MachineState(decoding: s.state, baseOffset: 0),
        let actual = try? MachineState.capture(platform, msrIndices: msrIndices)
      {
        let diffs = DivergenceReport.differences(
          recorded: recorded, actual: actual, recordedPages: archive.pageMap(atSnapshot: index), actualPages: tracker.hashes,
          recordedPage: { self.archive.pages[$0] ?? ($0 == PageTracker.zeroPageHash ? PageTracker.zeroPage : nil) },
          actualPage: { Array(self.tracker.pageBytes($0)) })
        detail = diffs.isEmpty ? "" : "; " + diffs.joined(separator: "; ")
      }
      throw ReplayError.divergence(
        "state at snapshot \(index) (position \(s.position)) has hash \(hash), the recording says \(s.stateHash)\(detail)")
    }
    guard tap.count == s.outputBytes else {
      throw ReplayError.divergence(
        "console output at position \(s.position) is \(tap.count) bytes, the recording says \(s.outputBytes)")
    }
    verifiedSnapshots += 1
  }

  // MARK: Navigation

  /// Moves to `target` from the nearest snapshot at or before it (or from here when that is closer).
  public func seek(to target: UInt64, fromStart: Bool = false) throws -> Stop {
    guard target <= archive.finalPosition else {
      throw ReplayError.outOfRange("position \(target) is past the end of the recording (\(archive.finalPosition))")
    }
    let index = fromStart ? 0 : archive.snapshotIndex(atOrBefore: target)
    if target < position || archive.snapshots[index].position > position {
      try restore(snapshot: index)
      tap.forgetForwarded()
    }
    return try run(until: target)
  }

  /// Runs forward until `target` (nil: to the end), the recorded end, or the end of the log.
  public func run(until target: UInt64? = nil) throws -> Stop {
    let vcpu = platform.vcpu
    while true {
      if let request = platform.stop.request { return .finished(outcome(of: request)) }
      if let target, position >= target { return .reached(position) }
      if !archive.isComplete && position >= archive.completeThrough { return .endOfLog(position) }

      try deliverGroups(kicked: false)
      _ = try platform.injectPendingInterrupt(requestWindow: false)
      var restarted = false
      while nextGroup < archive.groups.count, archive.groups[nextGroup].position == position,
        let kick = archive.groups[nextGroup].kick
      {
        let search = KickPointSearch(platform: platform, tracker: tracker, afterExit: position, watchdog: watchdog)
        // The recording reached this point `gap` ns of guest time after the exit; allow a
        // generous multiple of that in host time (single-stepping is much slower).
        let delivered = archive.groups[nextGroup].actions.compactMap { a -> UInt64? in
          if case .time(let t) = a { return t } else { return nil }
        }.first
        let gap = delivered.map { $0 > platform.clock.now ? $0 - platform.clock.now : 0 } ?? 10_000_000
        let careful = carefulKickGroup == nextGroup
        let budget = careful ? 2_000_000_000 + 40 * gap : 300_000_000 + 4 * gap
        do {
          try search.run(to: kick, hits: &kickSearchHits, singleStep: careful, budget: budget)
        } catch let miss as KickPointSearch.Miss {
          // Some hosts drop a breakpoint hit now and then: go back to the last snapshot and
          // find this point again by single-stepping, which cannot miss it.
          guard carefulKickGroup != nextGroup else { throw miss.error }
          carefulKickGroup = nextGroup
          kickSearchRetries += 1
          try restore(snapshot: archive.snapshotIndex(atOrBefore: position))
          restarted = true
          break
        }
        try deliverGroups(kicked: true)
        _ = try platform.injectPendingInterrupt(requestWindow: false)
      }

      if restarted { continue }  // restored to retry a kicked point
      // A replay that went astray can spin without exits where the recording had one.
      let deadline = HostClock.now() &+ Self.exitBudget
      watchdog.arm(hostDeadline: deadline)
      let exit = try vcpu.run()
      watchdog.arm(hostDeadline: nil)
      if exit == .interrupted || exit == .interruptWindowOpen {
        if HostClock.now() >= deadline {
          throw ReplayError.divergence(
            "the guest ran \(Self.exitBudget / 1_000_000_000) s after position \(position) without the exit the recording has next"
          )
        }
        continue
      }
      position += 1
      switch exit {
      case .io(let io):
        platform.emulate(io)
      case .mmio(let access):
        platform.handleUnclaimedMMIO(access)
      case .hlt:
        let delivered = nextGroup < archive.groups.count && archive.groups[nextGroup].position == position
        if !delivered && !platform.pic.hasPendingInterrupt && platform.stop.request == nil {
          if !archive.isComplete && position >= archive.completeThrough { return .endOfLog(position) }
          if archive.isComplete && position >= archive.finalPosition {
            return .finished(archive.outcome ?? .userQuit)
          }
          throw ReplayError.divergence("the guest halted at position \(position) but the recording delivered nothing there")
        }
      case .shutdown, .internalError, .failEntry, .unknown, .systemEvent, .debug:
        let fault = platform.fault(Self.faultKind(exit))
        return .finished(.fault(summary: fault.summary))
      case .interrupted, .interruptWindowOpen:
        break
      }
      if let index = snapshotAt[position], index > 0 { try verifySnapshot(index) }
      try checkSamplesNotOverrun()
    }
  }

  /// Hands over the groups recorded at the current position: the plain ones, or the next kicked one.
  private func deliverGroups(kicked: Bool) throws {
    while nextGroup < archive.groups.count {
      let g = archive.groups[nextGroup]
      if g.position < position {
        throw ReplayError.divergence("the recording delivers at position \(g.position), replay is already at \(position)")
      }
      guard g.position == position, (g.kick != nil) == kicked else { return }
      for action in g.actions {
        switch action {
        case .time(let t): platform.deliverTime(t)
        case .input(let bytes): platform.uart.receive(bytes)
        }
      }
      nextGroup += 1
      if kicked { return }
    }
  }

  private func checkSamplesNotOverrun() throws {
    if samples.overrun {
      throw ReplayError.divergence("the guest read the clock more often than recorded (by position \(position))")
    }
  }

  private func outcome(of request: StopRequest) -> RecordedOutcome {
    switch request {
    case .debugExit(let v): return .debugExit(value: v)
    case .reset(let s): return .reset(source: s)
    }
  }

  static func faultKind(_ exit: VCPUExit) -> GuestFault.Kind {
    switch exit {
    case .shutdown: return .tripleFault
    case .internalError(let sub, let data): return .internalError(suberror: sub, data: data)
    case .failEntry(let reason, _): return .failedEntry(reason: reason)
    default: return .unexpectedExit("\(exit)")
    }
  }

  /// Compares the end of a full replay with the recording's end chunk.
  public func verifyEnd(_ stop: Stop) throws {
    guard let end = archive.end, case .finished(let outcome) = stop else { return }
    guard outcome == end.outcome else {
      throw ReplayError.divergence("the run ended with \(outcome), the recording ended with \(end.outcome)")
    }
    guard position == end.finalPosition else {
      throw ReplayError.divergence("the run ended at position \(position), the recording at \(end.finalPosition)")
    }
    guard tap.count == end.outputBytes, tap.jumped || tap.hash == end.outputHash else {
      throw ReplayError.divergence(
        "console output differs: \(tap.count) bytes, hash \(tap.hash); recorded \(end.outputBytes) bytes, hash \(end.outputHash)")
    }
  }
}

/// Clock readings fed back in recorded order.
final class SampleFeed: ClockSource {
  let values: [UInt64]
  var index = 0
  var overrun = false
  init(values: [UInt64]) { self.values = values }

  func sample(current: UInt64) -> UInt64 {
    guard index < values.count else {
      overrun = true
      return current
    }
    defer { index += 1 }
    return values[index]
  }
}

/// Runs the guest to a recorded kicked point: a hardware execute breakpoint at its rip, and at
/// each hit a comparison of the registers and the context hash; a hit that does not match is
/// stepped over (disarm, single-step, re-arm: on some hosts the breakpoint fires again on resume).
struct KickPointSearch {
  let platform: Platform
  let tracker: PageTracker
  let afterExit: UInt64
  let watchdog: HostEvents

  struct Miss: Error {
    var error: ReplayError
  }

  func run(to kick: KickPoint, hits: inout Int, singleStep: Bool, budget: UInt64) throws {
    let vcpu = platform.vcpu
    let rip = kick.registers.rip
    if try matches(kick) { return }
    let deadline = HostClock.now() &+ budget
    watchdog.arm(hostDeadline: deadline)
    defer { watchdog.arm(hostDeadline: nil) }
    func overdue() -> Bool { HostClock.now() >= deadline }
    let timeout = Miss(
      error: .divergence(
        "the kicked point after exit \(afterExit) (rip 0x\(String(rip, radix: 16))) was not reached within \(budget / 1_000_000) ms"
      ))
    if singleStep {
      try vcpu.setGuestDebug([.enable, .singleStep])
      defer { try? vcpu.setGuestDebug([]) }
      while true {
        let exit = try vcpu.run()
        if overdue() { throw timeout }
        switch exit {
        case .interrupted: continue
        case .debug: if try matches(kick) { return }
        default: throw Miss(error: notFound(kick, exit: exit))
        }
      }
    }
    let armed: [UInt64] = [rip, 0, 0, 0, 0, 0, 0, 0x401]
    try vcpu.setGuestDebug([.enable, .useHardwareBreakpoints], debugRegisters: armed)
    defer { try? vcpu.setGuestDebug([]) }
    while true {
      let exit = try vcpu.run()
      if overdue() { throw timeout }
      switch exit {
      case .interrupted:
        continue
      case .debug:
        hits += 1
        if try matches(kick) { return }
        try vcpu.setGuestDebug([.enable, .singleStep])
        var stepped = try vcpu.run()
        while stepped == .interrupted { stepped = try vcpu.run() }
        guard case .debug = stepped else { throw Miss(error: notFound(kick, exit: stepped)) }
        try vcpu.setGuestDebug([.enable, .useHardwareBreakpoints], debugRegisters: armed)
      default:
        throw Miss(error: notFound(kick, exit: exit))
      }
    }
  }

  private func matches(_ kick: KickPoint) throws -> Bool {
    let regs = try platform.vcpu.registers()
    guard regs == kick.registers else { return false }
    return try KickPointMatcher.contextHash(platform: platform, tracker: tracker) == kick.contextHash
  }

  private func notFound(_ kick: KickPoint, exit: VCPUExit) -> ReplayError {
    .divergence(
      "the kicked point after exit \(afterExit) (rip 0x\(String(kick.registers.rip, radix: 16))) was not reached: the guest made another exit first (\(exit))"
    )
  }
}
