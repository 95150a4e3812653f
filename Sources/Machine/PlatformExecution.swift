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
  /// recording says where each injection happened). Returns the vector injected, if any.
  @discardableResult
  public func injectPendingInterrupt(requestWindow: Bool = true) throws -> UInt8? {
    guard pic.hasPendingInterrupt else {
      vcpu.requestInterruptWindow = false
      return nil
    }
    var injected: UInt8?
    if vcpu.readyForInterruptInjection, let vector = pic.acknowledge() {
      do { try vcpu.injectInterrupt(vector: vector) } catch { throw MachineError.kvm(error) }
      injected = vector
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

  /// Completes the instruction of an I/O or MMIO exit now (see `VCPU.completePendingExit`):
  /// every exit then leaves a state that snapshots restore and single-steps continue exactly.
  public func finishExitInstruction() throws {
    let next: VCPUExit?
    do { next = try vcpu.completePendingExit() } catch { throw MachineError.kvm(error) }
    if let next, case .debug = next { return }
    guard next == nil else {
      throw MachineError.unsupported(
        "an I/O instruction that needs several exits (string I/O with a count): not supported yet (the next exit was \(String(describing: next)))"
      )
    }
  }

  /// A fault report with the registers and the code bytes at rip.
  public func fault(_ kind: GuestFault.Kind) -> GuestFault {
    let regs = try? vcpu.registers()
    let sregs = try? vcpu.specialRegisters()
    var code: [UInt8] = []
    if let regs, let sregs {
      if let physical = (try? physicalAddress(ofLinear: sregs.linearAddress(ofCode: regs.rip))) ?? nil {
        code = memory.bytes(at: physical, count: 16) ?? memory.bytes(at: physical, count: 1) ?? []
      }
    }
    return GuestFault(kind: kind, registers: regs, specialRegisters: sregs, codeBytes: code)
  }
}
