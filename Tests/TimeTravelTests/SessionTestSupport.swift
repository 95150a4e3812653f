import Foundation
import Machine
import Recording
import TestSupport
import Testing

@testable import TimeTravel

/// Recordings made once per test process (by the retrovisor binary), shared by the tests.
final class RecordingCache: @unchecked Sendable {
  static let shared = RecordingCache()
  private let lock = NSLock()
  private var files: [String: String] = [:]
  private let dir: URL = {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("retrovisor-tt-\(getpid())")
    try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
    return d
  }()

  /// A recording of `guest`, made with `record`'s `options` added (one file per combination).
  func recording(of guest: String, options: [String] = []) throws -> String {
    lock.lock()
    defer { lock.unlock() }
    let key = ([guest] + options).joined(separator: " ")
    if let f = files[key] { return f }
    let file = dir.appendingPathComponent("\(guest)-\(files.count).rvr").path
    let run = try ChildProcess.run(
      TestPaths.retrovisor, ["record", TestPaths.guest(guest), "-o", file] + options, stdin: nil, timeout: 120)
    try #require(
      !run.timedOut && FileManager.default.fileExists(atPath: file),
      "recording \(guest) failed: status \(run.status)\(run.timedOut ? " (timed out)" : ""), stderr: \(String(decoding: run.stderr, as: UTF8.self))"
    )
    files[key] = file
    return file
  }

  func session(of guest: String, options: Session.Options = Session.Options()) throws -> Session {
    try Session(archive: RecordingArchive(path: recording(of: guest)), options: options)
  }
}

/// What the oracle remembers of an instant: where it is and its full-state hash.
struct Observation: Equatable, CustomStringConvertible {
  var position: Position
  var rip: UInt64
  var hash: Hash128
  var description: String { "\(position) rip 0x\(String(rip, radix: 16)) \(hash)" }
}

extension Session {
  func observe() throws -> Observation {
    Observation(position: try position(), rip: try registers().rip, hash: try stateHash())
  }
}

/// A session recording `guest` live into `file`, standing at its first instruction.
func liveSession(_ guest: String, file: String, pacer: HostPacedClockSource = HostPacedClockSource()) throws -> Session {
  let image = [UInt8](try Data(contentsOf: URL(fileURLWithPath: TestPaths.guest(guest))))
  let kind = try #require(ImageLoader.detect(image))
  let configuration = MachineConfiguration()
  let tap = OutputTap(forward: { _ in })
  let platform = try Platform(configuration: configuration, console: tap.write)
  let boot = try platform.load(image, kind: kind, options: LoadOptions())
  let setup = RecordingSetup(
    configuration: configuration, imageName: TestPaths.guest(guest), image: image, imageKind: kind.rawValue, commandLine: "")
  let recorder = try Recorder(path: file, platform: platform, setup: setup, tap: tap, firmware: boot.firmware)
  return try Session(live: LiveRecording(path: file, platform: platform, recorder: recorder, pacer: pacer))
}

/// Host time that moves on by `step` at every reading (and with the host clock between them).
final class HurriedHostClock {
  let step: UInt64
  private var readings: UInt64 = 0
  init(step: UInt64) { self.step = step }
  func now() -> UInt64 {
    readings += 1
    return HostClock.now() &+ readings &* step
  }
}
