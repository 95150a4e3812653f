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
      for line in a.summaryLines(path: recording) { print(line) }
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
