import Foundation
import TestSupport

/// Runs a command with optional stdin bytes and a timeout; captures stdout, stderr and status.
struct ProcessResult {
  var status: Int32
  var stdout: String
  var stderr: String
  var timedOut: Bool
}

/// The plain view of `runTool` (RecordingTestSupport.swift), which does the work.
func runProcess(_ executable: String, _ arguments: [String], stdin: Data? = nil, timeout: TimeInterval = 60) throws
  -> ProcessResult
{
  let r = try runTool(executable, arguments, stdin: stdin, timeout: timeout)
  return ProcessResult(status: r.status, stdout: r.stdout, stderr: r.stderr, timedOut: r.timedOut)
}

func retrovisor(_ arguments: [String], stdin: Data? = nil, timeout: TimeInterval = 60) throws -> ProcessResult {
  try runProcess(TestPaths.retrovisor, arguments, stdin: stdin, timeout: timeout)
}
