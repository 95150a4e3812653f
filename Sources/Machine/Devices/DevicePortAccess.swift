/// Helpers shared by the ISA devices for access widths.
///
/// The PC devices here are 8-bit ISA parts: a 16- or 32-bit `in`/`out` on them is split by the
/// bus into byte cycles at consecutive ports, lowest byte first. Bytes that fall outside the
/// device's own ports float high, as on an undriven ISA bus.
enum DevicePortAccess {
  /// The access size clamped to what x86 port I/O can do (1, 2 or 4 bytes).
  static func normalizedSize(_ size: Int) -> Int {
    switch size {
    case ...1: return 1
    case 2, 3: return 2
    default: return 4
    }
  }

  /// What an undriven bus returns for an access of `size` bytes.
  static func allOnes(size: Int) -> UInt32 {
    switch normalizedSize(size) {
    case 1: return 0xFF
    case 2: return 0xFFFF
    default: return 0xFFFF_FFFF
    }
  }

  /// A wide read made of byte reads at `port`, `port + 1`, ... (ports wrap at 0xFFFF).
  static func splitRead(
    port: UInt16, size: Int, ranges: [ClosedRange<UInt16>], readByte: (UInt16) -> UInt8
  ) -> UInt32 {
    var value: UInt32 = 0
    for i in 0..<normalizedSize(size) {
      let p = port &+ UInt16(i)
      let byte = ranges.contains(where: { $0.contains(p) }) ? readByte(p) : 0xFF
      value |= UInt32(byte) << (8 * UInt32(i))
    }
    return value
  }

  /// A wide write made of byte writes at `port`, `port + 1`, ...; bytes outside the device are dropped.
  static func splitWrite(
    port: UInt16, size: Int, value: UInt32, ranges: [ClosedRange<UInt16>],
    writeByte: (UInt16, UInt8) -> Void
  ) {
    for i in 0..<normalizedSize(size) {
      let p = port &+ UInt16(i)
      guard ranges.contains(where: { $0.contains(p) }) else { continue }
      writeByte(p, UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))))
    }
  }
}

extension StateDecoder {
  /// Rejects snapshot bytes that would break a device invariant (a zero divisor, an oversized
  /// FIFO): restored state is checked before a device trusts it.
  func require(_ condition: Bool, _ what: @autoclosure () -> String) throws(StateDecodingError) {
    guard condition else { throw StateDecodingError("invalid \(what()) before offset \(offset)") }
  }
}
