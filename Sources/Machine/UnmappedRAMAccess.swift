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
      result.next = try complete(.mmio(first), into: &result)
      if let next = result.next, !next.isDebug { return result }
      // Registers are read only once the exit is complete: at a pending MMIO exit, rip is the
      // instruction's for a read and the next one's for a write (KVM finishes writes first).
      guard let last = result.accesses.last, try repeatedStringInProgress(after: last) else { return result }
      let start = try vcpu.registers().rip
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

  /// Whether the vCPU stands inside a repeated string instruction that made `last`: rip is at a
  /// `rep`-prefixed string instruction with a count left whose pointer (rsi or rdi) is one
  /// element past `last`. (A plain access followed by such an instruction whose pointer happens
  /// to start right after it would be taken for one; compilers do not emit that.)
  func repeatedStringInProgress(after last: MMIOExit) throws(KVMError) -> Bool {
    let regs = try vcpu.registers()
    let sregs = try vcpu.specialRegisters()
    guard let code = try? readLinear(sregs.linearAddress(ofCode: regs.rip), count: 15) else { return false }
    var rep = false
    var operandSize16 = false
    var addressSizeOverride = false
    var rexW = false
    var segment = sregs.ds
    // In 64-bit code only FS and GS have a base.
    var fsOrGS = false
    var i = 0
    prefixes: while i < code.count {
      switch code[i] {
      case 0xF2, 0xF3: rep = true
      case 0x66: operandSize16 = true
      case 0x67: addressSizeOverride = true
      case 0x26: segment = sregs.es
      case 0x2E: segment = sregs.cs
      case 0x36: segment = sregs.ss
      case 0x3E: segment = sregs.ds
      case 0x64:
        segment = sregs.fs
        fsOrGS = true
      case 0x65:
        segment = sregs.gs
        fsOrGS = true
      case 0x40...0x4F where sregs.is64BitCode: rexW = code[i] & 0x08 != 0
      default: break prefixes
      }
      i += 1
    }
    guard rep, i < code.count else { return false }
    let opcode = code[i]
    let usesSource: Bool
    let usesDestination: Bool
    switch opcode {
    case 0xA4, 0xA5, 0xA6, 0xA7: (usesSource, usesDestination) = (true, true)  // movs, cmps
    case 0xAA, 0xAB, 0xAE, 0xAF, 0x6C, 0x6D: (usesSource, usesDestination) = (false, true)  // stos, scas, ins
    case 0xAC, 0xAD, 0x6E, 0x6F: (usesSource, usesDestination) = (true, false)  // lods, outs
    default: return false
    }
    let addressBits: UInt64
    if sregs.is64BitCode {
      addressBits = addressSizeOverride ? 32 : 64
    } else {
      addressBits = (sregs.cs.db != addressSizeOverride) ? 32 : 16
    }
    let mask: UInt64 = addressBits == 64 ? .max : (1 << addressBits) - 1
    guard regs.rcx & mask != 0 else { return false }
    let element: UInt64
    if opcode & 1 == 0 {
      element = 1
    } else if rexW {
      element = 8
    } else {
      let default16 = !sregs.is64BitCode && !sregs.cs.db
      element = (default16 != operandSize16) ? 2 : 4
    }
    let down = regs.rflags & (1 << 10) != 0
    var pointers: [UInt64] = []
    if usesSource { pointers.append((sregs.is64BitCode && !fsOrGS ? 0 : segment.base) &+ (regs.rsi & mask)) }
    if usesDestination { pointers.append((sregs.is64BitCode ? 0 : sregs.es.base) &+ (regs.rdi & mask)) }
    for linear in pointers {
      guard let physical = try? physicalAddress(ofLinear: linear) else { continue }
      let behind = down ? physical &+ element : physical &- element
      if last.address == behind { return true }
    }
    return false
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
