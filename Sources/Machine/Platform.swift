import KVM

/// The virtual PC: a KVM VM with one vCPU, guest RAM, and the port devices, all in user space.
///
/// Memory map: RAM at [0, memorySize); optional read-only firmware ending at 4 GiB; the VMX
/// TSS and identity-map pages just below the 16 MiB firmware window. No in-kernel irqchip:
/// the engine injects every interrupt itself (determinism contract point 4).
public final class Platform {
  public let configuration: MachineConfiguration
  public let kvm: KVMSystem
  public let vm: VirtualMachine
  public let vcpu: VCPU
  public let memory: GuestMemory
  public let clock: VirtualClock
  public let bus = IOBus()
  public let stop = StopLatch()

  public let pic: PIC8259Pair
  public let pit: PIT8254
  public let uart: UART16550
  public let cmos: CMOS
  public let portB: SystemControlPortB
  public let debugExit: DebugExit
  public let post: PostCodePort
  public let vtsc: VirtualTSCPort
  public let port92: FastA20Reset
  public let i8042: I8042

  /// MMIO accesses to addresses with nothing behind them (address -> count).
  public private(set) var unknownMMIO: [UInt64: Int] = [:]
  private var firmware: GuestMemory?
  /// The KVM slots RAM is mapped through: one, unless pages were unmapped for watching.
  public internal(set) var ramSlots: [RAMSlot]

  public static let ramSlot: UInt32 = 0
  public static let firmwareSlot: UInt32 = 1
  static let tssAddress: UInt64 = 0xFEFF_D000
  static let identityMapAddress: UInt64 = 0xFEFF_C000

  public init(
    configuration: MachineConfiguration, kvmPath: String = "/dev/kvm", clock: VirtualClock = VirtualClock(),
    console: @escaping ([UInt8]) -> Void
  ) throws(MachineError) {
    try configuration.validate()
    self.configuration = configuration
    self.clock = clock
    do {
      kvm = try KVMSystem(path: kvmPath)
      vm = try kvm.createVM()
      try vm.setIdentityMapAddress(Self.identityMapAddress)
      try vm.setTSSAddress(Self.tssAddress)
      memory = try GuestMemory(size: configuration.memorySize)
      try vm.setMemoryRegion(
        slot: Self.ramSlot, guestAddress: 0, size: memory.size, host: memory.pointer, flags: [.logDirtyPages])
      vcpu = try vm.createVCPU()
      try vcpu.setCPUID(CPUIDModel.entries(supported: kvm.supportedCPUID()))
    } catch {
      throw .kvm(error)
    }

    ramSlots = [RAMSlot(slot: Self.ramSlot, firstPage: 0, pages: Int(memory.size / GuestMemory.pageSize))]
    let stop = self.stop
    pic = PIC8259Pair()
    pit = PIT8254(clock: clock, lines: pic)
    uart = UART16550(lines: pic, output: console)
    cmos = CMOS(clock: clock)
    cmos.setMemorySize(bytes: configuration.memorySize)
    portB = SystemControlPortB(pit: pit)
    debugExit = DebugExit(onExit: { stop.request(.debugExit(value: $0)) })
    post = PostCodePort()
    port92 = FastA20Reset(onReset: { stop.request(.reset(source: "port 0x92")) })
    i8042 = I8042(lines: pic, onReset: { stop.request(.reset(source: "i8042 reset command")) })
    vtsc = VirtualTSCPort(clock: clock)
    for device: any PortDevice in [pic, pit, uart, cmos, portB, debugExit, post, port92, i8042, vtsc] {
      do { try bus.register(device) } catch { throw .invalidConfiguration("\(error)") }
    }
  }

  /// Loads an image into RAM and points the vCPU at its entry.
  @discardableResult
  public func load(_ image: [UInt8], kind: ImageKind, options: LoadOptions) throws(MachineError) -> BootState {
    let boot: BootState
    do {
      boot = try ImageLoader.load(image, kind: kind, into: memory, options: options)
    } catch {
      throw .image(error.description)
    }
    if let firmwareImage = boot.firmware { try mapFirmware(firmwareImage) }
    do { try CPUSetup.apply(boot, to: vcpu) } catch { throw .kvm(error) }
    return boot
  }

  public func mapFirmware(_ image: [UInt8]) throws(MachineError) {
    let size = (UInt64(image.count) + 0xFFF) & ~0xFFF
    do {
      let rom = try GuestMemory(size: size)
      rom.store(image, at: size - UInt64(image.count))
      try vm.setMemoryRegion(
        slot: Self.firmwareSlot, guestAddress: (1 << 32) - size, size: size, host: rom.pointer, flags: [.readOnly])
      firmware = rom
    } catch {
      throw .kvm(error)
    }
  }

  /// Answers an MMIO access that no device claims: reads see all-ones, writes are dropped.
  public func handleUnclaimedMMIO(_ access: MMIOExit) {
    unknownMMIO[access.address, default: 0] += 1
    if !access.isWrite { vcpu.completeMMIORead(UInt64.max) }
  }
}
