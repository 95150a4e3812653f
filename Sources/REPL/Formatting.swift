/// Number formats shared by `print`, `x` and the stop reports.
enum Format: Character, CaseIterable, Sendable {
  case hex = "x"
  case signed = "d"
  case unsigned = "u"
  case octal = "o"
  case binary = "t"
  case address = "a"
  case char = "c"
  case string = "s"
  case instruction = "i"
}

func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

/// `0x` and exactly `bytes * 2` hex digits.
func paddedHex(_ v: UInt64, bytes: Int) -> String {
  let digits = String(v, radix: 16)
  return "0x" + String(repeating: "0", count: max(0, bytes * 2 - digits.count)) + digits
}

func littleEndian(_ bytes: [UInt8]) -> UInt64 {
  bytes.prefix(8).enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
}

func signExtend(_ v: UInt64, bytes: Int) -> Int64 {
  guard bytes < 8 else { return Int64(bitPattern: v) }
  let shift = UInt64(64 - bytes * 8)
  return Int64(bitPattern: v << shift) >> Int64(shift)
}

/// A character as `x` and `print` show it: `65 'A'`, `10 '\n'`.
func charText(_ v: UInt64) -> String {
  let b = UInt8(truncatingIfNeeded: v)
  return "\(signExtend(UInt64(b), bytes: 1)) '\(escaped([b]))'"
}

/// Bytes as text in C's escapes: printable ASCII as is, the rest `\n`, `\t`, `\xNN`.
func escaped(_ bytes: [UInt8]) -> String {
  var s = ""
  for b in bytes {
    switch b {
    case 10: s += "\\n"
    case 13: s += "\\r"
    case 9: s += "\\t"
    case 0: s += "\\0"
    case 0x5C: s += "\\\\"
    case 0x27: s += "\\'"
    case 0x22: s += "\\\""
    case 0x20..<0x7F: s.append(Character(UnicodeScalar(b)))
    default: s += "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16)
    }
  }
  return s
}

/// An integer in a numeric format (`x`, `d`, `u`, `o`, `t`, `c`); `a` is done by the caller.
func formatNumber(_ v: UInt64, bytes: Int, format: Format, padded: Bool) -> String {
  let masked = bytes >= 8 ? v : v & ((1 << UInt64(bytes * 8)) - 1)
  switch format {
  case .signed: return String(signExtend(masked, bytes: bytes))
  case .unsigned: return String(masked)
  case .octal: return masked == 0 ? "0" : "0" + String(masked, radix: 8)
  case .binary:
    let digits = String(masked, radix: 2)
    return padded ? String(repeating: "0", count: max(0, bytes * 8 - digits.count)) + digits : digits
  case .char: return charText(masked)
  default: return padded ? paddedHex(masked, bytes: bytes) : hex(masked)
  }
}

/// Watched bytes: a little-endian number for 1, 2, 4 or 8 of them, else hex bytes.
func watchedValue(_ bytes: [UInt8]) -> String {
  if [1, 2, 4, 8].contains(bytes.count) { return paddedHex(littleEndian(bytes), bytes: bytes.count) }
  return bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
}

/// Left-aligns `s` in `width` columns (no truncation).
func pad(_ s: String, _ width: Int) -> String {
  s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
}

/// "1 byte", "4 bytes".
func byteCount(_ n: Int) -> String { n == 1 ? "1 byte" : "\(n) bytes" }
