import CKVM

#if canImport(Glibc)
  import Glibc
#endif

/// A virtual CPU: registers, interrupt injection, guest debugging and `KVM_RUN`.
///
/// Owned by the thread that runs it; `kickHandle` is the only piece another thread may use.
public final class VCPU {
  let fd: Int32
  let runPointer: UnsafeMutablePointer<kvm_run>
  let runSize: Int
  public let vm: VirtualMachine

  init(fd: Int32, run: UnsafeMutableRawPointer, runSize: Int, vm: VirtualMachine) {
    self.fd = fd
    self.runPointer = run.bindMemory(to: kvm_run.self, capacity: 1)
    self.runSize = runSize
    self.vm = vm
  }

  deinit {
    munmap(runPointer, runSize)
    close(fd)
  }

  // MARK: Registers

  public func registers() throws(KVMError) -> Registers {
    var r = kvm_regs()
    _ = try check("KVM_GET_REGS", ckvm_ioctl_ptr(fd, CKVM_KVM_GET_REGS, &r))
    return Registers(r)
  }

  public func setRegisters(_ registers: Registers) throws(KVMError) {
    var r = registers.raw
    _ = try check("KVM_SET_REGS", ckvm_ioctl_ptr(fd, CKVM_KVM_SET_REGS, &r))
  }

  public func specialRegisters() throws(KVMError) -> SpecialRegisters {
    var s = kvm_sregs()
    _ = try check("KVM_GET_SREGS", ckvm_ioctl_ptr(fd, CKVM_KVM_GET_SREGS, &s))
    return SpecialRegisters(s)
  }

  public func setSpecialRegisters(_ sregs: SpecialRegisters) throws(KVMError) {
    var s = sregs.raw
    _ = try check("KVM_SET_SREGS", ckvm_ioctl_ptr(fd, CKVM_KVM_SET_SREGS, &s))
  }

  public func setCPUID(_ entries: [CPUIDEntry]) throws(KVMError) {
    guard let list = ckvm_cpuid2_alloc(UInt32(entries.count)) else { throw KVMError("calloc", errno: ENOMEM) }
    defer { free(list) }
    let out = CPUIDEntry.entryPointer(of: list)
    for (i, e) in entries.enumerated() { out[i] = e.raw }
    _ = try check("KVM_SET_CPUID2", ckvm_ioctl_ptr(fd, CKVM_KVM_SET_CPUID2, list))
  }

  /// Reads MSRs; returns the values of those KVM answered (it stops at the first it cannot read).
  public func readMSRs(_ indices: [UInt32]) throws(KVMError) -> [UInt32: UInt64] {
    guard !indices.isEmpty else { return [:] }
    guard let msrs = ckvm_msrs_alloc(UInt32(indices.count)) else { throw KVMError("calloc", errno: ENOMEM) }
    defer { free(msrs) }
    let entries = UnsafeMutableRawPointer(msrs).advanced(by: MemoryLayout<kvm_msrs>.size)
      .bindMemory(to: kvm_msr_entry.self, capacity: indices.count)
    for (i, index) in indices.enumerated() { entries[i] = kvm_msr_entry(index: index, reserved: 0, data: 0) }
    let read = Int(try check("KVM_GET_MSRS", ckvm_ioctl_ptr(fd, CKVM_KVM_GET_MSRS, msrs)))
    var result: [UInt32: UInt64] = [:]
    for i in 0..<min(read, indices.count) { result[entries[i].index] = entries[i].data }
    return result
  }

  public func writeMSRs(_ values: [(UInt32, UInt64)]) throws(KVMError) {
    guard !values.isEmpty else { return }
    guard let msrs = ckvm_msrs_alloc(UInt32(values.count)) else { throw KVMError("calloc", errno: ENOMEM) }
    defer { free(msrs) }
    let entries = UnsafeMutableRawPointer(msrs).advanced(by: MemoryLayout<kvm_msrs>.size)
      .bindMemory(to: kvm_msr_entry.self, capacity: values.count)
    for (i, (index, value)) in values.enumerated() { entries[i] = kvm_msr_entry(index: index, reserved: 0, data: value) }
    let written = Int(try check("KVM_SET_MSRS", ckvm_ioctl_ptr(fd, CKVM_KVM_SET_MSRS, msrs)))
    if written != values.count {
      let failed = String(values[written].0, radix: 16)
      throw KVMError("KVM_SET_MSRS", message: "KVM refused MSR 0x\(failed) (\(written) of \(values.count) written)")
    }
  }

  // MARK: Interrupts

  /// Whether the guest can take an external interrupt right now (IF set, no interrupt shadow).
  public var readyForInterruptInjection: Bool { runPointer.pointee.ready_for_interrupt_injection != 0 }
  public var interruptFlag: Bool { runPointer.pointee.if_flag != 0 }

  /// Ask KVM to exit with `.interruptWindowOpen` as soon as the guest can take an interrupt.
  public var requestInterruptWindow: Bool {
    get { runPointer.pointee.request_interrupt_window != 0 }
    set { runPointer.pointee.request_interrupt_window = newValue ? 1 : 0 }
  }

  /// Injects external interrupt `vector` (userspace irqchip).
  public func injectInterrupt(vector: UInt8) throws(KVMError) {
    var irq = kvm_interrupt(irq: UInt32(vector))
    _ = try check("KVM_INTERRUPT (vector \(vector))", ckvm_ioctl_ptr(fd, CKVM_KVM_INTERRUPT, &irq))
  }

  // MARK: Debugging

  public struct DebugControl: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let enable = DebugControl(rawValue: 0x1)
    public static let singleStep = DebugControl(rawValue: 0x2)
    public static let useSoftwareBreakpoints = DebugControl(rawValue: 0x1_0000)
    public static let useHardwareBreakpoints = DebugControl(rawValue: 0x2_0000)
  }

  /// KVM_SET_GUEST_DEBUG; `debugRegisters` are DR0-DR3 addresses and DR7 (index 7).
  public func setGuestDebug(_ control: DebugControl, debugRegisters: [UInt64] = []) throws(KVMError) {
    var dbg = kvm_guest_debug()
    dbg.control = control.rawValue
    withUnsafeMutableBytes(of: &dbg.arch.debugreg) { raw in
      let regs = raw.bindMemory(to: UInt64.self)
      for (i, value) in debugRegisters.prefix(8).enumerated() { regs[i] = value }
    }
    _ = try check("KVM_SET_GUEST_DEBUG", ckvm_ioctl_ptr(fd, CKVM_KVM_SET_GUEST_DEBUG, &dbg))
  }

  /// Arms hardware execute breakpoints at up to four linear addresses (DR0-DR3, DR7: local
  /// enable, execute, length 1); the rest are ignored.
  public func setExecutionBreakpoints(_ addresses: [UInt64]) throws(KVMError) {
    var regs = [UInt64](repeating: 0, count: 8)
    regs[7] = 0x400  // DR7 bit 10 reads as 1
    for (i, a) in addresses.prefix(4).enumerated() {
      regs[i] = a
      regs[7] |= 1 << UInt64(2 * i)
    }
    try setGuestDebug([.enable, .useHardwareBreakpoints], debugRegisters: regs)
  }

  /// Guest-virtual to guest-physical through the guest's current page tables.
  public func translate(_ virtualAddress: UInt64) throws(KVMError) -> UInt64? {
    var t = kvm_translation()
    t.linear_address = virtualAddress
    _ = try check("KVM_TRANSLATE", ckvm_ioctl_ptr(fd, CKVM_KVM_TRANSLATE, &t))
    return t.valid != 0 ? t.physical_address : nil
  }

  // MARK: Running

  /// A handle another thread can use to make `run()` return `.interrupted` promptly.
  public var kickHandle: KickHandle { KickHandle(runAddress: UInt(bitPattern: runPointer)) }

  /// Enters the guest until the next exit to user space.
  public func run() throws(KVMError) -> VCPUExit {
    let result = ckvm_ioctl(fd, CKVM_KVM_RUN, 0)
    if result < 0 {
      let err = Glibc.errno
      guard err == EINTR || err == EAGAIN else { throw KVMError("KVM_RUN", errno: err) }
      runPointer.pointee.immediate_exit = 0
      return .interrupted
    }
    return decodeExit()
  }

  /// Finishes the instruction of the last I/O or MMIO exit without running guest code after it.
  /// KVM completes such an instruction (stores an `in` result, advances rip) only on the next
  /// entry; with `immediate_exit` that entry does just that and returns, so the state read
  /// afterwards is the state after the instruction, which a snapshot can restore. Returns nil
  /// when done; under single-step the completion reports the step's `.debug` exit, also done;
  /// any other exit is a further access of the same instruction (a read-modify-write of MMIO,
  /// string I/O), to be handled and completed in turn.
  public func completePendingExit() throws(KVMError) -> VCPUExit? {
    runPointer.pointee.immediate_exit = 1
    let result = ckvm_ioctl(fd, CKVM_KVM_RUN, 0)
    let err = Glibc.errno
    runPointer.pointee.immediate_exit = 0
    if result < 0 {
      guard err == EINTR || err == EAGAIN else { throw KVMError("KVM_RUN (completing an exit)", errno: err) }
      return nil
    }
    return decodeExit()
  }

  /// The I/O data buffer of the current `.io` exit (size * count bytes).
  public var ioData: UnsafeMutablePointer<UInt8> { ckvm_run_io_data(runPointer) }

  /// Stores the result of an MMIO read for the guest to receive when it resumes.
  public func completeMMIORead(_ value: UInt64) {
    withUnsafeMutableBytes(of: &runPointer.pointee.mmio.data) { raw in
      withUnsafeBytes(of: value.littleEndian) { raw.copyMemory(from: $0) }
    }
  }

  private func decodeExit() -> VCPUExit {
    let r = runPointer.pointee
    switch Int32(r.exit_reason) {
    case KVM_EXIT_IO:
      return .io(
        IOExit(isWrite: Int32(r.io.direction) == KVM_EXIT_IO_OUT, port: r.io.port, size: Int(r.io.size), count: Int(r.io.count)))
    case KVM_EXIT_MMIO:
      let data = withUnsafeBytes(of: r.mmio.data) { $0.loadUnaligned(as: UInt64.self) }
      return .mmio(
        MMIOExit(
          address: r.mmio.phys_addr, isWrite: r.mmio.is_write != 0, length: Int(r.mmio.len), data: UInt64(littleEndian: data)))
    case KVM_EXIT_HLT:
      return .hlt
    case KVM_EXIT_SHUTDOWN:
      return .shutdown
    case KVM_EXIT_DEBUG:
      let a = r.debug.arch
      return .debug(DebugEvent(pc: a.pc, exception: a.exception, dr6: a.dr6, dr7: a.dr7))
    case KVM_EXIT_IRQ_WINDOW_OPEN:
      return .interruptWindowOpen
    case KVM_EXIT_INTERNAL_ERROR:
      let e = r.internal
      let words = withUnsafeBytes(of: e.data) { Array($0.bindMemory(to: UInt64.self).prefix(Int(min(e.ndata, 16)))) }
      return .internalError(suberror: e.suberror, data: words)
    case KVM_EXIT_FAIL_ENTRY:
      return .failEntry(reason: r.fail_entry.hardware_entry_failure_reason, cpu: r.fail_entry.cpu)
    case KVM_EXIT_SYSTEM_EVENT:
      return .systemEvent(type: r.system_event.type)
    case KVM_EXIT_INTR:
      return .interrupted
    default:
      return .unknown(reason: r.exit_reason)
    }
  }
}

/// Kicks a vCPU out of `KVM_RUN` from another thread: sets `immediate_exit` (covers a kick that
/// lands just before entry) and signals the vCPU thread (covers one already in the guest).
public struct KickHandle: Sendable {
  let runAddress: UInt
  public static let signal: Int32 = SIGUSR1

  /// Call once on the thread that will run the vCPU, before the first kick.
  public static func prepareCurrentThread() -> UInt64 {
    _ = ckvm_install_kick_handler(signal)
    return ckvm_current_thread()
  }

  /// Called first thing by programs: see `ckvm_unblock_termination_signals`.
  public static func unblockTerminationSignals() {
    _ = ckvm_unblock_termination_signals()
  }

  public func kick(thread: UInt64) {
    if let run = UnsafeMutablePointer<kvm_run>(bitPattern: runAddress) {
      run.pointee.immediate_exit = 1
    }
    _ = ckvm_kick_thread(thread, Self.signal)
  }
}
