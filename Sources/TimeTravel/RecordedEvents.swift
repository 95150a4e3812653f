import KVM
import Recording

/// Something the engine handed the guest from outside the machine.
public enum DeliveredAction: Sendable, Equatable {
  /// Guest time advanced to this value (ns) and due timers fired.
  case time(UInt64)
  /// Bytes arrived on the serial port.
  case input([UInt8])
}

/// Identifies an instant inside an exit interval where a spinning guest was kicked: the full
/// register file plus a hash of the segment/control registers and of every page written since
/// the last snapshot. Two instants that agree on all of it have identical futures.
public struct KickPoint: Sendable, Equatable {
  public var registers: Registers
  public var contextHash: Hash128
}

/// The deliveries made at one point: right after a deterministic exit (`kick == nil`) or at a
/// kicked point inside the interval that follows it.
public struct EventGroup: Sendable, Equatable {
  public var position: UInt64
  public var kick: KickPoint?
  public var actions: [DeliveredAction]
}

/// One events chunk: the groups and clock readings since the previous chunk, complete up to
/// position `completeThrough` (a replay may run to that position and no further on this log).
struct EventBatch: Equatable {
  var completeThrough: UInt64
  var groups: [EventGroup]
  var clockSamples: [UInt64]

  func encoded() -> [UInt8] {
    var w = ByteWriter()
    w.write(completeThrough)
    w.write(UInt32(groups.count))
    for g in groups {
      w.write(g.position)
      if let k = g.kick {
        w.write(UInt8(1))
        RegisterCoding.write(k.registers, into: &w)
        w.write(k.contextHash)
      } else {
        w.write(UInt8(0))
      }
      w.write(UInt32(g.actions.count))
      for a in g.actions {
        switch a {
        case .time(let t):
          w.write(UInt8(1))
          w.write(t)
        case .input(let bytes):
          w.write(UInt8(2))
          w.write(lengthPrefixed: bytes)
        }
      }
    }
    w.write(UInt32(clockSamples.count))
    for s in clockSamples { w.write(s) }
    return w.bytes
  }

  init(completeThrough: UInt64, groups: [EventGroup], clockSamples: [UInt64]) {
    self.completeThrough = completeThrough
    self.groups = groups
    self.clockSamples = clockSamples
  }

  init(decoding bytes: [UInt8], baseOffset: Int) throws(ByteReaderError) {
    var r = ByteReader(bytes, baseOffset: baseOffset)
    completeThrough = try r.readUInt64("events.completeThrough")
    let count = try r.readUInt32("events.groupCount")
    // Each group takes at least 13 bytes: bound the count by what is there before allocating.
    guard Int(count) <= r.remaining / 13 + 1 else {
      throw ByteReaderError(field: "events.groupCount", offset: baseOffset + 8, reason: "\(count) groups cannot fit")
    }
    groups = []
    groups.reserveCapacity(Int(count))
    for _ in 0..<count {
      let position = try r.readUInt64("group.position")
      var kick: KickPoint?
      switch try r.readUInt8("group.kickFlag") {
      case 0: kick = nil
      case 1: kick = KickPoint(registers: try RegisterCoding.read(&r), contextHash: try r.readHash128("kick.contextHash"))
      case let v: throw ByteReaderError(field: "group.kickFlag", offset: 0, reason: "unknown value \(v)")
      }
      let actionCount = try r.readUInt32("group.actionCount")
      var actions: [DeliveredAction] = []
      for _ in 0..<actionCount {
        switch try r.readUInt8("action.kind") {
        case 1: actions.append(.time(try r.readUInt64("action.time")))
        case 2: actions.append(.input(try r.readLengthPrefixedBytes("action.input", limit: 1 << 20)))
        case let v: throw ByteReaderError(field: "action.kind", offset: 0, reason: "unknown action \(v)")
        }
      }
      groups.append(EventGroup(position: position, kick: kick, actions: actions))
    }
    let samples = try r.readUInt32("events.sampleCount")
    guard Int(samples) <= r.remaining / 8 else {
      throw ByteReaderError(field: "events.sampleCount", offset: 0, reason: "\(samples) samples cannot fit")
    }
    clockSamples = []
    clockSamples.reserveCapacity(Int(samples))
    for _ in 0..<samples { clockSamples.append(try r.readUInt64("events.sample")) }
  }
}

/// Fixed-order encoding of the register structs (for events, snapshots and hashes).
enum RegisterCoding {
  static func write(_ r: Registers, into w: inout ByteWriter) {
    for (_, v) in r.named { w.write(v) }
  }

  static func read(_ r: inout ByteReader) throws(ByteReaderError) -> Registers {
    var regs = Registers()
    var values: [UInt64] = []
    for _ in 0..<18 { values.append(try r.readUInt64("registers")) }
    (regs.rax, regs.rbx, regs.rcx, regs.rdx, regs.rsi, regs.rdi) = (
      values[0], values[1], values[2], values[3], values[4], values[5]
    )
    (regs.rbp, regs.rsp, regs.r8, regs.r9, regs.r10, regs.r11) = (
      values[6], values[7], values[8], values[9], values[10], values[11]
    )
    (regs.r12, regs.r13, regs.r14, regs.r15, regs.rip, regs.rflags) = (
      values[12], values[13], values[14], values[15], values[16], values[17]
    )
    return regs
  }

  static func write(_ s: SpecialRegisters, into w: inout ByteWriter) {
    for seg in [s.cs, s.ds, s.es, s.fs, s.gs, s.ss, s.tr, s.ldt] {
      w.write(seg.base)
      w.write(seg.limit)
      w.write(seg.selector)
      w.write(seg.type)
      w.write(seg.dpl)
      let flags: [Bool] = [seg.present, seg.db, seg.s, seg.l, seg.g, seg.avl, seg.unusable]
      w.write(flags.enumerated().reduce(UInt8(0)) { $0 | ($1.element ? 1 << UInt8($1.offset) : 0) })
    }
    for t in [s.gdt, s.idt] {
      w.write(t.base)
      w.write(t.limit)
    }
    for v in [s.cr0, s.cr2, s.cr3, s.cr4, s.cr8, s.efer, s.apicBase] { w.write(v) }
    for v in s.interruptBitmap.prefix(4) { w.write(v) }
  }

  static func readSpecial(_ r: inout ByteReader) throws(ByteReaderError) -> SpecialRegisters {
    var s = SpecialRegisters()
    var segs: [Segment] = []
    for _ in 0..<8 {
      var seg = Segment()
      seg.base = try r.readUInt64("segment.base")
      seg.limit = try r.readUInt32("segment.limit")
      seg.selector = try r.readUInt16("segment.selector")
      seg.type = try r.readUInt8("segment.type")
      seg.dpl = try r.readUInt8("segment.dpl")
      let f = try r.readUInt8("segment.flags")
      seg.present = f & 1 != 0
      seg.db = f & 2 != 0
      seg.s = f & 4 != 0
      seg.l = f & 8 != 0
      seg.g = f & 16 != 0
      seg.avl = f & 32 != 0
      seg.unusable = f & 64 != 0
      segs.append(seg)
    }
    (s.cs, s.ds, s.es, s.fs, s.gs, s.ss, s.tr, s.ldt) = (segs[0], segs[1], segs[2], segs[3], segs[4], segs[5], segs[6], segs[7])
    s.gdt = DescriptorTable(base: try r.readUInt64("gdt.base"), limit: try r.readUInt16("gdt.limit"))
    s.idt = DescriptorTable(base: try r.readUInt64("idt.base"), limit: try r.readUInt16("idt.limit"))
    s.cr0 = try r.readUInt64("cr0")
    s.cr2 = try r.readUInt64("cr2")
    s.cr3 = try r.readUInt64("cr3")
    s.cr4 = try r.readUInt64("cr4")
    s.cr8 = try r.readUInt64("cr8")
    s.efer = try r.readUInt64("efer")
    s.apicBase = try r.readUInt64("apicBase")
    s.interruptBitmap = []
    for _ in 0..<4 { s.interruptBitmap.append(try r.readUInt64("interruptBitmap")) }
    return s
  }
}
