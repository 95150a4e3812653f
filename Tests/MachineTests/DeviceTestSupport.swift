import Testing

@testable import Machine

/// Records what devices do to the interrupt lines.
final class RecordingLines: InterruptLines {
  private(set) var levels = [Bool](repeating: false, count: 16)
  /// Low-to-high transitions per line: what an edge-triggered PIC would latch.
  private(set) var risingEdges = [Int](repeating: 0, count: 16)

  func setLevel(irq: Int, high: Bool) {
    guard (0..<16).contains(irq) else { return }
    if high && !levels[irq] { risingEdges[irq] += 1 }
    levels[irq] = high
  }
}

extension PortDevice {
  func readByte(_ port: UInt16) -> UInt8 { UInt8(truncatingIfNeeded: read(port: port, size: 1)) }
  func writeByte(_ port: UInt16, _ value: UInt8) { write(port: port, size: 1, value: UInt32(value)) }

  func stateBytes() -> [UInt8] {
    var encoder = StateEncoder()
    encodeState(into: &encoder)
    return encoder.bytes
  }
}

/// Encodes `device`, decodes into `fresh`, and checks that `fresh` encodes to the same bytes;
/// then checks that every truncation of the encoding throws and leaves `fresh` unchanged.
func expectStateRoundTrip(_ device: some PortDevice, into fresh: some PortDevice) throws {
  let bytes = device.stateBytes()
  var decoder = StateDecoder(bytes)
  try fresh.decodeState(from: &decoder)
  #expect(decoder.isAtEnd)
  #expect(fresh.stateBytes() == bytes)
  for length in [0, bytes.count / 2, bytes.count - 1] where length < bytes.count {
    var truncated = StateDecoder(Array(bytes.prefix(length)))
    #expect(throws: StateDecodingError.self) { try fresh.decodeState(from: &truncated) }
    #expect(fresh.stateBytes() == bytes)
  }
}
