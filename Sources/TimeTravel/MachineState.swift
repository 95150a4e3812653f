import KVM
import Machine
import Recording

/// Everything of the machine except RAM: vCPU, devices, clock and the engine's own
/// interrupt-window request. RAM travels as content-addressed pages beside it.
struct MachineState: Equatable {
  var vcpu: VCPUState
  var devices: [UInt8]
  var clock: UInt64
  var requestInterruptWindow: Bool

  static func capture(_ platform: Platform, msrIndices: [UInt32]) throws -> MachineState {
    var encoder = StateEncoder()
    platform.bus.encodeState(into: &encoder)
    return MachineState(
      vcpu: try platform.vcpu.captureState(msrIndices: msrIndices),
      devices: encoder.bytes,
      clock: platform.clock.now,
      requestInterruptWindow: platform.vcpu.requestInterruptWindow)
  }

  func restore(into platform: Platform) throws {
    // KVM refuses its paravirtual clock MSRs when CPUID hides them; they carry host time only.
    var state = vcpu
    state.msrs = state.msrs.filter { !Self.isKVMParavirtualMSR($0.key) }
    try platform.vcpu.restoreState(state)
    var decoder = StateDecoder(devices)
    try platform.bus.decodeState(from: &decoder)
    platform.clock.reset(to: clock)
    platform.vcpu.requestInterruptWindow = requestInterruptWindow
    platform.stop.clear()
  }

  /// MSRs whose values follow the host clock, not the guest: saved, never hashed.
  static func isHostTimeMSR(_ index: UInt32) -> Bool {
    switch index {
    case 0x10, 0x3B, 0xC000_0103: return true  // TSC, TSC_ADJUST, TSC_AUX
    // Hyper-V VP_RUNTIME and TIME_REF_COUNT: stock KVM lists them (the CI host does not), and
    // both count host time whether or not CPUID shows Hyper-V to the guest.
    case 0x4000_0010, 0x4000_0020: return true
    default: return isKVMParavirtualMSR(index)
    }
  }

  /// What of an MSR's value the state hash covers (not called for host-time MSRs).
  static func comparedValue(ofMSR index: UInt32, _ value: UInt64) -> UInt64 {
    isSysenterPointerMSR(index) ? value & 0xFFFF_FFFF : value
  }

  /// SYSENTER_ESP and SYSENTER_EIP: hashed by their lower halves. AMD processors keep only
  /// those, and KVM on AMD-V drops the upper half when it sets them for a guest with AMD's
  /// vendor string, so a restore cannot bring back what an emulated AMD-V (QEMU's, which keeps
  /// all 64 bits) or an Intel host stored. Linux writes a 64-bit entry stack address there.
  static func isSysenterPointerMSR(_ index: UInt32) -> Bool { index == 0x175 || index == 0x176 }

  /// KVM's paravirtual clock MSRs (the old 0x11/0x12 pair and the 0x4b564dxx range).
  static func isKVMParavirtualMSR(_ index: UInt32) -> Bool {
    (0x4B56_4D00...0x4B56_4DFF).contains(index) || index == 0x11 || index == 0x12
  }

  func encoded() -> [UInt8] {
    var w = ByteWriter()
    writeVCPU(into: &w, forHash: false)
    w.write(lengthPrefixed: devices)
    w.write(clock)
    w.write(UInt8(requestInterruptWindow ? 1 : 0))
    return w.bytes
  }

  /// Feeds the hash with the deterministic part of the state.
  func hash(into hasher: inout StateHasher) {
    var w = ByteWriter()
    writeVCPU(into: &w, forHash: true)
    w.write(lengthPrefixed: devices)
    w.write(clock)
    w.write(UInt8(requestInterruptWindow ? 1 : 0))
    hasher.update(w.bytes)
  }

  private func writeVCPU(into w: inout ByteWriter, forHash: Bool) {
    RegisterCoding.write(vcpu.registers, into: &w)
    RegisterCoding.write(vcpu.specialRegisters, into: &w)
    w.write(lengthPrefixed: vcpu.fpu)
    var xsave = vcpu.xsave
    // The XSAVE header (XSTATE_BV, XCOMP_BV) tracks which components are in their init state,
    // which follows host activity; the register contents are hashed (here and in `fpu`).
    if forHash, xsave.count >= 576 { xsave.replaceSubrange(512..<576, with: repeatElement(0, count: 64)) }
    w.write(lengthPrefixed: xsave)
    w.write(lengthPrefixed: vcpu.events)
    var debugRegs = vcpu.debugRegisters
    // DR6 status bits are touched by the engine's own single-steps and breakpoints.
    if forHash, debugRegs.count >= 40 { debugRegs.replaceSubrange(32..<40, with: repeatElement(0, count: 8)) }
    w.write(lengthPrefixed: debugRegs)
    w.write(vcpu.mpState)
    w.write(lengthPrefixed: vcpu.xcrs)
    let msrs = vcpu.msrs.filter { !forHash || !Self.isHostTimeMSR($0.key) }.sorted { $0.key < $1.key }
    w.write(UInt32(msrs.count))
    for (index, value) in msrs {
      w.write(index)
      w.write(forHash ? Self.comparedValue(ofMSR: index, value) : value)
    }
  }

  init(vcpu: VCPUState, devices: [UInt8], clock: UInt64, requestInterruptWindow: Bool) {
    self.vcpu = vcpu
    self.devices = devices
    self.clock = clock
    self.requestInterruptWindow = requestInterruptWindow
  }

  init(decoding bytes: [UInt8], baseOffset: Int) throws(ByteReaderError) {
    var r = ByteReader(bytes, baseOffset: baseOffset)
    let regs = try RegisterCoding.read(&r)
    let sregs = try RegisterCoding.readSpecial(&r)
    let fpu = try r.readLengthPrefixedBytes("vcpu.fpu", limit: 1 << 16)
    let xsave = try r.readLengthPrefixedBytes("vcpu.xsave", limit: 1 << 20)
    let events = try r.readLengthPrefixedBytes("vcpu.events", limit: 1 << 12)
    let debugRegs = try r.readLengthPrefixedBytes("vcpu.debugRegisters", limit: 1 << 12)
    let mp = try r.readUInt32("vcpu.mpState")
    let xcrs = try r.readLengthPrefixedBytes("vcpu.xcrs", limit: 1 << 12)
    let count = try r.readUInt32("vcpu.msrCount")
    guard count <= 4096 else {
      throw ByteReaderError(field: "vcpu.msrCount", offset: baseOffset, reason: "\(count) MSRs is too many")
    }
    var msrs: [UInt32: UInt64] = [:]
    for _ in 0..<count {
      let index = try r.readUInt32("msr.index")
      msrs[index] = try r.readUInt64("msr.value")
    }
    vcpu = VCPUState(
      registers: regs, specialRegisters: sregs, fpu: fpu, xsave: xsave, events: events, debugRegisters: debugRegs,
      mpState: mp, xcrs: xcrs, msrs: msrs)
    devices = try r.readLengthPrefixedBytes("devices", limit: 1 << 24)
    clock = try r.readUInt64("clock")
    requestInterruptWindow = try r.readUInt8("requestInterruptWindow") != 0
  }
}
