/// Little-endian, length-prefixed binary encoding used by the recording header (and available
/// to chunk payload encoders).
public struct ByteWriter: Sendable {
  public private(set) var bytes: [UInt8] = []

  public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

  public var count: Int { bytes.count }

  public mutating func write(_ value: UInt8) { bytes.append(value) }
  public mutating func write(_ value: UInt16) { writeInteger(value) }
  public mutating func write(_ value: UInt32) { writeInteger(value) }
  public mutating func write(_ value: UInt64) { writeInteger(value) }

  /// Raw bytes, no length prefix.
  public mutating func write(raw: some Sequence<UInt8>) { bytes.append(contentsOf: raw) }

  /// u32 length, then the bytes.
  public mutating func write(lengthPrefixed value: [UInt8]) {
    // A field over 4 GiB cannot be encoded; that is a bug in the caller, not bad input.
    precondition(value.count <= UInt32.max, "length-prefixed field of \(value.count) bytes")
    write(UInt32(value.count))
    bytes.append(contentsOf: value)
  }

  /// u32 byte length, then UTF-8.
  public mutating func write(_ value: String) { write(lengthPrefixed: Array(value.utf8)) }

  /// The 16 canonical bytes.
  public mutating func write(_ value: Hash128) { bytes.append(contentsOf: value.canonicalBytes) }

  private mutating func writeInteger<T: FixedWidthInteger>(_ value: T) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
  }
}

/// A failed read: which field, at which offset (in the file, when the reader was given the
/// buffer's file offset), and why.
public struct ByteReaderError: Error, Equatable, Sendable, CustomStringConvertible {
  public var field: String
  public var offset: Int
  public var reason: String

  public init(field: String, offset: Int, reason: String) {
    self.field = field
    self.offset = offset
    self.reason = reason
  }

  public var description: String { "\(field) at byte offset \(offset): \(reason)" }
}

/// Bounds-checked reader over a byte array; every read names its field so errors say what was
/// being decoded and where.
public struct ByteReader: Sendable {
  private let bytes: [UInt8]
  /// Added to positions in errors, so they are file offsets rather than buffer offsets.
  public let baseOffset: Int
  public private(set) var position = 0

  public init(_ bytes: [UInt8], baseOffset: Int = 0) {
    self.bytes = bytes
    self.baseOffset = baseOffset
  }

  public var remaining: Int { bytes.count - position }
  public var isAtEnd: Bool { position == bytes.count }

  public mutating func readUInt8(_ field: String) throws(ByteReaderError) -> UInt8 {
    try readInteger(UInt8.self, field)
  }
  public mutating func readUInt16(_ field: String) throws(ByteReaderError) -> UInt16 {
    try readInteger(UInt16.self, field)
  }
  public mutating func readUInt32(_ field: String) throws(ByteReaderError) -> UInt32 {
    try readInteger(UInt32.self, field)
  }
  public mutating func readUInt64(_ field: String) throws(ByteReaderError) -> UInt64 {
    try readInteger(UInt64.self, field)
  }

  public mutating func readBytes(count: Int, _ field: String) throws(ByteReaderError) -> [UInt8] {
    guard count >= 0, count <= remaining else {
      throw fail(field, "needs \(count) bytes, only \(remaining) left")
    }
    defer { position += count }
    return Array(bytes[position..<position + count])
  }

  /// u32 length, then that many bytes; the length is checked against `limit` and the remaining
  /// bytes before anything is allocated.
  public mutating func readLengthPrefixedBytes(_ field: String, limit: Int = Int(UInt32.max))
    throws(ByteReaderError) -> [UInt8]
  {
    let start = position
    let count = Int(try readUInt32("\(field) length"))
    guard count <= limit else {
      position = start
      throw fail("\(field) length", "\(count) exceeds the limit of \(limit)")
    }
    return try readBytes(count: count, field)
  }

  public mutating func readString(_ field: String, limit: Int = Int(UInt32.max))
    throws(ByteReaderError) -> String
  {
    let start = position
    let raw = try readLengthPrefixedBytes(field, limit: limit)
    guard let string = String(validating: raw, as: UTF8.self) else {
      position = start
      throw fail(field, "not valid UTF-8")
    }
    return string
  }

  public mutating func readHash128(_ field: String) throws(ByteReaderError) -> Hash128 {
    Hash128(canonicalBytes: try readBytes(count: 16, field))
  }

  private mutating func readInteger<T: FixedWidthInteger>(_: T.Type, _ field: String)
    throws(ByteReaderError) -> T
  {
    let size = MemoryLayout<T>.size
    guard size <= remaining else {
      throw fail(field, "needs \(size) bytes, only \(remaining) left")
    }
    var value: T = 0
    for i in 0..<size { value |= T(bytes[position + i]) << (8 * i) }
    position += size
    return value
  }

  private func fail(_ field: String, _ reason: String) -> ByteReaderError {
    ByteReaderError(field: field, offset: baseOffset + position, reason: reason)
  }
}
