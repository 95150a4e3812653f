import ArgumentParser
import Foundation
import Machine

struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Print run-time figures for guests: exits per second and guest time against wall time.",
    discussion: "Figures, not a pass/fail test: the machines are shared and noisy. Serial output is discarded."
  )

  @Argument(help: "Guest images to measure (default: guests/build/ticks.elf and guests/build/spin.elf).")
  var images: [String] = []

  @Option(name: .long, help: "Runs of each guest; the table shows the median.")
  var runs: Int = 3

  func run() throws {
    let targets = images.isEmpty ? ["guests/build/ticks.elf", "guests/build/spin.elf"] : images
    guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
    print("guest                      wall s   guest s  guest/wall  exits   exits/s  kicks  irqs")
    for path in targets {
      let bytes = try readFile(path, what: "image")
      guard let kind = ImageLoader.detect(bytes) else { throw CLIError("\(path) is not a Multiboot or Linux image") }
      var samples: [RunStatistics] = []
      for _ in 0..<runs {
        let platform = try Platform(configuration: MachineConfiguration(), console: { _ in })
        try platform.load(bytes, kind: kind, options: LoadOptions())
        let events = HostEvents()
        events.closeInput()
        let runner = Runner(platform: platform, events: events)
        _ = try runner.run()
        samples.append(runner.statistics)
      }
      let s = samples.sorted { $0.hostNanoseconds < $1.hostNanoseconds }[samples.count / 2]
      let wall = Double(s.hostNanoseconds) / 1e9
      let guest = Double(s.guestNanoseconds) / 1e9
      let name = (path as NSString).lastPathComponent
      print(
        String(
          format: "%-24@ %8.3f  %8.3f  %10.3f  %6d  %8.0f  %5d  %4d", name as NSString, wall, guest, guest / wall, s.exits,
          Double(s.exits) / wall, s.interruptedExits, s.interruptsInjected))
    }
  }
}
