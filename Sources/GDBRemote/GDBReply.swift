/// A reply payload, unframed. `GDBPacketEncoder.frame` adds `$`, escapes and the checksum.
public struct GDBReply: Equatable, Sendable, CustomStringConvertible {
  public var payload: [UInt8]

  public init(_ payload: [UInt8]) { self.payload = payload }
  public init(_ text: String) { self.payload = Array(text.utf8) }

  public var description: String { String(decoding: payload, as: UTF8.self) }

  public static let ok = GDBReply("OK")
  /// gdb reads an empty reply as "this packet is not supported".
  public static let empty = GDBReply([])

  public static func error(_ code: GDBErrorCode) -> GDBReply {
    GDBReply([UInt8(ascii: "E")] + Hex.byte(code.rawValue))
  }

  /// Memory or register bytes as hex (`m`, `g`, `p`).
  public static func hex(_ bytes: [UInt8]) -> GDBReply { GDBReply(Hex.encode(bytes)) }

  /// Memory as binary for `x`: gdb's documented form is `b` followed by the data, which framing
  /// escapes.
  public static func binary(_ bytes: [UInt8]) -> GDBReply { GDBReply([UInt8(ascii: "b")] + bytes) }

  /// Console output for gdb to print (`monitor` replies and messages during a resume): `O`
  /// followed by hex text, split so no packet exceeds `maximumTextBytes` of text.
  public static func output(_ text: String, maximumTextBytes: Int = 4096) -> [GDBReply] {
    let bytes = Array(text.utf8)
    let chunk = max(1, maximumTextBytes)
    return stride(from: 0, to: bytes.count, by: chunk).map { start in
      GDBReply([UInt8(ascii: "O")] + Hex.encode(bytes[start..<min(start + chunk, bytes.count)]))
    }
  }

  /// One window of a `qXfer` object: `l` when the window reaches the end, `m` when more follows.
  public static func xfer(_ document: [UInt8], offset: Int, length: Int) -> GDBReply {
    let start = min(max(0, offset), document.count)
    let end = start + min(max(0, length), document.count - start)
    let prefix = end >= document.count ? UInt8(ascii: "l") : UInt8(ascii: "m")
    return GDBReply([prefix] + document[start..<end])
  }

  /// The `qSupported` answer: what this stub offers gdb. `PacketSize` is hex, like all numbers.
  public static func supported(packetSize: Int) -> GDBReply {
    let features = [
      "PacketSize=\(String(packetSize, radix: 16))", "QStartNoAckMode+", "qXfer:features:read+", "swbreak+",
      "hwbreak+", "vContSupported+", "ReverseStep+", "ReverseContinue+",
    ]
    return GDBReply(features.joined(separator: ";"))
  }

  /// `vCont?`: gdb uses vCont only when c, C, s and S are all listed.
  public static let vContActions = GDBReply("vCont;c;C;s;S")
}

/// The `Exx` codes this stub sends. gdb prints the number; docs/gdb-protocol.md lists them.
public enum GDBErrorCode: UInt8, Sendable {
  /// A `qXfer` annex that does not exist.
  case noSuchObject = 0x00
  /// A malformed packet, an oversized one, or a register number the layout does not have.
  case badRequest = 0x01
  /// The target failed to carry out the request.
  case targetFailure = 0x05
  /// Memory that cannot be read or written (EFAULT, as gdbserver uses it).
  case memoryFault = 0x0e
}
