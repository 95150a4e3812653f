import KVM

/// The vCPU's registers as the REPL names them: gdb's names for every width (`rax`, `eax`,
/// `ax`, `al`), `pc`/`sp`/`fp`, segment selectors and bases, control registers.
public struct RegisterSet: Sendable {
  public let regs: Registers
  public let sregs: SpecialRegisters

  public init(regs: Registers, sregs: SpecialRegisters) {
    self.regs = regs
    self.sregs = sregs
  }

  /// 64 in long mode, 32 in protected mode with a 32-bit code segment, otherwise 16.
  public var bits: Int { sregs.is64BitCode ? 64 : (sregs.isProtected && sregs.cs.db ? 32 : 16) }
  public var pointerBytes: Int { bits / 8 }

  /// The linear address of the next instruction (CS base + IP outside long mode).
  public var pc: UInt64 { sregs.linearAddress(ofCode: regs.rip) }
  public var sp: UInt64 { mask(regs.rsp, bytes: pointerBytes) }

  private func mask(_ v: UInt64, bytes: Int) -> UInt64 { bytes >= 8 ? v : v & ((1 << UInt64(bytes * 8)) - 1) }

  private static let general: [String] = ["ax", "bx", "cx", "dx", "si", "di", "bp", "sp"]

  private func full(_ base: String) -> UInt64? {
    switch base {
    case "ax": return regs.rax
    case "bx": return regs.rbx
    case "cx": return regs.rcx
    case "dx": return regs.rdx
    case "si": return regs.rsi
    case "di": return regs.rdi
    case "bp": return regs.rbp
    case "sp": return regs.rsp
    case "8": return regs.r8
    case "9": return regs.r9
    case "10": return regs.r10
    case "11": return regs.r11
    case "12": return regs.r12
    case "13": return regs.r13
    case "14": return regs.r14
    case "15": return regs.r15
    default: return nil
    }
  }

  /// A register's value and width in bytes, by any of its names (lower case, no `$`).
  public func value(_ name: String) -> (value: UInt64, bytes: Int)? {
    let n = name.lowercased()
    switch n {
    case "pc": return (pc, pointerBytes)
    case "sp": return (sp, pointerBytes)
    case "fp": return (mask(regs.rbp, bytes: pointerBytes), pointerBytes)
    case "rip": return (regs.rip, 8)
    case "eip": return (regs.rip & 0xFFFF_FFFF, 4)
    case "ip": return (regs.rip & 0xFFFF, 2)
    case "rflags": return (regs.rflags, 8)
    case "eflags": return (regs.rflags & 0xFFFF_FFFF, 4)
    case "flags": return (regs.rflags & 0xFFFF, 2)
    case "cs": return (UInt64(sregs.cs.selector), 2)
    case "ds": return (UInt64(sregs.ds.selector), 2)
    case "es": return (UInt64(sregs.es.selector), 2)
    case "fs": return (UInt64(sregs.fs.selector), 2)
    case "gs": return (UInt64(sregs.gs.selector), 2)
    case "ss": return (UInt64(sregs.ss.selector), 2)
    case "fs_base": return (sregs.fs.base, 8)
    case "gs_base": return (sregs.gs.base, 8)
    case "cr0": return (sregs.cr0, 8)
    case "cr2": return (sregs.cr2, 8)
    case "cr3": return (sregs.cr3, 8)
    case "cr4": return (sregs.cr4, 8)
    case "cr8": return (sregs.cr8, 8)
    case "efer": return (sregs.efer, 8)
    default: break
    }
    // rax/eax/ax, r8/r8d/r8w/r8b, al/ah, sil.
    if n.hasPrefix("r"), let v = full(String(n.dropFirst())) { return (v, 8) }
    if n.hasPrefix("e"), Self.general.contains(String(n.dropFirst())), let v = full(String(n.dropFirst())) {
      return (v & 0xFFFF_FFFF, 4)
    }
    if Self.general.contains(n), let v = full(n) { return (v & 0xFFFF, 2) }
    if n.hasPrefix("r") {
      let body = n.dropFirst()
      if let last = body.last, "dwb".contains(last), let v = full(String(body.dropLast())) {
        switch last {
        case "d": return (v & 0xFFFF_FFFF, 4)
        case "w": return (v & 0xFFFF, 2)
        default: return (v & 0xFF, 1)
        }
      }
    }
    if n.count == 2, let first = n.first, "abcd".contains(first), let v = full("\(first)x") {
      if n.hasSuffix("l") { return (v & 0xFF, 1) }
      if n.hasSuffix("h") { return ((v >> 8) & 0xFF, 1) }
    }
    if n.hasSuffix("l"), ["sil", "dil", "bpl", "spl"].contains(n), let v = full(String(n.dropLast())) { return (v & 0xFF, 1) }
    return nil
  }

  /// The registers `info registers` shows, in gdb's order for the current mode.
  public var displayed: [String] {
    if bits == 64 {
      return [
        "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
        "rip", "eflags", "cs", "ss", "ds", "es", "fs", "gs", "fs_base", "gs_base",
      ]
    }
    return ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip", "eflags", "cs", "ss", "ds", "es", "fs", "gs"]
  }

  /// What `info registers all` adds.
  public static let control = ["cr0", "cr2", "cr3", "cr4", "cr8", "efer"]

  /// Names completion offers after `$`.
  public static let completionNames: [String] =
    [
      "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip",
      "eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp", "eip", "eflags", "rflags", "pc", "sp", "fp",
      "cs", "ds", "es", "fs", "gs", "ss", "fs_base", "gs_base",
    ] + control

  /// `[ PF ZF IF ]`: the set flags, lowest bit first.
  public static func describeFlags(_ flags: UInt64) -> String {
    let names: [(Int, String)] = [
      (0, "CF"), (2, "PF"), (4, "AF"), (6, "ZF"), (7, "SF"), (8, "TF"), (9, "IF"), (10, "DF"), (11, "OF"),
      (14, "NT"), (16, "RF"), (17, "VM"), (18, "AC"), (21, "ID"),
    ]
    let set = names.filter { flags & (1 << UInt64($0.0)) != 0 }.map(\.1)
    return "[ " + set.joined(separator: " ") + (set.isEmpty ? "]" : " ]")
  }
}
