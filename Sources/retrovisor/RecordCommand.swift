import ArgumentParser
import Foundation
import GDBRemote
import Machine
import TimeTravel

struct RecordCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "record",
    abstract: "Boot a guest like `run` and record the whole run into a recording file.",
    discussion: """
      Every nondeterministic input (timer deadlines, clock readings, serial input, interrupts at
      kicked points) is logged with its position, and snapshots of the whole machine are stored
      in the file. The exit status is the guest's, as with `run`.
      """
  )

  @OptionGroup var machine: MachineOptions

  @Option(name: .shortAndLong, help: "Recording file to write.")
  var output: String = "run.rvr"

  @Option(name: .customLong("snapshot-interval"), help: "Guest milliseconds between snapshots.")
  var snapshotInterval: UInt64 = 100

  @Option(
    name: .customLong("snapshot-pages"),
    help: "Pages the guest may dirty before a snapshot is due early, whatever the interval (0: off).")
  var snapshotPages: Int = Recorder.Options().snapshotPages

  @Option(
    name: .customLong("snapshot-budget"),
    help: "Share of the run snapshots may pause the guest for: costly snapshots are spaced further apart.")
  var snapshotBudget: Double = Recorder.Options().snapshotBudget

  @Option(
    name: .customLong("kicked-snapshot-gap"),
    help: ArgumentHelp(
      "Host milliseconds the guest may run without an exit before a kicked point gets a snapshot of its own (0: every kicked point).",
      valueName: "ms"))
  var kickedSnapshotGap: Double = Double(Recorder.Options().kickedSnapshotGap) / 1e6

  @Flag(name: .shortAndLong, help: "Print what was recorded on stderr.")
  var verbose = false

  @Option(name: .long, help: "Serve the recording to gdb on HOST:PORT (with --wait: while recording).")
  var gdb: String?

  @Flag(name: .long, help: "With --gdb: stop at the first instruction and record as gdb runs the guest (like QEMU's -S).")
  var wait = false

  func validate() throws {
    guard kickedSnapshotGap >= 0, kickedSnapshotGap.isFinite else {
      throw ValidationError("--kicked-snapshot-gap must be a number of milliseconds, 0 or more")
    }
  }

  func run() throws {
    throw ExitCode(execute())
  }

  private func execute() -> Int32 {
    do {
      guard snapshotInterval >= 1 else { throw ValidationError("--snapshot-interval must be at least 1 ms") }
      guard snapshotPages >= 0 else { throw ValidationError("--snapshot-pages must be 0 or more") }
      guard snapshotBudget > 0, snapshotBudget <= 1 else { throw ValidationError("--snapshot-budget must be in (0, 1]") }
      var options = Recorder.Options()
      options.snapshotInterval = snapshotInterval * 1_000_000
      options.snapshotPages = snapshotPages
      options.snapshotBudget = snapshotBudget
      options.kickedSnapshotGap = UInt64(min(kickedSnapshotGap * 1e6, 1e18))
      if let gdb {
        let (host, port) = try DebugCommand.parseListenAddress(gdb)
        return try Self.serveLive(machine: machine, to: output, options: options, host: host, port: port, wait: wait)
      }
      return try Self.record(machine: machine, to: output, options: options, verbose: verbose)
    } catch let error as ValidationError {
      printError(error.message)
    } catch {
      printError("\(error)")
    }
    return ExitStatus.hostError
  }

  /// The machine loaded with the image, and a recorder that has taken its first snapshot into
  /// `output`; the guest's console goes to stdout. Also the image's name.
  static func prepare(
    machine: MachineOptions, to output: String, options: Recorder.Options,
    console: @escaping ([UInt8]) -> Void = writeConsole
  ) throws -> (Platform, Recorder, BootState, String) {
    let image = try machine.resolveImage()
    let loadOptions = try machine.loadOptions()
    let configuration = try machine.configuration()
    let tap = OutputTap(forward: console)
    let platform = try Platform(configuration: configuration, kvmPath: machine.kvm, console: tap.write)
    let boot = try platform.load(image.bytes, kind: image.kind, options: loadOptions)
    let setup = RecordingSetup(
      configuration: configuration, imageName: image.name, image: image.bytes, imageKind: image.kind.rawValue,
      commandLine: loadOptions.commandLine)
    let recorder = try Recorder(
      path: output, platform: platform, setup: setup, tap: tap, firmware: boot.firmware, options: options)
    return (platform, recorder, boot, image.name)
  }

  /// Boots the guest and records it to `output` until it ends (or the user quits); the
  /// guest's exit status. `readInput`: the terminal (stdin) is the guest's serial input.
  static func record(
    machine: MachineOptions, to output: String, options recorderOptions: Recorder.Options = Recorder.Options(), verbose: Bool,
    readInput: Bool = true
  ) throws -> Int32 {
    let terminal = TerminalMode()
    defer { terminal.restore() }
    let (platform, recorder, _, _) = try prepare(machine: machine, to: output, options: recorderOptions)

    let events = HostEvents()
    if readInput {
      terminal.enterRaw()
      events.startReading(fd: STDIN_FILENO, escapeQuits: terminal.isTerminal)
    } else {
      events.closeInput()
    }
    let runner = Runner(platform: platform, events: events)
    recorder.attach(to: runner)
    let outcome: RecordedOutcome
    var status: Int32
    do {
      switch try runner.run() {
      case .debugExit(let value):
        outcome = .debugExit(value: value)
        status = ExitStatus.debugExit(value)
      case .reset(let source):
        outcome = .reset(source: source)
        status = ExitStatus.clean
      case .userQuit:
        outcome = .userQuit
        status = ExitStatus.clean
      }
    } catch let fault as GuestFault {
      terminal.restore()
      printError(fault.description)
      outcome = .fault(summary: fault.summary)
      status = ExitStatus.guestFault
    }
    terminal.restore()
    try recorder.finish(outcome: outcome, runner: runner)
    if verbose {
      let s = runner.statistics
      printError(
        "recorded \(output): \(runner.exitIndex) exits, \(recorder.snapshotCount) snapshots, \(recorder.costs.kickedSnapshots) kicked snapshots (\(recorder.costs.kickedSnapshotBytes) bytes, \(recorder.costs.kickedSnapshotNanoseconds / 1_000_000) ms), \(recorder.bytesWritten) bytes, guest time \(String(format: "%.3f", Double(s.guestNanoseconds) / 1e9)) s"
      )
    }
    return status
  }

  /// `--gdb --wait`: the guest stands at its first instruction; gdb runs it, and everything it
  /// runs is recorded into `output` while the debugger can go back over it.
  static func serveLive(
    machine: MachineOptions, to output: String, options: Recorder.Options, host: String, port: UInt16, wait: Bool
  ) throws -> Int32 {
    let (platform, recorder, boot, imageName) = try prepare(machine: machine, to: output, options: options)
    let live = LiveRecording(path: output, platform: platform, recorder: recorder)
    let session = try Session(live: live)
    let layout: GDBArchitecture = boot.mode == .long64 ? .amd64 : .i386
    let server = try GDBServer(host: host, port: port)
    if wait {
      printError("recording \(imageName) into \(output), stopped at the first instruction; gdb: target remote \(server.address)")
    } else {
      // Like QEMU without -S: the guest runs (recorded) until a debugger attaches.
      printError("recording \(imageName) into \(output) until gdb attaches: target remote \(server.address)")
      try session.runLiveUntil { server.hasPendingConnection }
    }
    _ = server.serve(SessionGDBTarget(session: session, architecture: layout))
    return ExitStatus.clean
  }
}
