import ArgumentParser
import Foundation
import Machine

/// Exit statuses of commands that run a guest (documented in docs/cli.md).
enum ExitStatus {
  /// The guest reset or powered off cleanly.
  static let clean: Int32 = 0
  /// Bad arguments, unreadable or malformed image, KVM unavailable.
  static let hostError: Int32 = 2
  /// The guest crashed: triple fault, emulation failure, failed entry, halted forever.
  static let guestFault: Int32 = 4
  /// The recording file is damaged (a corrupt chunk, not just a cut tail).
  static let damagedRecording: Int32 = 3
  /// Replay no longer matches the recording.
  static let divergence: Int32 = 5

  /// QEMU's isa-debug-exit convention: writing V exits with (V << 1) | 1.
  static func debugExit(_ value: UInt32) -> Int32 {
    Int32(truncatingIfNeeded: ((value << 1) | 1) & 0xFF)
  }
}

func printError(_ message: String) {
  FileHandle.standardError.write(Data(("retrovisor: " + message + "\n").utf8))
}

/// Writes guest console bytes to stdout at once, unbuffered.
func writeConsole(_ bytes: [UInt8]) {
  var offset = 0
  while offset < bytes.count {
    let n = bytes[offset...].withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
    if n > 0 {
      offset += n
    } else if n < 0 && errno == EINTR {
      continue
    } else {
      return
    }
  }
}
