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
