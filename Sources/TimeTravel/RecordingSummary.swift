import Foundation

extension RecordingArchive {
  /// What `retrovisor info`, the REPL's `info recording` and gdb's `monitor info` print.
  public func summaryLines(path: String) -> [String] {
    var lines: [String] = []
    let created = Date(timeIntervalSince1970: TimeInterval(header.createdUnixSeconds))
    lines.append("recording      \(path) (\(fileSize) bytes, format version \(header.formatVersion))")
    lines.append("created        \(created)")
    lines.append("image          \(setup.imageName) (\(setup.imageKind), hash \(setup.imageHash))")
    lines.append(
      "machine        \(setup.configuration.memorySize >> 20) MiB RAM, 1 vCPU"
        + (setup.commandLine.isEmpty ? "" : ", command line \"\(setup.commandLine)\""))
    if let t = guestDuration { lines.append(String(format: "guest time     %.3f s", Double(t) / 1e9)) }
    lines.append("exits          \(finalPosition)" + (isComplete ? "" : " (log complete through this position)"))
    lines.append("outcome        \(outcome.map { "\($0)" } ?? "none: the recording was cut short")")
    let e = eventCounts
    lines.append(
      "events         \(eventGroupCount) delivery points: \(e.timer) timer, \(e.input) serial input (\(e.inputBytes) bytes), \(e.kicked) at kicked points; \(clockSampleCount) clock readings"
    )
    let positions = snapshotPositions
    let gaps = zip(positions.dropFirst(), positions).map { $0 - $1 }
    let spacing =
      gaps.isEmpty
      ? "" : ", spacing \(gaps.min() ?? 0)-\(gaps.max() ?? 0) exits (mean \(gaps.reduce(0, +) / UInt64(gaps.count)))"
    lines.append("snapshots      \(positions.count)\(spacing)")
    if !kickedSnapshots.isEmpty {
      lines.append("kicked         \(kickedSnapshots.count) snapshots at kicked points after long runs without exits")
    }
    for (kind, s) in chunkStatistics.sorted(by: { $0.key < $1.key }) {
      lines.append(
        "  \(kind.padding(toLength: 9, withPad: " ", startingAt: 0)) \(s.count) chunks, \(s.stored) bytes stored, \(s.raw) bytes raw"
      )
    }
    return lines
  }
}
