import ArgumentParser
import Foundation
import Machine

struct RunCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run",
    abstract: "Boot a guest on KVM with its serial console on this terminal.",
    discussion: """
      The guest's COM1 is wired to stdin/stdout (raw mode when stdin is a terminal; press
      Ctrl-A then x to quit). A guest writing V to the debug-exit port 0xf4 ends the run with
      status (V << 1) | 1, as QEMU's isa-debug-exit does. Status 2 means a host-side error
      (bad image, no KVM), 4 a guest crash (triple fault, emulation failure), 0 a guest reset.
      """
  )

  @OptionGroup var machine: MachineOptions

  @Flag(name: .shortAndLong, help: "Print what was loaded, run statistics and unknown port accesses on stderr.")
  var verbose = false

  func run() throws {
    let status = execute()
    throw ExitCode(status)
  }

  private func execute() -> Int32 {
    let terminal = TerminalMode()
    defer { terminal.restore() }
    do {
      let image = try machine.resolveImage()
      let options = try machine.loadOptions()
      let platform = try Platform(configuration: try machine.configuration(), kvmPath: machine.kvm, console: writeConsole)
      let boot = try platform.load(image.bytes, kind: image.kind, options: options)
      if verbose { printError("loaded \(image.name): \(boot.summary)") }

      let events = HostEvents()
      terminal.enterRaw()
      events.startReading(fd: STDIN_FILENO, escapeQuits: terminal.isTerminal)
      let runner = Runner(platform: platform, events: events)
      let outcome: RunOutcome
      do {
        outcome = try runner.run()
      } catch let fault as GuestFault {
        terminal.restore()
        printError(fault.description)
        report(runner, platform)
        return ExitStatus.guestFault
      }
      terminal.restore()
      report(runner, platform)
      switch outcome {
      case .debugExit(let value):
        if verbose { printError("guest wrote 0x\(String(value, radix: 16)) to the debug-exit port") }
        return ExitStatus.debugExit(value)
      case .reset(let source):
        if verbose { printError("guest reset (\(source))") }
        return ExitStatus.clean
      case .userQuit:
        printError("quit by the user (Ctrl-A x)")
        return ExitStatus.clean
      }
    } catch let error as ValidationError {
      printError(error.message)
    } catch {
      printError("\(error)")
    }
    return ExitStatus.hostError
  }

  private func report(_ runner: Runner, _ platform: Platform) {
    guard verbose else { return }
    let s = runner.statistics
    printError(
      "exits \(s.exits) (io \(s.ioExits), hlt \(s.haltExits), mmio \(s.mmioExits), window \(s.windowExits), kicked \(s.interruptedExits)); interrupts injected \(s.interruptsInjected)"
    )
    printError(
      String(format: "guest time %.3f s, host time %.3f s", Double(s.guestNanoseconds) / 1e9, Double(s.hostNanoseconds) / 1e9))
    for (port, count) in platform.bus.unknownPortAccesses.sorted(by: { $0.key < $1.key }) {
      printError("unknown port 0x\(String(port, radix: 16)): \(count.reads) reads, \(count.writes) writes")
    }
    for (address, count) in platform.unknownMMIO.sorted(by: { $0.key < $1.key }) {
      printError("unclaimed MMIO 0x\(String(address, radix: 16)): \(count) accesses")
    }
  }
}
