import ArgumentParser
import Foundation
import Machine
import TimeTravel

struct ReplayCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "replay",
    abstract: "Replay a recording deterministically, checking the state at every snapshot.",
    discussion: """
      The guest's console output is printed again, byte for byte, and the exit status is the
      recorded guest's. With --to, replay stops at that position and prints the registers.
      Positions: an exit number (1234), exit+instructions (1234+56), start or end.
      Status 5 means replay diverged from the recording (the report names where).
      """
  )

  @Argument(help: "Recording file.")
  var recording: String

  @Option(name: .long, help: "Stop at this position and print the registers.")
  var to: String?

  @Option(name: .long, help: "The guest image: refused unless it is the one recorded.")
  var image: String?

  @Flag(name: .long, help: "With --to: also print the full-state hash there (the hash snapshots store).")
  var hash = false

  @Flag(name: .customLong("from-start"), help: "With --to: replay from position 0 instead of the nearest snapshot.")
  var fromStart = false

  @Flag(name: .long, help: "Replay the intact part of a recording with a corrupt chunk instead of refusing it.")
  var salvage = false

  @Option(
    name: .customLong("kicked-snapshots"),
    help: ArgumentHelp(
      "When to restore the recording's snapshots at kicked points: fallback (when finding the point runs out of time, and for the rest of that run without exits), always, never.",
      valueName: "when"))
  var kickedSnapshots: KickedSnapshotChoice = .fallback

  @Flag(name: .shortAndLong, help: "Do not print the guest's console output.")
  var quiet = false

  @Flag(name: .shortAndLong, help: "Print what was checked on stderr.")
  var verbose = false

  func run() throws {
    throw ExitCode(execute())
  }

  private func execute() -> Int32 {
    do {
      let target = try to.map { try PositionSpec(parsing: $0) }
      let archive = try RecordingArchive(path: recording)
      if let damage = archive.damage {
        if case .truncated = damage {
          printError("warning: \(recording) was cut short (\(damage)); replaying up to position \(archive.completeThrough)")
        } else if salvage {
          printError(
            "warning: \(recording) is damaged (\(damage)); replaying the intact part up to position \(archive.completeThrough)")
        } else {
          printError("\(recording) is damaged: \(damage) (--salvage replays the part before it)")
          return ExitStatus.damagedRecording
        }
      }
      if let image {
        try archive.verifyImage(try readFile(image, what: "image"), name: image)
      }
      var console: ([UInt8]) -> Void = { bytes in writeConsole(bytes) }
      if quiet { console = { _ in } }
      let replayer = try Replayer(archive: archive, console: console)
      replayer.kickedSnapshotUse = kickedSnapshots.use
      let stop: Replayer.Stop
      switch target {
      case .at(let p)?:
        stop = try replayer.seek(to: p.exit, fromStart: fromStart)
        if case .reached = stop, p.instructions > 0 {
          // N+I: single-step I instructions (or interrupt entries) past exit N.
          for done in 0..<p.instructions {
            let step = try replayer.step()
            guard step == .instruction || { if case .interruptEntry = step { true } else { false } }() else {
              throw CLIError("position \(p) does not exist: exit interval \(p.exit) ends after \(done + 1) instruction(s)")
            }
          }
        }
      case .end?, nil:
        stop = try replayer.run()
      }
      try replayer.verifyEnd(stop)
      if verbose {
        printError(
          "replayed to position \(replayer.position): \(replayer.verifiedSnapshots) snapshot hashes verified, \(replayer.kickedSnapshotsRestored) kicked snapshot(s) restored"
        )
      }
      switch stop {
      case .reached(let p):
        if case .at(let asked)? = target, asked.instructions > 0 { print("position \(asked)") } else { print("position \(p)") }
        if hash { print("state hash \(try replayer.stateHash())") }
        let platform = replayer.platform
        for line in RegisterDump.lines(try platform.vcpu.registers(), try platform.vcpu.specialRegisters()) { print(line) }
        return ExitStatus.clean
      case .finished(let outcome):
        switch outcome {
        case .debugExit(let v): return ExitStatus.debugExit(v)
        case .fault(let s):
          printError("guest fault (as recorded): \(s)")
          return ExitStatus.guestFault
        case .reset, .userQuit: return ExitStatus.clean
        }
      case .endOfLog(let p):
        printError("end of the recorded log at position \(p) (the recording was cut short)")
        return ExitStatus.clean
      case .breakpoint, .checked, .interrupted, .watchedAccess:
        return ExitStatus.clean  // not asked for here
      }
    } catch let error as ReplayError {
      printError("\(error)")
      if case .divergence = error { return ExitStatus.divergence }
    } catch let error as ValidationError {
      printError(error.message)
    } catch {
      printError("\(error)")
    }
    return ExitStatus.hostError
  }
}

/// `replay --kicked-snapshots`.
enum KickedSnapshotChoice: String, ExpressibleByArgument, CaseIterable {
  case fallback, always, never

  var use: Replayer.KickedSnapshotUse {
    switch self {
    case .fallback: .fallback
    case .always: .always
    case .never: .never
    }
  }
}
