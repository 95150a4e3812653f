import Testing

@testable import Machine

/// The instants the live run must pass before delivering include the middle of a repeated
/// string instruction; these are the encodings it has to recognise, and some it must not.
struct RepeatedStringInstructionTests {
  @Test func recognisesRepeatedStringInstructions() {
    // rep stosb (Linux's memset_erms), rep movsq, repe cmpsb, rep stosd with an operand-size
    // prefix, a segment override before rep.
    #expect(RepeatedStringInstruction.length(of: [0xF3, 0xAA, 0x4C, 0x89], longMode: true) == 2)
    #expect(RepeatedStringInstruction.length(of: [0xF3, 0x48, 0xA5, 0x90], longMode: true) == 3)
    #expect(RepeatedStringInstruction.length(of: [0xF3, 0xA6], longMode: false) == 2)
    #expect(RepeatedStringInstruction.length(of: [0x66, 0xF3, 0xAB], longMode: false) == 3)
    #expect(RepeatedStringInstruction.length(of: [0x26, 0xF3, 0xA4], longMode: false) == 3)
  }

  @Test func rejectsOtherInstructions() {
    // repz ret, pause (rep nop), a string instruction without rep, REX before a non-string
    // opcode, `dec eax` (0x48 outside long mode) after rep, and too few bytes.
    #expect(RepeatedStringInstruction.length(of: [0xF3, 0xC3], longMode: true) == nil)
    #expect(RepeatedStringInstruction.length(of: [0xF3, 0x90], longMode: true) == nil)
    #expect(RepeatedStringInstruction.length(of: [0xAA, 0x90], longMode: true) == nil)
    #expect(RepeatedStringInstruction.length(of: [0xF3, 0x48, 0x89, 0xC8], longMode: true) == nil)
    #expect(RepeatedStringInstruction.length(of: [0xF3, 0x48, 0xA5], longMode: false) == nil)
    #expect(RepeatedStringInstruction.length(of: [0xF3], longMode: true) == nil)
    #expect(RepeatedStringInstruction.length(of: [], longMode: true) == nil)
  }
}
