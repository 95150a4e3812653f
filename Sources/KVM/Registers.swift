import CKVM

/// The general-purpose registers, rip and rflags (kvm_regs).
public struct Registers: Sendable, Equatable, Hashable {
  public var rax: UInt64 = 0, rbx: UInt64 = 0, rcx: UInt64 = 0, rdx: UInt64 = 0
  public var rsi: UInt64 = 0, rdi: UInt64 = 0, rsp: UInt64 = 0, rbp: UInt64 = 0
  public var r8: UInt64 = 0, r9: UInt64 = 0, r10: UInt64 = 0, r11: UInt64 = 0
  public var r12: UInt64 = 0, r13: UInt64 = 0, r14: UInt64 = 0, r15: UInt64 = 0
  public var rip: UInt64 = 0
  /// Bit 1 is architecturally always set.
  public var rflags: UInt64 = 0x2

  public init() {}

  init(_ r: kvm_regs) {
    rax = r.rax
    rbx = r.rbx
    rcx = r.rcx
    rdx = r.rdx
    rsi = r.rsi
    rdi = r.rdi
    rsp = r.rsp
    rbp = r.rbp
    r8 = r.r8
    r9 = r.r9
    r10 = r.r10
    r11 = r.r11
    r12 = r.r12
    r13 = r.r13
    r14 = r.r14
    r15 = r.r15
    rip = r.rip
    rflags = r.rflags
  }

  var raw: kvm_regs {
    var r = kvm_regs()
    r.rax = rax
    r.rbx = rbx
    r.rcx = rcx
    r.rdx = rdx
    r.rsi = rsi
    r.rdi = rdi
    r.rsp = rsp
    r.rbp = rbp
    r.r8 = r8
    r.r9 = r9
    r.r10 = r10
    r.r11 = r11
    r.r12 = r12
    r.r13 = r13
    r.r14 = r14
    r.r15 = r15
    r.rip = rip
    r.rflags = rflags
    return r
  }

  /// RFLAGS.RF, the resume flag: set, it suppresses instruction breakpoints for one
  /// instruction. It is not part of what an instant is (see `sameInstant(as:)`).
  public static let resumeFlag: UInt64 = 1 << 16

  /// Whether two register files describe the same instant of a run: equal but for RF. RF comes
  /// from how the instant was reached rather than from the guest's computation: on stock KVM
  /// (AMD-V, nested) the live run stands after `sti; hlt` with RF set, and the same state
  /// reached again at a debug-register hit or a single step has it clear. The guest cannot read
  /// RF (pushf clears it in the image) until an interrupt frame pushes it, so whoever matches an
  /// instant this way puts the recorded RF back before delivering anything there.
  public func sameInstant(as other: Registers) -> Bool {
    var a = self
    var b = other
    a.rflags &= ~Self.resumeFlag
    b.rflags &= ~Self.resumeFlag
    return a == b
  }

  /// Names and values in gdb's amd64 order, for dumps and the debugger.
  public var named: [(String, UInt64)] {
    [
      ("rax", rax), ("rbx", rbx), ("rcx", rcx), ("rdx", rdx), ("rsi", rsi), ("rdi", rdi),
      ("rbp", rbp), ("rsp", rsp), ("r8", r8), ("r9", r9), ("r10", r10), ("r11", r11),
      ("r12", r12), ("r13", r13), ("r14", r14), ("r15", r15), ("rip", rip), ("rflags", rflags),
    ]
  }
}
