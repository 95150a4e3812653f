import ArgumentParser
import Foundation
import REPL
import TimeTravel

struct ReplCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "repl",
    abstract: "Time-travel through a recording at a prompt with gdb's commands (or record a guest first).",
    discussion: """
      TARGET is a recording to explore, or a guest image to record live: the guest stands at \
      its first instruction, and whatever runs it forward (continue, stepi, ...) runs it \
      recorded, into --output or a temporary file; everything it ran can be travelled back \
      over. A live guest gets no console input (stdin is the REPL's): record a guest that \
      reads some with `record` first.

      On a terminal: GNU readline line editing, history kept in \
      $XDG_STATE_HOME/retrovisor/history (default ~/.local/state/retrovisor/history), tab \
      completion of commands and guest symbols, and Ctrl-C stops a running command. With stdin \
      not a terminal, commands are read line by line without a prompt. Type `help` for the \
      commands; docs/repl.md describes them all.
      """
  )

  @Argument(help: "A recording file, or a guest image to record first.")
  var target: String

  @Option(name: .long, help: "Run the commands in this file instead of reading stdin.")
  var batch: String?

  @Flag(name: .long, help: "Print each command, after a (rv) prompt, before its output.")
  var echo = false

  @Option(name: .long, help: "The guest image to take symbols from (default: the image the recording names).")
  var image: String?

  @Option(name: .shortAndLong, help: "With an image: record into this file and keep it (default: a temporary file).")
  var output: String?

  @Option(name: .long, help: "With an image: guest RAM, as for record.")
  var memory: String = "64M"

  @Option(name: .long, help: "With an image: kernel command line, as for record.")
  var append: String = ""

  func run() throws {
    throw ExitCode(execute())
  }

  private func execute() -> Int32 {
    var temporary: String?
    defer {
      if let temporary { try? FileManager.default.removeItem(atPath: temporary) }
    }
    do {
      guard Self.isRecording(target) else {
        guard FileManager.default.fileExists(atPath: target) else { throw CLIError("'\(target)' does not exist") }
        let recording = output ?? NSTemporaryDirectory() + "retrovisor-repl-\(getpid()).rvr"
        if output == nil { temporary = recording }
        return try exploreLive(recording)
      }
      let archive = try RecordingArchive(path: target)
      if let damage = archive.damage {
        guard case .truncated = damage else {
          printError("\(target) is damaged: \(damage)")
          return ExitStatus.damagedRecording
        }
        printError("warning: \(target) was cut short (\(damage)); exploring up to position \(archive.completeThrough)")
      }
      let output = GuestOutput()
      let session = try REPL.makeSession(archive: archive, output: output)
      let outcome = archive.outcome.map { "the guest ended with \($0)" } ?? "the recording was cut short"
      return try explore(
        session, output: output, imagePath: image ?? archive.setup.imageName,
        banner: "Retrovisor REPL on \(target): positions 0 to \(archive.finalPosition), \(outcome).")
    } catch let error as ValidationError {
      printError(error.message)
    } catch {
      printError("\(error)")
    }
    return ExitStatus.hostError
  }

  /// Boots the image and opens the REPL on its live recording.
  private func exploreLive(_ recording: String) throws -> Int32 {
    let machine = try MachineOptions.parse([target, "--memory", memory, "--append", append])
    let output = GuestOutput()
    let (platform, recorder, _, imageName) = try RecordCommand.prepare(
      machine: machine, to: recording, options: Recorder.Options(), console: output.appendLive)
    let session = try REPL.makeSession(
      live: LiveRecording(path: recording, platform: platform, recorder: recorder), output: output)
    let into = self.output.map { "into \($0)" } ?? "(into a temporary file; -o keeps one)"
    printError("recording \(imageName) live \(into): the guest stands at its first instruction")
    return try explore(
      session, output: output, imagePath: image ?? target,
      banner: "Retrovisor REPL recording \(imageName): continue or stepi runs the guest, recorded.")
  }

  static func isRecording(_ path: String) -> Bool {
    guard let h = FileHandle(forReadingAtPath: path) else { return false }
    defer { try? h.close() }
    return (try? h.read(upToCount: 5)) == Data("RVREC".utf8)
  }

  private func explore(_ session: Session, output: GuestOutput, imagePath: String, banner: String) throws -> Int32 {
    let interactive = batch == nil && isatty(STDIN_FILENO) == 1
    let console = Console(style: .forTerminal(STDOUT_FILENO), showsProgress: isatty(STDERR_FILENO) == 1)
    let symbols = loadSymbols(archive: session.archive, imagePath: imagePath, console: console)
    let repl = REPL(session: session, guestOutput: output, symbols: symbols, console: console, interactive: interactive)
    repl.echo = echo
    repl.installInterruptHandler()

    let source: LineSource
    if let batch {
      guard let file = PlainLineSource(path: batch) else { throw CLIError("command file '\(batch)' cannot be read") }
      source = file
    } else if interactive {
      source = ReadlineSource(historyPath: ReadlineSource.defaultHistoryPath(), completer: repl.completions)
      console.line(banner)
      console.line("Type help for the commands, help COMMAND for one; Ctrl-D leaves.")
      repl.printLocation()
    } else {
      source = PlainLineSource()
    }
    repl.run(source)
    return !interactive && repl.failures > 0 ? 1 : 0
  }

  /// The recorded image's symbols, when the image is at hand and is the one recorded.
  private func loadSymbols(archive: RecordingArchive, imagePath path: String, console: Console) -> Symbols {
    guard let data = FileManager.default.contents(atPath: path) else {
      console.note("retrovisor: no symbols: the image \(path) cannot be read (--image gives it)")
      return .none
    }
    let bytes = [UInt8](data)
    do {
      try archive.verifyImage(bytes, name: path)
      return try Symbols(elf: bytes)
    } catch {
      console.note("retrovisor: no symbols: \(error)")
      return .none
    }
  }
}
