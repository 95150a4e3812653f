/// The protocol state of one connection on the serving thread: ack mode, the last packet sent
/// (for `-`), and the dispatcher. Turns frame events into replies on the socket.
final class GDBConnectionSession {
  enum Next: Equatable {
    case keepGoing
    case ended(GDBDisconnectReason)
  }

  let connection: GDBClientConnection
  private let dispatcher: GDBCommandDispatcher
  private let options: GDBServer.Options
  private let log: @Sendable (String) -> Void
  private var noAck = false
  private var lastSent: [UInt8]?

  init(
    connection: GDBClientConnection, target: any GDBTarget, options: GDBServer.Options, log: @escaping @Sendable (String) -> Void
  ) {
    self.connection = connection
    self.dispatcher = GDBCommandDispatcher(target: target, maximumPayload: options.maximumPayload)
    self.options = options
    self.log = log
  }

  func handle(_ frame: GDBFrameEvent, command: Result<GDBCommand, GDBCommandParseError>?) -> Next {
    switch frame {
    case .packet(let payload):
      if !noAck { write(GDBPacketEncoder.ack) }
      return execute(payload, command ?? parse(payload))
    case .badChecksum(let payload):
      if !noAck {
        log("gdb: packet with a bad checksum: asked for it again")
        write(GDBPacketEncoder.nack)
        return .keepGoing
      }
      // No acks means no retransmission: use the packet as gdbserver does.
      log("gdb: packet with a bad checksum in no-ack mode: used anyway")
      return execute(payload, parse(payload))
    case .oversized(let limit):
      if !noAck { write(GDBPacketEncoder.ack) }
      log("gdb: discarded a packet longer than \(limit) bytes")
      send([.error(.badRequest)])
      return .keepGoing
    case .nack:
      if !noAck, let lastSent { write(lastSent) }
      return .keepGoing
    case .ack, .interrupt:
      return .keepGoing  // Ctrl-C was routed by the reader thread already.
    }
  }

  private func parse(_ payload: [UInt8]) -> Result<GDBCommand, GDBCommandParseError> {
    Result { () throws(GDBCommandParseError) -> GDBCommand in try GDBCommandParser.parse(payload) }
  }

  private func execute(_ payload: [UInt8], _ parsed: Result<GDBCommand, GDBCommandParseError>) -> Next {
    trace("<-", payload)
    let command: GDBCommand
    switch parsed {
    case .success(let c): command = c
    case .failure(let error):
      log("gdb: \(error)")
      send([.error(.badRequest)])
      return .keepGoing
    }
    let outcome: GDBCommandDispatcher.Outcome
    if command.isResume {
      let interrupt = connection.gate.beginResume()
      outcome = dispatcher.handle(command, interrupt: interrupt)
      // Before the stop reply goes out: gdb's next Ctrl-C can only belong to a later resume.
      connection.gate.endResume()
    } else {
      outcome = dispatcher.handle(command)
    }
    send(outcome.replies)
    switch outcome.action {
    case .none: return .keepGoing
    case .enableNoAck:
      noAck = true
      lastSent = nil
      return .keepGoing
    case .detach: return .ended(.detached)
    case .kill: return .ended(.killed)
    }
  }

  private func send(_ replies: [GDBReply]) {
    for reply in replies {
      trace("->", reply.payload)
      let framed = GDBPacketEncoder.frame(reply)
      if !noAck { lastSent = framed }
      write(framed)
    }
  }

  private func write(_ bytes: [UInt8]) {
    // A failed write means gdb is gone or stalled: the reader will report the disconnect.
    if !connection.stream.send(bytes) { connection.stream.shutdown() }
  }

  private func trace(_ direction: String, _ payload: [UInt8]) {
    guard options.tracePackets else { return }
    let text = String(decoding: payload.prefix(200), as: UTF8.self)
    log("gdb: \(direction) \(text)\(payload.count > 200 ? "... (\(payload.count) bytes)" : "")")
  }
}
