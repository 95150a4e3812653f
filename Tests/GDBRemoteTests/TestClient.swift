import Foundation
import Glibc

@testable import GDBRemote

/// A minimal gdb stand-in over loopback TCP. Every read has a timeout, so a broken server fails
/// the test instead of hanging it.
final class TestClient {
  struct ConnectFailed: Error {}

  let fd: Int32
  private var decoder = GDBPacketDecoder()
  private var pending: [GDBFrameEvent] = []
  var noAck = false

  init(port: UInt16, timeoutSeconds: Int = 5) throws {
    fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = port.bigEndian
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
      Glibc.close(fd)
      throw ConnectFailed()
    }
    var time = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
  }

  deinit { Glibc.close(fd) }

  func sendRaw(_ bytes: [UInt8]) {
    _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
  }

  func send(_ payload: String) { sendRaw(GDBPacketEncoder.frame(Array(payload.utf8))) }
  func send(bytes payload: [UInt8]) { sendRaw(GDBPacketEncoder.frame(payload)) }

  /// The next frame event from the server, or nil on timeout / close.
  func nextEvent() -> GDBFrameEvent? {
    var buffer = [UInt8](repeating: 0, count: 65536)
    while pending.isEmpty {
      let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      guard n > 0 else { return nil }
      pending += decoder.feed(buffer[0..<n])
    }
    return pending.removeFirst()
  }

  /// The next packet (acking it in ack mode), skipping acks.
  func nextPacket() -> [UInt8]? {
    while let event = nextEvent() {
      switch event {
      case .ack: continue
      case .packet(let payload):
        if !noAck { sendRaw(GDBPacketEncoder.ack) }
        return payload
      default: return nil
      }
    }
    return nil
  }

  /// Sends a packet and returns the reply as text (nil on timeout or disconnect).
  func request(_ payload: String) -> String? {
    send(payload)
    return nextPacket().map { String(decoding: $0, as: UTF8.self) }
  }

  /// True once the server closed the connection (reads return end of stream).
  func isClosedByServer() -> Bool {
    var byte: UInt8 = 0
    return recv(fd, &byte, 1, 0) == 0
  }

  func shutdown() { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
}
