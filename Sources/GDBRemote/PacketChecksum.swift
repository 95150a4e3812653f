/// The modulo-256 sum of the bytes between `$` and `#`, as sent on the wire (escaped form).
enum PacketChecksum {
  static func compute<S: Sequence<UInt8>>(_ bytes: S) -> UInt8 {
    var sum: UInt8 = 0
    for b in bytes { sum &+= b }
    return sum
  }
}
