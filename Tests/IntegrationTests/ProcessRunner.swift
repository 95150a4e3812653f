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

  /// A test guest: in $RETROVISOR_GUESTS (the test bed sets it), or in guests/build.
  static func guest(_ name: String) -> String {
    let dir = ProcessInfo.processInfo.environment["RETROVISOR_GUESTS"] ?? root.appendingPathComponent("guests/build").path
    return URL(fileURLWithPath: dir).appendingPathComponent("\(name).elf").path
  }
}

/// The plain view of `runTool` (RecordingTestSupport.swift), which does the work.
func runProcess(_ executable: String, _ arguments: [String], stdin: Data? = nil, timeout: TimeInterval = 60) throws
  -> ProcessResult
{
  let r = try runTool(executable, arguments, stdin: stdin, timeout: timeout)
  return ProcessResult(status: r.status, stdout: r.stdout, stderr: r.stderr, timedOut: r.timedOut)
}

func retrovisor(_ arguments: [String], stdin: Data? = nil, timeout: TimeInterval = 60) throws -> ProcessResult {
  try runProcess(Paths.retrovisor, arguments, stdin: stdin, timeout: timeout)
}
