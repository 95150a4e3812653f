import CKVM

/// The complete architectural state of a vCPU, enough to resume it bit-exactly in the same VM
/// or a fresh one (kvm-host-facts.md: verified on this host).
///
/// Kernel structs whose layout is fixed by the Linux UAPI are kept as raw bytes: they are
/// restored as they were saved and hashed as bytes, never interpreted.
public struct VCPUState: Sendable, Equatable {
  public var registers: Registers
  public var specialRegisters: SpecialRegisters
  public var fpu: [UInt8]
  public var xsave: [UInt8]
  public var events: [UInt8]
  public var debugRegisters: [UInt8]
  public var mpState: UInt32
  public var xcrs: [UInt8]
  /// MSR index -> value, in the order of `msrIndices`.
  public var msrs: [UInt32: UInt64]

  public init(
    registers: Registers, specialRegisters: SpecialRegisters, fpu: [UInt8], xsave: [UInt8], events: [UInt8],
    debugRegisters: [UInt8], mpState: UInt32, xcrs: [UInt8], msrs: [UInt32: UInt64]
  ) {
    self.registers = registers
    self.specialRegisters = specialRegisters
    self.fpu = fpu
    self.xsave = xsave
    self.events = events
    self.debugRegisters = debugRegisters
    self.mpState = mpState
    self.xcrs = xcrs
    self.msrs = msrs
  }
}

extension VCPU {
  /// Captures the whole vCPU. `msrIndices` is normally `KVMSystem.msrIndexList()`.
  public func captureState(msrIndices: [UInt32]) throws(KVMError) -> VCPUState {
    VCPUState(
      registers: try registers(),
      specialRegisters: try specialRegisters(),
      fpu: try getRaw(kvm_fpu.self, "KVM_GET_FPU", CKVM_KVM_GET_FPU),
      xsave: (try? getRaw(kvm_xsave.self, "KVM_GET_XSAVE", CKVM_KVM_GET_XSAVE)) ?? [],
      events: try getRaw(kvm_vcpu_events.self, "KVM_GET_VCPU_EVENTS", CKVM_KVM_GET_VCPU_EVENTS),
      debugRegisters: try getRaw(kvm_debugregs.self, "KVM_GET_DEBUGREGS", CKVM_KVM_GET_DEBUGREGS),
      mpState: try mpState(),
      xcrs: (try? getRaw(kvm_xcrs.self, "KVM_GET_XCRS", CKVM_KVM_GET_XCRS)) ?? [],
      msrs: try readMSRs(msrIndices)
    )
  }

  /// Restores a captured state. Order matters: special registers (mode) before MSRs and
  /// general registers; events last so a pending exception or interrupt shadow survives.
  public func restoreState(_ state: VCPUState) throws(KVMError) {
    try setSpecialRegisters(state.specialRegisters)
    if !state.xcrs.isEmpty { try setRaw(state.xcrs, kvm_xcrs.self, "KVM_SET_XCRS", CKVM_KVM_SET_XCRS) }
    if !state.xsave.isEmpty {
      try setRaw(state.xsave, kvm_xsave.self, "KVM_SET_XSAVE", CKVM_KVM_SET_XSAVE)
    } else {
      try setRaw(state.fpu, kvm_fpu.self, "KVM_SET_FPU", CKVM_KVM_SET_FPU)
    }
    try writeMSRs(state.msrs.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    try setRegisters(state.registers)
    try setRaw(state.debugRegisters, kvm_debugregs.self, "KVM_SET_DEBUGREGS", CKVM_KVM_SET_DEBUGREGS)
    try setMPState(state.mpState)
    try setRaw(state.events, kvm_vcpu_events.self, "KVM_SET_VCPU_EVENTS", CKVM_KVM_SET_VCPU_EVENTS)
    try refreshRunStatus()
  }

  /// KVM fills in `kvm_run`'s status fields (`ready_for_interrupt_injection`, `if_flag`) only
  /// when KVM_RUN returns, so after a restore they still describe the state before it: an
  /// injection decided on them took an interrupt with IF clear (docs/determinism.md, "one look
  /// per turn, and readiness after a restore"). An entry with `immediate_exit` runs no guest
  /// code and sets them afresh.
  func refreshRunStatus() throws(KVMError) {
    guard let exit = try completePendingExit() else { return }
    throw KVMError("KVM_RUN (after a restore)", message: "exited with \(exit) instead of returning at once")
  }

  public func mpState() throws(KVMError) -> UInt32 {
    var s = kvm_mp_state()
    _ = try check("KVM_GET_MP_STATE", ckvm_ioctl_ptr(fd, CKVM_KVM_GET_MP_STATE, &s))
    return s.mp_state
  }

  public func setMPState(_ value: UInt32) throws(KVMError) {
    var s = kvm_mp_state(mp_state: value)
    _ = try check("KVM_SET_MP_STATE", ckvm_ioctl_ptr(fd, CKVM_KVM_SET_MP_STATE, &s))
  }

  private func getRaw<T>(_: T.Type, _ name: String, _ request: UInt) throws(KVMError) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: MemoryLayout<T>.size)
    let result = bytes.withUnsafeMutableBytes { ckvm_ioctl_ptr(fd, request, $0.baseAddress) }
    _ = try check(name, result)
    return bytes
  }

  private func setRaw<T>(_ bytes: [UInt8], _: T.Type, _ name: String, _ request: UInt) throws(KVMError) {
    guard bytes.count == MemoryLayout<T>.size else {
      throw KVMError(name, message: "saved state is \(bytes.count) bytes, this kernel's struct is \(MemoryLayout<T>.size)")
    }
    var copy = bytes
    let result = copy.withUnsafeMutableBytes { ckvm_ioctl_ptr(fd, request, $0.baseAddress) }
    _ = try check(name, result)
  }
}
