import KVM

/// Probes of what user space can still see after the guest faults beyond recovery.
enum FaultProbes {
  /// `ud2` with an empty IDT (#UD, then #GP, then #DF: a triple fault). After
  /// `KVM_EXIT_SHUTDOWN`, do the registers still show the faulting instruction? On AMD-V, KVM
  /// re-initialises the vCPU on a shutdown intercept (the VMCB is undefined after it), so what
  /// reads back is the reset state (rip 0xfff0, cs f000).
  static func shutdownKeepsState(_ system: ProbeHost) -> ProbeFinding {
    do {
      let m = try ProbeMachine(system: system, program: [0x0F, 0x0B])
      let exit = try m.run()
      guard case .shutdown = exit else { return .unknown("`ud2` without an IDT gave \(ProbeMachine.describe(exit))") }
      let rip = try m.rip
      if rip == ProbeMachine.code { return ProbeFinding(true, "rip still at the faulting instruction") }
      let cs = try m.vcpu.specialRegisters().cs.selector
      return ProbeFinding(
        false, "reads back rip 0x\(String(rip, radix: 16)), cs 0x\(String(cs, radix: 16)): the vCPU was reset")
    } catch {
      return .unknown("\(error)")
    }
  }
}
