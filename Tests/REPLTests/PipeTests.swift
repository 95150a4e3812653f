import Foundation
import TestSupport
import Testing

@testable import REPL

/// The REPL driven without a terminal: no prompt, `--batch`, SIGINT, `repl IMAGE`.
@Suite struct PipeTests {
  @Test func noPromptWithoutATerminal() throws {
    let recording = try REPLHarness.shared.recording(of: "corrupt")
    let (status, output) = try runREPL(["repl", recording], script: script("when", "si", "", "# a comment", "when"))
    #expect(status == 0)
    #expect(output == "position 0 (start)\n[0+1] 0x1002b5 <_start+0x1>: cld\nposition 0+1\n")
  }

  @Test func batchFileRunsAndFailsOnErrors() throws {
    let recording = try REPLHarness.shared.recording(of: "corrupt")
    let file = REPLHarness.shared.dir.appendingPathComponent("batch-\(UUID().uuidString).rv").path
    try script("break fill_scratch", "continue", "when").write(toFile: file, atomically: true, encoding: .utf8)
    let (status, output) = try runREPL(["repl", "--batch", file, recording], script: "si\n")
    #expect(status == 0)
    #expect(
      output == """
        breakpoint 1 at 0x100073 <fill_scratch>
        corrupt: building list
        corrupt: list has 6 nodes
        breakpoint 1, 0x100073 <fill_scratch>
        [120+21] 0x100073 <fill_scratch>: pushl %ebp
        position 120+21

        """)
    try script("when", "frobnicate").write(toFile: file, atomically: true, encoding: .utf8)
    let failed = try runREPL(["repl", "--batch", file, recording], script: "")
    #expect(failed.status == 1)
    #expect(failed.output == "position 0 (start)\nerror: unknown command 'frobnicate': try help\n")
    let missing = try runREPL(["repl", "--batch", file + ".missing", recording], script: "")
    #expect(missing.status == 2)
    #expect(missing.output.contains("command file '\(file).missing' cannot be read"))
  }

  /// SIGINT (Ctrl-C) while continue runs stops it; the REPL goes on. A 64 KiB watchpoint makes
  /// every exit slow to check, so the continue takes many seconds.
  @Test func sigintStopsContinue() throws {
    let recording = try REPLHarness.shared.recording(of: "mixed")
    let p = try RunningREPL(["repl", "--echo", recording])
    p.send(script("watch 0x200000 65536", "continue"))
    #expect(p.wait { $0.contains("(rv) continue\n") })
    Thread.sleep(forTimeInterval: 0.5)
    let started = Date()
    p.process.interrupt()
    #expect(p.wait(timeout: 10) { $0.contains("interrupted\n") })
    #expect(Date().timeIntervalSince(started) < 5)
    p.send(script("when", "info breakpoints"))
    p.closeInput()
    let (status, output) = p.finish()
    #expect(status == 0)
    let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let stop = try #require(lines.firstIndex(of: "interrupted"))
    #expect(lines[stop + 1].wholeMatch(of: /\[\d+(\+\d+)?\] 0x[0-9a-f]+ <\w+(\+0x[0-9a-f]+)?>: .+/) != nil)
    let position = try #require(lines[stop + 1].firstMatch(of: /^\[([0-9+]+)\]/)?.1)
    #expect(lines[stop + 2] == "(rv) when")
    #expect(lines[stop + 3] == "position \(position)")
    #expect(
      lines.suffix(4) == [
        "(rv) info breakpoints", "Num  Type         Address   What", "1    write watch  0x200000  65536 bytes", "",
      ])
  }

  /// `repl IMAGE` records live: the guest runs only as the session goes forward, and what it
  /// ran can be travelled back over at once.
  @Test func replOnAnImageRecordsLive() throws {
    let (status, output) = try runREPL(
      ["repl", "--echo", TestPaths.guest("corrupt")],
      script: script("when", "break panic", "continue", "when", "reverse-stepi", "when", "continue", "when"))
    #expect(status == 0)
    #expect(
      output == """
        retrovisor: recording \(TestPaths.guest("corrupt")) live (into a temporary file; -o keeps one): the guest stands at its first instruction
        (rv) when
        position 0 (the live guest stands here: going forward runs it, recorded)
        (rv) break panic
        breakpoint 1 at 0x1000f4 <panic>
        (rv) continue
        corrupt: building list
        corrupt: list has 6 nodes
        corrupt: scratch checksum 0x33333333
        corrupt: waiting 5 ticks
        corrupt: fib(30) = 832040
        corrupt: checking list
        list check: node 3 corrupted (magic=0xdeadbeef)
        breakpoint 1, 0x1000f4 <panic>
        [448+20] 0x1000f4 <panic>: pushl %ebp
        (rv) when
        position 448+20 (the live guest stands here: going forward runs it, recorded)
        (rv) reverse-stepi
        [448+19] 0x10015e <walk_list+0x4c>: calll 0x1000f4 <panic>
        (rv) when
        position 448+19
        (rv) continue
        breakpoint 1, 0x1000f4 <panic>
        [448+20] 0x1000f4 <panic>: pushl %ebp
        (rv) when
        position 448+20 (the live guest stands here: going forward runs it, recorded)

        """)
  }

  /// The timeline's timer lines depend on when the host clock let them fire while recording;
  /// the rest of it is fixed.
  @Test func timelineAndRecordingInfo() throws {
    let recording = try REPLHarness.shared.recording(of: "corrupt")
    let (status, output) = try runREPL(
      ["repl", recording], script: script("break panic", "c", "bookmark crash", "timeline all", "info recording", "snapshots"))
    #expect(status == 0)
    let lines = output.split(separator: "\n").map(String.init)
    let first = try #require(lines.firstIndex { $0.hasPrefix("=> 0 ") || $0.hasPrefix("   0 ") })
    #expect(lines[first].hasPrefix("   0 ") && lines[first].hasSuffix("  start; snapshot"))
    #expect(lines.contains { $0.hasPrefix("=> 448+20  ") && $0.hasSuffix("  bookmark crash; now") })
    #expect(lines.contains { $0.hasPrefix("   493 ") && $0.hasSuffix("  end: debug-exit 0x3") })
    let timers = lines.filter { $0.contains("timer (guest time ") }
    #expect(timers.count >= 5)
    #expect(lines.contains("recording      \(recording) (\(try fileSize(recording)) bytes, format version 1)"))
    #expect(lines.contains("exits          493"))
    #expect(lines.contains("outcome        debug-exit 0x3"))
    #expect(lines.contains("1 recording snapshot(s) at positions 0"))
  }

  @Test func helpExplainsEveryCommand() throws {
    let recording = try REPLHarness.shared.recording(of: "corrupt")
    let names = CommandTable.all.map(\.name)
    let (status, output) = try runREPL(["repl", recording], script: script(["help"] + names.map { "help \($0)" }))
    #expect(status == 0)
    for c in CommandTable.all {
      #expect(output.contains("usage: \(c.usage)\n"))
      #expect(output.contains("  \(c.usage)"))
    }
    #expect(output.contains("short forms: si\n"))
    #expect(output.contains("short forms: rc\n"))
  }

  private func fileSize(_ path: String) throws -> Int {
    (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1
  }
}

private func script(_ lines: [String]) -> String { lines.joined(separator: "\n") + "\n" }
