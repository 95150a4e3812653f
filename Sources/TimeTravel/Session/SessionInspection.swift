import KVM
import Machine
import Recording

extension Session {
  public func registers() throws -> Registers { try platform.vcpu.registers() }
  public func specialRegisters() throws -> SpecialRegisters { try platform.vcpu.specialRegisters() }

  /// The full-state hash of the current instant (registers, devices, every page of RAM): the
  /// one recording snapshots store.
  public func stateHash() throws -> Hash128 { try replayer.stateHash() }

  /// Reads guest memory at a guest-virtual address (through the guest's page tables) or, with
  /// `physical`, at a guest-physical one. Fails on the first byte that is not RAM.
  public func readMemory(_ address: UInt64, count: Int, physical: Bool = false) throws -> [UInt8] {
    guard count >= 0, count <= 1 << 24 else { throw SessionError.unsupported("cannot read \(count) bytes at once") }
    if physical {
      guard let bytes = platform.memory.bytes(at: address, count: count) else { throw SessionError.unmappedAddress(address) }
      return bytes
    }
    var out: [UInt8] = []
    var a = address
    while out.count < count {
      let inPage = min(count - out.count, Int(4096 - (a & 0xFFF)))
      guard let p = try translate(a), let bytes = platform.memory.bytes(at: p, count: inPage) else {
        throw SessionError.unmappedAddress(a)
      }
      out += bytes
      a &+= UInt64(inPage)
    }
    return out
  }

  /// Console output the guest has written up to now (bytes).
  public var outputBytes: UInt64 { replayer.tap.count }
}
