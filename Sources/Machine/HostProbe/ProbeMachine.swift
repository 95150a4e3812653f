import KVM

/// A throwaway VM for one probe: 64 KiB of RAM at 0 and one vCPU in flat 32-bit protected mode
/// at CPL0 with interrupts off, as the test guests run. Code goes at `code`, the stack ends at
/// `stackTop`, and a GDT at `gdt` matches the flat selectors (delivering an interrupt reloads CS
/// from it). Every probe program ends in `hlt` or `out`, so no probe can spin.
final class ProbeMachine {
  static let code: UInt64 = 0x1000
  static let handler: UInt64 = 0x2000
  static let data: UInt64 = 0x3000
  static let stackTop: UInt64 = 0x8000
  static let gdt: UInt64 = 0x500
  static let idt: UInt64 = 0x600
  /// The I/O port probe programs write to (the POST port: any port exits to user space).
  static let port: UInt16 = 0x80

  let vm: VirtualMachine
  let vcpu: VCPU
  let memory: GuestMemory

  init(system host: ProbeHost, program: [UInt8]) throws(KVMError) {
    let system = host.system
    vm = try system.createVM()
    try vm.setIdentityMapAddress(0xFEFF_C000)
    try vm.setTSSAddress(0xFEFF_D000)
    memory = try GuestMemory(size: 0x10000)
    try vm.setMemoryRegion(slot: 0, guestAddress: 0, size: memory.size, host: memory.pointer)
    vcpu = try vm.createVCPU()
    try vcpu.setCPUID(host.cpuid)
    // Null, null, then flat code (0x10) and data (0x18), as the multiboot loader's GDT.
    let descriptors: [UInt64] = [0, 0, 0x00CF_9B00_0000_FFFF, 0x00CF_9300_0000_FFFF]
    memory.store(descriptors.flatMap(Self.littleEndian), at: Self.gdt)
    memory.store(program, at: Self.code)
    var boot = BootState(mode: .protected32, rip: Self.code, summary: "probe")
    boot.rsp = Self.stackTop
    boot.gdtBase = Self.gdt
    boot.gdtLimit = UInt16(descriptors.count * 8 - 1)
    try CPUSetup.apply(boot, to: vcpu)
  }

  /// Points IDT entry `vector` (a 32-bit interrupt gate) at `handlerCode`, copied to `handler`.
  func installHandler(vector: UInt8, code handlerCode: [UInt8]) throws(KVMError) {
    memory.store(handlerCode, at: Self.handler)
    let offset = Self.handler
    let gate = (offset & 0xFFFF) | 0x10 << 16 | 0x8E00 << 32 | (offset >> 16) << 48
    memory.store(Self.littleEndian(gate), at: Self.idt + UInt64(vector) * 8)
    var sregs = try vcpu.specialRegisters()
    sregs.idt = DescriptorTable(base: Self.idt, limit: 0x7FF)
    try vcpu.setSpecialRegisters(sregs)
  }

  func setInterruptFlag() throws(KVMError) {
    var regs = try vcpu.registers()
    regs.rflags |= 0x200
    try vcpu.setRegisters(regs)
  }

  /// `KVM_RUN`, past any spurious EINTR.
  func run() throws(KVMError) -> VCPUExit {
    var exit = try vcpu.run()
    var tries = 0
    while exit == .interrupted && tries < 100 {
      exit = try vcpu.run()
      tries += 1
    }
    return exit
  }

  var rip: UInt64 {
    get throws(KVMError) { try vcpu.registers().rip }
  }

  static func littleEndian(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

  /// A short description of an exit for `doctor`.
  static func describe(_ exit: VCPUExit) -> String {
    switch exit {
    case .io(let io): return "I/O exit (port 0x\(String(io.port, radix: 16)))"
    case .mmio(let m): return "MMIO exit at 0x\(String(m.address, radix: 16))"
    case .hlt: return "HLT exit"
    case .shutdown: return "shutdown (triple fault)"
    case .debug(let d): return "debug exit at 0x\(String(d.pc, radix: 16))"
    case .interruptWindowOpen: return "interrupt-window exit"
    case .internalError(let sub, _): return "internal error \(sub)"
    case .failEntry(let reason, _): return "failed entry 0x\(String(reason, radix: 16))"
    case .systemEvent(let t): return "system event \(t)"
    case .interrupted: return "EINTR"
    case .unknown(let r): return "exit reason \(r)"
    }
  }
}

/// The open KVM and the CPUID model every probe VM gets (computed once: it costs an ioctl).
struct ProbeHost {
  let system: KVMSystem
  let cpuid: [CPUIDEntry]
}

/// x86 encodings the probe programs are written with.
enum ProbeCode {
  static let nop: UInt8 = 0x90
  static let hlt: UInt8 = 0xF4
  static let int3: UInt8 = 0xCC
  /// `out 0x80, al`
  static let out: [UInt8] = [0xE6, 0x80]
  /// `mov [address], eax`
  static func store(to address: UInt32) -> [UInt8] {
    [0xA3] + (0..<4).map { UInt8(truncatingIfNeeded: address >> (8 * $0)) }
  }
}
