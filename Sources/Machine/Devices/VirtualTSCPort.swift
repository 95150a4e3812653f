/// Ports 0xF8-0xFB: a stand-in for RDTSC that the engine can make deterministic.
///
/// `rdtsc` never exits on KVM, so its value follows host time and cannot be replayed, and Linux
/// executes it whatever CPUID says (`random_get_entropy()` on x86-64). guests/linux/build.sh
/// rewrites each `rdtsc` (0F 31) in the kernel's text as `in eax, 0xF8` (E5 F8), two bytes as
/// well: EAX gets the low 32 bits of guest time in nanoseconds from here, and EDX, which RDTSC
/// would have set to the high half, keeps its old value, which is machine state
/// (docs/linux-guest.md). Reading observes the virtual clock like a PIT read, so the value is
/// recorded and replayed. Writes are ignored; the device has no state of its own.
///
/// The ports are the old 80287 coprocessor ports, unused by x86-64 guests.
public final class VirtualTSCPort: PortDevice {
  public let name: String
  public static let port: UInt16 = 0xF8
  private let clock: VirtualClock

  public init(name: String = "vtsc", clock: VirtualClock) {
    self.name = name
    self.clock = clock
  }

  public let portRanges: [ClosedRange<UInt16>] = [0xF8...0xFB]

  /// One clock observation per access, whatever its width: the bytes of a wide read belong to
  /// the same instant. An access at 0xF8 + k reads the value shifted right by 8k bits.
  public func read(port: UInt16, size: Int) -> UInt32 {
    let value = UInt32(truncatingIfNeeded: clock.observe())
    let shifted = value >> (8 * UInt32(port &- Self.port))
    return size >= 4 ? shifted : shifted & ((1 << (8 * UInt32(size))) - 1)
  }

  public func write(port: UInt16, size: Int, value: UInt32) {}

  public func encodeState(into encoder: inout StateEncoder) {}

  public func decodeState(from decoder: inout StateDecoder) throws(StateDecodingError) {}
}
