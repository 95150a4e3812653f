import Foundation
import KVM

/// Measures, on throwaway VMs, the KVM behaviours the engine depends on where hosts differ
/// (design.md, point 6), once per process and `/dev/kvm` path.
public enum HostProbe {
  /// The host's mechanisms, probed on first use (a few milliseconds) and cached.
  public static func mechanisms(kvmPath: String = "/dev/kvm") -> HostMechanisms {
    cache.value(for: kvmPath) {
      do { return probe(system: try KVMSystem(path: kvmPath)) } catch { return .unprobed("\(error)") }
    }
  }

  /// Runs every probe now, uncached.
  public static func probe(system kvm: KVMSystem) -> HostMechanisms {
    let cpuid = (try? kvm.supportedCPUID()).map(CPUIDModel.entries(supported:)) ?? []
    let system = ProbeHost(system: kvm, cpuid: cpuid)
    let execute = BreakpointProbes.executeBreakpoint(system)
    let step = StepProbes.singleStep(system)
    return HostMechanisms(
      executeBreakpointFires: execute.fires, executeBreakpointRefires: execute.refires,
      dataWatchpointFires: BreakpointProbes.dataWatchpoint(system), haltPatchStops: BreakpointProbes.haltPatch(system),
      softwareBreakpointReported: BreakpointProbes.softwareBreakpoint(system), singleStepWorks: step.works,
      ioCompletionReportsStep: step.ioCompletionReportsStep, ioStepLateDebugExit: step.ioLate,
      haltHaltsUnderSingleStep: step.haltHalts, haltStepLateDebugExit: step.haltLate,
      immediateExitCompletesIO: StepProbes.immediateExitCompletion(system),
      steppedInterruptEntryClean: StepProbes.steppedInterruptEntry(system),
      shutdownKeepsState: FaultProbes.shutdownKeepsState(system),
      resumeFlagSkipsBreakpoint: BreakpointProbes.resumeFlagSkip(system))
  }

  private static let cache = ProbeCache()
}

extension HostMechanisms {
  /// Every finding unknown: the engine then takes its most cautious choices.
  public static func unprobed(_ why: String) -> HostMechanisms {
    let u = ProbeFinding.unknown(why)
    return HostMechanisms(
      executeBreakpointFires: u, executeBreakpointRefires: u, dataWatchpointFires: u, haltPatchStops: u,
      softwareBreakpointReported: u, singleStepWorks: u, ioCompletionReportsStep: u, ioStepLateDebugExit: u,
      haltHaltsUnderSingleStep: u, haltStepLateDebugExit: u, immediateExitCompletesIO: u, steppedInterruptEntryClean: u,
      shutdownKeepsState: u, resumeFlagSkipsBreakpoint: u)
  }
}

/// Probe results by `/dev/kvm` path; the lock makes concurrent first uses probe once.
private final class ProbeCache: @unchecked Sendable {
  private let lock = NSLock()
  private var results: [String: HostMechanisms] = [:]

  func value(for path: String, compute: () -> HostMechanisms) -> HostMechanisms {
    lock.lock()
    defer { lock.unlock() }
    if let known = results[path] { return known }
    let fresh = compute()
    results[path] = fresh
    return fresh
  }
}
