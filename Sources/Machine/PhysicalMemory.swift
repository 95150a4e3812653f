/// Guest-physical RAM as loaders and devices see it: bounds-checked byte access.
public protocol PhysicalMemory: AnyObject {
  /// Bytes of RAM, mapped at guest-physical address 0.
  var size: UInt64 { get }
  func write(_ bytes: [UInt8], at address: UInt64) throws(MemoryAccessError)
  func read(at address: UInt64, count: Int) throws(MemoryAccessError) -> [UInt8]
}

public struct MemoryAccessError: Error, CustomStringConvertible, Equatable {
  public var address: UInt64
  public var count: Int
  public var ramSize: UInt64
  public init(address: UInt64, count: Int, ramSize: UInt64) {
    self.address = address
    self.count = count
    self.ramSize = ramSize
  }
  public var description: String {
    let hex = String(address, radix: 16)
    return "guest-physical access of \(count) bytes at 0x\(hex) is outside RAM (\(ramSize >> 20) MiB)"
  }
}

extension PhysicalMemory {
  public func writeUInt32(_ value: UInt32, at address: UInt64) throws(MemoryAccessError) {
    try write(withUnsafeBytes(of: value.littleEndian) { Array($0) }, at: address)
  }
  public func writeUInt64(_ value: UInt64, at address: UInt64) throws(MemoryAccessError) {
    try write(withUnsafeBytes(of: value.littleEndian) { Array($0) }, at: address)
  }
}

/// RAM in a Swift array: for unit tests of loaders and devices without /dev/kvm.
public final class ArrayMemory: PhysicalMemory {
  public private(set) var bytes: [UInt8]
  public init(size: Int) { bytes = [UInt8](repeating: 0, count: size) }
  public var size: UInt64 { UInt64(bytes.count) }

  public func write(_ data: [UInt8], at address: UInt64) throws(MemoryAccessError) {
    try check(address, data.count)
    let start = Int(address)
    bytes.replaceSubrange(start..<start + data.count, with: data)
  }

  public func read(at address: UInt64, count: Int) throws(MemoryAccessError) -> [UInt8] {
    try check(address, count)
    return Array(bytes[Int(address)..<Int(address) + count])
  }

  private func check(_ address: UInt64, _ count: Int) throws(MemoryAccessError) {
    guard count >= 0, address <= size, UInt64(count) <= size - address else {
      throw MemoryAccessError(address: address, count: count, ramSize: size)
    }
  }
}
