/// QEMU's isa-debug-exit (iobase 0xF4, iosize 4): a write asks the machine to stop with a
/// status derived from the value, so test guests can report pass/fail.
public final class DebugExit: PortDevice {
  public let name: String
  public let base: UInt16
  public let portRanges: [ClosedRange<UInt16>]
  private let onExit: (UInt32) -> Void
  /// The last value written, if any: the guest's exit request is part of the machine state.
  public private(set) var lastValue: UInt32?

  /// `onExit` receives the raw value written (masked to the access size).
  public init(name: String = "debugexit", base: UInt16 = 0xF4, onExit: @escaping (UInt32) -> Void) {
    self.name = name
    self.base = base
    self.portRanges = [base...(base > 0xFFFC ? 0xFFFF : base + 3)]
    self.onExit = onExit
  }

  /// The process exit status QEMU would give for `value`: `(value << 1) | 1`, as the shell sees it.
  public static func exitStatus(for value: UInt32) -> Int32 {
    Int32(((value << 1) | 1) & 0xFF)
  }

  public func read(port: UInt16, size: Int) -> UInt32 {
    DevicePortAccess.allOnes(size: size)
  }

  public func write(port: UInt16, size: Int, value: UInt32) {
    // Like QEMU, any write into the window counts, whatever its offset and width.
    let masked = value & DevicePortAccess.allOnes(size: size)
    lastValue = masked
    onExit(masked)
  }

  public func encodeState(into encoder: inout StateEncoder) {
    encoder.write(lastValue != nil)
    encoder.write(lastValue ?? 0)
  }

  public func decodeState(from decoder: inout StateDecoder) throws(StateDecodingError) {
    let present: Bool = try decoder.read()
    let value: UInt32 = try decoder.read()
    lastValue = present ? value : nil
  }
}
