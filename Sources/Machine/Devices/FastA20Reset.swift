/// Port 0x92, "system control port A": bit 1 is the fast A20 gate, bit 0 a reset request.
public final class FastA20Reset: PortDevice {
  public let name: String
  private let onReset: () -> Void
  /// Bits as written, except bit 0: the reset is a request that reads back as 0. A20 starts
  /// enabled because guest memory never wraps at 1 MiB here, so that is what the guest gets.
  private var value: UInt8 = 0x02

  public init(name: String = "port92", onReset: @escaping () -> Void) {
    self.name = name
    self.onReset = onReset
  }

  public let portRanges: [ClosedRange<UInt16>] = [0x92...0x92]

  /// Whether the guest has A20 enabled. Memory does not wrap either way; the bit is kept so
  /// firmware reads back what it set.
  public var a20Enabled: Bool { value & 0x02 != 0 }

  public func read(port: UInt16, size: Int) -> UInt32 {
    DevicePortAccess.splitRead(port: port, size: size, ranges: portRanges) { _ in value }
  }

  public func write(port: UInt16, size: Int, value: UInt32) {
    DevicePortAccess.splitWrite(port: port, size: size, value: value, ranges: portRanges) { _, byte in
      self.value = byte & ~0x01
      if byte & 0x01 != 0 { onReset() }
    }
  }

  public func encodeState(into encoder: inout StateEncoder) {
    encoder.write(value)
  }

  public func decodeState(from decoder: inout StateDecoder) throws(StateDecodingError) {
    let value: UInt8 = try decoder.read()
    self.value = value & ~0x01
  }
}
