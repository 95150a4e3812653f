import KVM

/// The guest stopped in a way it cannot recover from: what happened and where.
public struct GuestFault: Error, Equatable, CustomStringConvertible {
  public enum Kind: Equatable, Sendable {
    /// KVM_EXIT_SHUTDOWN: a triple fault, or a shutdown the CPU forced.
    case tripleFault
    /// KVM could not emulate an instruction or handle the exit.
    case internalError(suberror: UInt32, data: [UInt64])
    /// VM entry failed: the guest state is invalid.
    case failedEntry(reason: UInt64)
    /// HLT with interrupts off, or with nothing left that could ever wake the guest.
    case haltedForever(reason: String)
    case unexpectedExit(String)
  }

  public var kind: Kind
  public var registers: Registers?
  public var specialRegisters: SpecialRegisters?
  /// Up to 16 bytes at rip, when readable.
  public var codeBytes: [UInt8]
  /// Why the report has no registers, when the host's KVM no longer has the faulting state.
  public var stateUnavailable: String? = nil

  public var summary: String {
    switch kind {
    case .tripleFault:
      return "guest triple fault (KVM_EXIT_SHUTDOWN)"
    case .internalError(let sub, let data):
      let what =
        switch sub {
        case 1: "emulation failure: KVM could not emulate the instruction at rip"
        case 2: "simultaneous exceptions"
        case 3: "delivery event error"
        default: "suberror \(sub)"
        }
      let words = data.map { "0x" + String($0, radix: 16) }.joined(separator: " ")
      return "KVM internal error: \(what)" + (words.isEmpty ? "" : " [\(words)]")
    case .failedEntry(let reason):
      return "VM entry failed (hardware reason 0x\(String(reason, radix: 16))): invalid guest CPU state"
    case .haltedForever(let reason):
      return "guest halted and can never wake: \(reason)"
    case .unexpectedExit(let what):
      return "unexpected exit from KVM: \(what)"
    }
  }

  public var description: String {
    var lines = [summary]
    if let why = stateUnavailable { lines.append("the registers at the fault are not available: \(why)") }
    if let r = registers { lines.append(contentsOf: RegisterDump.lines(r, specialRegisters)) }
    if !codeBytes.isEmpty {
      lines.append("code at rip: " + codeBytes.map { hex2($0) }.joined(separator: " "))
    }
    return lines.joined(separator: "\n")
  }
}

/// Register dumps for faults, `replay --to` and the debuggers.
public enum RegisterDump {
  public static func lines(_ r: Registers, _ s: SpecialRegisters?) -> [String] {
    let named = r.named
    var lines: [String] = []
    for row in stride(from: 0, to: named.count, by: 3) {
      lines.append(
        named[row..<min(row + 3, named.count)]
          .map { $0.0.padding(toLength: 6, withPad: " ", startingAt: 0) + hex16($0.1) }
          .joined(separator: "  "))
    }
    if let s {
      let segs = [("cs", s.cs), ("ss", s.ss), ("ds", s.ds), ("es", s.es), ("fs", s.fs), ("gs", s.gs)]
      lines.append(
        segs.map { "\($0.0)=\(hex4($0.1.selector))" }.joined(separator: " ")
          + "  fs_base=\(hex16(s.fs.base)) gs_base=\(hex16(s.gs.base))")
      lines.append("cr0=\(hex16(s.cr0)) cr2=\(hex16(s.cr2)) cr3=\(hex16(s.cr3)) cr4=\(hex16(s.cr4)) efer=\(hex16(s.efer))")
      lines.append(
        "gdt=\(hex16(s.gdt.base))/\(hex4(s.gdt.limit)) idt=\(hex16(s.idt.base))/\(hex4(s.idt.limit)) mode=\(modeName(s))")
    }
    return lines
  }

  public static func modeName(_ s: SpecialRegisters) -> String {
    if s.is64BitCode { return "64-bit" }
    if !s.isProtected { return "real" }
    if s.efer & SpecialRegisters.eferLMA != 0 { return "compatibility" }
    return s.cs.db ? "32-bit protected" : "16-bit protected"
  }
}

func hex16(_ v: UInt64) -> String {
  let s = String(v, radix: 16)
  return String(repeating: "0", count: max(0, 16 - s.count)) + s
}

func hex4(_ v: UInt16) -> String {
  let s = String(v, radix: 16)
  return String(repeating: "0", count: max(0, 4 - s.count)) + s
}

func hex2(_ v: UInt8) -> String {
  v < 16 ? "0" + String(v, radix: 16) : String(v, radix: 16)
}
