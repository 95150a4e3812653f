import KVM

/// What one instruction did to RAM that `unmapRAMPages` took out of KVM's view.
public struct UnmappedRAMAccesses: Sendable, Equatable {
  /// The instruction's accesses to unmapped RAM, reads with the value handed to the guest.
  public var accesses: [MMIOExit] = []
  /// What each byte the instruction wrote held before it (address -> byte).
  public var priorBytes: [UInt64: UInt8] = [:]
  /// Pages the instruction wrote: the dirty log does not see stores made from user space.
  public var writtenPages: Set<Int> = []
  /// The exit that ended the instruction: nil, or `.debug` when single-stepping. Anything else
  /// is unexpected (an access to unmapped RAM followed by another kind of exit).
  public var next: VCPUExit?
  /// The guest-debug setting was changed (to carry a string instruction to its end) and is now
  /// off: the caller sets its own again.
  public var changedGuestDebug = false
}

extension Platform {
  /// Carries out the guest's accesses to unmapped (watched) RAM on the memory itself, as the
  /// MMIO exits of one instruction, and completes the instruction. Both the live runner and
  /// replay use it, so an instruction does the same to memory whoever watches it.
  ///
  /// A repeated string instruction (`rep stos`, `rep movs`) stops at the end of the watched page
  /// with iterations left. It is carried to its end, one step at a time: the instant after it is
  /// one that a replay with all of RAM mapped reaches too, the instant in its middle is not.
  public func emulateUnmappedRAM(_ first: MMIOExit) throws(MachineError) -> UnmappedRAMAccesses {
    var result = UnmappedRAMAccesses()
    do throws(KVMError) {
      let start = try vcpu.registers().rip
      result.next = try complete(.mmio(first), into: &result)
      if let next = result.next, !next.isDebug { return result }
      guard try vcpu.registers().rip == start else { return result }
      try vcpu.setGuestDebug([.enable, .singleStep])
      result.changedGuestDebug = true
      defer { try? vcpu.setGuestDebug([]) }
      while true {
        var exit: VCPUExit? = try vcpu.run()
        if exit == .interrupted { continue }
        if case .mmio(let a)? = exit, isUnmappedRAM(a.address) { exit = try complete(.mmio(a), into: &result) }
        result.next = exit
        if let exit, !exit.isDebug { return result }
        if try vcpu.registers().rip != start { return result }
      }
    } catch {
      throw .kvm(error)
    }
  }

  /// Handles `exit` and the further accesses of the same instruction; returns the exit that
  /// followed the last one (nil when the instruction completed without another).
  private func complete(_ exit: VCPUExit, into result: inout UnmappedRAMAccesses) throws(KVMError) -> VCPUExit? {
    var next: VCPUExit? = exit
    while case .mmio(let a)? = next, isUnmappedRAM(a.address) {
      var access = a
      if a.isWrite {
        var bytes: [UInt8] = []
        for i in 0..<a.length {
          bytes.append(UInt8(truncatingIfNeeded: a.data >> (8 * UInt64(i))))
          let address = a.address + UInt64(i)
          if result.priorBytes[address] == nil {
            result.priorBytes[address] = memory.bytes(at: address, count: 1)?.first
          }
          result.writtenPages.insert(Int(address / GuestMemory.pageSize))
        }
        _ = memory.store(bytes, at: a.address)
      } else {
        let bytes = memory.bytes(at: a.address, count: a.length) ?? []
        var value: UInt64 = 0
        for (i, b) in bytes.enumerated() { value |= UInt64(b) << (8 * UInt64(i)) }
        vcpu.completeMMIORead(value)
        access.data = value
      }
      result.accesses.append(access)
      next = try vcpu.completePendingExit()
    }
    return next
  }
}

extension VCPUExit {
  fileprivate var isDebug: Bool { if case .debug = self { true } else { false } }
}
