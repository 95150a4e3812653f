/// What the byte stream from gdb amounts to, one event per frame or control byte.
public enum GDBFrameEvent: Equatable, Sendable {
  /// A packet with a valid checksum. Escapes and run-lengths are already expanded, so binary
  /// payloads (`X`) carry their raw bytes.
  case packet([UInt8])
  /// The out-of-band interrupt byte 0x03 (Ctrl-C), seen between packets.
  case interrupt
  /// `+`: the peer received our last packet.
  case ack
  /// `-`: the peer wants our last packet again.
  case nack
  /// A complete frame whose checksum did not match, or whose escape or run-length was cut short.
  /// In ack mode the reply is `-` so gdb retransmits.
  case badChecksum([UInt8])
  /// A frame longer than the decoder's limit: its bytes were discarded as they arrived.
  case oversized(limit: Int)
}
