import ArgumentParser
import Foundation
import Machine
import Recording
import TimeTravel

struct TravelBenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench-travel",
    abstract: "Measure time travel on recordings: reverse-stepi latency, seeks, reverse-continue.",
    discussion: """
      For each recording: reverse-stepi latency (median and p99 over 10 random places, 10 steps
      back from each), seek latency to random positions, and reverse-continue over the span
      between two hits of a breakpoint (--breakpoint SYMBOL, default kprintf) against forward
      continue over the same span. Figures, not a pass/fail test; scripts/bench-travel.sh records
      the soak guests and runs this.
      """
  )

  @Argument(help: "Recording files.")
  var recordings: [String]

  @Option(help: "A function of the guest hit repeatedly (for the continue figures).")
  var breakpoint = "kprintf"

  @Option(help: "Seed for the random positions.")
  var seed: UInt64 = 2026

  func run() throws {
    print(
      row([
        "recording", "guest s", "exits", "rsi med ms", "rsi p99 ms", "seek med ms", "seek p99 ms", "fwd cont s", "rev cont s",
        "rev/fwd", "ckpt MiB", "rec pages MiB",
      ]))
    for path in recordings { try measure(path) }
  }

  private func measure(_ path: String) throws {
    let archive = try RecordingArchive(path: path)
    var rng = SplitMix64(seed: seed)
    let final = archive.finalPosition
    guard final > 2 else { throw ValidationError("\(path) is too short to measure") }

    // Reverse-stepi from 10 random places, 10 steps back each.
    let session = try Session(archive: archive)
    var reverse: [Double] = []
    for _ in 0..<10 {
      _ = try session.seek(to: Position(exit: 1 + rng.next() % (final - 2)))
      for _ in 0..<(rng.next() % 30) where try session.stepi() == .stepped {}
      for _ in 0..<10 {
        let t = HostClock.now()
        guard try session.reverseStepi() == .stepped else { break }
        reverse.append(Double(HostClock.now() - t) / 1e6)
      }
    }

    // Seeks to random exits, in random order, from a fresh session.
    let seeker = try Session(archive: archive)
    var seeks: [Double] = []
    for _ in 0..<20 {
      let t = HostClock.now()
      _ = try seeker.seek(to: Position(exit: rng.next() % final))
      seeks.append(Double(HostClock.now() - t) / 1e6)
    }

    // Forward continue between the 2nd and 3rd hit of the breakpoint, then reverse-continue back.
    var forward = Double.nan
    var backward = Double.nan
    if let address = try symbolAddress(breakpoint, image: archive.setup.imageName) {
      let cont = try Session(archive: archive)
      cont.addBreakpoint(at: address)
      var hits = 0
      while hits < 2, case .breakpoint = try cont.continueForward() { hits += 1 }
      if hits == 2 {
        let t0 = HostClock.now()
        if case .breakpoint = try cont.continueForward() {
          forward = Double(HostClock.now() - t0) / 1e9
          let t1 = HostClock.now()
          if case .breakpoint = try cont.reverseContinue() { backward = Double(HostClock.now() - t1) / 1e9 }
        }
      }
    }
    let guestSeconds = Double(archive.guestDuration ?? 0) / 1e9
    print(
      row([
        (path as NSString).lastPathComponent, f(guestSeconds, 1), "\(final)", f(percentile(reverse, 0.5), 1),
        f(percentile(reverse, 0.99), 1), f(percentile(seeks, 0.5), 1), f(percentile(seeks, 0.99), 1), f(forward, 3),
        f(backward, 3), f(backward / forward, 2), f(Double(session.checkpointBytes) / 1_048_576, 1),
        f(Double(archive.storedPageBytes) / 1_048_576, 1),
      ]))
  }

  private func symbolAddress(_ name: String, image: String) throws -> UInt64? {
    guard let bytes = FileManager.default.contents(atPath: image) else { return nil }
    return ELFSymbolTable(try ELFFile([UInt8](bytes)).symbols()).symbol(named: name)?.value
  }

  private func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
  }

  private func f(_ v: Double, _ digits: Int) -> String { v.isNaN ? "-" : String(format: "%.\(digits)f", v) }
  private func row(_ cells: [String]) -> String { cells.map { $0.padding(toLength: 13, withPad: " ", startingAt: 0) }.joined() }
}
