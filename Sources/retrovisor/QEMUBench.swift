import Foundation
import Machine

/// QEMU's own record/replay on the same guest file, for `bench --record --qemu`: plain
/// `-accel tcg`, then `-icount shift=auto,rr=record,rrfile=F` and `rr=replay` (as
/// scripts/bench-qemu.sh does), each timed from spawn to exit, QEMU's start-up included.
struct QEMUBench {
  enum Mode: String, CaseIterable {
    case plain, record, replay
  }

  struct Run {
    var seconds: Double
    var status: Int32
    var output: [UInt8]
  }

  let binary: String
  let directory: URL
  /// Each QEMU run is bounded (through timeout(1)) so a hung guest cannot hang the benchmark.
  let timeoutSeconds = 60

  static func find(_ name: String) -> String? {
    if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for dir in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
      return "\(dir)/\(name)"
    }
    return nil
  }

  var version: String {
    let out = directory.appendingPathComponent("qemu-version").path
    guard (try? spawn([binary, "--version"], stdout: out)) != nil, let text = try? String(contentsOfFile: out, encoding: .utf8)
    else { return "QEMU" }
    return String(text.split(separator: "\n").first ?? "QEMU")
  }

  func run(_ image: String, mode: Mode, rrFile: String) throws -> Run {
    var arguments = [
      "/usr/bin/timeout", "--kill-after=5", "\(timeoutSeconds)", binary, "-accel", "tcg", "-m", "64M", "-nodefaults",
      "-no-reboot", "-display", "none", "-monitor", "none", "-serial", "stdio", "-device",
      "isa-debug-exit,iobase=0xf4,iosize=0x04", "-kernel", image,
    ]
    switch mode {
    case .plain: break
    case .record: arguments += ["-icount", "shift=auto,rr=record,rrfile=\(rrFile)"]
    case .replay: arguments += ["-icount", "shift=auto,rr=replay,rrfile=\(rrFile)"]
    }
    let out = directory.appendingPathComponent("qemu-\(mode.rawValue).out").path
    let started = HostClock.now()
    let status = try spawn(arguments, stdout: out)
    let seconds = Double(HostClock.now() - started) / 1e9
    return Run(seconds: seconds, status: status, output: Array(FileManager.default.contents(atPath: out) ?? Data()))
  }

  /// posix_spawn with a clean signal mask (this process blocks its kick signal on the vCPU
  /// thread) and stdin from /dev/null; returns the exit status (128 + signal if killed).
  private func spawn(_ arguments: [String], stdout path: String) throws -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, path + ".stderr", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attributes, &empty)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signal in [SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE, SIGINT, SIGTERM] { sigaddset(&defaults, signal) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

    var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var pid: pid_t = 0
    let error = posix_spawn(&pid, arguments[0], &actions, &attributes, &argv, environ)
    guard error == 0 else { throw CLIError("cannot start \(arguments[0]): \(String(cString: strerror(error)))") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
      guard errno == EINTR else { throw CLIError("waitpid: \(String(cString: strerror(errno)))") }
    }
    // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift does not import.
    return status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
  }
}
