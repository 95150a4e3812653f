import Foundation
import TestSupport
import Testing

/// Bad input and crashing guests: a clear message on stderr and a non-zero status, never a trap.
@Suite(.serialized)
struct RunErrorTests {
  private func temporaryFile(_ name: String, _ bytes: [UInt8]) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("rv-\(name)").path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
  }

  @Test func missingImage() throws {
    let result = try retrovisor(["run", "/nonexistent/kernel.elf"])
    #expect(result.status == 2)
    #expect(result.stderr.contains("image file '/nonexistent/kernel.elf' does not exist"))
  }

  @Test func unrecognisedImageAsksForLoadAddress() throws {
    let path = try temporaryFile("garbage.bin", [UInt8](repeating: 0x90, count: 4096))
    let result = try retrovisor(["run", path])
    #expect(result.status == 2)
    #expect(result.stderr.contains("not a Multiboot ELF or a Linux bzImage"))
    #expect(result.stderr.contains("--load-address"))
  }

  @Test func truncatedELFNamesTheProblem() throws {
    let full = try [UInt8](Data(contentsOf: URL(fileURLWithPath: TestPaths.guest("hello"))))
    // Keep the Multiboot header (at 0x1000) but cut the loadable segments short.
    let path = try temporaryFile("truncated.elf", Array(full.prefix(0x1100)))
    let result = try retrovisor(["run", path])
    #expect(result.status == 2)
    #expect(result.stderr.contains("past end of file") || result.stderr.contains("truncated"), "stderr: \(result.stderr)")
    #expect(!result.stderr.contains("Fatal error"))
  }

  @Test func missingKVMDevice() throws {
    let result = try retrovisor(["run", "--kvm", "/nonexistent/kvm", TestPaths.guest("hello")])
    #expect(result.status == 2)
    #expect(result.stderr.contains("open /nonexistent/kvm failed"))
    #expect(result.stderr.contains("KVM is not available"))
  }

  @Test func badMemorySize() throws {
    let result = try retrovisor(["run", "--memory", "lots", TestPaths.guest("hello")])
    #expect(result.status != 0)
    #expect(result.stderr.contains("--memory 'lots' is not a size"))
    let tooBig = try retrovisor(["run", "--memory", "8G", TestPaths.guest("hello")])
    #expect(tooBig.status == 2)
    #expect(tooBig.stderr.contains("memory must be between 1 MiB and 3 GiB"))
  }

  @Test func tripleFaultingGuestGivesRegisterDump() throws {
    // ud2 with an empty IDT: #UD -> #GP -> #DF -> shutdown.
    let path = try temporaryFile("ud2.bin", [0x0F, 0x0B])
    let result = try retrovisor(["run", "--load-address", "0x100000", path], timeout: 20)
    #expect(result.status == 4)
    #expect(result.stderr.contains("guest triple fault"))
    // Where KVM resets the vCPU on a shutdown (AMD-V), the faulting registers are gone: the
    // report must say so rather than dump the reset state. `doctor` shows what the probe saw.
    let doctor = try retrovisor(["doctor"])
    let probe = doctor.stdout.components(separatedBy: "\n").first { $0.contains("triple fault keeps the faulting registers") }
    let keeps = try #require(probe, "doctor: \(doctor.stdout)")
    if keeps.contains("  no (") {
      #expect(result.stderr.contains("the registers at the fault are not available"), "stderr: \(result.stderr)")
      #expect(!result.stderr.contains("rip   "), "stderr: \(result.stderr)")
    } else {
      #expect(keeps.contains("  yes ("), "doctor: \(keeps)")
      #expect(result.stderr.contains("rip   0000000000100000"), "stderr: \(result.stderr)")
      #expect(result.stderr.contains("code at rip: 0f 0b"), "stderr: \(result.stderr)")
    }
  }

  @Test func haltWithInterruptsDisabledIsReported() throws {
    // cli; hlt: nothing can ever wake the guest.
    let path = try temporaryFile("clihlt.bin", [0xFA, 0xF4])
    let result = try retrovisor(["run", "--load-address", "0x100000", path], timeout: 20)
    #expect(result.status == 4)
    #expect(result.stderr.contains("HLT with interrupts disabled"))
  }

  @Test func flatBinaryRunsAndExits() throws {
    // mov al, 5; out 0xf4, al  -> status (5 << 1) | 1 = 11
    let path = try temporaryFile("exit5.bin", [0xB0, 0x05, 0xE6, 0xF4])
    let result = try retrovisor(["run", "--load-address", "0x200000", path], timeout: 20)
    #expect(result.status == 11, "stderr: \(result.stderr)")
  }
}
