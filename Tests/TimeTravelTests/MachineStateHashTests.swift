import KVM
import Recording
import Testing

@testable import TimeTravel

/// What the snapshot hash covers of the MSRs: host-time counters not at all, SYSENTER_ESP/EIP
/// only by their lower halves (KVM on AMD-V cannot restore the upper ones), everything else whole.
@Suite struct MachineStateHashTests {
  /// A machine state that differs from the default only in its MSRs.
  private func state(msrs: [UInt32: UInt64]) -> MachineState {
    MachineState(
      vcpu: VCPUState(
        registers: Registers(), specialRegisters: SpecialRegisters(), fpu: [], xsave: [], events: [],
        debugRegisters: [], mpState: 0, xcrs: [], msrs: msrs),
      devices: [], clock: 0, requestInterruptWindow: false)
  }

  private func hash(msrs: [UInt32: UInt64]) -> Hash128 {
    var hasher = StateHasher()
    state(msrs: msrs).hash(into: &hasher)
    return hasher.finalize()
  }

  @Test func sysenterPointersAreHashedByTheirLowerHalves() {
    // Linux's entry stack as recorded, and as KVM on AMD-V restores it.
    let recorded = hash(msrs: [0x175: 0xFFFF_FE00_0000_3000, 0x176: 0xFFFF_FFFF_8100_1000])
    #expect(hash(msrs: [0x175: 0x3000, 0x176: 0x8100_1000]) == recorded)
    #expect(hash(msrs: [0x175: 0xFFFF_FE00_0000_4000, 0x176: 0xFFFF_FFFF_8100_1000]) != recorded)
    #expect(hash(msrs: [0x175: 0xFFFF_FE00_0000_3000, 0x176: 0xFFFF_FFFF_8100_1001]) != recorded)
  }

  @Test func otherMSRsAreHashedWholeAndHostTimeNotAtAll() {
    #expect(hash(msrs: [0xC000_0100: 0x1_0000_0000]) != hash(msrs: [0xC000_0100: 0]))
    #expect(hash(msrs: [0x10: 12345, 0x4000_0020: 7]) == hash(msrs: [0x10: 999, 0x4000_0020: 8]))
  }

  @Test func theDivergenceReportNamesOnlyWhatTheHashCovers() {
    let recorded = state(msrs: [0x175: 0xFFFF_FE00_0000_3000, 0xC000_0100: 5])
    let replayed = state(msrs: [0x175: 0x3000, 0xC000_0100: 6])
    let lines = DivergenceReport.differences(
      recorded: recorded, actual: replayed, recordedPages: [], actualPages: [], recordedPage: { _ in nil },
      actualPage: { _ in [] })
    #expect(lines.contains { $0.hasPrefix("MSR 0xc0000100") })
    #expect(!lines.contains { $0.hasPrefix("MSR 0x175") })
  }
}
