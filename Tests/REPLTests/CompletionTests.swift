import Foundation
import Testing

@testable import REPL

@Suite struct CompletionTests {
  @Test func completesCommandsSubcommandsSymbolsRegisters() throws {
    let repl = try REPLHarness.shared.repl(of: "corrupt")
    #expect(repl.completions(before: "", word: "rev") == ["reverse-continue", "reverse-nexti", "reverse-stepi"])
    #expect(repl.completions(before: "info ", word: "reg") == ["registers"])
    #expect(repl.completions(before: "b ", word: "fill_sc") == ["fill_scratch"])
    #expect(repl.completions(before: "print ", word: "$ei") == ["$eip"])
    #expect(repl.completions(before: "x/4xw ", word: "&ar") == ["&arena", "&arena_used"])
  }
}

/// Seeks far from where replay starts go in stages; they land exactly where one seek would.
@Suite struct StagedSeekTests {
  @Test func stagedSeekLandsWhereADirectSeekDoes() throws {
    let output = OutputCollector()
    let staged = try REPLHarness.shared.repl(of: "corrupt", sink: output.append)
    staged.seekStageExits = 64
    staged.execute("goto 400")
    let direct = try REPLHarness.shared.repl(of: "corrupt")
    direct.execute("seek 400")
    #expect(try staged.session.stateHash() == direct.session.stateHash())
    #expect(output.text.hasPrefix("position 400\n"))
    #expect(output.text.hasSuffix("[400] 0x1004f0 <serial_putc+0x19>: popl %ebp\n"))
  }
}

final class OutputCollector: @unchecked Sendable {
  private let lock = NSLock()
  private var bytes: [UInt8] = []
  var append: @Sendable (Int32, [UInt8]) -> Void { { [self] _, b in lock.withLock { bytes += b } } }
  var text: String { lock.withLock { String(decoding: bytes, as: UTF8.self) } }
}
