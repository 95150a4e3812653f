import KVM

/// How a run ended, when the guest itself ended it.
public enum RunOutcome: Equatable, Sendable {
  case debugExit(value: UInt32)
  case reset(source: String)
  /// The user asked to quit from the console (Ctrl-A x).
  case userQuit
}

/// Runs the platform live: guest time paced by the host clock, serial input from `events`,
/// interrupts injected by the engine at exits (or at a kick when the guest spins).
public final class Runner {
  public let platform: Platform
  public let events: HostEvents
  public private(set) var statistics = RunStatistics()
  private let pacer: HostPacedClockSource

  public init(platform: Platform, events: HostEvents) {
    self.platform = platform
    self.events = events
    self.pacer = HostPacedClockSource()
    platform.clock.source = pacer
  }

  /// Runs until the guest ends the run (debug-exit, reset) or faults (`GuestFault` thrown).
  public func run() throws -> RunOutcome {
    let vcpu = platform.vcpu
    events.attach(vcpu: vcpu.kickHandle)
    defer {
      events.stop()
      statistics.hostNanoseconds = pacer.elapsed()
      statistics.guestNanoseconds = platform.clock.now
    }
    while true {
      if events.quitRequested { return .userQuit }
      if let request = platform.stop.request {
        switch request {
        case .debugExit(let value): return .debugExit(value: value)
        case .reset(let source): return .reset(source: source)
        }
      }
      deliverDueTime()
      deliverInput()
      try injectPendingInterrupt()
      events.arm(hostDeadline: platform.pit.nextDeadline.map { pacer.start &+ $0 })

      let exit: VCPUExit
      do { exit = try vcpu.run() } catch { throw MachineError.kvm(error) }
      switch exit {
      case .io(let io):
        statistics.count(.io)
        handle(io)
      case .mmio(let access):
        statistics.count(.mmio)
        platform.handleUnclaimedMMIO(access)
      case .hlt:
        statistics.count(.hlt)
        try waitWhileHalted()
      case .interruptWindowOpen:
        statistics.count(.window)
      case .interrupted:
        statistics.count(.interrupted)
      case .shutdown:
        throw fault(.tripleFault)
      case .internalError(let sub, let data):
        throw fault(.internalError(suberror: sub, data: data))
      case .failEntry(let reason, _):
        throw fault(.failedEntry(reason: reason))
      case .debug(let d):
        throw fault(.unexpectedExit("debug exit at 0x\(String(d.pc, radix: 16)) with no debugger attached"))
      case .systemEvent(let type):
        throw fault(.unexpectedExit("system event \(type)"))
      case .unknown(let reason):
        throw fault(.unexpectedExit("exit reason \(reason)"))
      }
    }
  }

  /// Timer deadlines that host time has passed: guest time jumps to the deadline, never beyond,
  /// so what the guest sees follows from the deadline alone.
  private func deliverDueTime() {
    guard let due = platform.pit.nextDeadline, pacer.elapsed() >= due else { return }
    platform.clock.advance(to: due)
    platform.pit.fireDue()
  }

  private func deliverInput() {
    let bytes = events.takeInput()
    if !bytes.isEmpty { platform.uart.receive(bytes) }
  }

  private func injectPendingInterrupt() throws {
    let vcpu = platform.vcpu
    guard platform.pic.hasPendingInterrupt else {
      vcpu.requestInterruptWindow = false
      return
    }
    if vcpu.readyForInterruptInjection, let vector = platform.pic.acknowledge() {
      do { try vcpu.injectInterrupt(vector: vector) } catch { throw MachineError.kvm(error) }
      statistics.interruptsInjected += 1
    }
    // One injection per entry: ask for the next window if more are waiting.
    vcpu.requestInterruptWindow = platform.pic.hasPendingInterrupt
  }

  private func handle(_ io: IOExit) {
    let data = platform.vcpu.ioData
    for i in 0..<io.count {
      let slot = data + i * io.size
      if io.isWrite {
        var value: UInt32 = 0
        for b in 0..<io.size { value |= UInt32(slot[b]) << (8 * b) }
        platform.bus.write(port: io.port, size: io.size, value: value)
      } else {
        let value = platform.bus.read(port: io.port, size: io.size)
        for b in 0..<io.size { slot[b] = UInt8(truncatingIfNeeded: value >> (8 * b)) }
      }
    }
  }

  /// HLT: sleep on the host until the next timer deadline or serial input, then deliver it.
  private func waitWhileHalted() throws {
    let vcpu = platform.vcpu
    // The guest is not running: a kick now would only cost a spurious exit later.
    events.arm(hostDeadline: nil)
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
    let vcpu = platform.vcpu
    let regs = try? vcpu.registers()
    let sregs = try? vcpu.specialRegisters()
    var code: [UInt8] = []
    if let regs, let sregs {
      let linear = sregs.is64BitCode ? regs.rip : sregs.cs.base &+ regs.rip
      let physical = sregs.isPaging ? ((try? vcpu.translate(linear)) ?? nil) : linear
      if let physical {
        code = platform.memory.bytes(at: physical, count: 16) ?? platform.memory.bytes(at: physical, count: 1) ?? []
      }
    }
    return GuestFault(kind: kind, registers: regs, specialRegisters: sregs, codeBytes: code)
  }
}
