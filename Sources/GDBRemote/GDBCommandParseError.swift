/// Why a packet's arguments could not be parsed. The server answers these with `E01`.
public enum GDBCommandParseError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The arguments do not match `syntax` (hex numbers, separators, data).
  case malformedArguments(command: String, syntax: String)
  /// The data carried is not as long as the length the packet declares.
  case lengthMismatch(command: String, declared: UInt64, actual: Int)

  public var description: String {
    switch self {
    case .malformedArguments(let command, let syntax):
      return "malformed '\(command)' packet: expected \(syntax) (numbers in hex)"
    case .lengthMismatch(let command, let declared, let actual):
      return "'\(command)' packet declares \(declared) bytes but carries \(actual)"
    }
  }
}
