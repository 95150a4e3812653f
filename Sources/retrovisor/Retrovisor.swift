import ArgumentParser

@main
struct Retrovisor: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "retrovisor",
    abstract: "A time-travel debugger for guest operating systems on KVM.",
    subcommands: [RunCommand.self, BenchCommand.self]
  )
}
