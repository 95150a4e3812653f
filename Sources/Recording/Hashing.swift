import CXXHash

/// A 128-bit XXH3 hash. Printed (and stored in the recording header) in xxHash's canonical
/// order, high 64 bits first, so `description` matches `xxhsum -H2`.
public struct Hash128: Hashable, Sendable, CustomStringConvertible {
  public var high: UInt64
  public var low: UInt64

  public init(high: UInt64, low: UInt64) {
    self.high = high
    self.low = low
  }

  public static let zero = Hash128(high: 0, low: 0)

  /// 32 lowercase hex digits, high half first.
  public var description: String { hex(high) + hex(low) }

  /// Parses 32 hex digits (the `description` format).
  public init?(hex text: String) {
    let utf8 = Array(text.utf8)
    guard utf8.count == 32,
      let high = UInt64(String(decoding: utf8[0..<16], as: UTF8.self), radix: 16),
      let low = UInt64(String(decoding: utf8[16..<32], as: UTF8.self), radix: 16)
    else { return nil }
    self.init(high: high, low: low)
  }

  /// The 16-byte canonical form (big-endian high, then big-endian low), as XXH128_canonical_t.
  public var canonicalBytes: [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(16)
    withUnsafeBytes(of: high.bigEndian) { bytes.append(contentsOf: $0) }
    withUnsafeBytes(of: low.bigEndian) { bytes.append(contentsOf: $0) }
    return bytes
  }

  public init(canonicalBytes bytes: some Collection<UInt8>) {
    var high: UInt64 = 0
    var low: UInt64 = 0
    for (i, byte) in bytes.prefix(16).enumerated() {
      if i < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
    }
    self.init(high: high, low: low)
  }

  init(_ raw: XXH128_hash_t) { self.init(high: raw.high64, low: raw.low64) }
}

private func hex(_ value: UInt64) -> String {
  let digits = String(value, radix: 16)
  return String(repeating: "0", count: 16 - digits.count) + digits
}

/// One-shot hashes of byte buffers: XXH3-128 for content addressing (pages, images, state),
/// XXH3-64 for chunk checksums.
public enum ContentHash {
  public static func of(_ bytes: UnsafeRawBufferPointer) -> Hash128 {
    Hash128(XXH3_128bits(bytes.baseAddress, bytes.count))
  }

  public static func of(_ bytes: [UInt8]) -> Hash128 {
    bytes.withUnsafeBytes { of($0) }
  }

  public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    XXH3_64bits(bytes.baseAddress, bytes.count)
  }

  public static func checksum(_ bytes: [UInt8]) -> UInt64 {
    bytes.withUnsafeBytes { checksum($0) }
  }
}

/// Owns one heap-allocated XXH3 state (libxxhash requires 64-byte alignment, which
/// XXH3_createState guarantees; the struct layout is not part of the dynamic library's ABI).
final class XXH3StateBox: @unchecked Sendable {
  // @unchecked: the state is only mutated through a uniquely referenced box (copy-on-write in
  // StateHasher) or confined to one call (Checksum64), so no two threads touch it at once.
  let state: OpaquePointer

  init?() {
    guard let state = XXH3_createState() else { return nil }
    self.state = state
  }

  deinit { XXH3_freeState(state) }
}

/// Streaming XXH3-128 over a sequence of updates; the result equals `ContentHash.of` applied to
/// the concatenation of everything fed in. Integers are fed as their little-endian bytes so the
/// hash of a machine state does not depend on the host.
///
/// Value semantics: copying a hasher forks the stream (copy-on-write of the XXH3 state).
public struct StateHasher: Sendable {
  private var box: XXH3StateBox

  public init() {
    box = StateHasher.makeBox()
    XXH3_128bits_reset(box.state)
  }

  private static func makeBox() -> XXH3StateBox {
    // XXH3_createState only fails if malloc does; there is nothing sensible to continue with.
    guard let box = XXH3StateBox() else { fatalError("XXH3_createState: out of memory") }
    return box
  }

  private mutating func makeUnique() {
    if !isKnownUniquelyReferenced(&box) {
      let copy = StateHasher.makeBox()
      XXH3_copyState(copy.state, box.state)
      box = copy
    }
  }

  public mutating func update(_ bytes: UnsafeRawBufferPointer) {
    guard bytes.count > 0 else { return }
    makeUnique()
    XXH3_128bits_update(box.state, bytes.baseAddress, bytes.count)
  }

  public mutating func update(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { update($0) }
  }

  public mutating func update(_ bytes: ArraySlice<UInt8>) {
    bytes.withUnsafeBytes { update($0) }
  }

  /// Feeds the little-endian bytes of `value` (its full width: `Int` counts as 8 bytes).
  public mutating func update<T: FixedWidthInteger>(_ value: T) {
    withUnsafeBytes(of: value.littleEndian) { update($0) }
  }

  public mutating func update(_ value: Bool) { update(UInt8(value ? 1 : 0)) }

  /// Feeds the canonical 16 bytes of a hash (for hashing a list of page hashes, for example).
  public mutating func update(_ hash: Hash128) {
    withUnsafeBytes(of: (hash.high.bigEndian, hash.low.bigEndian)) { update($0) }
  }

  /// The hash of everything fed so far; the hasher can keep being updated afterwards.
  public func finalize() -> Hash128 {
    Hash128(XXH3_128bits_digest(box.state))
  }
}

/// Streaming XXH3-64 used for chunk checksums, which cover non-contiguous parts of a chunk.
struct Checksum64 {
  private let box: XXH3StateBox

  init() {
    guard let box = XXH3StateBox() else { fatalError("XXH3_createState: out of memory") }
    self.box = box
    XXH3_64bits_reset(box.state)
  }

  func update(_ bytes: UnsafeRawBufferPointer) {
    guard bytes.count > 0 else { return }
    XXH3_64bits_update(box.state, bytes.baseAddress, bytes.count)
  }

  func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

  func update(_ bytes: ArraySlice<UInt8>) { bytes.withUnsafeBytes { update($0) } }

  func digest() -> UInt64 { XXH3_64bits_digest(box.state) }
}
