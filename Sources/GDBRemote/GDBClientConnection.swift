import Foundation

/// One gdb connection: its socket, its reader thread and its interrupt gate.
///
/// The reader decodes frames and hands them to the serving thread through the server's queue.
/// Ctrl-C is the exception: it goes straight to the running resume, since the serving thread is
/// inside that resume and not reading the queue.
final class GDBClientConnection: Sendable {
  enum Event: Sendable {
    case connected(GDBClientConnection)
    /// `command` is set for valid packets (parsed here to spot resumes ahead of the server).
    case frame(GDBClientConnection, GDBFrameEvent, command: Result<GDBCommand, GDBCommandParseError>?)
    case disconnected(GDBClientConnection, midPacket: Bool)
  }

  let stream: TCPStream
  let gate = InterruptGate()
  let maximumPayload: Int

  init(stream: TCPStream, maximumPayload: Int) {
    self.stream = stream
    self.maximumPayload = maximumPayload
  }

  var peer: String { stream.peer }

  /// `closed` runs on the reader thread as soon as the peer is gone, before the disconnect is
  /// queued, so a debugger reconnecting at once finds the server free.
  func startReading(
    into queue: EventQueue<Event>, closed: @escaping @Sendable () -> Void, log: @escaping @Sendable (String) -> Void
  ) {
    Thread.detachNewThread { [self] in readLoop(queue: queue, closed: closed, log: log) }
  }

  private func readLoop(queue: EventQueue<Event>, closed: @Sendable () -> Void, log: @Sendable (String) -> Void) {
    var decoder = GDBPacketDecoder(maximumPayload: maximumPayload)
    var buffer = [UInt8](repeating: 0, count: 16 * 1024)
    while true {
      let n = stream.receive(into: &buffer)
      guard n > 0 else { break }
      for event in decoder.feed(buffer[0..<n]) {
        switch event {
        case .interrupt:
          if !gate.interrupt() { log("gdb: Ctrl-C while the guest is stopped: ignored") }
        case .packet(let payload):
          let command = Result { () throws(GDBCommandParseError) -> GDBCommand in try GDBCommandParser.parse(payload) }
          if case .success(let c) = command, c.isResume { gate.resumeQueued() }
          queue.push(.frame(self, event, command: command))
        default:
          queue.push(.frame(self, event, command: nil))
        }
      }
    }
    gate.connectionLost()
    closed()
    queue.push(.disconnected(self, midPacket: decoder.isInsideFrame))
  }
}
