import ArgumentParser
import Foundation
import Machine
import TimeTravel

struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract:
      "Print figures: exits per second and guest time against wall time; with --record, record and replay costs (--qemu: QEMU's too).",
    discussion: """
      Figures, not a pass/fail test: the machines are shared and noisy, so every ratio compares
      runs made side by side in one invocation. Serial output is discarded.
      """
  )

  @Argument(
    help: "Guest images to measure (default: ticks and spin; with --record: ticks, spin, mixed and dirty from guests/build).")
  var images: [String] = []

  @Option(name: .long, help: "Runs of each guest and mode; tables show the median.")
  var runs: Int = 3

  @Flag(name: .long, help: "Measure plain, record and replay side by side (wall-time ratios, log and snapshot sizes).")
  var record = false

  @Flag(name: .long, help: "With --record: also run QEMU's record/replay on the same guest files, interleaved.")
  var qemu = false

  @Option(name: .customLong("qemu-binary"), help: "QEMU to run with --qemu.")
  var qemuBinary = "qemu-system-x86_64"

  @Option(
    name: .customLong("snapshot-interval"), help: "With --record: guest milliseconds between snapshots (default: record's).")
  var snapshotInterval: UInt64?

  @Option(name: .customLong("snapshot-pages"), help: "With --record: dirtied pages that make a snapshot due early (0: off).")
  var snapshotPages: Int?

  @Option(name: .customLong("snapshot-budget"), help: "With --record: share of the run snapshots may take (0.02: 2 %).")
  var snapshotBudget: Double?

  @Flag(name: .long, help: "Print tables in Markdown.")
  var markdown = false

  @Flag(name: .shortAndLong, help: "With --record: also print every snapshot of the last round, phase by phase.")
  var verbose = false

  func run() throws {
    guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
    guard record || !qemu else { throw ValidationError("--qemu needs --record") }
    let defaults = record ? ["ticks", "spin", "mixed", "dirty"] : ["ticks", "spin"]
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

  /// One guest, every round of `--record`: the figures its table rows are made of.
  private struct RecordSamples {
    var plain: [Double] = []
    var recorded: [Double] = []
    var replayed: [Double] = []
    var recordRatio: [Double] = []
    var replayRatio: [Double] = []
    var bytesPerGuestSecond: [Double] = []
    var snapshotCounts: [Double] = []
    var snapshotBytes: [Double] = []
    var pauses: [Double] = []
    var costs: [RecorderCosts] = []
    var verified = true
    var qemu: [QEMUBench.Mode: [Double]] = [:]
    var qemuRecordRatio: [Double] = []
    var qemuLogBytesPerGuestSecond: [Double] = []
    var qemuReplayRatio: [Double] = []
    var qemuIdentical = true
    var seeks: [Double] = []
  }

  /// Mean host time of a seek: to 16 positions spread over the recording (golden-ratio steps,
  /// so they fall anywhere between snapshots), each by a fresh replayer, as `replay --to` does:
  /// restore the nearest snapshot at or before it, replay from there. Set-up is not counted.
  private func seekCost(_ file: String) throws -> Double {
    let archive = try RecordingArchive(path: file)
    let final = archive.finalPosition
    let fractions = (1...16).map { (Double($0) * 0.618_033_988_75).truncatingRemainder(dividingBy: 1) }
    let targets = Set(fractions.map { UInt64($0 * Double(final)) }.filter { $0 > 0 }).sorted()
    var total: UInt64 = 0
    for target in targets {
      let replayer = try Replayer(archive: archive, console: { _ in })
      let started = HostClock.now()
      do { _ = try replayer.seek(to: target) } catch { throw CLIError("to position \(target) of \(final): \(error)") }
      total += HostClock.now() - started
    }
    return Double(total) / 1e6 / Double(max(1, targets.count))
  }

  private func recorderOptions() -> Recorder.Options {
    var options = Recorder.Options()
    if let snapshotInterval { options.snapshotInterval = snapshotInterval * 1_000_000 }
    if let snapshotPages { options.snapshotPages = snapshotPages }
    if let snapshotBudget { options.snapshotBudget = snapshotBudget }
    return options
  }

  /// Plain run from the image bytes to the guest's exit, platform set-up included.
  private func timedPlainRun(_ bytes: [UInt8], _ kind: ImageKind) throws -> Double {
    let started = HostClock.now()
    _ = try plainRun(bytes, kind)
    return Double(HostClock.now() - started) / 1e9
  }

  /// Records one run; returns its wall time, what the recorder measured, the file size and the
  /// run's counters. The platform is gone when this returns (see `recordTable`).
  private func timedRecord(_ path: String, _ bytes: [UInt8], _ kind: ImageKind, to file: String) throws -> (
    seconds: Double, costs: RecorderCosts, bytes: UInt64, statistics: RunStatistics
  ) {
    let started = HostClock.now()
    let tap = OutputTap(forward: { _ in })
    let platform = try Platform(configuration: MachineConfiguration(), console: tap.write)
    let boot = try platform.load(bytes, kind: kind, options: LoadOptions())
    let setup = RecordingSetup(
      configuration: MachineConfiguration(), imageName: path, image: bytes, imageKind: kind.rawValue, commandLine: "")
    let recorder = try Recorder(
      path: file, platform: platform, setup: setup, tap: tap, firmware: boot.firmware, options: recorderOptions())
    let events = HostEvents()
    events.closeInput()
    let runner = Runner(platform: platform, events: events)
    recorder.attach(to: runner)
    let outcome = try runner.run()
    guard case .debugExit(let value) = outcome else { throw CLIError("\(path) did not end through the debug-exit port") }
    try recorder.finish(outcome: .debugExit(value: value), runner: runner)
    return (Double(HostClock.now() - started) / 1e9, recorder.costs, recorder.bytesWritten, runner.statistics)
  }

  private func recordTable(_ targets: [String]) throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rv-bench-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    var qemuBench: QEMUBench?
    if qemu {
      guard let binary = QEMUBench.find(qemuBinary) else {
        throw CLIError("\(qemuBinary) not found (scripts/install-deps.sh installs qemu-system-x86)")
      }
      qemuBench = QEMUBench(binary: binary, directory: dir)
    }
    let images = try targets.map { try load($0) }
    var samples = [RecordSamples](repeating: RecordSamples(), count: targets.count)
    // Rounds outermost, every mode of every guest inside: slow phases of a shared host hit
    // all columns alike, and each ratio compares runs made seconds apart.
    for round in 0..<runs {
      for (g, path) in targets.enumerated() {
        let (bytes, kind) = images[g]
        let plain = try timedPlainRun(bytes, kind)

        let file = dir.appendingPathComponent("\(g)-\(round).rvr").path
        let (recorded, costs, fileBytes, statistics) = try timedRecord(path, bytes, kind, to: file)

        let replayStart = HostClock.now()
        do {
          let replayer = try Replayer(archive: try RecordingArchive(path: file), console: { _ in })
          try replayer.verifyEnd(try replayer.run())
        } catch let error as ReplayError {
          samples[g].verified = false
          printError("\(name(path)) round \(round + 1): \(error)")
        }
        let replayed = Double(HostClock.now() - replayStart) / 1e9
        do { samples[g].seeks.append(try seekCost(file)) } catch {
          samples[g].verified = false
          printError("\(name(path)) round \(round + 1), seeking: \(error)")
        }
        try? FileManager.default.removeItem(atPath: file)

        var s = samples[g]
        s.plain.append(plain)
        s.recorded.append(recorded)
        s.replayed.append(replayed)
        s.recordRatio.append(recorded / plain)
        s.replayRatio.append(replayed / plain)
        let guestSeconds = max(Double(statistics.guestNanoseconds) / 1e9, 1e-9)
        s.bytesPerGuestSecond.append(Double(fileBytes) / guestSeconds)
        s.costs.append(costs)
        s.snapshotCounts.append(Double(costs.snapshots.count))
        s.snapshotBytes.append(Double(costs.snapshots.reduce(0) { $0 + $1.bytes }))
        s.pauses += costs.snapshots.dropFirst().map { Double($0.pauseNanoseconds) / 1e6 }

        if let qemuBench {
          let rr = dir.appendingPathComponent("\(g)-\(round).rr").path
          var runs: [QEMUBench.Mode: QEMUBench.Run] = [:]
          for mode in QEMUBench.Mode.allCases {
            let run = try qemuBench.run(path, mode: mode, rrFile: rr)
            runs[mode] = run
            s.qemu[mode, default: []].append(run.seconds)
            if run.status != 1 {
              s.qemuIdentical = false
              printError("\(name(path)) round \(round + 1): QEMU \(mode) exited with status \(run.status), not 1")
            }
          }
          let rrBytes = (try? FileManager.default.attributesOfItem(atPath: rr)[.size] as? NSNumber)?.doubleValue ?? 0
          s.qemuLogBytesPerGuestSecond.append(rrBytes / guestSeconds)
          try? FileManager.default.removeItem(atPath: rr)
          let (p, r, y) = (runs[.plain]!, runs[.record]!, runs[.replay]!)
          if p.output != r.output || r.output != y.output {
            s.qemuIdentical = false
            printError("\(name(path)) round \(round + 1): QEMU's plain, record and replay outputs differ")
          }
          s.qemuRecordRatio.append(r.seconds / p.seconds)
          s.qemuReplayRatio.append(y.seconds / p.seconds)
        }
        samples[g] = s
      }
    }

    var header = [
      "guest", "plain s", "record s", "rec/plain", "replay s", "rep/plain", "log B/guest s", "snaps", "pause ms mean/max",
      "snap KiB", "seek ms", "verified",
    ]
    if qemu { header += ["QEMU plain s", "rr=record/plain", "rr=replay/plain", "rr log B/guest s", "QEMU same output"] }
    var rows: [[String]] = []
    for (g, path) in targets.enumerated() {
      let s = samples[g]
      let pauseMean = s.pauses.isEmpty ? 0 : s.pauses.reduce(0, +) / Double(s.pauses.count)
      var row = [
        name(path), f3(median(s.plain)), f3(median(s.recorded)), ratio(median(s.recordRatio)), f3(median(s.replayed)),
        ratio(median(s.replayRatio)), String(format: "%.0f", median(s.bytesPerGuestSecond)),
        String(format: "%.0f", median(s.snapshotCounts)),
        String(format: "%.2f / %.2f", pauseMean, s.pauses.max() ?? 0),
        String(format: "%.0f", median(s.snapshotBytes) / 1024), f1(median(s.seeks)), s.verified ? "yes" : "no",
      ]
      if qemu {
        row += [
          f3(median(s.qemu[.plain] ?? [])), ratio(median(s.qemuRecordRatio)), ratio(median(s.qemuReplayRatio)),
          String(format: "%.0f", median(s.qemuLogBytesPerGuestSecond)),
          s.qemuIdentical ? "yes" : "no",
        ]
      }
      rows.append(row)
    }
    print(table(header, rows))
    print()
    print(
      "Ratios are medians of per-round ratios (runs of one round are seconds apart); times are medians of \(runs) rounds,",
      "set-up included (QEMU: process start-up included). Pause: incremental snapshots (the full one is in 'start').",
      "Seek: mean time of a seek to 16 positions spread over the recording (restore the nearest snapshot, replay from it).",
      separator: "\n")
    if let qemuBench { print(qemuBench.version + ", TCG; rr modes use -icount shift=auto") }
    print()

    // Where the recording's own time went (median over rounds, host milliseconds).
    let costHeader = [
      "guest", "start ms", "full snap ms", "full pages", "snaps ms", "pages/snap", "flushes ms", "page checks ms", "kicks ms",
      "finish ms",
      "total ms", "total/plain",
    ]
    var costRows: [[String]] = []
    for (g, path) in targets.enumerated() {
      let c = samples[g].costs
      func ms(_ f: (RecorderCosts) -> UInt64) -> Double { median(c.map { Double(f($0)) / 1e6 }) }
      let incremental = c.flatMap { $0.snapshots.dropFirst() }
      let pagesPerSnapshot =
        incremental.isEmpty ? 0 : Double(incremental.reduce(0) { $0 + $1.dirtyPages }) / Double(incremental.count)
      let total = ms { $0.totalNanoseconds }
      costRows.append([
        name(path), f1(ms { $0.startNanoseconds }), f1(ms { $0.snapshots.first?.pauseNanoseconds ?? 0 }),
        String(format: "%.0f", median(c.map { Double($0.snapshots.first?.dirtyPages ?? 0) })),
        f1(ms { $0.snapshots.dropFirst().reduce(0) { $0 + $1.pauseNanoseconds } }), String(format: "%.1f", pagesPerSnapshot),
        f1(ms { $0.eventFlushNanoseconds }), f1(ms { $0.pageCheckNanoseconds }), f1(ms { $0.kickPointNanoseconds }),
        f1(ms { $0.finishNanoseconds }), f1(total),
        String(format: "%.1f %%", total / 10 / median(samples[g].plain)),
      ])
    }
    print(table(costHeader, costRows))
    if verbose {
      print()
      let phaseHeader = [
        "guest", "snapshot", "dirty", "changed", "stored", "bytes", "events ms", "harvest ms", "hash ms", "pages ms", "state ms",
      ]
      var phaseRows: [[String]] = []
      for (g, path) in targets.enumerated() {
        guard let c = samples[g].costs.last else { continue }
        for (i, s) in c.snapshots.enumerated() {
          phaseRows.append([
            name(path), "\(i)", "\(s.dirtyPages)", "\(s.changedPages)", "\(s.storedPages)", "\(s.bytes)",
            f3(Double(s.eventsNanoseconds) / 1e6), f3(Double(s.harvestNanoseconds) / 1e6), f3(Double(s.hashNanoseconds) / 1e6),
            f3(Double(s.pagesNanoseconds) / 1e6),
            f3(Double(s.stateNanoseconds) / 1e6),
          ])
        }
      }
      print(table(phaseHeader, phaseRows))
    }
    if samples.contains(where: { !$0.verified || (qemu && !$0.qemuIdentical) }) { throw ExitCode(1) }
  }

  /// Columns sized to their contents; `--markdown` prints a pipe table for docs/performance.md.
  private func table(_ header: [String], _ rows: [[String]]) -> String {
    if markdown {
      let lines = [header, header.map { _ in "---" }] + rows
      return lines.map { "| " + $0.joined(separator: " | ") + " |" }.joined(separator: "\n")
    }
    let widths = header.indices.map { i in ([header] + rows).map { $0[i].count }.max() ?? 0 }
    return ([header] + rows).map { cells in
      cells.enumerated().map { i, c in
        let pad = String(repeating: " ", count: widths[i] - c.count)
        return i == 0 ? c + pad : pad + c
      }.joined(separator: "  ")
    }.joined(separator: "\n")
  }

  /// Median (mean of the middle two for an even count); 0 for no values.
  private func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let v = values.sorted()
    return v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
  }
  private func f1(_ v: Double) -> String { String(format: "%.1f", v) }
  private func f3(_ v: Double) -> String { String(format: "%.3f", v) }
  private func ratio(_ v: Double) -> String { String(format: "%.3fx", v) }
  private func name(_ path: String) -> String { ((path as NSString).lastPathComponent as NSString).deletingPathExtension }
  private func row(_ cells: [String]) -> String {
    cells.enumerated().map { i, c in
      i == 0 ? c.padding(toLength: 10, withPad: " ", startingAt: 0) : String(repeating: " ", count: max(0, 10 - c.count)) + c
    }.joined(separator: " ")
  }
}
