/// A PS/2 keyboard controller (8042, ports 0x60 and 0x64) with nothing plugged into it.
///
/// Enough for firmware and Linux to probe it quickly and to reboot through it: the controller
/// commands work (self-test, command byte, port enables, output port, AUX loopback), bytes sent
/// to the absent keyboard or mouse come back as 0xFE with the time-out bit, as a real controller
/// reports a missing device, and commands 0xFE / output-port bit 0 reset the machine. Input is
/// processed at once, so IBF never stays set and a guest polling the status never waits.
public final class I8042: PortDevice {
  public let name: String
  private let lines: (any InterruptLines)?
  private let onReset: () -> Void

  // Status register bits.
  private static let statusOBF: UInt8 = 0x01
  private static let statusSystem: UInt8 = 0x04
  private static let statusCommand: UInt8 = 0x08
  private static let statusUnlocked: UInt8 = 0x10
  private static let statusAux: UInt8 = 0x20
  private static let statusTimeout: UInt8 = 0x40
  // Command byte (CTR) bits.
  private static let ctrKeyboardInterrupt: UInt8 = 0x01
  private static let ctrAuxInterrupt: UInt8 = 0x02
  private static let ctrSystem: UInt8 = 0x04
  private static let ctrKeyboardDisabled: UInt8 = 0x10
  private static let ctrAuxDisabled: UInt8 = 0x20
  static let queueLimit = 16

  /// The command byte; 0x47 is what a PC BIOS leaves (translation on, both interrupts on).
  private var commandByte: UInt8 = 0x47
  /// Status bit 2: set once the controller has passed its self-test (the BIOS did that).
  private var systemFlag = true
  /// Status bit 3: the last write went to port 0x64.
  private var lastWriteWasCommand = true
  /// A controller command waiting for its parameter on port 0x60 (0 = none).
  private var pendingCommand: UInt8 = 0
  /// The output port: bit 0 is the CPU reset line (active low), bit 1 the A20 gate.
  private var outputPort: UInt8 = 0x03
  /// Bytes waiting for the guest, with their status bits (AUX, time-out).
  private var outputBytes: [UInt8] = []
  private var outputFlags: [UInt8] = []
  /// What port 0x60 returns once the output buffer is empty: the last byte read.
  private var lastData: UInt8 = 0

  /// `lines`, when given, get IRQ 1 (keyboard side) and IRQ 12 (AUX side) while the output
  /// buffer holds a byte for that side and the command byte enables its interrupt.
  public init(name: String = "i8042", lines: (any InterruptLines)? = nil, onReset: @escaping () -> Void) {
    self.name = name
    self.lines = lines
    self.onReset = onReset
  }

  public let portRanges: [ClosedRange<UInt16>] = [0x60...0x60, 0x64...0x64]

  public var status: UInt8 {
    var value = Self.statusUnlocked
    if systemFlag { value |= Self.statusSystem }
    if lastWriteWasCommand { value |= Self.statusCommand }
    if let flags = outputFlags.first { value |= Self.statusOBF | flags }
    return value
  }

  // MARK: Ports

  public func read(port: UInt16, size: Int) -> UInt32 {
    DevicePortAccess.splitRead(port: port, size: size, ranges: portRanges) { p in
      p == 0x64 ? status : readData()
    }
  }

  public func write(port: UInt16, size: Int, value: UInt32) {
    DevicePortAccess.splitWrite(port: port, size: size, value: value, ranges: portRanges) { p, byte in
      if p == 0x64 { writeCommand(byte) } else { writeData(byte) }
    }
  }

  private func readData() -> UInt8 {
    guard !outputBytes.isEmpty else { return lastData }
    lastData = outputBytes.removeFirst()
    outputFlags.removeFirst()
    // OBF drops before the next byte is loaded: the line falls so the next byte is a new edge.
    lowerLines()
    updateInterrupts()
    return lastData
  }

  private func writeCommand(_ command: UInt8) {
    lastWriteWasCommand = true
    pendingCommand = 0
    switch command {
    case 0x20:
      enqueue(commandByte)
    case 0x60, 0xD1, 0xD2, 0xD3, 0xD4:
      pendingCommand = command
    case 0xA7:
      commandByte |= Self.ctrAuxDisabled
    case 0xA8:
      commandByte &= ~Self.ctrAuxDisabled
    case 0xA9, 0xAB:
      enqueue(0x00)  // interface tests pass: the clock and data lines are fine, just idle
    case 0xAA:
      systemFlag = true
      enqueue(0x55)
    case 0xAD:
      commandByte |= Self.ctrKeyboardDisabled
    case 0xAE:
      commandByte &= ~Self.ctrKeyboardDisabled
    case 0xC0:
      enqueue(0x80)  // input port: keyboard not inhibited
    case 0xD0:
      enqueue(outputPort)
    case 0xE0:
      enqueue(0x00)  // test inputs: clock and data low
    case 0xF0...0xFF:
      // Pulse output port bits for 6 us; bit 0 is the reset line (0xFE is the classic reboot).
      if command & 0x01 == 0 { onReset() }
    default:
      break  // unsupported commands are ignored, as the real part ignores undefined ones
    }
    updateInterrupts()
  }

  private func writeData(_ byte: UInt8) {
    lastWriteWasCommand = false
    let command = pendingCommand
    pendingCommand = 0
    switch command {
    case 0x60:
      commandByte = byte
      systemFlag = byte & Self.ctrSystem != 0
    case 0xD1:
      outputPort = byte
      if byte & 0x01 == 0 { onReset() }  // the reset line is active low
    case 0xD2:
      enqueue(byte)
    case 0xD3:
      enqueue(byte, flags: Self.statusAux)
    case 0xD4:
      enqueue(0xFE, flags: Self.statusAux | Self.statusTimeout)  // no mouse answers
    default:
      enqueue(0xFE, flags: Self.statusTimeout)  // no keyboard answers
    }
    updateInterrupts()
  }

  private func enqueue(_ byte: UInt8, flags: UInt8 = 0) {
    // A guest that never reads could grow the queue without bound; a real controller holds one byte.
    guard outputBytes.count < Self.queueLimit else { return }
    outputBytes.append(byte)
    outputFlags.append(flags)
  }

  private func lowerLines() {
    lines?.setLevel(irq: 1, high: false)
    lines?.setLevel(irq: 12, high: false)
  }

  private func updateInterrupts() {
    guard let lines else { return }
    let head = outputFlags.first
    let aux = head.map { $0 & Self.statusAux != 0 }
    lines.setLevel(irq: 1, high: aux == false && commandByte & Self.ctrKeyboardInterrupt != 0)
    lines.setLevel(irq: 12, high: aux == true && commandByte & Self.ctrAuxInterrupt != 0)
  }

  // MARK: State

  public func encodeState(into encoder: inout StateEncoder) {
    encoder.write(commandByte)
    encoder.write(systemFlag)
    encoder.write(lastWriteWasCommand)
    encoder.write(pendingCommand)
    encoder.write(outputPort)
    encoder.write(outputBytes)
    encoder.write(outputFlags)
    encoder.write(lastData)
  }

  public func decodeState(from decoder: inout StateDecoder) throws(StateDecodingError) {
    let commandByte: UInt8 = try decoder.read()
    let systemFlag: Bool = try decoder.read()
    let lastWriteWasCommand: Bool = try decoder.read()
    let pendingCommand: UInt8 = try decoder.read()
    let outputPort: UInt8 = try decoder.read()
    let outputBytes: [UInt8] = try decoder.read()
    let outputFlags: [UInt8] = try decoder.read()
    let lastData: UInt8 = try decoder.read()
    try decoder.require(
      outputBytes.count == outputFlags.count && outputBytes.count <= Self.queueLimit, "i8042 output queue")
    self.commandByte = commandByte
    self.systemFlag = systemFlag
    self.lastWriteWasCommand = lastWriteWasCommand
    self.pendingCommand = pendingCommand
    self.outputPort = outputPort
    self.outputBytes = outputBytes
    self.outputFlags = outputFlags
    self.lastData = lastData
  }
}
