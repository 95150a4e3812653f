/// Why a recording cannot be replayed (further), in words the user can act on.
public enum ReplayError: Error, CustomStringConvertible {
  /// The file is damaged or inconsistent at a named place.
  case damaged(String)
  /// The image given does not match the one recorded.
  case imageMismatch(String)
  /// Replay no longer reproduces the recording: the first differing instant and what differs.
  case divergence(String)
  /// Made by a build that counts positions differently.
  case incompatible(String)
  /// A position outside what the recording holds.
  case outOfRange(String)

  public var description: String {
    switch self {
    case .damaged(let s): return "damaged recording: \(s)"
    case .imageMismatch(let s): return s
    case .divergence(let s): return "replay diverged from the recording: \(s)"
    case .outOfRange(let s): return s
    case .incompatible(let s): return "cannot replay: \(s)"
    }
  }
}
