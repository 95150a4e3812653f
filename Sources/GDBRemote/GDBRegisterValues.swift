/// The guest's registers as plain values, for whichever layout gdb uses. The engine's adapter
/// fills it from the vCPU; the x87/SSE defaults are the state after FINIT/reset, so a target that
/// does not track them still shows sane values.
public struct GDBRegisterValues: Equatable, Sendable {
  public var rax: UInt64 = 0
  public var rbx: UInt64 = 0
  public var rcx: UInt64 = 0
  public var rdx: UInt64 = 0
  public var rsi: UInt64 = 0
  public var rdi: UInt64 = 0
  public var rbp: UInt64 = 0
  public var rsp: UInt64 = 0
  public var r8: UInt64 = 0
  public var r9: UInt64 = 0
  public var r10: UInt64 = 0
  public var r11: UInt64 = 0
  public var r12: UInt64 = 0
  public var r13: UInt64 = 0
  public var r14: UInt64 = 0
  public var r15: UInt64 = 0
  public var rip: UInt64 = 0
  /// Bit 1 is always set on x86.
  public var rflags: UInt64 = 0x2

  // Segment selectors.
  public var cs: UInt16 = 0
  public var ss: UInt16 = 0
  public var ds: UInt16 = 0
  public var es: UInt16 = 0
  public var fs: UInt16 = 0
  public var gs: UInt16 = 0
  public var fsBase: UInt64 = 0
  public var gsBase: UInt64 = 0

  // Control registers and EFER, for kernel work.
  public var cr0: UInt64 = 0
  public var cr2: UInt64 = 0
  public var cr3: UInt64 = 0
  public var cr4: UInt64 = 0
  public var cr8: UInt64 = 0
  public var efer: UInt64 = 0

  /// st0...st7, 80-bit values in the low bits. Missing entries read as zero.
  public var st: [UInt128] = Array(repeating: 0, count: 8)
  public var fctrl: UInt32 = 0x37f
  public var fstat: UInt32 = 0
  /// The full tag word: 0xffff marks all eight registers empty.
  public var ftag: UInt32 = 0xffff
  public var fiseg: UInt32 = 0
  public var fioff: UInt32 = 0
  public var foseg: UInt32 = 0
  public var fooff: UInt32 = 0
  public var fop: UInt32 = 0
  /// xmm0...xmm15 (the i386 layout shows the first eight). Missing entries read as zero.
  public var xmm: [UInt128] = Array(repeating: 0, count: 16)
  public var mxcsr: UInt32 = 0x1f80

  public init() {}
}

/// Names one value of `GDBRegisterValues`, so layouts can say which value each gdb register shows.
public enum GDBRegisterField: Hashable, Sendable {
  case rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp, r8, r9, r10, r11, r12, r13, r14, r15
  case rip, rflags
  case cs, ss, ds, es, fs, gs, fsBase, gsBase
  case cr0, cr2, cr3, cr4, cr8, efer
  case st(Int)
  case fctrl, fstat, ftag, fiseg, fioff, foseg, fooff, fop
  case xmm(Int)
  case mxcsr
}

extension GDBRegisterValues {
  /// st registers are 80 bits wide.
  static let float80Mask: UInt128 = (1 << 80) - 1

  /// The value behind `field`, widened to 128 bits. Setting truncates to the field's width.
  public subscript(field: GDBRegisterField) -> UInt128 {
    get {
      switch field {
      case .rax: return UInt128(rax)
      case .rbx: return UInt128(rbx)
      case .rcx: return UInt128(rcx)
      case .rdx: return UInt128(rdx)
      case .rsi: return UInt128(rsi)
      case .rdi: return UInt128(rdi)
      case .rbp: return UInt128(rbp)
      case .rsp: return UInt128(rsp)
      case .r8: return UInt128(r8)
      case .r9: return UInt128(r9)
      case .r10: return UInt128(r10)
      case .r11: return UInt128(r11)
      case .r12: return UInt128(r12)
      case .r13: return UInt128(r13)
      case .r14: return UInt128(r14)
      case .r15: return UInt128(r15)
      case .rip: return UInt128(rip)
      case .rflags: return UInt128(rflags)
      case .cs: return UInt128(cs)
      case .ss: return UInt128(ss)
      case .ds: return UInt128(ds)
      case .es: return UInt128(es)
      case .fs: return UInt128(fs)
      case .gs: return UInt128(gs)
      case .fsBase: return UInt128(fsBase)
      case .gsBase: return UInt128(gsBase)
      case .cr0: return UInt128(cr0)
      case .cr2: return UInt128(cr2)
      case .cr3: return UInt128(cr3)
      case .cr4: return UInt128(cr4)
      case .cr8: return UInt128(cr8)
      case .efer: return UInt128(efer)
      case .st(let i): return st.indices.contains(i) ? st[i] & Self.float80Mask : 0
      case .fctrl: return UInt128(fctrl)
      case .fstat: return UInt128(fstat)
      case .ftag: return UInt128(ftag)
      case .fiseg: return UInt128(fiseg)
      case .fioff: return UInt128(fioff)
      case .foseg: return UInt128(foseg)
      case .fooff: return UInt128(fooff)
      case .fop: return UInt128(fop)
      case .xmm(let i): return xmm.indices.contains(i) ? xmm[i] : 0
      case .mxcsr: return UInt128(mxcsr)
      }
    }
    set {
      let u64 = UInt64(truncatingIfNeeded: newValue)
      let u32 = UInt32(truncatingIfNeeded: newValue)
      let u16 = UInt16(truncatingIfNeeded: newValue)
      switch field {
      case .rax: rax = u64
      case .rbx: rbx = u64
      case .rcx: rcx = u64
      case .rdx: rdx = u64
      case .rsi: rsi = u64
      case .rdi: rdi = u64
      case .rbp: rbp = u64
      case .rsp: rsp = u64
      case .r8: r8 = u64
      case .r9: r9 = u64
      case .r10: r10 = u64
      case .r11: r11 = u64
      case .r12: r12 = u64
      case .r13: r13 = u64
      case .r14: r14 = u64
      case .r15: r15 = u64
      case .rip: rip = u64
      case .rflags: rflags = u64
      case .cs: cs = u16
      case .ss: ss = u16
      case .ds: ds = u16
      case .es: es = u16
      case .fs: fs = u16
      case .gs: gs = u16
      case .fsBase: fsBase = u64
      case .gsBase: gsBase = u64
      case .cr0: cr0 = u64
      case .cr2: cr2 = u64
      case .cr3: cr3 = u64
      case .cr4: cr4 = u64
      case .cr8: cr8 = u64
      case .efer: efer = u64
      case .st(let i): if st.indices.contains(i) { st[i] = newValue & Self.float80Mask }
      case .fctrl: fctrl = u32
      case .fstat: fstat = u32
      case .ftag: ftag = u32
      case .fiseg: fiseg = u32
      case .fioff: fioff = u32
      case .foseg: foseg = u32
      case .fooff: fooff = u32
      case .fop: fop = u32
      case .xmm(let i): if xmm.indices.contains(i) { xmm[i] = newValue }
      case .mxcsr: mxcsr = u32
      }
    }
  }
}
