import ArgumentParser
import KVM

@main
struct Retrovisor: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "retrovisor",
    abstract: "A time-travel debugger for guest operating systems on KVM.",
    subcommands: [
      RunCommand.self, RecordCommand.self, ReplayCommand.self, DebugCommand.self, ReplCommand.self, InfoCommand.self,
      BenchCommand.self, TravelBenchCommand.self, DoctorCommand.self,
    ]
  )

  static func main() {
    KickHandle.unblockTerminationSignals()
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch {
      exit(withError: error)
    }
  }
}
