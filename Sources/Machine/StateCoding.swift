/// Snapshot encoding of device and machine state.
///
/// A deliberately simple little-endian byte format: every field is written in a fixed order,
/// so equal states encode to equal bytes and can be hashed directly.
public protocol StateCodable {
  func encodeState(into encoder: inout StateEncoder)
  func decodeState(from decoder: inout StateDecoder) throws(StateDecodingError)
}

public struct StateEncoder {
  public private(set) var bytes: [UInt8] = []
  public init() {}

  public mutating func write(_ value: UInt8) { bytes.append(value) }
  public mutating func write(_ value: Bool) { bytes.append(value ? 1 : 0) }
  public mutating func write(_ value: UInt16) { appendLittleEndian(value) }
  public mutating func write(_ value: UInt32) { appendLittleEndian(value) }
  public mutating func write(_ value: UInt64) { appendLittleEndian(value) }
  public mutating func write(_ value: Int) { appendLittleEndian(Int64(value)) }
  public mutating func write(_ values: [UInt8]) {
    write(UInt32(values.count))
    bytes.append(contentsOf: values)
  }

  private mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
  }
}

public struct StateDecodingError: Error, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}

public struct StateDecoder {
  private let bytes: [UInt8]
  public private(set) var offset = 0
  public init(_ bytes: [UInt8]) { self.bytes = bytes }

  public var isAtEnd: Bool { offset == bytes.count }

  public mutating func read() throws(StateDecodingError) -> UInt8 {
    try readInteger(UInt8.self)
  }
  public mutating func read() throws(StateDecodingError) -> Bool {
    try readInteger(UInt8.self) != 0
  }
  public mutating func read() throws(StateDecodingError) -> UInt16 {
    try readInteger(UInt16.self)
  }
  public mutating func read() throws(StateDecodingError) -> UInt32 {
    try readInteger(UInt32.self)
  }
  public mutating func read() throws(StateDecodingError) -> UInt64 {
    try readInteger(UInt64.self)
  }
  public mutating func read() throws(StateDecodingError) -> Int {
    Int(try readInteger(Int64.self))
  }
  public mutating func read() throws(StateDecodingError) -> [UInt8] {
    let count = Int(try readInteger(UInt32.self))
    guard count <= bytes.count - offset else {
      throw StateDecodingError("byte array of \(count) bytes runs past the end at offset \(offset)")
    }
    defer { offset += count }
    return Array(bytes[offset..<offset + count])
  }

  private mutating func readInteger<T: FixedWidthInteger>(_: T.Type) throws(StateDecodingError) -> T {
    let size = MemoryLayout<T>.size
    guard size <= bytes.count - offset else {
      throw StateDecodingError("state ends at offset \(offset), \(size) more bytes expected")
    }
    var value: T = 0
    for i in 0..<size { value |= T(bytes[offset + i]) << (8 * i) }
    offset += size
    return value
  }
}
