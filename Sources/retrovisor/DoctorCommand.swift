import ArgumentParser
import Foundation
import KVM
import Machine

/// `retrovisor doctor`: what this host's KVM offers and which mechanisms the engine picks
/// (docs/hosts.md). Exit 0 when Retrovisor can run here, 2 when it cannot, with the reason.
struct DoctorCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "doctor",
    abstract: "Check this host's KVM and show the mechanisms Retrovisor will use.",
    discussion: "Exit status 0 when Retrovisor can run here, 2 when it cannot (the reason is printed)."
  )

  @Option(name: .long, help: "The KVM device.")
  var kvm: String = "/dev/kvm"

  func run() throws {
    let system: KVMSystem
    do { system = try KVMSystem(path: kvm) } catch {
      print("\(kvm)  UNUSABLE")
      printError("\(error)")
      throw ExitCode(ExitStatus.hostError)
    }
    print("\(kvm)  API version \(system.apiVersion)")
    print("kvm modules  \(Self.kvmModules().joined(separator: ", "))")
    var problems: [String] = []
    print("capabilities")
    for cap in KVMCapability.relevant {
      let value = system.capability(cap.number)
      let mark = cap.required && value == 0 ? "  MISSING" : ""
      print("  \(pad(cap.name, 28)) \(pad(String(value), 8)) \(cap.use)\(mark)")
      if cap.required && value == 0 { problems.append("\(cap.name) is missing (needed for \(cap.use))") }
    }
    let start = HostClock.now()
    let m = HostProbe.probe(system: system)
    let elapsed = (HostClock.now() - start) / 1000
    print("probes (\(elapsed) us)")
    for (name, finding) in Self.findings(m) { print("  \(pad(name, 44)) \(finding)") }
    print("the engine uses")
    for (what, choice) in Self.choices(m) { print("  \(pad(what, 26)) \(choice)") }
    problems += Self.blockers(m)
    guard problems.isEmpty else {
      for p in problems { printError("cannot run here: \(p)") }
      throw ExitCode(ExitStatus.hostError)
    }
    print("verdict  usable")
  }

  /// The KVM modules loaded (kvm_intel, kvm_amd, kvm_pvm, ...), from /sys/module.
  static func kvmModules() -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/module")) ?? []
    let kvm = names.filter { $0 == "kvm" || $0.hasPrefix("kvm_") }.sorted()
    return kvm.isEmpty ? ["none visible in /sys/module"] : kvm
  }

  static func findings(_ m: HostMechanisms) -> [(String, ProbeFinding)] {
    [
      ("execute breakpoint in DR0-DR3 fires", m.executeBreakpointFires),
      ("it fires again on resume", m.executeBreakpointRefires),
      ("write watchpoint in DR1 fires", m.dataWatchpointFires),
      ("hlt patched over an instruction stops", m.haltPatchStops),
      ("int3 with KVM_GUESTDBG_USE_SW_BP reported", m.softwareBreakpointReported),
      ("single-step: one debug exit per instruction", m.singleStepWorks),
      ("stepped I/O: completion gives the debug exit", m.ioCompletionReportsStep),
      ("stepped I/O: a late debug exit on next run", m.ioStepLateDebugExit),
      ("stepped hlt halts (KVM_EXIT_HLT)", m.haltHaltsUnderSingleStep),
      ("stepped hlt: a late debug exit on next run", m.haltStepLateDebugExit),
      ("immediate_exit completes an I/O instruction", m.immediateExitCompletesIO),
      ("stepping into an interrupt is clean", m.steppedInterruptEntryClean),
      ("triple fault keeps the faulting registers", m.shutdownKeepsState),
      ("RF set at a hit passes the breakpoint once", m.resumeFlagSkipsBreakpoint),
    ]
  }

  static func choices(_ m: HostMechanisms) -> [(String, String)] {
    let method = m.breakpointMethod
    var breakpoints = method.rawValue
    switch method {
    case .debugRegisters: breakpoints += " (4 at a time; more by single-stepping)"
    case .haltPatch: breakpoints += " (any number)"
    case .singleStep: breakpoints += " (pc compared at every step)"
    }
    let stepOver =
      method == .singleStep
      ? "nothing to step over"
      : m.passBreakpointHitsWithResumeFlag
        ? "set RF and resume (kicked-point searches); disarm, single-step, re-arm (steps)"
        : m.stepOverBreakpointHits ? "disarm, single-step, re-arm" : "resume (it does not fire again)"
    let interruptEntry =
      method != .singleStep
      ? "a breakpoint (\(method.rawValue)) on the handler"
      : m.interruptEntryBySingleStep ? "single-step" : "none: stepping into an interrupt is refused"
    return [
      ("execution breakpoints", breakpoints),
      ("after a breakpoint hit", stepOver),
      ("hlt while stepping", m.singleStepsHalt ? "single-stepped" : "run without single-step"),
      ("stepped I/O instruction", m.ioStepReportsLate ? "one step; its late debug exit is taken" : "one step, the exit"),
      ("interrupt entry (stepping)", interruptEntry),
      ("watchpoints", "in the engine (memory compare, unmapped pages)"),
      (
        "triple-fault report",
        m.shutdownKeepsState.value == false ? "no registers (KVM resets the vCPU)" : "the faulting registers"
      ),
    ]
  }

  /// What makes the engine unusable here.
  static func blockers(_ m: HostMechanisms) -> [String] {
    var out: [String] = []
    if m.singleStepWorks.value != true {
      out.append("single-stepping does not work (\(m.singleStepWorks.observed)); replay and time travel need it")
    }
    if m.immediateExitCompletesIO.value != true {
      out.append(
        "KVM_RUN with immediate_exit does not complete an I/O instruction (\(m.immediateExitCompletesIO.observed)); exact replay needs it"
      )
    }
    return out
  }

  private func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
  }
}
