import KVM

/// Probes of the ways to stop at an instruction: debug-register breakpoints and watchpoints,
/// a `hlt` byte patched over the instruction, and `int3` with `KVM_GUESTDBG_USE_SW_BP`.
enum BreakpointProbes {
  typealias C = ProbeCode

  /// An execute breakpoint on the third `nop` of `nop; nop; nop; out; hlt`: does it stop
  /// there, and does resuming with it still armed stop there again?
  static func executeBreakpoint(_ system: ProbeHost) -> (fires: ProbeFinding, refires: ProbeFinding) {
    let target = ProbeMachine.code + 2
    do {
      let m = try ProbeMachine(system: system, program: [C.nop, C.nop, C.nop] + C.out + [C.hlt])
      try m.vcpu.setExecutionBreakpoints([target])
      let first = try m.run()
      guard case .debug(let hit) = first, hit.pc == target, try m.rip == target else {
        return (ProbeFinding(false, "no stop: \(ProbeMachine.describe(first))"), .unknown("it does not fire"))
      }
      let fires = ProbeFinding(true, "debug exit at the address")
      let second = try m.run()
      switch second {
      case .debug(let again) where again.pc == target:
        return (fires, ProbeFinding(true, "resuming stops at the same address again"))
      case .io:
        return (fires, ProbeFinding(false, "resuming runs on to the next exit"))
      default:
        return (fires, .unknown("resuming gave \(ProbeMachine.describe(second))"))
      }
    } catch {
      return (.unknown("\(error)"), .unknown("\(error)"))
    }
  }

  /// `nop; nop; nop; out; jmp back` with an execute breakpoint on the third `nop`: after the
  /// hit, RF set with KVM_SET_REGS. Does the resume pass the breakpoint once (the `out` exit
  /// comes next) and stop at it again on the next pass of the loop (RF cleared)?
  static func resumeFlagSkip(_ system: ProbeHost) -> ProbeFinding {
    let target = ProbeMachine.code + 2
    do {
      // jmp rel8 from code + 5 back to code: -7.
      let m = try ProbeMachine(system: system, program: [C.nop, C.nop, C.nop] + C.out + [0xEB, 0xF9])
      try m.vcpu.setExecutionBreakpoints([target])
      guard case .debug(let hit) = try m.run(), hit.pc == target else { return .unknown("the breakpoint does not fire") }
      var regs = try m.vcpu.registers()
      regs.rflags |= Registers.resumeFlag
      try m.vcpu.setRegisters(regs)
      let passed = try m.run()
      guard case .io = passed else { return ProbeFinding(false, "resuming with RF gave \(ProbeMachine.describe(passed))") }
      guard try m.vcpu.completePendingExit() == nil else { return .unknown("the I/O exit did not complete") }
      let again = try m.run()
      guard case .debug(let next) = again, next.pc == target else {
        return ProbeFinding(false, "RF passed it once, the next pass gave \(ProbeMachine.describe(again))")
      }
      return ProbeFinding(true, "passes the breakpoint once, stops at it on the next pass")
    } catch {
      return .unknown("\(error)")
    }
  }

  /// A 4-byte write watchpoint in DR1 on the target of `mov [data], eax; out; hlt`.
  static func dataWatchpoint(_ system: ProbeHost) -> ProbeFinding {
    do {
      let m = try ProbeMachine(system: system, program: C.store(to: UInt32(ProbeMachine.data)) + C.out + [C.hlt])
      // DR7: bit 10 reads as 1; L1; R/W1 = 01 (write); LEN1 = 11 (4 bytes).
      let dr7: UInt64 = 0x400 | 1 << 2 | 0b01 << 20 | 0b11 << 22
      try m.vcpu.setGuestDebug(
        [.enable, .useHardwareBreakpoints], debugRegisters: [0, ProbeMachine.data, 0, 0, 0, 0, 0, dr7])
      let exit = try m.run()
      if case .debug = exit { return ProbeFinding(true, "debug exit after the store") }
      return ProbeFinding(false, "the store ran on to: \(ProbeMachine.describe(exit))")
    } catch {
      return .unknown("\(error)")
    }
  }

  /// `out; nop; nop; nop; out; jmp back`: after the loop ran once, the middle `nop` is
  /// overwritten with `hlt` from user space. Does the guest stop there with an HLT exit and
  /// rip just past it, and does it run on normally once the byte is back and rip rewound?
  static func haltPatch(_ system: ProbeHost) -> ProbeFinding {
    let target = ProbeMachine.code + 3
    do {
      // jmp rel8 from code + 9 back to code: -9.
      let program = C.out + [C.nop, C.nop, C.nop] + C.out + [0xEB, 0xF7]
      let m = try ProbeMachine(system: system, program: program)
      for _ in 0..<3 {
        let exit = try m.run()
        guard case .io = exit else { return .unknown("the loop gave \(ProbeMachine.describe(exit))") }
        guard try m.vcpu.completePendingExit() == nil else { return .unknown("an I/O exit did not complete") }
      }
      m.memory.store([C.hlt], at: target)
      let hit = try m.run()
      guard hit == .hlt, try m.rip == target + 1 else { return ProbeFinding(false, "gave \(ProbeMachine.describe(hit))") }
      m.memory.store([C.nop], at: target)
      var regs = try m.vcpu.registers()
      regs.rip = target
      try m.vcpu.setRegisters(regs)
      let after = try m.run()
      guard case .io = after, try m.vcpu.completePendingExit() == nil, try m.rip == ProbeMachine.code + 7 else {
        let rip = (try? m.rip).map { "+\($0 &- ProbeMachine.code)" } ?? "?"
        return ProbeFinding(false, "stopped, but with the byte back it gave \(ProbeMachine.describe(after)), rip \(rip)")
      }
      return ProbeFinding(true, "HLT exit just past the patched byte")
    } catch {
      return .unknown("\(error)")
    }
  }

  /// `nop; int3; out; hlt` with `KVM_GUESTDBG_USE_SW_BP`.
  static func softwareBreakpoint(_ system: ProbeHost) -> ProbeFinding {
    do {
      let m = try ProbeMachine(system: system, program: [C.nop, C.int3] + C.out + [C.hlt])
      try m.vcpu.setGuestDebug([.enable, .useSoftwareBreakpoints])
      let exit = try m.run()
      if case .debug(let d) = exit, d.pc == ProbeMachine.code + 1 { return ProbeFinding(true, "debug exit at the int3") }
      return ProbeFinding(false, ProbeMachine.describe(exit))
    } catch {
      return .unknown("\(error)")
    }
  }
}
