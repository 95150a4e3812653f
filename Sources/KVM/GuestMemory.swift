#if canImport(Glibc)
  import Glibc
#endif

/// Host memory backing guest RAM: an anonymous mapping handed to KVM as a memory slot.
///
/// Access is bounds-checked; the raw pointer is exposed for bulk copies (snapshots).
public final class GuestMemory: @unchecked Sendable {
  public let pointer: UnsafeMutableRawPointer
  public let size: UInt64
  public static let pageSize: UInt64 = 4096

  public init(size: UInt64) throws(KVMError) {
    guard size > 0, size % Self.pageSize == 0 else {
      throw KVMError("allocate guest RAM", message: "size \(size) is not a positive multiple of 4 KiB")
    }
    let mapping = mmap(nil, Int(size), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
    guard let mapping, mapping != MAP_FAILED else {
      throw KVMError("mmap of \(size >> 20) MiB of guest RAM", errno: Glibc.errno)
    }
    pointer = mapping
    self.size = size
  }

  deinit { munmap(pointer, Int(size)) }

  public func contains(_ address: UInt64, count: Int) -> Bool {
    count >= 0 && address <= size && UInt64(count) <= size - address
  }

  /// Copies out `count` bytes at `address`, or nil when the range is not all RAM.
  public func bytes(at address: UInt64, count: Int) -> [UInt8]? {
    guard contains(address, count: count) else { return nil }
    return Array(UnsafeRawBufferPointer(start: pointer + Int(address), count: count))
  }

  /// Copies `data` to `address`; false when the range is not all RAM.
  @discardableResult
  public func store(_ data: [UInt8], at address: UInt64) -> Bool {
    guard contains(address, count: data.count) else { return false }
    guard !data.isEmpty else { return true }
    data.withUnsafeBytes { (pointer + Int(address)).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    return true
  }
}
