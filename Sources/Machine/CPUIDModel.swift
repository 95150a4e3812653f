import KVM

/// The fixed CPUID the guest sees (design.md, determinism contract point 3).
///
/// Starts from what this KVM supports and removes everything whose value the engine cannot
/// make deterministic or does not emulate: the TSC and its relatives, RDRAND/RDSEED, the KVM
/// paravirtual leaves, x2APIC, TSC-deadline and the local APIC itself (the platform has only
/// 8259 PICs), and 1 GiB pages (broken on some hosts).
public enum CPUIDModel {
  public static func entries(supported: [CPUIDEntry]) -> [CPUIDEntry] {
    supported.compactMap { entry -> CPUIDEntry? in
      var e = entry
      switch e.function {
      case 0x4000_0000...0x4FFF_FFFF:
        return nil  // hypervisor (KVM paravirtual) leaves: kvmclock, steal time, PV EOI
      case 0x15, 0x16:
        return nil  // TSC / crystal frequency
      case 0x1:
        e.edx &= ~(bit(4) | bit(9))  // TSC, APIC
        e.ecx &= ~(bit(21) | bit(24) | bit(30) | bit(31))  // x2APIC, TSC-deadline, RDRAND, hypervisor
        e.ebx &= 0x0000_FFFF  // no initial APIC ID, one logical processor
      case 0x6:
        e.eax &= ~bit(2)  // ARAT: no APIC timer at all
      case 0x7 where e.index == 0:
        e.ebx &= ~(bit(1) | bit(18))  // TSC_ADJUST, RDSEED
        e.ecx &= ~bit(22)  // RDPID reads TSC_AUX
      case 0x8000_0001:
        e.edx &= ~(bit(26) | bit(27))  // 1 GiB pages, RDTSCP
      case 0x8000_0007:
        e.edx &= ~bit(8)  // invariant TSC
      default:
        break
      }
      return e
    }
  }

  private static func bit(_ n: UInt32) -> UInt32 { 1 << n }
}
