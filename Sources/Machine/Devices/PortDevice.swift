/// A device on the x86 I/O port bus.
///
/// Devices are owned by one `Platform` and touched only from the thread that runs the vCPU,
/// so they hold plain mutable state. Every device can save and restore its whole state, which
/// is what snapshots and state hashes are made of.
public protocol PortDevice: AnyObject, StateCodable {
  /// A short, stable name used in logs and in snapshot encodings ("uart0", "pit", ...).
  var name: String { get }
  /// The ports this device answers. Ranges must not overlap another device's.
  var portRanges: [ClosedRange<UInt16>] { get }
  /// A guest `in` of `size` bytes (1, 2 or 4) at `port`.
  func read(port: UInt16, size: Int) -> UInt32
  /// A guest `out` of `size` bytes (1, 2 or 4) at `port`.
  func write(port: UInt16, size: Int, value: UInt32)
}
