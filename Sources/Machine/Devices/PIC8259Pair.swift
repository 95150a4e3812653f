/// The two cascaded 8259A interrupt controllers of a PC, plus the PIIX edge/level control
/// registers (ELCR, ports 0x4D0-0x4D1).
///
/// The master (0x20-0x21) takes IRQ 0-7, the slave (0xA0-0xA1) IRQ 8-15 and drives the
/// master's IR2. The CPU side is `hasPendingInterrupt` and `acknowledge()` (the INTA cycle):
/// the engine injects what `acknowledge()` returns.
public final class PIC8259Pair: PortDevice, InterruptLines {
  public let name: String

  private var master = Chip(isMaster: true)
  private var slave = Chip(isMaster: false)

  public init(name: String = "pic") {
    self.name = name
  }

  public let portRanges: [ClosedRange<UInt16>] = [0x20...0x21, 0xA0...0xA1, 0x4D0...0x4D1]

  // MARK: Interrupt lines

  /// Sets ISA line `irq`. Line 2 is the cascade input and is not available to devices (on a PC
  /// the bus's IRQ2 pin is routed to IRQ 9); out-of-range lines are ignored.
  public func setLevel(irq: Int, high: Bool) {
    switch irq {
    case 0, 1, 3...7:
      master.setLine(irq, high: high)
    case 8...15:
      slave.setLine(irq - 8, high: high)
      propagateCascade()
    default:
      break
    }
  }

  // MARK: CPU side

  /// True when an unmasked request outranks everything in service: the 8259's INT output.
  public var hasPendingInterrupt: Bool { master.highestRequest() != nil }

  /// The INTA cycle: returns the vector for the CPU and moves the request from IRR to ISR
  /// (unless auto-EOI). Returns nil when INT is low: the CPU would not run an INTA cycle.
  ///
  /// The 8259A's spurious vectors (IR7 of the chip, i.e. IRQ 7 or 15) come from a request that
  /// goes away between INT and INTA. Here INTA follows the check at once, so a real request is
  /// always there; the slave's IR7 answer with IR2 in service on the master is kept for the case
  /// where the master selects the cascade and the slave has nothing.
  public func acknowledge() -> UInt8? {
    guard let irq = master.highestRequest() else { return nil }
    let vector: UInt8
    if irq == 2 && !master.singleMode {
      if let slaveIRQ = slave.highestRequest() {
        slave.acknowledge(slaveIRQ)
        vector = slave.vectorBase | UInt8(slaveIRQ)
      } else {
        vector = slave.vectorBase | 7
      }
      propagateCascade()
    } else {
      vector = master.vectorBase | UInt8(irq)
    }
    master.acknowledge(irq)
    return vector
  }

  /// The vector IRQ 0 (the PIT) is delivered with, as the guest programmed the master.
  public var timerVector: UInt8 { master.vectorBase }

  /// Registers as a debugger would like to see them: (IRR, ISR, IMR) for master and slave.
  public var registers: (master: (irr: UInt8, isr: UInt8, imr: UInt8), slave: (irr: UInt8, isr: UInt8, imr: UInt8)) {
    ((master.irr, master.isr, master.imr), (slave.irr, slave.isr, slave.imr))
  }

  // MARK: Ports

  public func read(port: UInt16, size: Int) -> UInt32 {
    DevicePortAccess.splitRead(port: port, size: size, ranges: portRanges) { readByte($0) }
  }

  public func write(port: UInt16, size: Int, value: UInt32) {
    DevicePortAccess.splitWrite(port: port, size: size, value: value, ranges: portRanges) {
      writeByte($0, $1)
    }
  }

  private func readByte(_ port: UInt16) -> UInt8 {
    switch port {
    case 0x20, 0x21:
      return master.read(port: port & 1)
    case 0xA0, 0xA1:
      let value = slave.read(port: port & 1)
      propagateCascade()  // a poll read acknowledges
      return value
    case 0x4D0:
      return master.elcr
    default:
      return slave.elcr
    }
  }

  private func writeByte(_ port: UInt16, _ value: UInt8) {
    switch port {
    case 0x20, 0x21:
      master.write(port: port & 1, value: value)
    case 0xA0, 0xA1:
      slave.write(port: port & 1, value: value)
      propagateCascade()
    case 0x4D0:
      master.setELCR(value)
    default:
      slave.setELCR(value)
      propagateCascade()
    }
  }

  /// The slave's INT output is the master's IR2 input. The master treats it as a level: the
  /// 8259A drops a request whose input falls before INTA, and a latched-but-withdrawn cascade
  /// request would only turn into a spurious IRQ 15.
  private func propagateCascade() {
    master.setLine(2, high: slave.highestRequest() != nil)
  }

  // MARK: State

  public func encodeState(into encoder: inout StateEncoder) {
    master.encode(into: &encoder)
    slave.encode(into: &encoder)
  }

  public func decodeState(from decoder: inout StateDecoder) throws(StateDecodingError) {
    let master = try Chip.decode(from: &decoder, isMaster: true)
    let slave = try Chip.decode(from: &decoder, isMaster: false)
    self.master = master
    self.slave = slave
  }
}

/// One 8259A. Follows the datasheet's priority resolver: fixed priority rotated by
/// `lowestPriority`, a request is delivered when it outranks the highest in-service level.
private struct Chip {
  let isMaster: Bool
  var irr: UInt8 = 0
  var isr: UInt8 = 0
  var imr: UInt8 = 0
  /// The input pin levels, for edge detection.
  var lineLevels: UInt8 = 0
  /// ELCR: 1 = level-triggered. Bits for IRQ 0, 1, 2 (master) and 8, 13 (slave) are fixed 0.
  var elcr: UInt8 = 0
  var vectorBase: UInt8 = 0
  /// The IR level with the lowest priority is `lowestPriority`; IR `lowestPriority + 1` is highest.
  var lowestPriority: UInt8 = 7
  /// 0: operational; 1, 2, 3: waiting for ICW2, ICW3, ICW4.
  var initStep: UInt8 = 0
  var needsICW4 = false
  var singleMode = false
  var autoEOI = false
  var rotateOnAutoEOI = false
  var specialFullyNested = false
  var specialMask = false
  /// OCW3 RR/RIS: the command port reads ISR instead of IRR.
  var readISR = false
  /// OCW3 P: the next command-port read is a poll.
  var poll = false

  init(isMaster: Bool) { self.isMaster = isMaster }

  private var elcrMask: UInt8 { isMaster ? 0xF8 : 0xDE }
  /// Inputs whose request follows the line: the ELCR's plus the master's cascade input.
  private var levelInputs: UInt8 { isMaster ? elcr | 0x04 : elcr }

  mutating func setLine(_ line: Int, high: Bool) {
    let bit = UInt8(1) << UInt8(line)
    if levelInputs & bit != 0 {
      // Level-triggered: the request follows the line.
      if high { irr |= bit } else { irr &= ~bit }
    } else if high && lineLevels & bit == 0 {
      irr |= bit  // edge-triggered: latch on the rising edge only
    }
    if high { lineLevels |= bit } else { lineLevels &= ~bit }
  }

  mutating func setELCR(_ value: UInt8) {
    elcr = value & elcrMask
    // A line switched to level mode requests exactly while it is high.
    irr = (irr & ~levelInputs) | (lineLevels & levelInputs)
  }

  /// The highest-priority set bit of `mask` as a priority rank (0 = highest), 8 if none.
  private func rank(of mask: UInt8) -> Int {
    guard mask != 0 else { return 8 }
    for r in 0..<8 where mask & (1 << ((UInt8(r) &+ lowestPriority &+ 1) & 7)) != 0 { return r }
    return 8
  }

  private func irq(ofRank r: Int) -> Int { Int((UInt8(r) &+ lowestPriority &+ 1) & 7) }

  /// The IR line this chip would present to the CPU now, if any.
  func highestRequest() -> Int? {
    let requestRank = rank(of: irr & ~imr)
    guard requestRank < 8 else { return nil }
    var inService = isr
    // Special mask mode: masked levels do not inhibit lower ones.
    if specialMask { inService &= ~imr }
    // Special fully nested mode: further slave requests may interrupt a slave in service.
    if specialFullyNested && isMaster { inService &= ~0x04 }
    return requestRank < rank(of: inService) ? irq(ofRank: requestRank) : nil
  }

  mutating func acknowledge(_ line: Int) {
    let bit = UInt8(1) << UInt8(line)
    if autoEOI {
      if rotateOnAutoEOI { lowestPriority = UInt8(line) }
    } else {
      isr |= bit
    }
    // A level-triggered request stays while its line is high.
    if levelInputs & bit == 0 { irr &= ~bit }
  }

  mutating func read(port: UInt16) -> UInt8 {
    if poll {
      // Poll command: the read itself acknowledges the highest request.
      poll = false
      guard let line = highestRequest() else { return 0 }
      acknowledge(line)
      return 0x80 | UInt8(line)
    }
    if port == 0 { return readISR ? isr : irr }
    return imr
  }

  mutating func write(port: UInt16, value: UInt8) {
    if port == 0 {
      if value & 0x10 != 0 {
        initialize(icw1: value)
      } else if value & 0x08 != 0 {
        // OCW3
        if value & 0x04 != 0 { poll = true }
        if value & 0x02 != 0 { readISR = value & 0x01 != 0 }
        if value & 0x40 != 0 { specialMask = value & 0x20 != 0 }
      } else {
        writeOCW2(value)
      }
      return
    }
    switch initStep {
    case 1:
      vectorBase = value & 0xF8
      initStep = singleMode ? (needsICW4 ? 3 : 0) : 2
    case 2:
      // ICW3: the cascade wiring is fixed on a PC (slave on IR2, slave ID 2).
      initStep = needsICW4 ? 3 : 0
    case 3:
      // ICW4: bit 0 (8086 mode) is assumed; buffered mode does not matter here.
      autoEOI = value & 0x02 != 0
      specialFullyNested = value & 0x10 != 0
      initStep = 0
    default:
      imr = value  // OCW1
    }
  }

  private mutating func initialize(icw1: UInt8) {
    // ICW1 resets the chip but not the pins or the ELCR: a line held high must go low and high
    // again before it is recognised (the edge-sense latch is reset).
    irr = lineLevels & levelInputs
    isr = 0
    imr = 0
    lowestPriority = 7
    vectorBase = 0
    autoEOI = false
    rotateOnAutoEOI = false
    specialFullyNested = false
    specialMask = false
    readISR = false
    poll = false
    needsICW4 = icw1 & 0x01 != 0
    singleMode = icw1 & 0x02 != 0
    initStep = 1
  }

  private mutating func writeOCW2(_ value: UInt8) {
    let level = value & 0x07
    switch value >> 5 {
    case 0b000, 0b100:  // clear / set rotate in automatic EOI mode
      rotateOnAutoEOI = value & 0x80 != 0
    case 0b001, 0b101:  // non-specific EOI (without / with rotation)
      let r = rank(of: isr)
      guard r < 8 else { return }
      let line = irq(ofRank: r)
      isr &= ~(UInt8(1) << UInt8(line))
      if value >> 5 == 0b101 { lowestPriority = UInt8(line) }
    case 0b011:  // specific EOI
      isr &= ~(UInt8(1) << level)
    case 0b110:  // set priority
      lowestPriority = level
    case 0b111:  // rotate on specific EOI
      isr &= ~(UInt8(1) << level)
      lowestPriority = level
    default:
      break  // 0b010: no operation
    }
  }

  func encode(into encoder: inout StateEncoder) {
    encoder.write(irr)
    encoder.write(isr)
    encoder.write(imr)
    encoder.write(lineLevels)
    encoder.write(elcr)
    encoder.write(vectorBase)
    encoder.write(lowestPriority)
    encoder.write(initStep)
    encoder.write(needsICW4)
    encoder.write(singleMode)
    encoder.write(autoEOI)
    encoder.write(rotateOnAutoEOI)
    encoder.write(specialFullyNested)
    encoder.write(specialMask)
    encoder.write(readISR)
    encoder.write(poll)
  }

  static func decode(from decoder: inout StateDecoder, isMaster: Bool) throws(StateDecodingError) -> Chip {
    var chip = Chip(isMaster: isMaster)
    chip.irr = try decoder.read()
    chip.isr = try decoder.read()
    chip.imr = try decoder.read()
    chip.lineLevels = try decoder.read()
    chip.elcr = try decoder.read()
    chip.vectorBase = try decoder.read()
    chip.lowestPriority = try decoder.read()
    chip.initStep = try decoder.read()
    chip.needsICW4 = try decoder.read()
    chip.singleMode = try decoder.read()
    chip.autoEOI = try decoder.read()
    chip.rotateOnAutoEOI = try decoder.read()
    chip.specialFullyNested = try decoder.read()
    chip.specialMask = try decoder.read()
    chip.readISR = try decoder.read()
    chip.poll = try decoder.read()
    try decoder.require(chip.lowestPriority < 8, "8259 priority")
    try decoder.require(chip.initStep < 4, "8259 initialization step")
    try decoder.require(chip.elcr & ~chip.elcrMask == 0, "ELCR")
    return chip
  }
}
