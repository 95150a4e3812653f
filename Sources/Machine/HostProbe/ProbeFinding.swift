/// One behaviour of the host's KVM, as a probe measured it.
public struct ProbeFinding: Sendable, Equatable, CustomStringConvertible {
  /// Whether the behaviour was seen; nil when the probe could not tell (it failed, or a
  /// behaviour it builds on is missing).
  public var value: Bool?
  /// What the probe saw, in a few words, for `retrovisor doctor`.
  public var observed: String

  public init(_ value: Bool?, _ observed: String) {
    self.value = value
    self.observed = observed
  }

  public static func unknown(_ why: String) -> ProbeFinding { ProbeFinding(nil, why) }

  public var description: String {
    let word = value.map { $0 ? "yes" : "no" } ?? "unknown"
    return "\(word) (\(observed))"
  }
}
