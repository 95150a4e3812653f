import Foundation
import TestSupport
import Testing

/// The same guest files under QEMU (TCG) must print exactly what they print under Retrovisor.
@Suite(.serialized)
struct QEMUComparisonTests {
  static let qemuAvailable = FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-system-x86_64")

  @Test(.enabled(if: qemuAvailable, "qemu-system-x86_64 is not installed"), arguments: guestExpectations)
  func sameOutputAsQEMU(_ guest: GuestExpectation) throws {
    let script = TestPaths.root.appendingPathComponent("guests/run-qemu.sh").path
    let inputFile: String
    if let input = guest.input {
      inputFile = FileManager.default.temporaryDirectory.appendingPathComponent("rv-qemu-\(guest.name).txt").path
      try Data(input.utf8).write(to: URL(fileURLWithPath: inputFile))
    } else {
      inputFile = "/dev/null"
    }
    let qemu = try runProcess("/bin/bash", [script, guest.name, inputFile], timeout: 60)
    let ours = try retrovisor(["run", TestPaths.guest(guest.name)], stdin: guest.input.map { Data($0.utf8) }, timeout: 30)
    #expect(qemu.stdout == guest.output, "QEMU stderr: \(qemu.stderr)")
    #expect(ours.stdout == qemu.stdout)
    #expect(ours.status == qemu.status)
  }
}
