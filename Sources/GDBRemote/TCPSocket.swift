import Glibc

/// A listening IPv4 TCP socket. `shutdown` wakes a thread blocked in `accept`; the descriptor
/// is closed when the last reference goes, so no thread can use a reused descriptor number.
final class TCPListener: Sendable {
  let fd: Int32
  let port: UInt16
  let address: String

  init(host: String, port: UInt16) throws(GDBServerError) {
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = port.bigEndian
    guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else { throw .invalidAddress(host) }
    let display = "\(host):\(port)"
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw .socketFailed(operation: "socket", address: display, errno: errno) }
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    let bound = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else {
      let code = errno
      close(fd)
      throw .socketFailed(operation: "bind", address: display, errno: code)
    }
    guard listen(fd, 4) == 0 else {
      let code = errno
      close(fd)
      throw .socketFailed(operation: "listen", address: display, errno: code)
    }
    var actual = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &actual) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    self.fd = fd
    self.port = UInt16(bigEndian: actual.sin_port)
    self.address = "\(host):\(self.port)"
  }

  deinit { close(fd) }

  /// Blocks for the next client; nil once the listener is shut down or broken.
  func accept() -> TCPStream? {
    while true {
      var peer = sockaddr_in()
      var length = socklen_t(MemoryLayout<sockaddr_in>.size)
      let client = withUnsafeMutablePointer(to: &peer) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(fd, $0, &length) }
      }
      if client >= 0 {
        _ = fcntl(client, F_SETFD, FD_CLOEXEC)  // Child processes must not inherit the debugger socket.
        return TCPStream(fd: client, peer: Self.describe(peer))
      }
      // A client that reset before we accepted it is no reason to stop listening.
      if errno == EINTR || errno == ECONNABORTED || errno == EPROTO { continue }
      return nil
    }
  }

  func shutdown() { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }

  private static func describe(_ addr: sockaddr_in) -> String {
    var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
    var address = addr.sin_addr
    guard inet_ntop(AF_INET, &address, &text, socklen_t(text.count)) != nil else { return "?" }
    let host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return "\(host):\(UInt16(bigEndian: addr.sin_port))"
  }
}

/// A connected TCP socket shared by a reader thread and a writer. Closing waits for the last
/// reference (deinit); `shutdown` is how either side ends the conversation.
final class TCPStream: Sendable {
  let fd: Int32
  let peer: String

  init(fd: Int32, peer: String) {
    self.fd = fd
    self.peer = peer
    var one: Int32 = 1
    // Small request/reply packets: do not let Nagle hold them back.
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
  }

  deinit { close(fd) }

  /// Bytes read into `buffer`; 0 at end of stream or on error.
  func receive(into buffer: inout [UInt8]) -> Int {
    while true {
      let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if n < 0 && errno == EINTR { continue }
      return max(0, n)
    }
  }

  /// Writes everything; false once the peer is gone or the send timed out.
  @discardableResult
  func send(_ bytes: [UInt8]) -> Bool {
    var sent = 0
    while sent < bytes.count {
      let n = bytes.withUnsafeBytes { raw -> Int in
        guard let base = raw.baseAddress else { return 0 }
        return Glibc.send(fd, base + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
      }
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else { return false }
      sent += n
    }
    return true
  }

  /// Bounds how long a send or receive may block (0: forever).
  func setTimeouts(send: Int, receive: Int) {
    var sendTime = timeval(tv_sec: send, tv_usec: 0)
    var receiveTime = timeval(tv_sec: receive, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &sendTime, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &receiveTime, socklen_t(MemoryLayout<timeval>.size))
  }

  func shutdown() { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
  func shutdownWrite() { _ = Glibc.shutdown(fd, Int32(SHUT_WR)) }
}
