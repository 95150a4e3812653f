import CCapstone

/// x86 disassembly through capstone, in 16-, 32- or 64-bit mode, Intel or AT&T syntax.
public final class Disassembler {
  public enum Syntax: String, CaseIterable, Sendable {
    case att, intel
  }

  public struct Instruction: Equatable, Sendable {
    public var address: UInt64
    public var bytes: [UInt8]
    public var mnemonic: String
    public var operands: String
    public var isCall: Bool
    public var isReturn: Bool

    public var size: Int { bytes.count }
    public var text: String { operands.isEmpty ? mnemonic : "\(mnemonic) \(operands)" }

    /// The target of a direct call or jump (`call 0x100073`), for a symbol annotation.
    public var directTarget: UInt64? {
      guard mnemonic.hasPrefix("call") || mnemonic.hasPrefix("j") || mnemonic.hasPrefix("loop") else { return nil }
      var t = Substring(operands)
      if t.hasPrefix("$") { t = t.dropFirst() }
      guard t.hasPrefix("0x") else { return nil }
      return UInt64(t.dropFirst(2), radix: 16)
    }
  }

  public var syntax: Syntax = .att {
    didSet {
      for (_, handle) in handles { setSyntax(handle) }
    }
  }
  private var handles: [Int: csh] = [:]

  public init() {}

  deinit {
    for (_, var handle) in handles { cs_close(&handle) }
  }

  private func handle(bits: Int) -> csh? {
    if let h = handles[bits] { return h }
    let mode: cs_mode
    switch bits {
    case 16: mode = CS_MODE_16
    case 64: mode = CS_MODE_64
    default: mode = CS_MODE_32
    }
    var h: csh = 0
    guard cs_open(CS_ARCH_X86, mode, &h) == CS_ERR_OK else { return nil }
    setSyntax(h)
    handles[bits] = h
    return h
  }

  private func setSyntax(_ h: csh) {
    let value = syntax == .att ? CS_OPT_SYNTAX_ATT.rawValue : CS_OPT_SYNTAX_INTEL.rawValue
    cs_option(h, CS_OPT_SYNTAX, Int(value))
  }

  /// Up to `count` instructions decoded from `bytes`, the first at `address`; stops early at
  /// bytes that are not an instruction.
  public func disassemble(_ bytes: [UInt8], at address: UInt64, bits: Int, count: Int) -> [Instruction] {
    guard let h = handle(bits: bits), !bytes.isEmpty, count > 0 else { return [] }
    var insns: UnsafeMutablePointer<cs_insn>?
    let n = bytes.withUnsafeBufferPointer { cs_disasm(h, $0.baseAddress, $0.count, address, count, &insns) }
    guard n > 0, let insns else { return [] }
    defer { cs_free(insns, n) }
    var out: [Instruction] = []
    out.reserveCapacity(n)
    for i in 0..<n {
      let insn = ccs_instruction(insns, i)!
      let offset = Int(insn.pointee.address - address)
      let size = Int(insn.pointee.size)
      out.append(
        Instruction(
          address: insn.pointee.address, bytes: Array(bytes[offset..<offset + size]),
          mnemonic: String(cString: ccs_mnemonic(insn)), operands: String(cString: ccs_operands(insn)),
          isCall: ccs_is_call(insn) != 0, isReturn: ccs_is_return(insn) != 0))
    }
    return out
  }
}
