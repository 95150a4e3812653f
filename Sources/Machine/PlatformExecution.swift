import KVM

/// The steps of running a guest that the live runner, the recorder and the replayer share.
extension Platform {
  /// Moves guest time to `time` and fires the timers that are due by then.
  public func deliverTime(_ time: UInt64) {
    clock.advance(to: time)
    pit.fireDue()
  }

  /// Injects the PIC's highest-priority request if the guest can take it now and, with
  /// `requestWindow`, asks for an interrupt window while more wait (a replay never does: the
  /// recording says where each injection happened). True when a vector was injected.
  public func injectPendingInterrupt(requestWindow: Bool = true) throws -> Bool {
    guard pic.hasPendingInterrupt else {
      vcpu.requestInterruptWindow = false
      return false
    }
    var injected = false
    if vcpu.readyForInterruptInjection, let vector = pic.acknowledge() {
      do { try vcpu.injectInterrupt(vector: vector) } catch { throw MachineError.kvm(error) }
      injected = true
    }
    // One injection per entry: ask for the next window if more are waiting.
    vcpu.requestInterruptWindow = requestWindow && pic.hasPendingInterrupt
    return injected
  }

  /// Carries out the port I/O of an `.io` exit against the bus.
  public func emulate(_ io: IOExit) {
    let data = vcpu.ioData
    for i in 0..<io.count {
      let slot = data + i * io.size
      if io.isWrite {
        var value: UInt32 = 0
        for b in 0..<io.size { value |= UInt32(slot[b]) << (8 * b) }
        bus.write(port: io.port, size: io.size, value: value)
      } else {
        let value = bus.read(port: io.port, size: io.size)
        for b in 0..<io.size { slot[b] = UInt8(truncatingIfNeeded: value >> (8 * b)) }
      }
    }
  }

  /// A fault report with the registers and the code bytes at rip.
  public func fault(_ kind: GuestFault.Kind) -> GuestFault {
    let regs = try? vcpu.registers()
    let sregs = try? vcpu.specialRegisters()
    var code: [UInt8] = []
    if let regs, let sregs {
      let linear = sregs.is64BitCode ? regs.rip : sregs.cs.base &+ regs.rip
      let physical = sregs.isPaging ? ((try? vcpu.translate(linear)) ?? nil) : linear
      if let physical {
        code = memory.bytes(at: physical, count: 16) ?? memory.bytes(at: physical, count: 1) ?? []
      }
    }
    return GuestFault(kind: kind, registers: regs, specialRegisters: sregs, codeBytes: code)
  }
}
