import Foundation
import Glibc

/// The gdb remote stub's TCP server: one debugger at a time on 127.0.0.1:1234 by default.
///
/// `serve` runs on the caller's thread and makes every `GDBTarget` call there, so the engine keeps
/// its vCPU on one thread. An acceptor thread takes connections (refusing a second debugger while
/// one is attached) and a reader thread per connection decodes packets.
public final class GDBServer: Sendable {
  public struct Options: Sendable {
    public var maximumPayload = GDBPacketDecoder.defaultMaximumPayload
    /// Log every packet in both directions (debugging the stub).
    public var tracePackets = false
    /// A debugger that stops reading for this long is dropped rather than wedging the server.
    public var sendTimeoutSeconds = 30

    public init() {}
  }

  public enum Outcome: Equatable, Sendable {
    /// gdb sent `k`.
    case killed
    /// `stop()` was called.
    case stopped
  }

  /// The port actually listened on (useful with port 0).
  public var port: UInt16 { listener.port }

  /// Whether a debugger is waiting to be accepted (before `serve`): the listening socket is
  /// readable. Lets a guest run until someone attaches, as QEMU's stub does without -S.
  public var hasPendingConnection: Bool {
    var p = pollfd(fd: listener.fd, events: Int16(POLLIN), revents: 0)
    return poll(&p, 1, 0) > 0 && p.revents & Int16(POLLIN) != 0
  }
  public var address: String { listener.address }

  private struct Shared {
    var active: GDBClientConnection?
    var served = false
    var stopped = false
  }

  private let listener: TCPListener
  private let options: Options
  private let log: @Sendable (String) -> Void
  private let queue = EventQueue<GDBClientConnection.Event>()
  private let shared = PThreadLock(Shared())

  public init(
    host: String = "127.0.0.1", port: UInt16 = 1234, options: Options = Options(),
    log: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
  ) throws(GDBServerError) {
    listener = try TCPListener(host: host, port: port)
    self.options = options
    self.log = log
  }

  /// Serves debuggers until one sends `k` or `stop()` is called. Call once.
  public func serve(_ target: any GDBTarget) -> Outcome {
    let alreadyServed = shared.withLock { s -> Bool in
      defer { s.served = true }
      return s.served || s.stopped
    }
    guard !alreadyServed else { return .stopped }
    log("gdb: listening on \(listener.address) (target remote \(listener.address))")
    Thread.detachNewThread { [self] in acceptLoop() }
    var session: GDBConnectionSession?
    defer { stop() }
    while let event = queue.pop() {
      switch event {
      case .connected(let connection):
        // The previous connection closed but its disconnect is still queued behind this.
        if let session { end(session, reason: .connectionLost, target: target) }
        log("gdb: debugger connected from \(connection.peer)")
        session = GDBConnectionSession(connection: connection, target: target, options: options, log: log)
      case .frame(let connection, let frame, let command):
        guard let current = session, current.connection === connection else { continue }
        switch current.handle(frame, command: command) {
        case .keepGoing: break
        case .ended(let reason):
          end(current, reason: reason, target: target)
          session = nil
          if reason == .killed { return .killed }
        }
      case .disconnected(let connection, let midPacket):
        guard let current = session, current.connection === connection else { continue }
        log("gdb: debugger at \(connection.peer) disconnected\(midPacket ? " in the middle of a packet" : "")")
        end(current, reason: .connectionLost, target: target)
        session = nil
      }
    }
    if let session { end(session, reason: .connectionLost, target: target) }
    return .stopped
  }

  /// Ends `serve` from any thread: closes the listener and any connection.
  public func stop() {
    let active = shared.withLock { s -> GDBClientConnection? in
      s.stopped = true
      defer { s.active = nil }
      return s.active
    }
    listener.shutdown()
    active?.stream.shutdown()
    queue.close()
  }

  private func end(_ session: GDBConnectionSession, reason: GDBDisconnectReason, target: any GDBTarget) {
    session.connection.stream.shutdown()
    release(session.connection)
    if reason != .connectionLost {
      log("gdb: debugger at \(session.connection.peer) \(reason == .killed ? "killed the session" : "detached")")
    }
    target.debuggerDisconnected(reason)
  }

  private func release(_ connection: GDBClientConnection) {
    shared.withLock { s in
      if s.active === connection { s.active = nil }
    }
  }

  // MARK: Accepting

  private func acceptLoop() {
    while let stream = listener.accept() {
      guard let connection = claim(stream) else {
        refuse(stream)
        continue
      }
      stream.setTimeouts(send: options.sendTimeoutSeconds, receive: 0)
      queue.push(.connected(connection))
      connection.startReading(into: queue, closed: { [self] in release(connection) }, log: log)
    }
  }

  /// Makes `stream` the active connection. A debugger that reconnects right after its previous
  /// connection dropped may beat the reader to noticing the drop, so wait a moment before refusing.
  private func claim(_ stream: TCPStream) -> GDBClientConnection? {
    for attempt in 0..<25 {
      if attempt > 0 { usleep(10_000) }
      let (connection, busy) = shared.withLock { s -> (GDBClientConnection?, Bool) in
        guard !s.stopped else { return (nil, false) }
        guard s.active == nil else { return (nil, true) }
        let connection = GDBClientConnection(stream: stream, maximumPayload: options.maximumPayload)
        s.active = connection
        return (connection, false)
      }
      if connection != nil || !busy { return connection }
    }
    return nil
  }

  /// Tells a second debugger why it cannot attach, without disturbing the first: the refusal
  /// answers its first packet, because gdb discards whatever arrives before it sends one.
  private func refuse(_ stream: TCPStream) {
    log("gdb: refused a debugger from \(stream.peer): another debugger is attached (detach it first)")
    Thread.detachNewThread {
      stream.setTimeouts(send: 2, receive: 2)
      var decoder = GDBPacketDecoder()
      var buffer = [UInt8](repeating: 0, count: 4096)
      var answered = false
      // Bounded: at most 64 reads, each bounded by the receive timeout.
      for _ in 0..<64 {
        let n = stream.receive(into: &buffer)
        guard n > 0 else { break }
        if !answered, decoder.feed(buffer[0..<n]).contains(where: { if case .packet = $0 { true } else { false } }) {
          stream.send(GDBPacketEncoder.ack + GDBPacketEncoder.frame(Self.refusal))
          stream.shutdownWrite()
          answered = true
        }
      }
    }
  }

  /// gdb prints an `E.` reply as "Remote failure reply: E.<text>".
  static let refusal = GDBReply("E.retrovisor: another debugger is already attached; detach it first")
}
