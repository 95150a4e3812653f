/// Hex text as the protocol writes it: lower-case digits, big-endian numbers, byte strings two
/// digits per byte. Decoding accepts either case and never traps on bad input.
enum Hex {
  private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

  static func digitValue(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
    default: return nil
    }
  }

  static func encode<S: Sequence<UInt8>>(_ bytes: S) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(bytes.underestimatedCount * 2)
    for b in bytes {
      out.append(digits[Int(b >> 4)])
      out.append(digits[Int(b & 0xF)])
    }
    return out
  }

  static func byte(_ b: UInt8) -> [UInt8] { [digits[Int(b >> 4)], digits[Int(b & 0xF)]] }

  /// Minimal lower-case hex of a number (`0` for zero), as gdb writes addresses and lengths.
  static func number(_ value: UInt64) -> String { String(value, radix: 16) }

  /// Two digits per byte; nil on an odd count or a non-hex character.
  static func decodeBytes<C: Collection<UInt8>>(_ text: C) -> [UInt8]? {
    guard text.count % 2 == 0 else { return nil }
    var out: [UInt8] = []
    out.reserveCapacity(text.count / 2)
    var high: UInt8?
    for c in text {
      guard let v = digitValue(c) else { return nil }
      if let h = high {
        out.append(h << 4 | v)
        high = nil
      } else {
        high = v
      }
    }
    return out
  }

  /// A big-endian hex number of 1...16 digits (leading zeros allowed); nil when empty, not hex,
  /// or wider than 64 bits.
  static func parseNumber<C: Collection<UInt8>>(_ text: C) -> UInt64? {
    guard !text.isEmpty else { return nil }
    var value: UInt64 = 0
    for c in text {
      guard let v = digitValue(c) else { return nil }
      guard value >> 60 == 0 else { return nil }
      value = value << 4 | UInt64(v)
    }
    return value
  }
}
