/// Recognises a string instruction with a REP/REPE/REPNE prefix (`rep stosb`, `rep movsq`,
/// `repe cmpsb`, ...). Such an instruction runs as many iterations as rcx says and can be
/// interrupted between two of them; the instant in between has the instruction's own rip, and
/// an execution breakpoint there fires only before the first iteration.
public enum RepeatedStringInstruction {
  /// The string opcodes: ins, outs, movs, cmps, stos, lods, scas (byte and wider forms).
  static let stringOpcodes: Set<UInt8> = [0x6C, 0x6D, 0x6E, 0x6F, 0xA4, 0xA5, 0xA6, 0xA7, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE, 0xAF]
  /// Legacy prefixes a string instruction may carry besides REP: operand and address size,
  /// segment overrides, lock.
  static let otherPrefixes: Set<UInt8> = [0x66, 0x67, 0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65, 0xF0]

  /// The instruction's length when `code` (the bytes at rip) starts with a repeated string
  /// instruction, else nil. `longMode`: 64-bit code, where 0x40-0x4F are REX prefixes.
  public static func length(of code: [UInt8], longMode: Bool) -> Int? {
    var repeated = false
    for (i, byte) in code.prefix(15).enumerated() {
      if byte == 0xF2 || byte == 0xF3 {
        repeated = true
      } else if otherPrefixes.contains(byte) {
        continue
      } else if longMode, (0x40...0x4F).contains(byte) {
        // REX must come last: the opcode follows it.
        guard i + 1 < code.count, stringOpcodes.contains(code[i + 1]) else { return nil }
        return repeated ? i + 2 : nil
      } else {
        return repeated && stringOpcodes.contains(byte) ? i + 1 : nil
      }
    }
    return nil
  }
}
