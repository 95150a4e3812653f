import KVM
import Recording

/// Names what differs between a recorded state and the replayed one, for divergence reports.
enum DivergenceReport {
  static func differences(
    recorded: MachineState, actual: MachineState, recordedPages: [Hash128], actualPages: [Hash128],
    recordedPage: (Hash128) -> [UInt8]?, actualPage: (Int) -> [UInt8]
  ) -> [String] {
    var out: [String] = []
    let r = recorded.vcpu.registers.named
    let a = actual.vcpu.registers.named
    for (x, y) in zip(r, a) where x.1 != y.1 {
      out.append("\(x.0): recorded 0x\(String(x.1, radix: 16)), replayed 0x\(String(y.1, radix: 16))")
    }
    if recorded.vcpu.specialRegisters != actual.vcpu.specialRegisters { out.append("segment/control registers differ") }
    if recorded.vcpu.fpu != actual.vcpu.fpu { out.append("FPU state differs") }
    let xsaveOffsets = zip(recorded.vcpu.xsave, actual.vcpu.xsave).enumerated()
      .filter { $0.element.0 != $0.element.1 && !(512..<576).contains($0.offset) }.map(\.offset)
    if !xsaveOffsets.isEmpty {
      let offsets = xsaveOffsets
      out.append("XSAVE state differs at bytes \(offsets.prefix(12).map { String($0) }.joined(separator: ","))")
    }
    if recorded.vcpu.events != actual.vcpu.events { out.append("pending vCPU events differ") }
    if recorded.vcpu.mpState != actual.vcpu.mpState { out.append("MP state differs") }
    if recorded.vcpu.xcrs != actual.vcpu.xcrs { out.append("XCRs differ") }
    for (index, value) in recorded.vcpu.msrs.sorted(by: { $0.key < $1.key })
    where !MachineState.isHostTimeMSR(index)
      && actual.vcpu.msrs[index].map({ MachineState.comparedValue(ofMSR: index, $0) })
        != MachineState.comparedValue(ofMSR: index, value)
    {
      out.append(
        "MSR 0x\(String(index, radix: 16)): recorded 0x\(String(value, radix: 16)), replayed \(actual.vcpu.msrs[index].map { "0x" + String($0, radix: 16) } ?? "none")"
      )
    }
    if recorded.devices != actual.devices { out.append("device state differs") }
    if recorded.clock != actual.clock { out.append("guest time: recorded \(recorded.clock) ns, replayed \(actual.clock) ns") }
    if recorded.requestInterruptWindow != actual.requestInterruptWindow { out.append("interrupt-window request differs") }
    let pages = zip(recordedPages, actualPages).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
    if !pages.isEmpty {
      let shown = pages.prefix(8).map { "0x" + String($0 * PageTracker.pageSize, radix: 16) }.joined(separator: ", ")
      out.append("\(pages.count) RAM page(s) differ, first at \(shown)")
      if let first = pages.first, let before = recordedPage(recordedPages[first]) {
        out.append(byteDifferences(page: first, recorded: before, actual: actualPage(first)))
      }
    }
    return out
  }

  /// The differing bytes of one page, as address: recorded -> replayed (the first few).
  static func byteDifferences(page: Int, recorded: [UInt8], actual: [UInt8]) -> String {
    let offsets = zip(recorded, actual).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
    let base = page * PageTracker.pageSize
    let shown = offsets.prefix(8).map {
      "0x\(String(base + $0, radix: 16)): \(hex(recorded[$0])) -> \(hex(actual[$0]))"
    }
    let more = offsets.count > 8 ? ", ..." : ""
    return "\(offsets.count) byte(s) differ there (recorded -> replayed): \(shown.joined(separator: ", "))\(more)"
  }

  private static func hex(_ b: UInt8) -> String { b < 16 ? "0" + String(b, radix: 16) : String(b, radix: 16) }
}
