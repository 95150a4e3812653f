/// Port 0x61, "system control port B": the PIT channel 2 gate and speaker bits, the memory
/// refresh toggle and channel 2's output, which firmware and Linux use for delays and to
/// calibrate against the PIT.
public final class SystemControlPortB: PortDevice {
  public let name: String
  private let pit: PIT8254
  /// Refresh requests toggle bit 4 every 15.085 us on a PC; guests poll it for short delays.
  static let refreshPeriod: UInt64 = 15_085
  /// The writable bits 0-3: gate 2, speaker data, parity and I/O channel check disables.
  private var control: UInt8 = 0

  public init(name: String = "portb", pit: PIT8254) {
    self.name = name
    self.pit = pit
  }

  public let portRanges: [ClosedRange<UInt16>] = [0x61...0x61]

  /// Bit 1: whether the speaker would sound (kept only so the guest reads back what it wrote).
  public var speakerData: Bool { control & 0x02 != 0 }

  public func read(port: UInt16, size: Int) -> UInt32 {
    DevicePortAccess.splitRead(port: port, size: size, ranges: portRanges) { _ in
      // output2 observes the clock, so the refresh bit below sees the same instant.
      var value = control & 0x0F
      if pit.output2 { value |= 0x20 }
      if (pit.clockNow / Self.refreshPeriod) & 1 != 0 { value |= 0x10 }
      return value
    }
  }

  public func write(port: UInt16, size: Int, value: UInt32) {
    DevicePortAccess.splitWrite(port: port, size: size, value: value, ranges: portRanges) { _, byte in
      control = byte & 0x0F
      pit.setGate2(byte & 0x01 != 0)
    }
  }

  public func encodeState(into encoder: inout StateEncoder) {
    encoder.write(control)
  }

  public func decodeState(from decoder: inout StateDecoder) throws(StateDecodingError) {
    let control: UInt8 = try decoder.read()
    try decoder.require(control & 0xF0 == 0, "port 0x61 control bits")
    // The gate itself is PIT state and is restored with the PIT.
    self.control = control
  }
}
