/// A 16550A UART (COM1 by default) as Linux's 8250 driver and firmware consoles see it.
///
/// Transmission is instantaneous: a byte written to THR reaches `output` at once, so THR and
/// the transmitter are always empty when the guest looks. Host input goes into a 16-byte RX
/// FIFO; what does not fit waits in `pending` (part of the state) and moves in as the guest
/// reads, so input is never dropped. The character-timeout interrupt is reported as soon as
/// data sits below the trigger level: host input arrives in whole bursts, so waiting four
/// character times would only add a timer without changing what the guest can observe.
public final class UART16550: PortDevice {
  public let name: String
  public let base: UInt16
  public let irq: Int
  public let portRanges: [ClosedRange<UInt16>]
  private let lines: any InterruptLines
  private let output: ([UInt8]) -> Void

  // Register bits the device acts on.
  private static let ierRxData: UInt8 = 0x01
  private static let ierTHRE: UInt8 = 0x02
  private static let ierLineStatus: UInt8 = 0x04
  private static let ierModemStatus: UInt8 = 0x08
  private static let lcrDLAB: UInt8 = 0x80
  private static let mcrDTR: UInt8 = 0x01
  private static let mcrRTS: UInt8 = 0x02
  private static let mcrOUT1: UInt8 = 0x04
  private static let mcrOUT2: UInt8 = 0x08
  private static let mcrLoop: UInt8 = 0x10
  private static let lsrDR: UInt8 = 0x01
  private static let lsrOE: UInt8 = 0x02
  private static let lsrTHRE: UInt8 = 0x20
  private static let lsrTEMT: UInt8 = 0x40
  /// CTS, DSR and DCD asserted: a host that is always connected and ready.
  private static let msrHostLines: UInt8 = 0xB0
  static let fifoSize = 16

  // Guest-visible registers.
  private var divisorLow: UInt8 = 0x0C  // 9600 baud, what firmware usually leaves
  private var divisorHigh: UInt8 = 0
  private var ier: UInt8 = 0
  private var lcr: UInt8 = 0
  private var mcr: UInt8 = 0
  private var scratch: UInt8 = 0
  private var fifoEnabled = false
  /// FCR bits 7:6, the RX trigger level selector.
  private var triggerSelect: UInt8 = 0
  /// Sticky LSR error bits (only overrun can happen here: loopback into a full FIFO).
  private var lineErrors: UInt8 = 0
  /// MSR line bits (7:4) as of the last change; the delta bits (3:0) are `msrDeltas`.
  private var msrLines: UInt8 = UART16550.msrHostLines
  private var msrDeltas: UInt8 = 0
  /// The THR-empty interrupt: raised when it becomes empty (or ETBEI is enabled while it is),
  /// cleared by reading IIR while it is the reported source or by writing THR.
  private var threInterruptPending = false
  private var rxFIFO: [UInt8] = []
  /// Host input that did not fit into the FIFO yet, oldest first, from `pendingHead` on
  /// (a head index keeps a large paste from costing a copy per FIFO refill).
  private var pending: [UInt8] = []
  private var pendingHead = 0

  public init(
    name: String = "uart0", base: UInt16 = 0x3F8, irq: Int = 4, lines: any InterruptLines,
    output: @escaping ([UInt8]) -> Void
  ) {
    self.name = name
    self.base = base
    self.portRanges = [base...(base > 0xFFF8 ? 0xFFFF : base + 7)]
    self.irq = irq
    self.lines = lines
    self.output = output
  }

  // MARK: Host side

  /// Queues host input. Bytes go into the RX FIFO as far as it has room, the rest waits.
  public func receive(_ bytes: [UInt8]) {
    guard !bytes.isEmpty else { return }
    pending.append(contentsOf: bytes)
    refillFIFO()
    updateInterrupt()
  }

  /// True when a byte given to `receive` now would go straight into the FIFO: a host reader
  /// can use it to pace input so `pending` stays short.
  public var canReceive: Bool {
    pendingCount == 0 && !isLoopback && rxFIFO.count < rxCapacity
  }

  /// Bytes received from the host that the guest has not read yet.
  public var unreadInputCount: Int { rxFIFO.count + pendingCount }

  private var pendingCount: Int { pending.count - pendingHead }

  // MARK: Guest side

  public func read(port: UInt16, size: Int) -> UInt32 {
    DevicePortAccess.splitRead(port: port, size: size, ranges: portRanges) { readRegister($0 &- base) }
  }

  public func write(port: UInt16, size: Int, value: UInt32) {
    DevicePortAccess.splitWrite(port: port, size: size, value: value, ranges: portRanges) {
      writeRegister($0 &- base, $1)
    }
  }

  private func readRegister(_ offset: UInt16) -> UInt8 {
    let dlab = lcr & Self.lcrDLAB != 0
    switch offset {
    case 0:
      if dlab { return divisorLow }
      return readRBR()
    case 1:
      return dlab ? divisorHigh : ier
    case 2:
      return readIIR()
    case 3:
      return lcr
    case 4:
      return mcr
    case 5:
      let value = lsr
      // Reading LSR clears the error bits and with them the line status interrupt.
      lineErrors = 0
      updateInterrupt()
      return value
    case 6:
      let value = msrLines | msrDeltas
      msrDeltas = 0
      updateInterrupt()
      return value
    default:
      return scratch
    }
  }

  private func writeRegister(_ offset: UInt16, _ value: UInt8) {
    let dlab = lcr & Self.lcrDLAB != 0
    switch offset {
    case 0:
      if dlab { divisorLow = value } else { transmit(value) }
    case 1:
      if dlab {
        divisorHigh = value
      } else {
        let old = ier
        ier = value & 0x0F  // bits 7:4 are reserved and read as zero on a 16550A
        let enabledNow = ier & Self.ierTHRE
        if enabledNow != old & Self.ierTHRE {
          // Enabling ETBEI while THR is empty (always, here) raises the interrupt, as on the
          // real part; Linux's startup test relies on it.
          threInterruptPending = enabledNow != 0
        }
        updateInterrupt()
      }
    case 2:
      writeFCR(value)
    case 3:
      lcr = value
    case 4:
      writeMCR(value)
    case 5:
      break  // LSR is read-only (its factory-test write mode is not modelled)
    case 6:
      break  // MSR is read-only
    default:
      scratch = value
    }
  }

  private var isLoopback: Bool { mcr & Self.mcrLoop != 0 }
  private var rxCapacity: Int { fifoEnabled ? Self.fifoSize : 1 }

  private var lsr: UInt8 {
    var value = Self.lsrTHRE | Self.lsrTEMT | lineErrors
    if !rxFIFO.isEmpty { value |= Self.lsrDR }
    return value
  }

  private var triggerLevel: Int {
    switch triggerSelect {
    case 0: return 1
    case 1: return 4
    case 2: return 8
    default: return 14
    }
  }

  private func readRBR() -> UInt8 {
    guard !rxFIFO.isEmpty else { return 0 }
    let byte = rxFIFO.removeFirst()
    refillFIFO()
    updateInterrupt()
    return byte
  }

  /// The interrupt identification for the highest-priority enabled condition, or nil.
  private var interruptIdentification: UInt8? {
    if ier & Self.ierLineStatus != 0 && lineErrors != 0 { return 0x06 }
    if ier & Self.ierRxData != 0 && !rxFIFO.isEmpty {
      // Below the trigger level only the character timeout (0x0C) can report the data.
      return fifoEnabled && rxFIFO.count < triggerLevel ? 0x0C : 0x04
    }
    if ier & Self.ierTHRE != 0 && threInterruptPending { return 0x02 }
    if ier & Self.ierModemStatus != 0 && msrDeltas != 0 { return 0x00 }
    return nil
  }

  private func readIIR() -> UInt8 {
    let fifoBits: UInt8 = fifoEnabled ? 0xC0 : 0x00
    guard let id = interruptIdentification else { return fifoBits | 0x01 }
    if id == 0x02 {
      // Reading IIR acknowledges the THRE interrupt when it is the one reported.
      threInterruptPending = false
      updateInterrupt()
    }
    return fifoBits | id
  }

  private func transmit(_ byte: UInt8) {
    // Writing THR clears the THRE interrupt; it comes back when the byte has left, which is
    // immediately. Updating in between gives the edge-triggered PIC a fresh rising edge.
    threInterruptPending = false
    updateInterrupt()
    if isLoopback {
      if rxFIFO.count < rxCapacity {
        rxFIFO.append(byte)
      } else {
        lineErrors |= Self.lsrOE  // a guest looping back faster than it reads overruns, as on hardware
      }
    } else {
      output([byte])
    }
    if ier & Self.ierTHRE != 0 { threInterruptPending = true }
    updateInterrupt()
  }

  private func writeFCR(_ value: UInt8) {
    let enable = value & 0x01 != 0
    if enable != fifoEnabled {
      // Changing the FIFO mode resets both FIFOs on the real part.
      rxFIFO.removeAll()
      fifoEnabled = enable
    }
    if enable {
      if value & 0x02 != 0 { rxFIFO.removeAll() }
      triggerSelect = value >> 6
    } else {
      triggerSelect = 0
    }
    refillFIFO()
    updateInterrupt()
  }

  private func writeMCR(_ value: UInt8) {
    mcr = value & 0x1F
    let lines: UInt8
    if isLoopback {
      // Loopback wires the outputs to the inputs: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD.
      var l: UInt8 = 0
      if mcr & Self.mcrRTS != 0 { l |= 0x10 }
      if mcr & Self.mcrDTR != 0 { l |= 0x20 }
      if mcr & Self.mcrOUT1 != 0 { l |= 0x40 }
      if mcr & Self.mcrOUT2 != 0 { l |= 0x80 }
      lines = l
    } else {
      lines = Self.msrHostLines
    }
    let changed = lines ^ msrLines
    if changed & 0x10 != 0 { msrDeltas |= 0x01 }
    if changed & 0x20 != 0 { msrDeltas |= 0x02 }
    if msrLines & 0x40 != 0 && lines & 0x40 == 0 { msrDeltas |= 0x04 }  // RI trailing edge only
    if changed & 0x80 != 0 { msrDeltas |= 0x08 }
    msrLines = lines
    refillFIFO()
    updateInterrupt()
  }

  /// Moves waiting host input into the FIFO. In loopback the receiver is disconnected from the
  /// line, so host input keeps waiting until loopback ends.
  private func refillFIFO() {
    guard !isLoopback else { return }
    let room = rxCapacity - rxFIFO.count
    guard room > 0, pendingCount > 0 else { return }
    let n = min(room, pendingCount)
    rxFIFO.append(contentsOf: pending[pendingHead..<pendingHead + n])
    pendingHead += n
    if pendingHead == pending.count {
      pending.removeAll(keepingCapacity: true)
      pendingHead = 0
    } else if pendingHead >= 4096 && pendingHead * 2 >= pending.count {
      pending.removeFirst(pendingHead)
      pendingHead = 0
    }
  }

  /// Drives the IRQ line. On a PC the UART's interrupt output reaches the PIC only through a
  /// buffer enabled by OUT2; loopback forces the OUT pins inactive, which disconnects it too.
  private func updateInterrupt() {
    let level = interruptIdentification != nil && mcr & Self.mcrOUT2 != 0 && !isLoopback
    lines.setLevel(irq: irq, high: level)
  }

  // MARK: State

  public func encodeState(into encoder: inout StateEncoder) {
    encoder.write(divisorLow)
    encoder.write(divisorHigh)
    encoder.write(ier)
    encoder.write(lcr)
    encoder.write(mcr)
    encoder.write(scratch)
    encoder.write(fifoEnabled)
    encoder.write(triggerSelect)
    encoder.write(lineErrors)
    encoder.write(msrLines)
    encoder.write(msrDeltas)
    encoder.write(threInterruptPending)
    encoder.write(rxFIFO)
    encoder.write(Array(pending[pendingHead...]))
  }

  public func decodeState(from decoder: inout StateDecoder) throws(StateDecodingError) {
    let divisorLow: UInt8 = try decoder.read()
    let divisorHigh: UInt8 = try decoder.read()
    let ier: UInt8 = try decoder.read()
    let lcr: UInt8 = try decoder.read()
    let mcr: UInt8 = try decoder.read()
    let scratch: UInt8 = try decoder.read()
    let fifoEnabled: Bool = try decoder.read()
    let triggerSelect: UInt8 = try decoder.read()
    let lineErrors: UInt8 = try decoder.read()
    let msrLines: UInt8 = try decoder.read()
    let msrDeltas: UInt8 = try decoder.read()
    let threInterruptPending: Bool = try decoder.read()
    let rxFIFO: [UInt8] = try decoder.read()
    let pending: [UInt8] = try decoder.read()
    try decoder.require(triggerSelect < 4, "UART trigger level")
    try decoder.require(rxFIFO.count <= (fifoEnabled ? Self.fifoSize : 1), "UART RX FIFO length")
    self.divisorLow = divisorLow
    self.divisorHigh = divisorHigh
    self.ier = ier & 0x0F
    self.lcr = lcr
    self.mcr = mcr & 0x1F
    self.scratch = scratch
    self.fifoEnabled = fifoEnabled
    self.triggerSelect = triggerSelect
    self.lineErrors = lineErrors
    self.msrLines = msrLines
    self.msrDeltas = msrDeltas
    self.threInterruptPending = threInterruptPending
    self.rxFIFO = rxFIFO
    self.pending = pending
    self.pendingHead = 0
    // The line level is not driven here: the PIC's own state already holds it.
  }
}
