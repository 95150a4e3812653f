import KVM

/// How a run ended, when the guest itself ended it.
public enum RunOutcome: Equatable, Sendable {
  case debugExit(value: UInt32)
  case reset(source: String)
  /// The user asked to quit from the console (Ctrl-A x).
  case userQuit
}

/// Why `Runner.advance` handed control back with the guest still running.
public enum RunPause: Equatable, Sendable {
  /// At an execution breakpoint, before its instruction.
  case breakpoint(UInt64)
  /// One instruction (or one exit) done in single-step mode.
  case stepped
  /// `pauseRequested` said so (after an exit, or after a kick).
  case requested
  /// After an instruction whose accesses to unmapped (watched) RAM `stopAtAccess` chose.
  case accessed(UnmappedRAMAccesses)
}

public enum RunAdvance: Equatable, Sendable {
  case ended(RunOutcome)
  case paused(RunPause)
}

/// Runs the platform live: guest time paced by the host clock, serial input from `events`,
/// interrupts injected by the engine at exits (or at a kick when the guest spins).
public final class Runner {
  public let platform: Platform
  public let events: HostEvents
  public private(set) var statistics = RunStatistics()
  /// Deterministic exits handled so far: the position in the recording sense.
  public private(set) var exitIndex: UInt64 = 0
  /// Whether the last exit was a kick or an interrupt-window exit (`instantToPass`).
  private var lastExitWasKick = false
  public weak var observer: (any RunObserver)?
  public let pacer: HostPacedClockSource
  /// Guest debugging by the host's probed mechanisms (design.md, point 6).
  public let arming: BreakpointArming
  /// Host time a spinning guest may run past a timer deadline before it is kicked.
  public static let kickGrace: UInt64 = 20_000_000
  /// How far guest time may fall behind host time before the excess is dropped
  /// (`HostPacedClockSource.limitLag`): above the kick grace, so a guest that spins between
  /// ticks keeps host-paced time, and small enough that a guest which cannot keep up with its
  /// timer (a Linux kernel being recorded on a slow host) still gets to run between ticks.
  public static let maxLag: UInt64 = 50_000_000
  /// The longest host time a timer tick's service may stall guest time (`tickService`): a guest
  /// that leaves the timer masked is not servicing a tick forever.
  public static let maxTickService: UInt64 = 50_000_000
  /// Since when (host time) the guest has been servicing a timer tick: from the injection of
  /// IRQ 0 until the PIC could deliver it again. Guest time stands still meanwhile
  /// (`HostPacedClockSource.stall`), so each tick leaves the guest a whole period of its own
  /// work, however slow the host makes the interrupt path. Live runs only.
  private var tickService: UInt64?
  /// The last exit was a kick or an interrupt-window exit: both come at a point that varies
  /// from run to run on some hosts, so neither is a position (design.md, contract point 4).
  private var lastExitWasImprecise = false

  public init(
    platform: Platform, events: HostEvents, pacer: HostPacedClockSource = HostPacedClockSource(),
    mechanisms: HostMechanisms? = nil
  ) {
    self.platform = platform
    arming = BreakpointArming(
      platform: platform, mechanisms: mechanisms ?? HostProbe.mechanisms(kvmPath: platform.kvm.path))
    self.events = events
    self.pacer = pacer
    platform.clock.source = pacer
  }

  /// Runs until the guest ends the run (debug-exit, reset) or faults (`GuestFault` thrown).
  public func run() throws -> RunOutcome {
    defer { finish() }
    while true {
      if case .ended(let outcome) = try advance() { return outcome }
    }
  }

  private var attached = false

  /// Stops the kicker and settles the statistics; after the last `advance`.
  public func finish() {
    events.stop()
    statistics.hostNanoseconds = pacer.elapsed()
    statistics.guestNanoseconds = platform.clock.now
  }

  /// Runs until the guest ends the run, or pauses: at one of `breakpoints` (at most
  /// `arming.capacity`), after one instruction with `singleStep`, after an instruction whose
  /// accesses to unmapped RAM `stopAtAccess` picks, or when `pauseRequested` returns true
  /// (checked after every exit). A paused run resumes with the next call; the pause is an
  /// imprecise point, like a kick, so what is delivered next is recorded as a kicked point.
  public func advance(
    breakpoints: [UInt64] = [], singleStep: Bool = false, stopAtAccess: ([MMIOExit]) -> Bool = { _ in false },
    pauseRequested: () -> Bool = { false }
  ) throws -> RunAdvance {
    let vcpu = platform.vcpu
    if !attached {
      events.attach(vcpu: vcpu.kickHandle)
      attached = true
    }
    pacer.release()
    let debugging = singleStep || !breakpoints.isEmpty
    defer { if debugging { try? arming.set(nil) } }
    while true {
      if events.quitRequested { return .ended(.userQuit) }
      if let request = platform.stop.request {
        switch request {
        case .debugExit(let value): return .ended(.debugExit(value: value))
        case .reset(let source): return .ended(.reset(source: source))
        }
      }
      updateTickService()
      // One reading of host time and of the input queue for both the kicked-point decision and
      // the deliveries: a deadline passing (or a byte arriving) between two looks was delivered
      // with no kicked point before it, so replay handed it over at the exit instead.
      let elapsed = pacer.elapsed()
      let passing = singleStep ? nil : try instantToPass(breakpoints: breakpoints)
      if let passing {
        // Nothing delivered here: input stays queued for the instant after.
        vcpu.requestInterruptWindow = false
        switch passing {
        case .step: try arming.set([])
        case .runTo(let next): try arming.set(breakpoints + [next])
        }
      } else {
        let input = events.takeInput()
        if lastExitWasImprecise { try noteKickPointIfDelivering(elapsed: elapsed, input: !input.isEmpty) }
        deliverDueTime(elapsed: elapsed)
        deliverInput(input)
        let injected = try injectPendingInterrupt()
        if singleStep {
          // One step, as replay takes it: an injected interrupt's entry (a breakpoint on its
          // handler), or one instruction. HLT under single-step does not halt on some hosts: run it plainly.
          vcpu.requestInterruptWindow = false
          if let injected, let handler = try platform.interruptHandlerAddress(vector: injected) {
            try arming.setInterruptEntry(handler: handler)
          } else {
            try arming.set(arming.mustRunPlainly() ? nil : [])
          }
        } else if !breakpoints.isEmpty {
          try arming.set(breakpoints)
        }
      }
      // Kick only a guest still running well past its deadline: one that exits or halts soon
      // gets its timer at that exit, a position replay finds without a breakpoint search.
      // While a tick is in service no timer interrupt can be delivered; the kick then only
      // ends an overlong service (`maxTickService`).
      // Passing an instant, a deadline already past would kick at once, again and again.
      events.arm(
        hostDeadline: passing != nil
          ? HostClock.now() &+ Self.maxTickService
          : tickService.map { $0 &+ Self.maxTickService }
            ?? platform.pit.nextDeadline.map { pacer.start &+ $0 &+ Self.kickGrace })

      let exit = try arming.run()
      if passing != nil { try arming.set(breakpoints.isEmpty ? nil : breakpoints) }
      if case .mmio(let access) = exit, platform.isUnmappedRAM(access.address) {
        // Watched RAM: not a position (replay without watchpoints sees no exit here).
        let done = try accessUnmappedRAM(access)
        if stopAtAccess(done.accesses) { return pause(.accessed(done)) }
        if singleStep { return done.next == nil ? stepped() : pause(.stepped) }
        if pauseRequested() { return pause(.requested) }
        continue
      }
      lastExitWasImprecise = exit == .interrupted || exit == .interruptWindowOpen
      // Only these leave the guest where it really stands: after a debug exit (a step, a
      // breakpoint) stock KVM on AMD-V reports RF set whatever the guest's own RF.
      lastExitWasKick = lastExitWasImprecise
      if case .debug = exit { lastExitWasImprecise = true }
      if !lastExitWasImprecise { exitIndex += 1 }
      if let passing {
        if case .debug(let d) = exit, !breakpoints.contains(d.pc) { continue }
        if passing == .step { arming.steppedExit() }
      }
      switch exit {
      case .io(let io):
        statistics.count(.io)
        platform.emulate(io)
        try platform.finishExitInstruction()
        try observed { try $0.exitHandled(index: exitIndex, platform: platform) }
        if singleStep { return stepped() }
      case .mmio(let access):
        statistics.count(.mmio)
        platform.handleUnclaimedMMIO(access)
        try platform.finishExitInstruction()
        try observed { try $0.exitHandled(index: exitIndex, platform: platform) }
        if singleStep { return stepped() }
      case .hlt:
        statistics.count(.hlt)
        try observed { try $0.exitHandled(index: exitIndex, platform: platform) }
        try waitWhileHalted()
        if singleStep { return pause(.stepped) }
      case .interruptWindowOpen:
        // Where this exit comes varies (this host exits some instructions after the window
        // opens): the injection it allows is recorded as a kicked point at the next turn.
        statistics.count(.window)
      case .interrupted:
        // Pause requests wait for the next exit: a state a kick lands on is one replay cannot
        // always find again as a pause point (docs/time-travel.md, live sessions).
        statistics.count(.interrupted)
        continue
      case .shutdown:
        throw tripleFault()
      case .internalError(let sub, let data):
        throw fault(.internalError(suberror: sub, data: data))
      case .failEntry(let reason, _):
        throw fault(.failedEntry(reason: reason))
      case .debug(let d):
        if singleStep { return pause(.stepped) }
        if breakpoints.contains(d.pc) { return pause(.breakpoint(d.pc)) }
        if !debugging {
          throw fault(.unexpectedExit("debug exit at 0x\(String(d.pc, radix: 16)) with no debugger attached"))
        }
        continue
      case .systemEvent(let type):
        throw fault(.unexpectedExit("system event \(type)"))
      case .unknown(let reason):
        throw fault(.unexpectedExit("exit reason \(reason)"))
      }
      if pauseRequested() { return pause(.requested) }
    }
  }

  /// Carries out an instruction's accesses to unmapped RAM. The instant after it lies inside an
  /// exit interval, so deliveries there are recorded as a kicked point.
  private func accessUnmappedRAM(_ access: MMIOExit) throws -> UnmappedRAMAccesses {
    // Should it change the guest-debug mode (`changedGuestDebug`), the loop sets its own before
    // the next entry, and a plain run wants none, which is what it leaves.
    let done = try platform.emulateUnmappedRAM(access)
    observer?.wroteRAM(pages: done.writtenPages)
    lastExitWasImprecise = true
    lastExitWasKick = false
    if let next = done.next {
      guard case .debug = next else {
        throw fault(.unexpectedExit("\(next) within an instruction that accessed watched memory"))
      }
    }
    return done
  }

  /// A step done by an I/O or MMIO exit: some hosts report it again at the next run.
  private func stepped() -> RunAdvance {
    arming.steppedExit()
    return pause(.stepped)
  }

  /// A pause is an imprecise point: deliveries after it are recorded as a kicked point.
  private func pause(_ why: RunPause) -> RunAdvance {
    lastExitWasImprecise = true
    lastExitWasKick = false
    pacer.hold()
    // Paused: nothing may kick this thread until the run resumes (it may be creating a VM).
    events.arm(hostDeadline: nil)
    return .paused(why)
  }

  /// How the live run moves past an instant that replay could not find again.
  enum Passing: Equatable {
    /// Single-step one instruction.
    case step
    /// Run to an execution breakpoint at this address.
    case runTo(UInt64)
  }

  /// Whether the instant a kick or window exit left the guest at is one where nothing may be
  /// delivered, since replay finds a kicked point with an execution breakpoint at its rip
  /// (docs/determinism.md, "Kicked points"), and how to move past it first:
  /// - in the middle of a repeated string instruction (`rep stosb`), whose breakpoint fires only
  ///   before the first iteration: run to the next instruction;
  /// - with RF set (the guest's `iret` restored it from a frame), which suppresses the
  ///   breakpoint for exactly this instruction: step it.
  /// The guest cannot tell: an interrupt may come at any instruction boundary.
  private func instantToPass(breakpoints: [UInt64]) throws -> Passing? {
    guard lastExitWasKick else { return nil }
    let regs: Registers
    let sregs: SpecialRegisters
    do {
      regs = try platform.vcpu.registers()
      sregs = try platform.vcpu.specialRegisters()
    } catch { throw MachineError.kvm(error) }
    let pc = sregs.linearAddress(ofCode: regs.rip)
    let code = try platform.readLinear(pc, count: min(15, Int(4096 - pc % 4096))) ?? []
    if breakpoints.count < arming.capacity,
      let length = RepeatedStringInstruction.length(of: code, longMode: sregs.is64BitCode)
    {
      return .runTo(regs.rip &+ UInt64(length))
    }
    guard regs.rflags & Registers.resumeFlag != 0, arming.mechanisms.singleStepWorks.value == true else { return nil }
    return try arming.mustRunPlainly() ? nil : .step
  }

  /// After a kick or window exit, anything the engine does changes the guest at a point no exit marks: tell
  /// the observer first, so it can identify the point (design.md, contract point 4).
  private func noteKickPointIfDelivering(elapsed: UInt64, input: Bool) throws {
    let timeDue = platform.pit.nextDeadline.map { elapsed >= $0 } ?? false
    let injecting = platform.pic.hasPendingInterrupt && platform.vcpu.readyForInterruptInjection
    if timeDue || input || injecting {
      try observed { try $0.kickPoint(afterExit: exitIndex, platform: platform) }
    }
  }

  /// Runs an observer call; the host time it takes (a recorder's snapshot or hash) is not guest
  /// time (`HostPacedClockSource.exclude`).
  private func observed(_ body: (any RunObserver) throws -> Void) throws {
    guard let observer else { return }
    let started = HostClock.now()
    try body(observer)
    pacer.exclude(HostClock.now() &- started)
  }

  /// Ends the timer-tick service (and the clock's stall) once the guest can take the timer
  /// interrupt again (IRQ 0 neither in service nor masked at the PIC: Linux masks it for the
  /// handler's length and acknowledges at once), or after `maxTickService`.
  private func updateTickService() {
    if let since = tickService {
      let pic = platform.pic.registers.master
      if (pic.imr | pic.isr) & 1 == 0 || HostClock.now() &- since >= Self.maxTickService { tickService = nil }
    }
    // Every turn: a pause (`hold`) ends the stall, and the service may outlast the pause.
    pacer.stall(tickService != nil)
  }

  /// Timer deadlines that host time has passed: guest time jumps to the deadline, never beyond,
  /// so what the guest sees follows from the deadline alone.
  private func deliverDueTime(elapsed: UInt64? = nil) {
    guard let due = platform.pit.nextDeadline, (elapsed ?? pacer.elapsed()) >= due else { return }
    platform.deliverTime(due)
    observer?.deliveredTime(due)
    pacer.limitLag(guestTime: due, maxLag: Self.maxLag)
  }

  private func deliverInput(_ taken: [UInt8]? = nil) {
    let bytes = taken ?? events.takeInput()
    guard !bytes.isEmpty else { return }
    platform.uart.receive(bytes)
    observer?.deliveredInput(bytes)
  }

  @discardableResult
  private func injectPendingInterrupt() throws -> UInt8? {
    let vector = try platform.injectPendingInterrupt()
    if vector != nil { statistics.interruptsInjected += 1 }
    if let vector, vector == platform.pic.timerVector {
      tickService = HostClock.now()
      pacer.stall(true)
    }
    return vector
  }

  /// HLT: sleep on the host until the next timer deadline or serial input, then deliver it.
  private func waitWhileHalted() throws {
    let vcpu = platform.vcpu
    // The guest is not running: a kick now would only cost a spurious exit later. Nor is it
    // servicing a tick: time must pass for the next one.
    events.arm(hostDeadline: nil)
    tickService = nil
    pacer.stall(false)
    while !platform.pic.hasPendingInterrupt && platform.stop.request == nil && !events.quitRequested {
      guard vcpu.interruptFlag else {
        throw fault(.haltedForever(reason: "HLT with interrupts disabled"))
      }
      let deadline = platform.pit.nextDeadline
      if deadline == nil && events.isInputClosed {
        throw fault(.haltedForever(reason: "no timer is armed and the serial input has ended"))
      }
      events.wait(until: deadline.map { pacer.start &+ $0 })
      deliverDueTime()
      deliverInput()
    }
  }

  private func fault(_ kind: GuestFault.Kind) -> GuestFault {
    platform.fault(kind)
  }

  /// Where KVM resets the vCPU on a shutdown (AMD-V: the probe reads the reset state back), the
  /// registers now are the reset state, not the fault's: the report says so instead of showing
  /// them as if the guest had faulted at the reset vector.
  private func tripleFault() -> GuestFault {
    var f = fault(.tripleFault)
    if arming.mechanisms.shutdownKeepsState.value == false {
      f.registers = nil
      f.specialRegisters = nil
      f.codeBytes = []
      f.stateUnavailable =
        "this host's KVM resets the vCPU on a triple fault (retrovisor doctor: \(arming.mechanisms.shutdownKeepsState.observed))"
    }
    return f
  }
}
