/// Turns arbitrary chunks of bytes from gdb into frame events.
///
/// A packet may arrive split across reads and several may share one. Memory stays bounded by
/// `maximumPayload`: an oversized frame is skipped byte by byte rather than buffered.
public struct GDBPacketDecoder: Sendable {
  /// The payload limit advertised as `PacketSize` (64 KiB).
  public static let defaultMaximumPayload = 0x10000

  public let maximumPayload: Int

  private enum State: Sendable {
    case idle
    case payload
    case checksumHigh
    case checksumLow(high: UInt8)
  }

  private var state = State.idle
  private var payload: [UInt8] = []
  private var wireSum: UInt8 = 0
  private var escapePending = false
  private var repeatPending = false
  private var malformed = false
  private var overflowed = false

  public init(maximumPayload: Int = GDBPacketDecoder.defaultMaximumPayload) {
    self.maximumPayload = max(1, maximumPayload)
  }

  /// True while a frame has started but not ended: a peer that vanishes now left it incomplete.
  public var isInsideFrame: Bool {
    if case .idle = state { return false }
    return true
  }

  public mutating func feed<S: Sequence<UInt8>>(_ bytes: S) -> [GDBFrameEvent] {
    var events: [GDBFrameEvent] = []
    for byte in bytes { consume(byte, into: &events) }
    return events
  }

  private mutating func consume(_ byte: UInt8, into events: inout [GDBFrameEvent]) {
    switch state {
    case .idle:
      switch byte {
      case UInt8(ascii: "$"): startFrame()
      case UInt8(ascii: "+"): events.append(.ack)
      case UInt8(ascii: "-"): events.append(.nack)
      case 0x03: events.append(.interrupt)
      default: break  // Line noise before a frame is skipped, as gdbserver does.
      }
    case .payload:
      consumePayload(byte)
    case .checksumHigh:
      guard let high = Hex.digitValue(byte) else { return abandonChecksum(byte, into: &events) }
      state = .checksumLow(high: high)
    case .checksumLow(let high):
      guard let low = Hex.digitValue(byte) else { return abandonChecksum(byte, into: &events) }
      finishFrame(checksumMatches: high << 4 | low == wireSum, into: &events)
    }
  }

  private mutating func startFrame() {
    state = .payload
    payload = []
    wireSum = 0
    escapePending = false
    repeatPending = false
    malformed = false
    overflowed = false
  }

  private mutating func consumePayload(_ byte: UInt8) {
    if byte == UInt8(ascii: "$") {
      // A raw `$` cannot occur inside a frame (binary data escapes it): the sender restarted.
      return startFrame()
    }
    if byte == UInt8(ascii: "#") {
      if escapePending || repeatPending { malformed = true }
      state = .checksumHigh
      return
    }
    wireSum &+= byte
    if repeatPending {
      repeatPending = false
      // `*n` repeats the previous byte n - 29 more times (gdb's run-length encoding); counts
      // below 3 are not encodable.
      guard byte >= 29 + 3 else {
        malformed = true
        return
      }
      guard !overflowed else { return }
      guard let last = payload.last else {
        malformed = true
        return
      }
      append(last, count: Int(byte) - 29)
    } else if escapePending {
      escapePending = false
      append(byte ^ 0x20, count: 1)
    } else if byte == UInt8(ascii: "}") {
      escapePending = true
    } else if byte == UInt8(ascii: "*") {
      repeatPending = true
    } else {
      append(byte, count: 1)
    }
  }

  private mutating func append(_ byte: UInt8, count: Int) {
    guard !overflowed else { return }
    guard payload.count + count <= maximumPayload else {
      overflowed = true
      payload = []  // Release the buffer now: the rest of this frame is only counted.
      return
    }
    for _ in 0..<count { payload.append(byte) }
  }

  private mutating func finishFrame(checksumMatches: Bool, into events: inout [GDBFrameEvent]) {
    state = .idle
    if overflowed {
      events.append(.oversized(limit: maximumPayload))
    } else if checksumMatches && !malformed {
      events.append(.packet(payload))
    } else {
      events.append(.badChecksum(payload))
    }
    payload = []
  }

  /// A non-hex checksum digit ends the frame as bad; the byte itself may start the next frame.
  private mutating func abandonChecksum(_ byte: UInt8, into events: inout [GDBFrameEvent]) {
    finishFrame(checksumMatches: false, into: &events)
    consume(byte, into: &events)
  }
}
