import Foundation
import Testing

/// `retrovisor doctor` on the test host: the probes run, each has a definite answer, and the
/// engine's choices follow from them; without KVM it fails with the reason.
@Suite(.serialized)
struct DoctorTests {
  @Test func reportsTheHostAndItsMechanisms() throws {
    let result = try retrovisor(["doctor"])
    #expect(result.status == 0, "stderr: \(result.stderr)")
    let out = result.stdout
    #expect(out.contains("/dev/kvm  API version 12"))
    #expect(out.contains("KVM_CAP_SET_GUEST_DEBUG"))
    #expect(out.contains("KVM_CAP_GUEST_DEBUG_HW_BPS"))
    // Every probe gave an answer (none "unknown") and single-step works wherever the suite runs.
    let probes = out.components(separatedBy: "\n").drop { !$0.hasPrefix("probes") }.dropFirst()
      .prefix { $0.hasPrefix("  ") }
    #expect(probes.count == 14, "\(out)")
    #expect(probes.allSatisfy { !$0.contains(" unknown (") || $0.contains("fires again") }, "\(out)")
    #expect(out.contains("single-step: one debug exit per instruction  yes"))
    #expect(out.contains("immediate_exit completes an I/O instruction  yes"))
    // The probes are quick (tens of ms here; 0.5-3 s under nested TCG emulation): printed in us.
    if let line = out.components(separatedBy: "\n").first(where: { $0.hasPrefix("probes (") }),
      let micros = Int(line.dropFirst("probes (".count).prefix { $0.isNumber })
    {
      #expect(micros < 10_000_000, "probing took \(micros) us")
    }
    #expect(out.contains("execution breakpoints"))
    #expect(out.hasSuffix("verdict  usable\n"))
  }

  @Test func failsClearlyWithoutKVM() throws {
    let result = try retrovisor(["doctor", "--kvm", "/nonexistent/kvm"])
    #expect(result.status == 2)
    #expect(result.stderr.contains("open /nonexistent/kvm failed"))
    #expect(result.stderr.contains("load the kvm module"))
  }
}
