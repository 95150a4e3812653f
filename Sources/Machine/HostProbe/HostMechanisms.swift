/// What the host's KVM does where KVM hosts differ (measured by `HostProbe`), and the methods
/// the engine uses because of it (design.md, point 6: chosen by probing, never by host name).
///
/// Every finding defaults to what the project's CI host (`kvm_pvm`) does, so `.ciHost` is also
/// what a test can hand the engine to get today's behaviour without probing.
public struct HostMechanisms: Sendable, Equatable {
  /// An execute breakpoint in DR0-DR3 with `KVM_GUESTDBG_USE_HW_BP` ends `KVM_RUN` with a
  /// debug exit before the instruction.
  public var executeBreakpointFires: ProbeFinding
  /// Resuming from that hit with the breakpoint still armed hits it again at once (no RF).
  public var executeBreakpointRefires: ProbeFinding
  /// A write watchpoint in DR1 (`KVM_GUESTDBG_USE_HW_BP`) gives a debug exit.
  public var dataWatchpointFires: ProbeFinding
  /// A `hlt` byte (0xF4) written over an instruction from user space gives `KVM_EXIT_HLT` with
  /// rip just past it, even after the original instruction had already run.
  public var haltPatchStops: ProbeFinding
  /// `int3` with `KVM_GUESTDBG_USE_SW_BP` gives a debug exit at the `int3` (not used: reported).
  public var softwareBreakpointReported: ProbeFinding
  /// Single-step gives one debug exit per instruction, with pc equal to the new rip.
  public var singleStepWorks: ProbeFinding
  /// Under single-step, completing an I/O exit's instruction (`KVM_RUN` with immediate_exit)
  /// reports the step's debug exit.
  public var ioCompletionReportsStep: ProbeFinding
  /// Under single-step, after an I/O exit (completed), the next `KVM_RUN` gives a debug exit
  /// without running another instruction: the step's own report, late.
  public var ioStepLateDebugExit: ProbeFinding
  /// `hlt` under single-step ends with `KVM_EXIT_HLT` (it halts) rather than stepping past it.
  public var haltHaltsUnderSingleStep: ProbeFinding
  /// After a single-stepped `hlt` that halted, the next `KVM_RUN` gives a debug exit without
  /// running another instruction.
  public var haltStepLateDebugExit: ProbeFinding
  /// `KVM_RUN` with immediate_exit after an I/O exit completes the instruction and returns
  /// without running guest code past it.
  public var immediateExitCompletesIO: ProbeFinding
  /// Single-stepping into an injected interrupt stops at the handler's first instruction with
  /// no trap flag leaked into the frame the guest pushed.
  public var steppedInterruptEntryClean: ProbeFinding
  /// After `KVM_EXIT_SHUTDOWN` (a triple fault) the vCPU's registers are still the faulting
  /// state; where they are not (AMD-V resets the vCPU), a fault report cannot show them.
  public var shutdownKeepsState: ProbeFinding
  /// After an execute-breakpoint hit, RFLAGS.RF set with KVM_SET_REGS lets the resume run the
  /// instruction once without hitting it, and the breakpoint stays armed.
  public var resumeFlagSkipsBreakpoint: ProbeFinding

  public init(
    executeBreakpointFires: ProbeFinding, executeBreakpointRefires: ProbeFinding, dataWatchpointFires: ProbeFinding,
    haltPatchStops: ProbeFinding, softwareBreakpointReported: ProbeFinding, singleStepWorks: ProbeFinding,
    ioCompletionReportsStep: ProbeFinding, ioStepLateDebugExit: ProbeFinding, haltHaltsUnderSingleStep: ProbeFinding,
    haltStepLateDebugExit: ProbeFinding, immediateExitCompletesIO: ProbeFinding, steppedInterruptEntryClean: ProbeFinding,
    shutdownKeepsState: ProbeFinding, resumeFlagSkipsBreakpoint: ProbeFinding
  ) {
    self.executeBreakpointFires = executeBreakpointFires
    self.executeBreakpointRefires = executeBreakpointRefires
    self.dataWatchpointFires = dataWatchpointFires
    self.haltPatchStops = haltPatchStops
    self.softwareBreakpointReported = softwareBreakpointReported
    self.singleStepWorks = singleStepWorks
    self.ioCompletionReportsStep = ioCompletionReportsStep
    self.ioStepLateDebugExit = ioStepLateDebugExit
    self.haltHaltsUnderSingleStep = haltHaltsUnderSingleStep
    self.haltStepLateDebugExit = haltStepLateDebugExit
    self.immediateExitCompletesIO = immediateExitCompletesIO
    self.steppedInterruptEntryClean = steppedInterruptEntryClean
    self.shutdownKeepsState = shutdownKeepsState
    self.resumeFlagSkipsBreakpoint = resumeFlagSkipsBreakpoint
  }

  /// The CI host's behaviour (kvm-host-facts.md), for tests that must not depend on probing.
  public static let ciHost = HostMechanisms(
    executeBreakpointFires: ProbeFinding(true, "assumed"), executeBreakpointRefires: ProbeFinding(true, "assumed"),
    dataWatchpointFires: ProbeFinding(false, "assumed"), haltPatchStops: ProbeFinding(true, "assumed"),
    softwareBreakpointReported: ProbeFinding(false, "assumed"), singleStepWorks: ProbeFinding(true, "assumed"),
    ioCompletionReportsStep: ProbeFinding(false, "assumed"), ioStepLateDebugExit: ProbeFinding(false, "assumed"),
    haltHaltsUnderSingleStep: ProbeFinding(false, "assumed"), haltStepLateDebugExit: ProbeFinding(false, "assumed"),
    immediateExitCompletesIO: ProbeFinding(true, "assumed"), steppedInterruptEntryClean: ProbeFinding(false, "assumed"),
    shutdownKeepsState: ProbeFinding(true, "assumed"), resumeFlagSkipsBreakpoint: ProbeFinding(false, "assumed"))
}

/// How the engine stops at an execution breakpoint.
public enum BreakpointMethod: String, Sendable, Equatable {
  /// DR0-DR3 execute breakpoints: no guest memory touched, four at a time.
  case debugRegisters = "debug registers"
  /// A `hlt` byte written over the instruction around each `KVM_RUN` and put back right after:
  /// any number; the page holds the original byte whenever the engine looks.
  case haltPatch = "hlt patch"
  /// Single-step and compare the pc at every instruction: exact, any number, slow.
  case singleStep = "single-step"
}

extension HostMechanisms {
  /// The breakpoint method the engine uses: debug registers when they fire, else the `hlt`
  /// patch when it stops, else single-stepping (which the probe checked works).
  public var breakpointMethod: BreakpointMethod {
    if executeBreakpointFires.value == true { return .debugRegisters }
    if haltPatchStops.value == true { return .haltPatch }
    return .singleStep
  }

  /// How many breakpoints run mode can arm at once (more: single-stepping).
  public var breakpointCapacity: Int {
    switch breakpointMethod {
    case .debugRegisters: return 4
    case .haltPatch: return Int.max
    case .singleStep: return 0
    }
  }

  /// Whether a breakpoint hit must be stepped over (disarm, single-step one instruction,
  /// re-arm) before resuming; a patch always stands in the way, debug registers only where
  /// they fire again on resume (or where that is unknown).
  public var stepOverBreakpointHits: Bool {
    breakpointMethod == .haltPatch || executeBreakpointRefires.value != false
  }

  /// Whether a debug-register hit that is not wanted is passed by setting RF and resuming (one
  /// `KVM_SET_REGS`, where stepping over costs two mode changes and a run): the processor's
  /// own way to resume from an instruction breakpoint, which the guest cannot see (`pushf`
  /// clears RF in the image; faults push it set anyway).
  public var passBreakpointHitsWithResumeFlag: Bool {
    breakpointMethod == .debugRegisters && resumeFlagSkipsBreakpoint.value == true
  }

  /// Whether a `hlt` is single-stepped like any instruction or run without single-step. Running
  /// it plainly gives the HLT exit on every host, so it is single-stepped only where that is
  /// clean in every respect: it halts, reports no late step, and an interrupt taken at the halt
  /// cannot see the trap flag (stepping into an interrupt is clean). On stock KVM a stepped
  /// `hlt` halts, but an interrupt delivered while single-stepping is not clean, and stepping
  /// the `sti; hlt` idle loop diverged from run mode there.
  public var singleStepsHalt: Bool {
    haltHaltsUnderSingleStep.value == true && haltStepLateDebugExit.value == false
      && steppedInterruptEntryClean.value == true
  }

  /// Whether single-stepping into an injected interrupt is clean enough to use when no
  /// breakpoint method can stop at the handler.
  public var interruptEntryBySingleStep: Bool {
    breakpointMethod == .singleStep && steppedInterruptEntryClean.value == true
  }

  /// Whether the debug exit that reports a single-stepped I/O instruction comes only at the
  /// next `KVM_RUN`, to be taken without counting another instruction.
  public var ioStepReportsLate: Bool { ioStepLateDebugExit.value == true }
}
