import Recording

/// The guest console as the engine sees it: counts and hashes every byte (replay compares
/// them with the recording) and forwards it while `forwarding` is on.
public final class OutputTap {
  public private(set) var count: UInt64 = 0
  private var hasher = StateHasher()
  private let forward: ([UInt8]) -> Void
  public var forwarding = true

  public init(forward: @escaping ([UInt8]) -> Void) { self.forward = forward }

  /// Bytes already forwarded: after a restore, output the guest prints again is not repeated.
  private var forwardedThrough: UInt64 = 0

  public func write(_ bytes: [UInt8]) {
    let start = count
    count += UInt64(bytes.count)
    hasher.update(bytes)
    guard forwarding, count > forwardedThrough else { return }
    let skip = Int(forwardedThrough > start ? forwardedThrough - start : 0)
    forward(skip == 0 ? bytes : Array(bytes[skip...]))
    forwardedThrough = count
  }

  /// After a seek, the output from here on is new to the user.
  func forgetForwarded() { forwardedThrough = count }

  public var hash: Hash128 { hasher.finalize() }

  /// Positions the tap after a restore. The running hash can only be kept from the start,
  /// so a tap that jumped is marked: its hash is not compared.
  func reset(count: UInt64) {
    self.count = count
    hasher = StateHasher()
    jumped = true
  }

  private(set) var jumped = false

  func resetToStart() {
    count = 0
    hasher = StateHasher()
    jumped = false
  }
}
