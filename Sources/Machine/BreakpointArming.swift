import KVM

/// Guest debugging as the host allows it (`HostMechanisms`): single-step, and execution
/// breakpoints through the debug registers or through `hlt` bytes patched over the
/// instructions. Live runs, replays and kicked-point searches go through one of these, so each
/// sees the same kind of exit (`.debug` at the breakpoint's address) whatever the method.
///
/// Patches are written just before `KVM_RUN` and taken out as soon as it returns: whatever the
/// engine then reads (devices, snapshots, hashes, watchpoints) sees the guest's own bytes. The
/// dirty log does not see the engine's writes, so no page is marked written by them.
public final class BreakpointArming {
  public let mechanisms: HostMechanisms
  let platform: Platform
  /// Linear addresses to patch around each run (`.haltPatch` only).
  private var patchAddresses: [UInt64] = []
  private var applied: [(linear: UInt64, physical: UInt64)] = []
  private var singleStepping = false
  /// The next single-step run may first report the previous stepped I/O instruction
  /// (`HostMechanisms.ioStepReportsLate`): that report is not another instruction.
  private var lateStepReportPossible = false

  public init(platform: Platform, mechanisms: HostMechanisms) {
    self.platform = platform
    self.mechanisms = mechanisms
  }

  /// How many breakpoints `set` takes at once (more: the caller single-steps).
  public var capacity: Int { mechanisms.breakpointCapacity }

  /// nil: no guest debugging; []: single-step; addresses: execution breakpoints (at most
  /// `capacity`).
  public func set(_ mode: [UInt64]?) throws {
    let vcpu = platform.vcpu
    patchAddresses = []
    singleStepping = mode?.isEmpty == true
    do {
      switch mode {
      case nil:
        try vcpu.setGuestDebug([])
      case let addresses? where addresses.isEmpty:
        try vcpu.setGuestDebug([.enable, .singleStep])
      case let addresses?:
        switch mechanisms.breakpointMethod {
        case .debugRegisters:
          try vcpu.setExecutionBreakpoints(addresses)
        case .haltPatch:
          try vcpu.setGuestDebug([])
          patchAddresses = addresses
        case .singleStep:
          throw MachineError.unsupported(
            "this host has no way to stop at a breakpoint without single-stepping (retrovisor doctor shows why)")
        }
      }
    } catch let error as KVMError {
      throw MachineError.kvm(error)
    }
  }

  /// Sets up entering an injected interrupt as one step, stopping at the handler's first
  /// instruction: a breakpoint there (single-stepping into an interrupt leaks the trap flag into
  /// the guest's frame on some hosts), or a single-step where that is clean and no breakpoint
  /// method works.
  public func setInterruptEntry(handler: UInt64) throws {
    if capacity > 0 {
      try set([handler])
    } else if mechanisms.interruptEntryBySingleStep {
      try set([])
    } else {
      throw MachineError.unsupported(
        "cannot step into an interrupt on this host: no breakpoint method stops at its handler and single-stepping into it is not clean (retrovisor doctor)"
      )
    }
  }

  /// Whether an instruction at the pc must run without single-step to behave: a `hlt` where a
  /// single-stepped one does not halt (or reports late).
  public func mustRunPlainly() throws -> Bool {
    try !mechanisms.singleStepsHalt && platform.instructionByteAtPC() == ProbeCode.hlt
  }

  /// Notes that the vCPU just made an I/O or MMIO exit while single-stepping.
  public func steppedExit() {
    lateStepReportPossible = singleStepping && mechanisms.ioStepReportsLate
  }

  /// `KVM_RUN` with the breakpoints in place. A patch's HLT exit comes back as a `.debug` exit
  /// at the patched address, with rip moved back onto it.
  public func run() throws -> VCPUExit {
    let vcpu = platform.vcpu
    let late = lateStepReportPossible
    lateStepReportPossible = false
    let before = late ? try platform.linearPC() : nil
    try applyPatches()
    var exit: VCPUExit
    do {
      exit = try vcpu.run()
      if let before, case .debug(let d) = exit, d.pc == before { exit = try vcpu.run() }
    } catch {
      removePatches()
      throw MachineError.kvm(error)
    }
    let patched = applied.map(\.linear)
    removePatches()
    if exit == .hlt, !patched.isEmpty {
      let pc = try platform.linearPC() &- 1
      if patched.contains(pc) {
        do {
          var regs = try vcpu.registers()
          regs.rip &-= 1
          try vcpu.setRegisters(regs)
        } catch { throw MachineError.kvm(error) }
        return .debug(DebugEvent(pc: pc, exception: 3, dr6: 0, dr7: 0))
      }
    }
    return exit
  }

  private func applyPatches() throws {
    for linear in patchAddresses {
      guard let physical = try platform.physicalAddress(ofLinear: linear), !platform.isUnmappedRAM(physical),
        let original = platform.memory.bytes(at: physical, count: 1)?.first,
        original != ProbeCode.hlt  // a real `hlt` there: its own exit is not a hit
      else { continue }
      if applied.contains(where: { $0.physical == physical }) { continue }
      platform.memory.store([ProbeCode.hlt], at: physical)
      applied.append((linear, physical))
      originals[physical] = original
    }
  }

  private var originals: [UInt64: UInt8] = [:]

  /// Puts the guest's bytes back, unless the guest itself wrote there meanwhile.
  private func removePatches() {
    for (_, physical) in applied {
      if platform.memory.bytes(at: physical, count: 1)?.first == ProbeCode.hlt, let original = originals[physical] {
        platform.memory.store([original], at: physical)
      }
    }
    applied = []
    originals = [:]
  }
}
