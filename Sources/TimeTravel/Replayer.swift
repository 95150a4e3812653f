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
    /// An execution breakpoint at this address, before its instruction ran.
    case breakpoint(UInt64)
    /// The caller's `afterExit` check asked to stop, right after an exit was handled.
    case checked
    /// `requestInterrupt()` was called.
    case interrupted
    /// An access to unmapped (watched) RAM that `accessFilter` asked to stop at: the accessing
    /// instruction has completed.
    case watchedAccess([MMIOExit])
  }

  /// One unit of forward execution in step mode (`step()`).
  public enum Step: Equatable, Sendable {
    /// One instruction ran (single-step).
    case instruction
    /// An interrupt was delivered: the vCPU stands at the handler's first instruction.
    case interruptEntry(vector: UInt8)
    /// The instruction made an exit (I/O, MMIO, HLT): the position advanced by one.
    case exit
    /// The run ended (debug-exit, reset, fault) as the recording says.
    case finished(RecordedOutcome)
    /// Nothing is recorded past here.
    case endOfLog(UInt64)
  }

  public let archive: RecordingArchive
  public let platform: Platform
  public let tap: OutputTap
  let tracker: PageTracker
  let msrIndices: [UInt32]
  /// Guest debugging by the host's mechanisms (breakpoint method, single-step quirks).
  let arming: BreakpointArming
  private var snapshotAt: [UInt64: Int] = [:]

  public private(set) var position: UInt64 = 0
  /// Instructions (and interrupt entries) since the exit at `position`, when known: run mode
  /// stopping between exits does not count them.
  public private(set) var stepsSinceExit: UInt64? = 0
  /// A vector injected with KVM_INTERRUPT that the guest has not entered yet.
  private var pendingVector: UInt8?
  /// Whether the current instant is one where the recording could have injected: right after
  /// an exit, or at a kicked point. The live run injects nowhere else, so neither does replay
  /// (stepping past an `sti` with an interrupt pending must not take it early).
  private var mayInject = true
  /// The guest-debug setting KVM has now (see `setDebug`); unknown after a restore.
  private var debugMode: [UInt64]? = nil
  private var debugModeKnown = false
  private var nextGroup = 0
  private var samples: SampleFeed
  /// Snapshots whose hash was checked on the way (for reports and tests).
  public private(set) var verifiedSnapshots = 0
  /// Breakpoint hits needed to find kicked points (for the benchmark).
  public private(set) var kickSearchHits = 0
  /// Kicked points that had to be found again by single-stepping (a breakpoint hit was missed).
  public private(set) var kickSearchRetries = 0
  /// How many search methods have missed each kicked point (by group index). Kept for every
  /// group, not just the last one missed: a retry goes back to a snapshot and finds the earlier
  /// points of the interval again, and one of those that misses now and then would otherwise
  /// be retried with the first method again, then the later one, and so on without end (both
  /// points of a `long64` recording on stock KVM did that).
  private var kickAttempts: [Int: Int] = [:]
  /// The ways to find a kicked point, most direct first (nil: single-stepping); a miss retries
  /// the point from the last snapshot with the next way.
  private lazy var kickSearchArmings: [BreakpointArming?] = {
    var ways: [BreakpointArming?] = [arming]
    let m = arming.mechanisms
    if m.breakpointMethod == .debugRegisters && m.haltPatchStops.value == true {
      // Nested KVM under QEMU's emulation drops a debug-register hit now and then; the patch
      // does not depend on that emulation and is as fast.
      var patching = m
      patching.executeBreakpointFires = ProbeFinding(false, "debug-register hit missed: patching instead")
      ways.append(BreakpointArming(platform: platform, mechanisms: patching))
    }
    return ways + [nil]
  }()
  /// Why the last kicked-point search that had to be retried missed (for reports).
  private(set) var lastKickMiss: String?

  /// When `run` restores a recorded kicked snapshot (`KickedSnapshotRecord`) instead of finding
  /// its point by breakpoint hits.
  public enum KickedSnapshotUse: Sendable, Equatable {
    /// When the search runs out of its (shortened) allowance, and for the later points of the
    /// same run without exits.
    case fallback
    /// Always: the point is not searched for.
    case always
    /// Never: every point is found by running to it.
    case never
  }
  public var kickedSnapshotUse = KickedSnapshotUse.fallback
  /// Kicked snapshots restored in place of a search (for reports).
  public private(set) var kickedSnapshotsRestored = 0
  /// The position whose kicked points are restored without a search: a search there already
  /// ran out, and the guest is still in the same run without exits. Every restore of a
  /// snapshot or checkpoint forgets it (the run is gone).
  private var restoringKickedAt: UInt64?
  /// The page map of the position snapshot the last restored kicked snapshot built on.
  private var kickedBaseMap: (index: Int, map: [Hash128])?
  /// Breakpoint-hit time a search may spend on a point that has a kicked snapshot to fall back to.
  static let hitAllowanceBeforeKickedSnapshot: UInt64 = 2_000_000_000
  /// Kicks the vCPU when a kicked-point search overruns its budget: a missed hit in a guest
  /// that then spins without exits would otherwise never return from KVM_RUN.
  private let watchdog = HostEvents()
  /// Stops a running `run` from another thread.
  public let interrupter: Interrupter
  /// Page contents of navigation checkpoints that the recording does not hold.
  let checkpointPages = CheckpointStore()
  /// The accesses to unmapped RAM made by the last `step()`.
  private(set) var lastStepAccesses: [MMIOExit] = []
  /// What the bytes written by the last accesses to unmapped RAM held before (address -> byte).
  private(set) var lastAccessPriorBytes: [UInt64: UInt8] = [:]

  public init(
    archive: RecordingArchive, console: @escaping ([UInt8]) -> Void, kvmPath: String = "/dev/kvm",
    interrupter: Interrupter = Interrupter(), mechanisms: HostMechanisms? = nil
  ) throws {
    self.archive = archive
    self.interrupter = interrupter
    tap = OutputTap(forward: console)
    samples = SampleFeed(values: archive.samples)
    platform = try Platform(configuration: archive.setup.configuration, kvmPath: kvmPath, console: tap.write)
    platform.clock.source = samples
    arming = BreakpointArming(platform: platform, mechanisms: mechanisms ?? HostProbe.mechanisms(kvmPath: kvmPath))
    tracker = PageTracker(memory: platform.memory, vm: platform.vm) { [unowned platform] in platform.ramSlots }
    tracker.contextSkipsUnchangedPages = archive.setup.eventScheme >= 4
    tracker.contextHashesPageHashes = archive.setup.eventScheme >= 5
    msrIndices = try platform.kvm.msrIndexList()
    for (i, s) in archive.snapshots.enumerated() { snapshotAt[s.position] = i }
    if !archive.snapshots[0].firmware.isEmpty { try platform.mapFirmware(archive.snapshots[0].firmware) }
    try restore(snapshot: 0)
    watchdog.attach(vcpu: platform.vcpu.kickHandle)
    interrupter.add(watchdog)
  }

  deinit {
    interrupter.remove(watchdog)
    watchdog.stop()
  }

  /// How many breakpoints `run` can arm at once on this host (more: single-step).
  public var breakpointCapacity: Int { arming.capacity }

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
    try tracker.restore(to: archive.pageMap(atSnapshot: index), pages: pageContent)
    try tracker.discardKVMDirtyLog()
    tracker.markSnapshotReference()
    try state.restore(into: platform)
    position = s.position
    restoringKickedAt = nil
    stepsSinceExit = 0
    pendingVector = nil
    mayInject = true
    debugModeKnown = false
    nextGroup = Int(clamping: s.groupIndex)
    samples.index = Int(clamping: s.sampleIndex)
    samples.overrun = false  // an overrun seen after this instant is undone with it
    platform.clock.source = samples
    if index == 0 && s.outputBytes == 0 { tap.resetToStart() } else { tap.reset(count: s.outputBytes) }
  }

  /// Restores kicked snapshot `index`: the instant of its kicked point, before its group is
  /// delivered. Replay stands at that point's position: no exit lies between.
  private func restore(kicked index: Int) throws {
    let (k, base) = archive.kickedSnapshots[index]
    let state: MachineState
    do { state = try MachineState(decoding: k.state, baseOffset: 0) } catch {
      throw ReplayError.damaged("kicked snapshot at position \(k.position): \(error)")
    }
    guard tap.count == k.outputBytes else {
      throw ReplayError.divergence(
        "console output at the kicked point after exit \(k.position) is \(tap.count) bytes, the recording says \(k.outputBytes)")
    }
    let baseMap: [Hash128]
    if let cached = kickedBaseMap, cached.index == base {
      baseMap = cached.map
    } else {
      baseMap = archive.pageMap(atSnapshot: base)
      kickedBaseMap = (base, baseMap)
    }
    try tracker.harvest()
    try tracker.restore(to: archive.pageMap(atKickedSnapshot: index), pages: pageContent)
    try tracker.discardKVMDirtyLog()
    tracker.markSnapshotReference(baseMap)
    try state.restore(into: platform)
    position = k.position
    stepsSinceExit = nil
    pendingVector = nil
    debugModeKnown = false
    nextGroup = Int(clamping: k.groupIndex)
    samples.index = Int(clamping: k.sampleIndex)
    samples.overrun = false
    platform.clock.source = samples
    kickedSnapshotsRestored += 1
  }

  /// Captures the current instant (whose instruction count must be known) as a checkpoint;
  /// pages not yet stored anywhere are added to `store`.
  func captureCheckpoint() throws -> Checkpoint {
    guard let steps = stepsSinceExit else { throw ReplayError.outOfRange("internal: checkpoint at an uncounted instant") }
    try settlePages()
    return Checkpoint(
      position: Position(exit: position, instructions: steps),
      state: try MachineState.capture(platform, msrIndices: msrIndices), pageMap: tracker.hashes,
      sinceSnapshot: tracker.sinceSnapshot, referenceHashes: tracker.referenceHashes, nextGroup: nextGroup,
      sampleIndex: samples.index, outputBytes: tap.count,
      pendingVector: pendingVector, mayInject: mayInject)
  }

  /// The content of a page by its hash: from the recording, from the checkpoints, or the zero
  /// page (pages that were zero at the first snapshot are never stored).
  func pageContent(_ hash: Hash128) -> [UInt8]? {
    archive.pages[hash] ?? checkpointPages.page(hash) ?? (hash == PageTracker.zeroPageHash ? PageTracker.zeroPage : nil)
  }

  /// Re-hashes the pages written since the last look, keeping a copy of every content the
  /// recording does not hold: a checkpoint may name it later.
  private func settlePages() throws {
    try tracker.harvest()
    for (page, hash) in tracker.settle() where archive.pages[hash] == nil {
      checkpointPages.retain(hash, bytes: tracker.pageBytes(page))
    }
  }

  func restore(_ c: Checkpoint) throws {
    try tracker.harvest()
    try tracker.restore(to: c.pageMap, pages: pageContent)
    try tracker.discardKVMDirtyLog()
    tracker.sinceSnapshot = c.sinceSnapshot
    tracker.referenceHashes = c.referenceHashes
    try c.state.restore(into: platform)
    debugModeKnown = false
    position = c.position.exit
    restoringKickedAt = nil
    stepsSinceExit = c.position.instructions
    pendingVector = c.pendingVector
    mayInject = c.mayInject
    nextGroup = c.nextGroup
    samples.index = c.sampleIndex
    samples.overrun = false
    platform.clock.source = samples
    tap.reset(count: c.outputBytes)
    tap.forgetForwarded()
  }

  /// Restores the recording's snapshot at or before `exit`.
  func restoreSnapshot(atOrBefore exit: UInt64) throws {
    try restore(snapshot: archive.snapshotIndex(atOrBefore: exit))
    debugModeKnown = false
    tap.forgetForwarded()
  }

  /// Registers plus the context hash: what identifies an instant between exits.
  func fingerprint() throws -> Fingerprint {
    Fingerprint(
      registers: try platform.vcpu.registers(),
      context: try KickPointMatcher.contextHash(platform: platform, tracker: tracker))
  }

  /// What the context hash covers, for reports that say what differs.
  func contextDetail() throws -> ContextDetail { try ContextDetail.capture(platform: platform, tracker: tracker) }

  /// The full-state hash at the current position (the one snapshots store).
  public func stateHash() throws -> Hash128 {
    try settlePages()
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
          recordedPage: pageContent,
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
    tracker.markSnapshotReference()
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

  /// Runs forward until `target` (nil: to the end), the recorded end, or the end of the log;
  /// also stops at an execution breakpoint in `breakpoints` (hardware debug registers: at most
  /// `breakpointCapacity`), when `afterExit` returns true right after an exit, when `accessFilter` accepts an
  /// access to unmapped (watched) RAM, or at `requestInterrupt()`.
  public func run(
    until target: UInt64? = nil, breakpoints: [UInt64] = [], stopAtAccess accessFilter: (([MMIOExit]) -> Bool)? = nil,
    afterExit: (() throws -> Bool)? = nil
  ) throws -> Stop {
    let vcpu = platform.vcpu
    precondition(breakpoints.count <= arming.capacity, "run mode arms at most breakpointCapacity breakpoints")
    // Restoring a kicked snapshot without a search skips the guest's run to its point: not
    // while a breakpoint or watchpoint could stop in it.
    let watching = !breakpoints.isEmpty || accessFilter != nil
    while true {
      if let target, position >= target, stepsSinceExit == 0 { return .reached(position) }
      if let request = platform.stop.request { return .finished(outcome(of: request)) }
      if atEndOfLog { return .endOfLog(position) }
      if interrupter.isSet {
        interrupter.clear()  // consumed: the next operation runs normally
        return .interrupted
      }

      try deliverGroups(kicked: false)
      try injectIfPossible()
      var restarted = false
      while nextGroup < archive.groups.count, archive.groups[nextGroup].position == position,
        let kick = archive.groups[nextGroup].kick
      {
        let kickedSnapshot = kickedSnapshotUse == .never ? nil : archive.kickedSnapshotForGroup[nextGroup]
        if let kickedSnapshot, !watching, kickedSnapshotUse == .always || restoringKickedAt == position {
          try restore(kicked: kickedSnapshot)
          try deliverGroups(kicked: true)
          mayInject = true
          try injectIfPossible()
          continue
        }
        let attempt = kickAttempts[nextGroup] ?? 0
        let way = kickSearchArmings[attempt]
        var search = KickPointSearch(
          platform: platform, tracker: tracker, arming: way ?? arming, afterExit: position, watchdog: watchdog,
          emulateUnmapped: { [unowned self] in try self.emulateUnmapped($0) })
        if let accessFilter { search.stopAtAccess = accessFilter }
        if kickedSnapshot != nil { search.maxHitOverhead = Self.hitAllowanceBeforeKickedSnapshot }
        // The recording reached this point `gap` ns of guest time after the exit; allow a
        // generous multiple of that in host time (single-stepping is much slower).
        let delivered = archive.groups[nextGroup].actions.compactMap { a -> UInt64? in
          if case .time(let t) = a { return t } else { return nil }
        }.first
        let gap = delivered.map { $0 > platform.clock.now ? $0 - platform.clock.now : 0 } ?? 10_000_000
        let careful = way == nil
        let budget = careful ? 2_000_000_000 + 40 * gap : 300_000_000 + 4 * gap
        debugModeKnown = false  // the search sets its own
        let found: KickPointSearch.Found
        do {
          found = try search.run(
            to: kick, hits: &kickSearchHits, singleStep: careful, budget: budget, alsoStopAt: breakpoints,
            pendingVector: pendingVector)
        } catch let miss as KickPointSearch.Miss where miss.ranOut && kickedSnapshot != nil {
          // The recording holds this instant: restore it, and the rest of this run without
          // exits the same way when nothing watches it (docs/determinism.md, "Kicked points").
          guard let kickedSnapshot else { throw miss.error }
          lastKickMiss = "\(miss.error)"
          try restore(kicked: kickedSnapshot)
          restoringKickedAt = position
          found = .reached
        } catch let miss as KickPointSearch.Miss {
          // Some hosts drop a breakpoint hit now and then: go back to the last snapshot and
          // find this point again the next way (a patch, then single-stepping, which cannot
          // miss it).
          guard miss.retry, attempt + 1 < kickSearchArmings.count else { throw miss.error }
          lastKickMiss = "\(miss.error)"
          kickAttempts[nextGroup] = attempt + 1
          kickSearchRetries += 1
          try restore(snapshot: archive.snapshotIndex(atOrBefore: position))
          restarted = true
          break
        }
        pendingVector = nil
        if found != .atStart { stepsSinceExit = nil }
        if case .breakpoint(let address) = found { return .breakpoint(address) }
        // Before the point: the next run finds it again from here.
        if case .accessed(let accesses) = found { return .watchedAccess(accesses) }
        try deliverGroups(kicked: true)
        mayInject = true
        try injectIfPossible()
      }

      if restarted { continue }  // restored to retry a kicked point
      if atEndOfLog { return .endOfLog(position) }
      mayInject = false
      try setDebug(breakpoints.isEmpty ? nil : breakpoints)
      // A replay that went astray can spin without exits where the recording had one.
      let deadline = HostClock.now() &+ Self.exitBudget
      watchdog.arm(hostDeadline: deadline)
      let exit = try arming.run()
      watchdog.arm(hostDeadline: nil)
      if exit == .interrupted || exit == .interruptWindowOpen {
        if HostClock.now() >= deadline {
          throw ReplayError.divergence(
            "the guest ran \(Self.exitBudget / 1_000_000_000) s after position \(position) without the exit the recording has next"
          )
        }
        pendingVector = nil
        stepsSinceExit = nil
        continue
      }
      pendingVector = nil
      if case .mmio(let access) = exit, platform.isUnmappedRAM(access.address) {
        let accesses = try emulateUnmapped(access)
        stepsSinceExit = nil
        if let accessFilter, accessFilter(accesses) { return .watchedAccess(accesses) }
        continue
      }
      if case .debug(let event) = exit {
        stepsSinceExit = nil
        if breakpoints.contains(event.pc) { return .breakpoint(event.pc) }
        continue  // a stale hit of a breakpoint no longer armed
      }
      if let stop = try handle(exit) { return stop }
      if let afterExit, try afterExit() { return .checked }
      // An exit can leave the vCPU at a breakpoint's address (after `hlt`, say): that instant
      // is a hit, as it is when stepping, even if an interrupt entry comes before the instruction.
      if !breakpoints.isEmpty, case let rip = try vcpu.registers().rip, breakpoints.contains(rip) {
        return .breakpoint(rip)
      }
    }
  }

  /// Advances by one instruction or one interrupt entry, delivering what the recording has at
  /// the current instant first. Stepping agrees with `run`: the same deliveries at the same
  /// states, so the snapshots it passes still verify.
  public func step() throws -> Step {
    lastStepAccesses = []
    if let request = platform.stop.request { return .finished(outcome(of: request)) }
    if atEndOfLog { return .endOfLog(position) }
    try deliverDueWhileStepping()
    if atEndOfLog { return .endOfLog(position) }
    if let vector = pendingVector { return try enterInterrupt(vector) }
    let exit: VCPUExit
    if try arming.mustRunPlainly() {
      // HLT under single-step does not halt on some hosts (HostMechanisms): run it plainly.
      try setDebug(nil)
      exit = try runPastKicks()
    } else {
      // Armed again before every step, not only when the mode changes: KVM single-steps with
      // the guest's TF, which KVM_SET_GUEST_DEBUG sets for the rip of that moment. On stock KVM
      // an instruction that loads RFLAGS from memory (`popf` in the guests' interrupt return)
      // or the engine's own KVM_SET_REGS (completing an access to watched RAM) clears it, and
      // the next step then ran on to the next exit.
      debugModeKnown = false
      try setDebug([])
      exit = try runPastKicks()
    }
    mayInject = false
    if case .debug = exit {
      stepsSinceExit = stepsSinceExit.map { $0 + 1 }
      return .instruction
    }
    if case .mmio(let access) = exit, platform.isUnmappedRAM(access.address) {
      lastStepAccesses = try emulateUnmapped(access)
      stepsSinceExit = stepsSinceExit.map { $0 + 1 }
      return .instruction
    }
    if case .io = exit { arming.steppedExit() }
    if case .mmio = exit { arming.steppedExit() }
    if let stop = try handle(exit) {
      switch stop {
      case .finished(let o): return .finished(o)
      case .endOfLog(let p): return .endOfLog(p)
      default: break
      }
    }
    return .exit
  }

  /// Whether `requestInterrupt()` was called since the last `run` began (for step loops).
  public var isInterruptRequested: Bool { interrupter.isSet }

  /// Clears a stop request before a new operation.
  func clearInterruptRequest() { interrupter.clear() }

  /// Nothing is recorded past the current instant: a cut log, or a live recording's frontier
  /// (its pause point is the last group, delivered once replay reaches it).
  var atEndOfLog: Bool {
    !archive.isComplete && position >= archive.completeThrough && nextGroup >= archive.groups.count
  }

  /// Asks a running `run` to stop (from another thread); it returns `.interrupted`.
  public func requestInterrupt() { interrupter.request() }

  /// Deliveries at the current instant in step mode: the plain groups of this position, then
  /// any kicked group whose point is exactly this state.
  private func deliverDueWhileStepping() throws {
    try deliverGroups(kicked: false)
    try injectIfPossible()
    while nextGroup < archive.groups.count, archive.groups[nextGroup].position == position,
      let kick = archive.groups[nextGroup].kick
    {
      let search = KickPointSearch(
        platform: platform, tracker: tracker, arming: arming, afterExit: position, watchdog: watchdog,
        emulateUnmapped: { [unowned self] in try self.emulateUnmapped($0) })
      guard try search.matches(kick) else { break }
      try deliverGroups(kicked: true)
      mayInject = true
      try injectIfPossible()
    }
  }

  /// Carries out the guest's accesses to unmapped (watched) RAM and completes the instruction.
  /// Not a position: these exits exist only while watching.
  private func emulateUnmapped(_ first: MMIOExit) throws -> [MMIOExit] {
    let done = try platform.emulateUnmappedRAM(first)
    if done.changedGuestDebug { debugModeKnown = false }
    lastAccessPriorBytes = done.priorBytes
    for page in done.writtenPages { tracker.markDirty(page) }
    if let next = done.next {
      guard case .debug = next else {
        throw ReplayError.divergence("an access to watched memory was followed by \(next) within the same instruction")
      }
    }
    return done.accesses
  }

  /// Takes these RAM pages out of KVM's view so every access to them exits (read and access
  /// watchpoints); the empty set maps everything back.
  func setUnmappedPages(_ pages: Set<Int>) throws {
    try tracker.unmapRAMPages(pages, of: platform)
  }

  private func injectIfPossible() throws {
    guard pendingVector == nil, mayInject else { return }
    pendingVector = try platform.injectPendingInterrupt(requestWindow: false)
  }

  /// Lets the guest take the injected interrupt and stops at the handler's first instruction,
  /// with a hardware breakpoint there: single-stepping into an interrupt leaks the trap flag
  /// into the frame the guest pushes on some hosts (docs/hosts.md).
  private func enterInterrupt(_ vector: UInt8) throws -> Step {
    guard let handler = try platform.interruptHandlerAddress(vector: vector) else {
      throw ReplayError.divergence("cannot read the guest's interrupt table entry for vector \(vector) at position \(position)")
    }
    try arming.setInterruptEntry(handler: handler)
    debugModeKnown = false
    let exit = try runPastKicks()
    pendingVector = nil
    mayInject = false
    if case .debug = exit {
      stepsSinceExit = stepsSinceExit.map { $0 + 1 }
      return .interruptEntry(vector: vector)
    }
    if let stop = try handle(exit), case .finished(let o) = stop { return .finished(o) }
    return .exit
  }

  private func runPastKicks() throws -> VCPUExit {
    var exit = try arming.run()
    while exit == .interrupted { exit = try arming.run() }
    return exit
  }

  /// nil: no guest debugging; []: single-step; addresses: hardware execute breakpoints.
  private func setDebug(_ mode: [UInt64]?) throws {
    guard !debugModeKnown || mode != debugMode else { return }
    try arming.set(mode)
    debugMode = mode
    debugModeKnown = true
  }

  /// Handles a deterministic exit: the position advances; returns a stop when the run ended.
  private func handle(_ exit: VCPUExit) throws -> Stop? {
    position += 1
    mayInject = true
    stepsSinceExit = 0
    switch exit {
    case .io(let io):
      platform.emulate(io)
      try platform.finishExitInstruction()
    case .mmio(let access):
      platform.handleUnclaimedMMIO(access)
      try platform.finishExitInstruction()
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
    return nil
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

/// Runs the guest to a recorded kicked point: an execution breakpoint at its rip, and at each
/// hit a comparison of the registers and the context hash. A hit that does not match is stepped
/// over (disarm, single-step, re-arm) where the host's breakpoint would stop there again on
/// resume (`HostMechanisms.stepOverBreakpointHits`). Without a breakpoint method, or with more
/// breakpoints than it holds, it single-steps. A hit of one of `alsoStopAt` (the user's
/// breakpoints) ends the search first.
struct KickPointSearch {
  let platform: Platform
  let tracker: PageTracker
  let arming: BreakpointArming
  let afterExit: UInt64
  let watchdog: HostEvents
  /// Carries out an instruction's accesses to unmapped (watched) RAM: a kicked point may come
  /// right after one (a live session paused at a read watchpoint, say).
  let emulateUnmapped: (MMIOExit) throws -> [MMIOExit]
  /// Accesses that end the search before the point (a read or access watchpoint's).
  var stopAtAccess: ([MMIOExit]) -> Bool = { _ in false }

  /// Host time a breakpoint hit's own exits count for beyond what is measured around them.
  static let hitAllowance: UInt64 = 1_000_000
  /// The most the hits may extend a search's budget.
  var maxHitOverhead: UInt64 = 60_000_000_000

  struct Miss: Error {
    var error: ReplayError
    /// Whether another way is worth trying: not when the search stopped at every pass of a
    /// loop until the hits' allowance ran out (a `hlt` patch or single steps stop as often,
    /// at a higher cost each).
    var retry = true
    /// The search ran out of time (its budget or its hits' allowance) without a wrong turn.
    /// Only then may a kicked snapshot stand in for the point: another exit first, or an
    /// unreadable interrupt table, is a divergence or a dropped hit, which a restore would hide.
    var ranOut = false
  }

  enum Found: Equatable {
    /// The point is where the vCPU already stood.
    case atStart
    case reached
    case breakpoint(UInt64)
    /// Stopped after an instruction whose accesses `stopAtAccess` chose, before the point.
    case accessed([MMIOExit])
  }

  func run(
    to kick: KickPoint, hits: inout Int, singleStep: Bool, budget: UInt64, alsoStopAt: [UInt64] = [],
    pendingVector: UInt8? = nil
  ) throws -> Found {
    let rip = kick.registers.rip
    if try matches(kick) { return .atStart }
    let started = HostClock.now()
    var deadline = started &+ budget
    let lastDeadline = started &+ budget &+ maxHitOverhead
    watchdog.arm(hostDeadline: deadline)
    defer { watchdog.arm(hostDeadline: nil) }
    func overdue() -> Bool { HostClock.now() >= deadline }
    // The budget is for the guest's own running: the host time a hit costs (its exits,
    // the comparison, stepping over it) moves the deadline on, up to `maxHitOverhead`. Under
    // nested virtualization a hit costs milliseconds, and a kernel returning through one
    // thunk hits it every few microseconds of guest time.
    func extendPastHit(since exited: UInt64) {
      deadline = min(deadline &+ (HostClock.now() &- exited) &+ Self.hitAllowance, lastDeadline)
      watchdog.arm(hostDeadline: deadline)
    }
    let timeout = Miss(
      error: .divergence(
        "the kicked point after exit \(afterExit) (rip 0x\(String(rip, radix: 16))) was not reached within \(budget / 1_000_000) ms"
      ), ranOut: true)
    let armed = [rip] + alsoStopAt.filter { $0 != rip }
    defer { try? arming.set(nil) }
    if singleStep || armed.count > arming.capacity {
      // An injected interrupt not taken yet is entered through a breakpoint on its handler, as
      // a step does: single-stepping into it leaks the trap flag into the guest's frame on
      // some hosts, and on others the delivery clears it and the handler runs on unstepped.
      var entering = pendingVector
      while true {
        if let vector = entering {
          guard let handler = try platform.interruptHandlerAddress(vector: vector) else {
            throw Miss(error: .divergence("cannot read the interrupt table entry for vector \(vector) after exit \(afterExit)"))
          }
          try arming.setInterruptEntry(handler: handler)
        } else {
          // Every step: see `Replayer.step()` (stock KVM loses TF at `popf` and KVM_SET_REGS).
          try arming.set([])
        }
        var exit = try arming.run()
        while exit == .interrupted, !overdue() { exit = try arming.run() }
        entering = nil
        if overdue() { throw timeout }
        switch exit {
        case .interrupted: continue
        case .debug(let event):
          if try matches(kick) { return alsoStopAt.contains(event.pc) ? .breakpoint(event.pc) : .reached }
          if alsoStopAt.contains(event.pc) { return .breakpoint(event.pc) }
        case .mmio(let access) where platform.isUnmappedRAM(access.address):
          if let found = try afterUnmappedAccess(access, kick, alsoStopAt) { return found }
        default: throw Miss(error: notFound(kick, exit: exit))
        }
      }
    }
    try arming.set(armed)
    let hitsBefore = hits
    while true {
      let exit = try arming.run()
      if overdue() {
        guard deadline >= lastDeadline else { throw timeout }
        throw Miss(
          error: .divergence(
            "the kicked point after exit \(afterExit) (rip 0x\(String(rip, radix: 16))) was not reached in \(hits - hitsBefore) breakpoint hits (\((HostClock.now() &- started) / 1_000_000_000) s): the guest runs a loop through that address without exits, and each pass is a hit (docs/determinism.md, \"Kicked points\")"
          ), retry: false, ranOut: true)
      }
      let exited = HostClock.now()
      switch exit {
      case .interrupted:
        continue
      case .debug(let event):
        hits += 1
        defer { extendPastHit(since: exited) }
        var regs: Registers
        do { regs = try platform.vcpu.registers() } catch { throw MachineError.kvm(error) }
        if event.pc == rip, try matches(kick, registers: regs) {
          return alsoStopAt.contains(rip) ? .breakpoint(rip) : .reached
        }
        if alsoStopAt.contains(event.pc) { return .breakpoint(event.pc) }
        if arming.mechanisms.passBreakpointHitsWithResumeFlag {
          // Resume past the hit with RF set, the breakpoint left armed. The guest cannot tell:
          // the instruction runs once, and RF is clear again after it.
          regs.rflags |= Registers.resumeFlag
          do { try platform.vcpu.setRegisters(regs) } catch { throw MachineError.kvm(error) }
          continue
        }
        guard arming.mechanisms.stepOverBreakpointHits else { continue }
        try arming.set([])
        var stepped = try arming.run()
        while stepped == .interrupted { stepped = try arming.run() }
        if case .mmio(let access) = stepped, platform.isUnmappedRAM(access.address) {
          if let found = try afterUnmappedAccess(access, kick, alsoStopAt) { return found }
        } else if case .debug = stepped {
        } else {
          throw Miss(error: notFound(kick, exit: stepped))
        }
        try arming.set(armed)
      case .mmio(let access) where platform.isUnmappedRAM(access.address):
        if let found = try afterUnmappedAccess(access, kick, alsoStopAt) { return found }
        try arming.set(armed)
      default:
        throw Miss(error: notFound(kick, exit: exit))
      }
    }
  }

  /// After an instruction that touched watched RAM: whether that instant is the point (or a
  /// user breakpoint). The caller arms its debug mode again: the emulation may change it.
  private func afterUnmappedAccess(_ access: MMIOExit, _ kick: KickPoint, _ alsoStopAt: [UInt64]) throws -> Found? {
    let accesses = try emulateUnmapped(access)
    if stopAtAccess(accesses) { return .accessed(accesses) }
    let pc = try platform.vcpu.registers().rip
    if try matches(kick) { return alsoStopAt.contains(pc) ? .breakpoint(pc) : .reached }
    return alsoStopAt.contains(pc) ? .breakpoint(pc) : nil
  }

  /// Whether the vCPU stands at `kick`. At a match whose RF differs from the recorded one
  /// (`Registers.sameInstant(as:)`), the recorded RF is put back: the interrupt delivered there
  /// pushes it into the guest's frame, and `iret` restores it. `registers`: the vCPU's, when the
  /// caller has just read them.
  func matches(_ kick: KickPoint, registers: Registers? = nil) throws -> Bool {
    var regs = try registers ?? platform.vcpu.registers()
    guard regs.sameInstant(as: kick.registers) else { return false }
    guard try KickPointMatcher.contextHash(platform: platform, tracker: tracker) == kick.contextHash else { return false }
    if regs.rflags != kick.registers.rflags {
      regs.rflags = kick.registers.rflags
      try platform.vcpu.setRegisters(regs)
    }
    return true
  }

  private func notFound(_ kick: KickPoint, exit: VCPUExit) -> ReplayError {
    .divergence(
      "the kicked point after exit \(afterExit) (rip 0x\(String(kick.registers.rip, radix: 16))) was not reached: the guest made another exit first (\(exit))"
    )
  }
}
