import ArgumentParser
import Foundation
import Machine
import TimeTravel

struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Print figures: exits per second and guest time against wall time; with --record, record and replay costs.",
    discussion: """
      Figures, not a pass/fail test: the machines are shared and noisy, so every ratio compares
      runs made side by side in one invocation. Serial output is discarded.
      """
  )

  @Argument(help: "Guest images to measure (default: ticks and spin; with --record: ticks, spin and mixed from guests/build).")
  var images: [String] = []

  @Option(name: .long, help: "Runs of each guest and mode; tables show the median.")
  var runs: Int = 3

  @Flag(name: .long, help: "Measure plain, record and replay side by side (wall-time ratios, log and snapshot sizes).")
  var record = false

  func run() throws {
    guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
    let defaults = record ? ["ticks", "spin", "mixed"] : ["ticks", "spin"]
    let targets = images.isEmpty ? defaults.map { "guests/build/\($0).elf" } : images
    if record { try recordTable(targets) } else { try runTable(targets) }
  }

  private func load(_ path: String) throws -> ([UInt8], ImageKind) {
    let bytes = try readFile(path, what: "image")
    guard let kind = ImageLoader.detect(bytes) else { throw CLIError("\(path) is not a Multiboot or Linux image") }
    return (bytes, kind)
  }

  private func plainRun(_ bytes: [UInt8], _ kind: ImageKind) throws -> RunStatistics {
    let platform = try Platform(configuration: MachineConfiguration(), console: { _ in })
    try platform.load(bytes, kind: kind, options: LoadOptions())
    let events = HostEvents()
    events.closeInput()
    let runner = Runner(platform: platform, events: events)
    _ = try runner.run()
    return runner.statistics
  }

  private func runTable(_ targets: [String]) throws {
    print(row(["guest", "wall s", "guest s", "guest/wall", "exits", "exits/s", "kicks", "irqs"]))
    for path in targets {
      let (bytes, kind) = try load(path)
      var samples: [RunStatistics] = []
      for _ in 0..<runs { samples.append(try plainRun(bytes, kind)) }
      let s = samples.sorted { $0.hostNanoseconds < $1.hostNanoseconds }[samples.count / 2]
      let wall = Double(s.hostNanoseconds) / 1e9
      let guest = Double(s.guestNanoseconds) / 1e9
      print(
        row([
          name(path), f3(wall), f3(guest), f3(guest / wall), "\(s.exits)", String(format: "%.0f", Double(s.exits) / wall),
          "\(s.interruptedExits)", "\(s.interruptsInjected)",
        ]))
    }
  }

  private func recordTable(_ targets: [String]) throws {
    print(
      row([
        "guest", "plain s", "record s", "replay s", "rec/plain", "rep/plain", "log B", "B/guest s", "snaps", "pause ms",
        "verified",
      ]))
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rv-bench-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    for path in targets {
      let (bytes, kind) = try load(path)
      var plain: [Double] = []
      var recorded: [Double] = []
      var replayed: [Double] = []
      var logBytes: UInt64 = 0
      var guestSeconds = 0.0
      var snapshots = 0
      var pauseMs = 0.0
      var verified = "yes"
      for i in 0..<runs {
        plain.append(Double(try plainRun(bytes, kind).hostNanoseconds) / 1e9)

        let file = dir.appendingPathComponent("\(i).rvr").path
        let tap = OutputTap(forward: { _ in })
        let platform = try Platform(configuration: MachineConfiguration(), console: tap.write)
        let boot = try platform.load(bytes, kind: kind, options: LoadOptions())
        let started = HostClock.now()
        let setup = RecordingSetup(
          configuration: MachineConfiguration(), imageName: path, image: bytes, imageKind: kind.rawValue, commandLine: "")
        let recorder = try Recorder(path: file, platform: platform, setup: setup, tap: tap, firmware: boot.firmware)
        let events = HostEvents()
        events.closeInput()
        let runner = Runner(platform: platform, events: events)
        recorder.attach(to: runner)
        let outcome = try runner.run()
        guard case .debugExit(let value) = outcome else { throw CLIError("\(path) did not end through the debug-exit port") }
        try recorder.finish(outcome: .debugExit(value: value), runner: runner)
        recorded.append(Double(HostClock.now() - started) / 1e9)
        logBytes = recorder.bytesWritten
        guestSeconds = Double(runner.statistics.guestNanoseconds) / 1e9
        snapshots = recorder.snapshotCount
        pauseMs = Double(recorder.snapshotNanoseconds) / Double(max(1, recorder.snapshotCount)) / 1e6

        let replayStart = HostClock.now()
        do {
          let replayer = try Replayer(archive: try RecordingArchive(path: file), console: { _ in })
          try replayer.verifyEnd(try replayer.run())
        } catch let error as ReplayError {
          verified = "no"
          printError("\(name(path)) run \(i + 1): \(error)")
        }
        replayed.append(Double(HostClock.now() - replayStart) / 1e9)
      }
      let (p, r, q) = (median(plain), median(recorded), median(replayed))
      print(
        row([
          name(path), f3(p), f3(r), f3(q), f3(r / p) + "x", f3(q / p) + "x", "\(logBytes)",
          String(format: "%.0f", Double(logBytes) / max(guestSeconds, 1e-9)), "\(snapshots)", String(format: "%.2f", pauseMs),
          verified,
        ]))
    }
  }

  private func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
  private func f3(_ v: Double) -> String { String(format: "%.3f", v) }
  private func name(_ path: String) -> String { ((path as NSString).lastPathComponent as NSString).deletingPathExtension }
  private func row(_ cells: [String]) -> String {
    cells.enumerated().map { i, c in
      i == 0 ? c.padding(toLength: 10, withPad: " ", startingAt: 0) : String(repeating: " ", count: max(0, 10 - c.count)) + c
    }.joined(separator: " ")
  }
}
