import Foundation
import Testing

/// The REPL on a terminal (a tmux pseudo-terminal): readline editing and completion, history
/// across runs, Ctrl-C, colour. Screens are compared as the user would see them.
@Suite struct TerminalTests {
  /// A fresh history directory per test, no user inputrc, no colour unless asked.
  func start(_ guest: String, color: Bool = false, state: URL? = nil) throws -> (TmuxSession, URL) {
    let recording = try REPLHarness.shared.recording(of: guest)
    let stateDir = state ?? REPLHarness.shared.dir.appendingPathComponent("state-\(UUID().uuidString)")
    var env = ["XDG_STATE_HOME": stateDir.path, "INPUTRC": "/dev/null", "HOME": stateDir.path]
    if !color { env["NO_COLOR"] = "1" }
    let tmux = try TmuxSession(["repl", recording], environment: env)
    try #require(tmux.waitForLastLine("(rv)"), "no prompt: \(tmux.screen())")
    return (tmux, stateDir)
  }

  @Test func tabCompletesCommandsSymbolsRegistersAndBookmarks() throws {
    let (t, _) = try start("corrupt")
    try t.type("b fill_sc")
    try t.press("Tab")
    #expect(t.waitForLastLine("(rv) b fill_scratch"))
    try t.press("Enter")
    #expect(t.waitForLastLine("(rv)"))
    try t.type("info reg")
    try t.press("Tab")
    #expect(t.waitForLastLine("(rv) info registers"))
    try t.type("eip")
    try t.press("Enter")
    #expect(t.waitForLastLine("(rv)"))
    try t.type("reverse-")
    try t.press("Tab")
    try t.press("Tab")
    #expect(t.waitForLastLine("(rv) reverse-"))
    try t.type("s")
    try t.press("Tab")
    #expect(t.waitForLastLine("(rv) reverse-stepi"))
    try t.press("Enter")
    #expect(t.waitForLastLine("(rv)"))
    try t.type("print $ei")
    try t.press("Tab")
    #expect(t.waitForLastLine("(rv) print $eip"))
    try t.press("Enter")
    #expect(t.waitForLastLine("(rv)"))
    try t.type("bookmark here")
    try t.press("Enter")
    #expect(t.waitForLastLine("(rv)"))
    try t.type("goto h")
    try t.press("Tab")
    #expect(t.waitForLastLine("(rv) goto here"))
    try t.press("Enter")
    #expect(t.waitForLastLine("(rv)"))
    let recording = try REPLHarness.shared.recording(of: "corrupt")
    let screen = t.screen()
    #expect(
      screen == [
        "Retrovisor REPL on \(recording): positions 0 to 493, the guest ended with debug-exit 0x3.",
        "Type help for the commands, help COMMAND for one; Ctrl-D leaves.",
        "[0] 0x1002b4 <_start>: cli",
        "(rv) b fill_scratch",
        "breakpoint 1 at 0x100073 <fill_scratch>",
        "(rv) info registers eip",
        "eip            0x1002b4           0x1002b4 <_start>",
        "(rv) reverse-",
        "reverse-continue  reverse-nexti     reverse-stepi",
        "(rv) reverse-stepi",
        "start of the recording: no more reverse-execution history",
        "[0] 0x1002b4 <_start>: cli",
        "(rv) print $eip",
        "$eip = 0x1002b4 <_start>",
        "(rv) bookmark here",
        "bookmark here at position 0",
        "(rv) goto here",
        "position 0",
        "[0] 0x1002b4 <_start>: cli",
        "(rv)",
      ])
  }

  /// Ctrl-C stops a running continue and returns to the prompt; at the prompt it drops the
  /// line being typed; Ctrl-D leaves.
  @Test func ctrlCStopsContinueAndCancelsTheLine() throws {
    let (t, _) = try start("mixed")
    try t.type("watch 0x200000 65536")
    try t.press("Enter")
    #expect(t.waitForLastLine("(rv)"))
    try t.type("continue")
    try t.press("Enter")
    // The progress line, drawn while a command runs long: the continue is under way.
    #expect(t.wait { $0.last?.hasPrefix("continuing... ") == true && $0.last?.hasSuffix(" s (Ctrl-C stops)") == true })
    try t.press("C-c")
    #expect(t.waitForLastLine("(rv)", timeout: 10))
    let screen = t.screen()
    let stop = try #require(screen.lastIndex(of: "interrupted"), "\(screen)")
    let location = screen[stop + 1]
    #expect(location.wholeMatch(of: /\[\d+(\+\d+)?\] 0x[0-9a-f]+ <\w+(\+0x[0-9a-f]+)?>: .+/) != nil)
    try t.type("frobnicate")
    try t.press("C-c")
    #expect(t.wait { $0.suffix(2) == ["(rv) frobnicate^C", "(rv)"] }, "screen: \(t.screen())")
    try t.type("when")
    try t.press("Enter")
    // Wait for the answer itself: the screen may still end in the old prompt when captured.
    let position = try #require(location.firstMatch(of: /^\[([0-9+]+)\]/)?.1)
    let expected = ["(rv) when", "position \(position)", "(rv)"]
    #expect(t.wait { $0.suffix(3) == expected }, "screen: \(t.screen())")
    try t.press("C-d")
    #expect(t.wait { _ in !t.isRunning })
  }

  /// History is kept in $XDG_STATE_HOME/retrovisor/history across runs; an empty line repeats
  /// a stepping command.
  @Test func historyPersistsAcrossRunsAndEnterRepeats() throws {
    let (first, state) = try start("corrupt")
    // Each wait looks for the command's own output: the prompt before it ends in "(rv)" too.
    try first.type("si 3")
    try first.press("Enter")
    #expect(first.wait { $0.suffix(2) == ["[0+3] 0x1002bb <_start+0x7>: movl %eax, %esi", "(rv)"] })
    try first.press("Enter")
    #expect(first.wait { $0.suffix(2) == ["[0+6] 0x1002c6 <_start+0x12>: ljmpl $0x8:$0x1002cd", "(rv)"] })
    try first.type("when")
    try first.press("Enter")
    let expected = [
      "(rv) si 3", "[0+3] 0x1002bb <_start+0x7>: movl %eax, %esi",
      "(rv)", "[0+6] 0x1002c6 <_start+0x12>: ljmpl $0x8:$0x1002cd",
      "(rv) when", "position 0+6", "(rv)",
    ]
    #expect(first.wait { $0.suffix(7) == expected }, "screen: \(first.screen())")
    try first.press("C-d")
    #expect(first.wait { _ in !first.isRunning })
    let history = try String(contentsOf: state.appendingPathComponent("retrovisor/history"), encoding: .utf8)
    #expect(history == "si 3\nwhen\n")

    let (second, _) = try start("corrupt", state: state)
    try second.press("Up")
    #expect(second.waitForLastLine("(rv) when"))
    try second.press("Up")
    #expect(second.waitForLastLine("(rv) si 3"))
    try second.press("Enter")
    #expect(second.wait { $0.suffix(3) == ["(rv) si 3", "[0+3] 0x1002bb <_start+0x7>: movl %eax, %esi", "(rv)"] })
  }

  /// Colour on a terminal, none with NO_COLOR (and none through a pipe: see ScriptedSessionTests).
  @Test func colourOnATerminalUnlessNoColor() throws {
    let (coloured, _) = try start("corrupt", color: true)
    let escape = "\u{1B}["
    #expect(coloured.screen(escapes: true).joined().contains(escape + "36m[0]"))
    let (plain, _) = try start("corrupt", color: false)
    #expect(!plain.screen(escapes: true).joined().contains(escape + "36m"))
    #expect(plain.screen().last == "(rv)")
  }
}
