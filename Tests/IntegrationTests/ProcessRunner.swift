import Foundation

/// Runs a command with optional stdin bytes and a timeout; captures stdout, stderr and status.
struct ProcessResult {
  var status: Int32
  var stdout: String
  var stderr: String
  var timedOut: Bool
}

enum Paths {
  /// The repository root, from this file's location (Tests/IntegrationTests/...).
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  /// The retrovisor binary: $RETROVISOR_BIN, or the debug build next to the test bundle.
  static var retrovisor: String {
    if let path = ProcessInfo.processInfo.environment["RETROVISOR_BIN"] { return path }
    let bundleDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [
      bundleDir.appendingPathComponent("retrovisor"), bundleDir.deletingLastPathComponent().appendingPathComponent("retrovisor"),
    ] {
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
    }
    return root.appendingPathComponent(".build/debug/retrovisor").path
  }

  static func guest(_ name: String) -> String {
    root.appendingPathComponent("guests/build/\(name).elf").path
  }
}

func runProcess(_ executable: String, _ arguments: [String], stdin: Data? = nil, timeout: TimeInterval = 60) throws
  -> ProcessResult
{
  let process = Process()
  process.executableURL = URL(fileURLWithPath: executable)
  process.arguments = arguments
  let outPipe = Pipe()
  let errPipe = Pipe()
  let inPipe = Pipe()
  process.standardOutput = outPipe
  process.standardError = errPipe
  process.standardInput = inPipe
  try process.run()
  if let stdin { inPipe.fileHandleForWriting.write(stdin) }
  try inPipe.fileHandleForWriting.close()

  // Read both pipes on their own threads so a chatty child never blocks on a full pipe.
  nonisolated(unsafe) var out = Data()
  nonisolated(unsafe) var err = Data()
  let group = DispatchGroup()
  DispatchQueue.global().async(group: group) { out = outPipe.fileHandleForReading.readDataToEndOfFile() }
  DispatchQueue.global().async(group: group) { err = errPipe.fileHandleForReading.readDataToEndOfFile() }

  let deadline = Date().addingTimeInterval(timeout)
  var timedOut = false
  while process.isRunning {
    if Date() > deadline {
      timedOut = true
      kill(process.processIdentifier, SIGKILL)
      break
    }
    Thread.sleep(forTimeInterval: 0.01)
  }
  process.waitUntilExit()
  group.wait()
  return ProcessResult(
    status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
    stderr: String(decoding: err, as: UTF8.self), timedOut: timedOut)
}

func retrovisor(_ arguments: [String], stdin: Data? = nil, timeout: TimeInterval = 60) throws -> ProcessResult {
  try runProcess(Paths.retrovisor, arguments, stdin: stdin, timeout: timeout)
}
