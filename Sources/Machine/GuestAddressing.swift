import KVM

/// Guest-virtual (linear) memory access through the guest's own page tables, and the IDT lookup
/// the engine needs to stop at an interrupt handler's first instruction.
extension Platform {
  /// Linear (guest-virtual) to guest-physical through the guest's page tables; without
  /// paging, the identity within 4 GiB. nil when not mapped.
  public func physicalAddress(ofLinear linear: UInt64) throws -> UInt64? {
    do {
      guard try vcpu.specialRegisters().isPaging else { return linear & 0xFFFF_FFFF }
      return try vcpu.translate(linear)
    } catch {
      throw MachineError.kvm(error)
    }
  }

  /// Reads `count` bytes at a linear address; nil when some page is not mapped or not RAM.
  public func readLinear(_ address: UInt64, count: Int) throws -> [UInt8]? {
    var out: [UInt8] = []
    out.reserveCapacity(count)
    var linear = address
    var remaining = count
    while remaining > 0 {
      let inPage = min(remaining, Int(4096 - (linear & 0xFFF)))
      guard let physical = try physicalAddress(ofLinear: linear), let bytes = memory.bytes(at: physical, count: inPage)
      else { return nil }
      out += bytes
      linear &+= UInt64(inPage)
      remaining -= inPage
    }
    return out
  }

  /// The linear address of the next instruction.
  public func linearPC() throws -> UInt64 {
    do {
      return try vcpu.specialRegisters().linearAddress(ofCode: try vcpu.registers().rip)
    } catch {
      throw MachineError.kvm(error)
    }
  }

  /// The byte at the vCPU's pc (nil when not readable).
  public func instructionByteAtPC() throws -> UInt8? {
    try readLinear(try linearPC(), count: 1)?.first
  }

  /// The linear address where the handler of `vector` starts, from the IDT (protected and long
  /// mode) or the IVT (real mode); nil when the gate cannot be read.
  public func interruptHandlerAddress(vector: UInt8) throws -> UInt64? {
    let sregs: SpecialRegisters
    do { sregs = try vcpu.specialRegisters() } catch { throw MachineError.kvm(error) }
    let v = UInt64(vector)
    if !sregs.isProtected {
      guard let e = try readLinear(sregs.idt.base + v * 4, count: 4) else { return nil }
      let offset = UInt64(e[0]) | UInt64(e[1]) << 8
      let segment = UInt64(e[2]) | UInt64(e[3]) << 8
      return segment << 4 + offset
    }
    let long = sregs.efer & SpecialRegisters.eferLMA != 0
    guard let g = try readLinear(sregs.idt.base + v * (long ? 16 : 8), count: long ? 16 : 8) else { return nil }
    var offset = UInt64(g[0]) | UInt64(g[1]) << 8 | UInt64(g[6]) << 16 | UInt64(g[7]) << 24
    if long {
      offset |= (UInt64(g[8]) | UInt64(g[9]) << 8 | UInt64(g[10]) << 16 | UInt64(g[11]) << 24) << 32
      return offset
    }
    // Flat code segments are the rule; a handler in the current code segment uses its base.
    let selector = UInt16(g[2]) | UInt16(g[3]) << 8
    return (selector == sregs.cs.selector ? sregs.cs.base : 0) &+ offset
  }
}
