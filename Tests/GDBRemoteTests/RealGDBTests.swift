import Foundation
import Glibc
import Testing

@testable import GDBRemote

/// gdb 13 itself against the server and a fake target: the real test of the target
/// descriptions, the handshake and the stop replies. Skipped when gdb is not installed.
@Suite(.serialized) struct RealGDBTests {
  static let gdbPath = ["/usr/bin/gdb", "/usr/local/bin/gdb"].first { FileManager.default.isExecutableFile(atPath: $0) }

  /// Runs `gdb -batch` with `commands` after `target remote`; returns stdout and stderr.
  /// `whileRunning` gets gdb's pid once it started (to send it Ctrl-C).
  static func runGDB(
    port: UInt16, architecture: String, commands: [String], whileRunning: (pid_t) -> Void = { _ in }
  ) throws -> String {
    // Should gdb hit an internal error, no core file lands in the working directory.
    var arguments = [
      "gdb", "-nx", "-batch", "-iex", "maint set internal-error corefile no", "-ex", "set architecture \(architecture)", "-ex",
      "target remote 127.0.0.1:\(port)",
    ]
    for command in commands { arguments += ["-ex", command] }
    let directory = FileManager.default.temporaryDirectory.path
    let output = "\(directory)/gdb-\(UUID().uuidString).txt"
    defer { unlink(output) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    // The test runner's threads block SIGINT; gdb would inherit that and never see Ctrl-C.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t()
    sigemptyset(&empty)
    var interrupt = sigset_t()
    sigemptyset(&interrupt)
    sigaddset(&interrupt, SIGINT)
    posix_spawnattr_setsigmask(&attributes, &empty)
    posix_spawnattr_setsigdefault(&attributes, &interrupt)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var argv = arguments.map { strdup($0) } + [nil]
    defer { for a in argv { free(a) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, gdbPath ?? "/usr/bin/gdb", &actions, &attributes, &argv, environ) == 0 else {
      throw CocoaError(.executableLoad)
    }
    whileRunning(pid)
    var status: Int32 = 0
    let deadline = Date().addingTimeInterval(30)
    while waitpid(pid, &status, WNOHANG) == 0 {
      if Date() > deadline {
        kill(pid, SIGKILL)
        _ = waitpid(pid, &status, 0)
        break
      }
      usleep(20_000)
    }
    return (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
  }

  @Test(.enabled(if: gdbPath != nil, "gdb is not installed"))
  func amd64RegistersMemoryAndDescription() throws {
    let harness = try ServerHarness()
    defer { harness.stop() }
    let output = try Self.runGDB(
      port: harness.port, architecture: "i386:x86-64",
      commands: [
        "info registers rip", "x/4xb 0x1000", "info registers cr0 cr3 cr4 efer fs_base", "p/x $xmm1.uint128",
        "p $st0", "p/x $mxcsr", "x/2xb 0x100", "set $rbx = 0x1234", "set {unsigned char}0x1005 = 0x42", "x/1xb 0x1005",
        "monitor hello there",
      ])
    #expect(output.contains("rip            0x1000              0x1000"), "\(output)")
    #expect(output.contains("0x1000:\t0x00\t0x01\t0x02\t0x03"))
    #expect(output.contains("cr0            0x80000011          [ PE ET PG ]"))
    #expect(output.contains("cr3            0x100000            1048576"))
    #expect(output.contains("cr4            0x20                [ PAE ]"))
    #expect(output.contains("efer           0x500               [ LME LMA ]"))
    #expect(output.contains("fs_base        0x0                 0"))
    #expect(output.contains("$1 = 0x0"))
    #expect(output.contains("$3 = 0x1f80"))
    #expect(output.contains("Cannot access memory at address 0x100"))
    #expect(output.contains("0x1005:\t0x42"))
    #expect(output.contains("echo: hello there"))
    #expect(harness.target.registers.rbx == 0x1234)
    #expect(harness.target.calls.contains("disconnected detached"))
    // gdb -batch detached at exit: a new gdb attaches to the same server.
    let again = try Self.runGDB(port: harness.port, architecture: "i386:x86-64", commands: ["p/x $rbx"])
    #expect(again.contains("$1 = 0x1234"), "\(again)")
  }

  @Test(.enabled(if: gdbPath != nil, "gdb is not installed"))
  func ctrlCInGDBInterruptsContinue() throws {
    let target = FakeTarget()
    target.script([.interrupted])
    let harness = try ServerHarness(target: target)
    defer { harness.stop() }
    let output = try Self.runGDB(port: harness.port, architecture: "i386:x86-64", commands: ["continue", "p/x $pc"]) {
      pid in
      // SIGINT is what the terminal sends gdb on Ctrl-C; gdb turns it into 0x03 on the wire.
      if target.waitingForInterrupt.wait(timeout: .now() + 20) == .success { kill(pid, SIGINT) }
    }
    #expect(output.contains("Program received signal SIGINT, Interrupt."), "\(output)")
    #expect(output.contains("$1 = 0x1000"))
  }

  @Test(.enabled(if: gdbPath != nil, "gdb is not installed"))
  func i386Layout() throws {
    let target = FakeTarget(architecture: .i386)
    let harness = try ServerHarness(target: target)
    defer { harness.stop() }
    let output = try Self.runGDB(
      port: harness.port, architecture: "i386",
      commands: ["info registers eip eax esp cs", "info registers cr0 cr3 efer fs_base gs_base", "set $eax = 7", "p $ax"])
    #expect(output.contains("eip            0x1000              0x1000"), "\(output)")
    #expect(output.contains("eax            0x55667788          1432778632"))
    #expect(output.contains("esp            0x8000              0x8000"))
    #expect(output.contains("cs             0x10                16"))
    #expect(output.contains("cr0            0x80000011          [ PE ET PG ]"))
    #expect(output.contains("efer           0x500               [ LME LMA ]"))
    #expect(output.contains("fs_base        0x0                 0"))
    #expect(output.contains("$1 = 7"))
    // The 32-bit write replaced only the low half of rax.
    #expect(target.registers.rax == 0x1122_3344_0000_0007)
  }

  @Test(.enabled(if: gdbPath != nil, "gdb is not installed"))
  func stopsBreakpointsWatchpointsAndReverse() throws {
    let target = FakeTarget()
    target.script([
      .breakpoint(.software), .watchpoint(.access, address: 0x2000), .startOfHistory, .endOfHistory,
      .exited(code: 3),
    ])
    let harness = try ServerHarness(target: target)
    defer { harness.stop() }
    let output = try Self.runGDB(
      port: harness.port, architecture: "i386:x86-64",
      commands: [
        "break *0x1010", "continue", "awatch *(int*)0x2000", "continue", "stepi", "reverse-stepi", "reverse-stepi",
        "reverse-continue", "continue", "continue",
      ])
    #expect(output.contains("Breakpoint 1, 0x0000000000001010 in ?? ()"), "\(output)")
    #expect(output.contains("Hardware access (read/write) watchpoint 2: *(int*)0x2000"))
    // Continuing from the breakpoint, gdb first stepped over it: the watchpoint stop is at 0x1011.
    // Then stepi and reverse-stepi; the second reverse-stepi lands on breakpoint 1.
    #expect(
      output.contains(
        "Value = 50462976\n0x0000000000001011 in ?? ()\n0x0000000000001012 in ?? ()\n0x0000000000001011 in ?? ()\n"
          + "\nBreakpoint 1, 0x0000000000001010 in ?? ()"))
    #expect(output.components(separatedBy: "No more reverse-execution history.").count == 3)
    #expect(output.contains("exited with code 03"))
    let calls = target.calls
    #expect(calls.contains("insert software 1010 1"))
    #expect(calls.contains("insert accessWatchpoint 2000 4"))
    #expect(calls.contains("resume reverseStep"))
    #expect(calls.contains("resume reverseContinue"))
  }

  @Test(.enabled(if: gdbPath != nil, "gdb is not installed"))
  func secondDebuggerIsRefusedWithAMessage() throws {
    let harness = try ServerHarness()
    defer { harness.stop() }
    let first = try TestClient(port: harness.port)
    #expect(first.request("qSupported") != nil)
    let output = try Self.runGDB(port: harness.port, architecture: "i386:x86-64", commands: ["info registers rip"])
    #expect(output.contains("another debugger is already attached"), "\(output)")
    // The first debugger is undisturbed.
    #expect(first.request("m1000,2") == "0001")
  }
}
