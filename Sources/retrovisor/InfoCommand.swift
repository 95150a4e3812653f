import ArgumentParser
import Foundation
import TimeTravel

struct InfoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "info",
    abstract: "Describe a recording and verify every checksum in it.",
    discussion: "Exit status 0 when the file is intact, 3 when it is damaged or cut short (the damage is named)."
  )

  @Argument(help: "Recording file.")
  var recording: String

  func run() throws {
    do {
      let a = try RecordingArchive(path: recording)
      let created = Date(timeIntervalSince1970: TimeInterval(a.header.createdUnixSeconds))
      print("recording      \(recording) (\(a.fileSize) bytes, format version \(a.header.formatVersion))")
      print("created        \(created)")
      print("image          \(a.setup.imageName) (\(a.setup.imageKind), hash \(a.setup.imageHash))")
      print(
        "machine        \(a.setup.configuration.memorySize >> 20) MiB RAM, 1 vCPU"
          + (a.setup.commandLine.isEmpty ? "" : ", command line \"\(a.setup.commandLine)\""))
      if let t = a.guestDuration { print(String(format: "guest time     %.3f s", Double(t) / 1e9)) }
      print("exits          \(a.finalPosition)" + (a.isComplete ? "" : " (log complete through this position)"))
      print("outcome        \(a.outcome.map { "\($0)" } ?? "none: the recording was cut short")")
      let e = a.eventCounts
      print(
        "events         \(a.eventGroupCount) delivery points: \(e.timer) timer, \(e.input) serial input (\(e.inputBytes) bytes), \(e.kicked) at kicked points; \(a.clockSampleCount) clock readings"
      )
      let positions = a.snapshotPositions
      let gaps = zip(positions.dropFirst(), positions).map { $0 - $1 }
      let spacing =
        gaps.isEmpty
        ? "" : ", spacing \(gaps.min() ?? 0)-\(gaps.max() ?? 0) exits (mean \(gaps.reduce(0, +) / UInt64(gaps.count)))"
      print("snapshots      \(positions.count)\(spacing)")
      for (kind, s) in a.chunkStatistics.sorted(by: { $0.key < $1.key }) {
        print(
          "  \(kind.padding(toLength: 9, withPad: " ", startingAt: 0)) \(s.count) chunks, \(s.stored) bytes stored, \(s.raw) bytes raw"
        )
      }
      if let damage = a.damage {
        print("checksums      DAMAGED: \(damage)")
        throw ExitCode(3)
      }
      print("checksums      all \(a.chunkStatistics.values.reduce(0) { $0 + $1.count }) chunks verified")
    } catch let exit as ExitCode {
      throw exit
    } catch {
      printError("\(error)")
      throw ExitCode(3)
    }
  }
}
