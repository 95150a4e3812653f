import KVM

/// Why the machine could not be built or run: each case names what the user can fix.
public enum MachineError: Error, CustomStringConvertible {
  case kvm(KVMError)
  case invalidConfiguration(String)
  case image(String)
  case memory(MemoryAccessError)
  /// The guest did something the engine cannot handle deterministically yet.
  case unsupported(String)

  public var description: String {
    switch self {
    case .kvm(let e): return e.description
    case .invalidConfiguration(let s): return "invalid machine configuration: \(s)"
    case .image(let s): return s
    case .memory(let e): return e.description
    case .unsupported(let s): return "unsupported: \(s)"
    }
  }
}

extension GuestMemory: PhysicalMemory {
  public func write(_ bytes: [UInt8], at address: UInt64) throws(MemoryAccessError) {
    guard store(bytes, at: address) else { throw MemoryAccessError(address: address, count: bytes.count, ramSize: size) }
  }

  public func read(at address: UInt64, count: Int) throws(MemoryAccessError) -> [UInt8] {
    guard let data = bytes(at: address, count: count) else {
      throw MemoryAccessError(address: address, count: count, ramSize: size)
    }
    return data
  }
}
