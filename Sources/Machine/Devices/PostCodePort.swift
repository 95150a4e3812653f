/// Port 0x80, the POST diagnostic port. Firmware writes progress codes there and Linux uses it
/// as an I/O delay; the last code is kept because it is useful when a boot stops.
public final class PostCodePort: PortDevice {
  public let name: String
  public private(set) var lastCode: UInt8 = 0

  public init(name: String = "post") {
    self.name = name
  }

  public let portRanges: [ClosedRange<UInt16>] = [0x80...0x80]

  public func read(port: UInt16, size: Int) -> UInt32 {
    DevicePortAccess.allOnes(size: size)
  }

  public func write(port: UInt16, size: Int, value: UInt32) {
    lastCode = UInt8(truncatingIfNeeded: value)
  }

  public func encodeState(into encoder: inout StateEncoder) {
    encoder.write(lastCode)
  }

  public func decodeState(from decoder: inout StateDecoder) throws(StateDecodingError) {
    lastCode = try decoder.read()
  }
}
