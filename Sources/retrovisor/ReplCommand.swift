import ArgumentParser
import Foundation
import REPL
import TimeTravel

struct ReplCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "repl",
    abstract: "Time-travel through a recording at a prompt with gdb's commands (or record a guest first).",
    discussion: """
      TARGET is a recording to explore, or a guest image. An image is recorded first, as with \
      `record` (its console output is shown, the guest runs to its end and gets no console \
      input: record a guest that reads some with `record` first; continuing a live recording \
      past its end is not available yet), then the REPL explores that recording.

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

  @Option(name: .shortAndLong, help: "With an image: keep the recording in this file (default: a temporary file).")
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
      var recording = target
      var imagePath = image
      if !Self.isRecording(target) {
        guard FileManager.default.fileExists(atPath: target) else { throw CLIError("'\(target)' does not exist") }
        recording = output ?? NSTemporaryDirectory() + "retrovisor-repl-\(getpid()).rvr"
        if output == nil { temporary = recording }
        let machine = try MachineOptions.parse([target, "--memory", memory, "--append", append])
        FileHandle.standardError.write(Data("retrovisor: recording \(target) until the guest ends\n".utf8))
        // stdin stays the REPL's: the guest gets no console input (record first for that).
        let status = try RecordCommand.record(
          machine: machine, to: recording, verbose: false, readInput: false)
        FileHandle.standardError.write(Data("retrovisor: the guest ended (status \(status)); exploring the recording\n".utf8))
        if imagePath == nil { imagePath = target }
      }
      return try explore(recording, imagePath: imagePath)
    } catch let error as ValidationError {
      printError(error.message)
    } catch {
      printError("\(error)")
    }
    return ExitStatus.hostError
  }

  static func isRecording(_ path: String) -> Bool {
    guard let h = FileHandle(forReadingAtPath: path) else { return false }
    defer { try? h.close() }
    return (try? h.read(upToCount: 5)) == Data("RVREC".utf8)
  }

  private func explore(_ path: String, imagePath: String?) throws -> Int32 {
    let archive = try RecordingArchive(path: path)
    if let damage = archive.damage {
      guard case .truncated = damage else {
        printError("\(path) is damaged: \(damage)")
        return ExitStatus.damagedRecording
      }
      printError("warning: \(path) was cut short (\(damage)); exploring up to position \(archive.completeThrough)")
    }
    let interactive = batch == nil && isatty(STDIN_FILENO) == 1
    let console = Console(style: .forTerminal(STDOUT_FILENO), showsProgress: isatty(STDERR_FILENO) == 1)
    let symbols = loadSymbols(archive: archive, imagePath: imagePath, console: console)
    let output = GuestOutput()
    let session = try REPL.makeSession(archive: archive, output: output)
    let repl = REPL(session: session, guestOutput: output, symbols: symbols, console: console, interactive: interactive)
    repl.echo = echo
    repl.installInterruptHandler()

    let source: LineSource
    if let batch {
      guard let file = PlainLineSource(path: batch) else { throw CLIError("command file '\(batch)' cannot be read") }
      source = file
    } else if interactive {
      source = ReadlineSource(historyPath: ReadlineSource.defaultHistoryPath(), completer: repl.completions)
      let outcome = archive.outcome.map { "the guest ended with \($0)" } ?? "the recording was cut short"
      console.line(
        "Retrovisor REPL on \(path): positions 0 to \(archive.finalPosition), \(outcome).")
      console.line("Type help for the commands, help COMMAND for one; Ctrl-D leaves.")
      repl.printLocation()
    } else {
      source = PlainLineSource()
    }
    repl.run(source)
    return !interactive && repl.failures > 0 ? 1 : 0
  }

  /// The recorded image's symbols, when the image is at hand and is the one recorded.
  private func loadSymbols(archive: RecordingArchive, imagePath: String?, console: Console) -> Symbols {
    let path = imagePath ?? archive.setup.imageName
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
