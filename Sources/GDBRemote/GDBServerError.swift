import Glibc

public enum GDBServerError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The listen address is not a numeric IPv4 address.
  case invalidAddress(String)
  /// A socket call failed while setting up the listener.
  case socketFailed(operation: String, address: String, errno: Int32)

  public var description: String {
    switch self {
    case .invalidAddress(let host):
      return "cannot listen on '\(host)': give a numeric IPv4 address such as 127.0.0.1"
    case .socketFailed(let operation, let address, let code):
      let reason = String(cString: strerror(code))
      let hint = code == EADDRINUSE ? " (another server is using that port: pick another one)" : ""
      return "cannot listen on \(address): \(operation) failed: \(reason)\(hint)"
    }
  }
}
