/// Frames payloads for the wire: `$`, the payload with `#$}*` escaped, `#`, two checksum digits.
///
/// Escaping every payload is safe: text replies (hex, `OK`, stop replies) never contain those
/// bytes, so only binary replies (`x`, `qXfer`) change.
public enum GDBPacketEncoder {
  public static func frame(_ payload: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [UInt8(ascii: "$")]
    out.reserveCapacity(payload.count + 4)
    let escaped = escape(payload)
    out.append(contentsOf: escaped)
    out.append(UInt8(ascii: "#"))
    out.append(contentsOf: Hex.byte(PacketChecksum.compute(escaped)))
    return out
  }

  public static func frame(_ reply: GDBReply) -> [UInt8] { frame(reply.payload) }

  /// `}` followed by the byte xor 0x20, for the four bytes that would break framing.
  public static func escape(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    for b in bytes {
      switch b {
      case UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "}"), UInt8(ascii: "*"):
        out.append(UInt8(ascii: "}"))
        out.append(b ^ 0x20)
      default:
        out.append(b)
      }
    }
    return out
  }

  public static let ack: [UInt8] = [UInt8(ascii: "+")]
  public static let nack: [UInt8] = [UInt8(ascii: "-")]
}
