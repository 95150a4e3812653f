import KVM

/// Probes of single-stepping (`KVM_GUESTDBG_SINGLESTEP`) across instructions that exit to user
/// space, and of completing an exit's instruction with immediate_exit.
enum StepProbes {
  typealias C = ProbeCode

  struct Findings {
    var works: ProbeFinding
    var ioCompletionReportsStep: ProbeFinding
    var ioLate: ProbeFinding
    var haltHalts: ProbeFinding
    var haltLate: ProbeFinding
  }

  /// Steps through `nop; out; nop; nop; hlt; nop; nop; hlt` (offsets 0, 1, 3, 4, 5, 6, 7, 8).
  static func singleStep(_ system: ProbeHost) -> Findings {
    let base = ProbeMachine.code
    var f = Findings(
      works: .unknown("not reached"), ioCompletionReportsStep: .unknown("not reached"), ioLate: .unknown("not reached"),
      haltHalts: .unknown("not reached"), haltLate: .unknown("not reached"))
    do {
      let program = [C.nop] + C.out + [C.nop, C.nop, C.hlt, C.nop, C.nop, C.hlt]
      let m = try ProbeMachine(system: system, program: program)
      try m.vcpu.setGuestDebug([.enable, .singleStep])
      let first = try m.run()
      guard case .debug(let d) = first, d.pc == base + 1, try m.rip == base + 1 else {
        f.works = ProbeFinding(false, "first step gave \(ProbeMachine.describe(first))")
        return f
      }
      f.works = ProbeFinding(true, "one debug exit per instruction, pc = rip")
      let io = try m.run()
      guard case .io = io else {
        f.ioLate = .unknown("stepping `out` gave \(ProbeMachine.describe(io))")
        return f
      }
      let completion = try m.vcpu.completePendingExit()
      switch completion {
      case nil: f.ioCompletionReportsStep = ProbeFinding(false, "completing it returns EINTR")
      case .debug(let c)? where c.pc == base + 3:
        f.ioCompletionReportsStep = ProbeFinding(true, "completing it gives the debug exit")
      case let other?: f.ioCompletionReportsStep = .unknown("completing it gave \(ProbeMachine.describe(other))")
      }
      var next = try m.run()
      if case .debug(let n) = next, n.pc == base + 3 {
        f.ioLate = ProbeFinding(true, "a debug exit at the next instruction, before it runs")
        next = try m.run()
      } else {
        f.ioLate = ProbeFinding(false, "the next step runs the next instruction")
      }
      guard case .debug(let n) = next, n.pc == base + 4 else {
        f.ioLate = .unknown("after the I/O exit: \(ProbeMachine.describe(next))")
        return f
      }
      let beforeHalt = try m.run()
      guard case .debug(let h) = beforeHalt, h.pc == base + 5 else { return f }
      let halt = try m.run()
      switch halt {
      case .hlt where try m.rip == base + 6:
        f.haltHalts = ProbeFinding(true, "HLT exit, rip past it")
        let after = try m.run()
        if case .debug(let a) = after, a.pc == base + 6 {
          f.haltLate = ProbeFinding(true, "then a debug exit at the next instruction, before it runs")
        } else if case .debug(let a) = after, a.pc == base + 7 {
          f.haltLate = ProbeFinding(false, "the next step runs the next instruction")
        } else {
          f.haltLate = .unknown("then \(ProbeMachine.describe(after))")
        }
      case .debug(let s) where s.pc == base + 6:
        f.haltHalts = ProbeFinding(false, "a debug exit past it: it does not halt")
        f.haltLate = ProbeFinding(false, "no HLT exit")
      default:
        f.haltHalts = .unknown("gave \(ProbeMachine.describe(halt))")
      }
    } catch {
      f.works = f.works.value == nil ? .unknown("\(error)") : f.works
    }
    return f
  }

  /// `out; nop; out; hlt` run plainly: at the first I/O exit, `KVM_RUN` with immediate_exit
  /// must finish the `out` (rip past it) and return without running the `nop`.
  static func immediateExitCompletion(_ system: ProbeHost) -> ProbeFinding {
    do {
      let m = try ProbeMachine(system: system, program: C.out + [C.nop] + C.out + [C.hlt])
      let exit = try m.run()
      guard case .io = exit else { return .unknown("the program gave \(ProbeMachine.describe(exit))") }
      let completion = try m.vcpu.completePendingExit()
      let rip = try m.rip
      if completion == nil && rip == ProbeMachine.code + 2 { return ProbeFinding(true, "rip past the instruction, EINTR") }
      let what = completion.map(ProbeMachine.describe) ?? "EINTR"
      return ProbeFinding(false, "\(what) with rip at +\(rip &- ProbeMachine.code)")
    } catch {
      return .unknown("\(error)")
    }
  }

  /// An interrupt injected at an I/O exit, then one single-step: does it stop at the handler's
  /// first instruction, with the trap flag clear in the EFLAGS image the guest pushed?
  static func steppedInterruptEntry(_ system: ProbeHost) -> ProbeFinding {
    do {
      let m = try ProbeMachine(system: system, program: C.out + [C.nop, C.nop] + C.out + [C.hlt])
      try m.installHandler(vector: 0x20, code: [C.nop] + C.out + [C.hlt])
      try m.setInterruptFlag()
      let exit = try m.run()
      guard case .io = exit, try m.vcpu.completePendingExit() == nil else {
        return .unknown("the program gave \(ProbeMachine.describe(exit))")
      }
      guard m.vcpu.readyForInterruptInjection else { return .unknown("KVM not ready for an interrupt at the exit") }
      try m.vcpu.injectInterrupt(vector: 0x20)
      try m.vcpu.setGuestDebug([.enable, .singleStep])
      let step = try m.run()
      guard case .debug(let d) = step, d.pc == ProbeMachine.handler else {
        return ProbeFinding(false, "the step gave \(ProbeMachine.describe(step))")
      }
      // The frame: EIP, CS, EFLAGS.
      let rsp = try m.vcpu.registers().rsp
      guard let frame = m.memory.bytes(at: rsp + 8, count: 4) else { return .unknown("no frame at 0x\(String(rsp, radix: 16))") }
      let eflags = UInt32(frame[0]) | UInt32(frame[1]) << 8 | UInt32(frame[2]) << 16 | UInt32(frame[3]) << 24
      if eflags & 0x100 != 0 { return ProbeFinding(false, "stops at the handler, but the pushed EFLAGS has TF set") }
      return ProbeFinding(true, "stops at the handler, pushed EFLAGS clean")
    } catch {
      return .unknown("\(error)")
    }
  }
}
