import CKVM

/// A segment register with its cached descriptor (kvm_segment).
public struct Segment: Sendable, Equatable, Hashable {
  public var base: UInt64 = 0
  public var limit: UInt32 = 0xFFFF
  public var selector: UInt16 = 0
  public var type: UInt8 = 0
  public var present: Bool = true
  public var dpl: UInt8 = 0
  /// Default operand size: 32-bit when set (ignored for 64-bit code).
  public var db: Bool = false
  /// Code/data (true) or system (false) descriptor.
  public var s: Bool = true
  /// 64-bit code segment.
  public var l: Bool = false
  public var g: Bool = false
  public var avl: Bool = false
  public var unusable: Bool = false

  public init() {}

  /// A flat 4 GiB segment: code (type 0xB, execute/read, accessed) or data (type 0x3, read/write, accessed).
  public static func flat(selector: UInt16, code: Bool, longMode: Bool = false) -> Segment {
    var s = Segment()
    s.selector = selector
    s.base = 0
    s.limit = 0xFFFF_FFFF
    s.type = code ? 0xB : 0x3
    s.g = true
    s.l = code && longMode
    s.db = !(code && longMode)
    return s
  }

  init(_ k: kvm_segment) {
    base = k.base
    limit = k.limit
    selector = k.selector
    type = k.type
    present = k.present != 0
    dpl = k.dpl
    db = k.db != 0
    s = k.s != 0
    l = k.l != 0
    g = k.g != 0
    avl = k.avl != 0
    unusable = k.unusable != 0
  }

  var raw: kvm_segment {
    var k = kvm_segment()
    k.base = base
    k.limit = limit
    k.selector = selector
    k.type = type
    k.present = present ? 1 : 0
    k.dpl = dpl
    k.db = db ? 1 : 0
    k.s = s ? 1 : 0
    k.l = l ? 1 : 0
    k.g = g ? 1 : 0
    k.avl = avl ? 1 : 0
    k.unusable = unusable ? 1 : 0
    return k
  }
}

/// GDTR or IDTR.
public struct DescriptorTable: Sendable, Equatable, Hashable {
  public var base: UInt64 = 0
  public var limit: UInt16 = 0xFFFF
  public init(base: UInt64 = 0, limit: UInt16 = 0xFFFF) {
    self.base = base
    self.limit = limit
  }
}

/// Segment, control and descriptor-table registers (kvm_sregs).
public struct SpecialRegisters: Sendable, Equatable, Hashable {
  public var cs = Segment(), ds = Segment(), es = Segment(), fs = Segment(), gs = Segment(), ss = Segment()
  public var tr = Segment(), ldt = Segment()
  public var gdt = DescriptorTable(), idt = DescriptorTable()
  public var cr0: UInt64 = 0, cr2: UInt64 = 0, cr3: UInt64 = 0, cr4: UInt64 = 0, cr8: UInt64 = 0
  public var efer: UInt64 = 0
  public var apicBase: UInt64 = 0
  /// KVM's pending-external-interrupt bitmap (256 bits).
  public var interruptBitmap: [UInt64] = [0, 0, 0, 0]

  public init() {}

  public static let cr0ProtectionEnable: UInt64 = 1 << 0
  public static let cr0Paging: UInt64 = 1 << 31
  public static let cr4PAE: UInt64 = 1 << 5
  public static let eferLME: UInt64 = 1 << 8
  public static let eferLMA: UInt64 = 1 << 10

  /// True in 64-bit mode (long mode active and a 64-bit code segment).
  public var is64BitCode: Bool { efer & Self.eferLMA != 0 && cs.l }

  /// The linear address of offset `rip` in the current code segment (32-bit addresses wrap).
  public func linearAddress(ofCode rip: UInt64) -> UInt64 {
    is64BitCode ? rip : (cs.base &+ rip) & 0xFFFF_FFFF
  }
  public var isProtected: Bool { cr0 & Self.cr0ProtectionEnable != 0 }
  public var isPaging: Bool { cr0 & Self.cr0Paging != 0 }

  init(_ k: kvm_sregs) {
    cs = Segment(k.cs)
    ds = Segment(k.ds)
    es = Segment(k.es)
    fs = Segment(k.fs)
    gs = Segment(k.gs)
    ss = Segment(k.ss)
    tr = Segment(k.tr)
    ldt = Segment(k.ldt)
    gdt = DescriptorTable(base: k.gdt.base, limit: k.gdt.limit)
    idt = DescriptorTable(base: k.idt.base, limit: k.idt.limit)
    cr0 = k.cr0
    cr2 = k.cr2
    cr3 = k.cr3
    cr4 = k.cr4
    cr8 = k.cr8
    efer = k.efer
    apicBase = k.apic_base
    interruptBitmap = [k.interrupt_bitmap.0, k.interrupt_bitmap.1, k.interrupt_bitmap.2, k.interrupt_bitmap.3]
  }

  var raw: kvm_sregs {
    var k = kvm_sregs()
    k.cs = cs.raw
    k.ds = ds.raw
    k.es = es.raw
    k.fs = fs.raw
    k.gs = gs.raw
    k.ss = ss.raw
    k.tr = tr.raw
    k.ldt = ldt.raw
    k.gdt.base = gdt.base
    k.gdt.limit = gdt.limit
    k.idt.base = idt.base
    k.idt.limit = idt.limit
    k.cr0 = cr0
    k.cr2 = cr2
    k.cr3 = cr3
    k.cr4 = cr4
    k.cr8 = cr8
    k.efer = efer
    k.apic_base = apicBase
    let b = interruptBitmap + [0, 0, 0, 0]
    k.interrupt_bitmap = (b[0], b[1], b[2], b[3])
    return k
  }
}
