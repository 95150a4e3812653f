/// The 8254 programmable interval timer (ports 0x40-0x43), clocked at 1.193182 MHz.
///
/// Nothing ticks: each counter remembers when it started (virtual ns) and how many PIT ticks
/// it had already counted, and every value the guest reads is computed from the virtual clock.
/// Channel 0 drives IRQ 0: the engine asks `nextDeadline`, advances the clock to it and calls
/// `fireDue()`. Channel 2's gate and output are port 0x61's bits 0 and 5.
public final class PIT8254: PortDevice {
  public let name: String
  public static let frequency: UInt64 = 1_193_182
  private let clock: VirtualClock
  private let lines: any InterruptLines
  private var channels = [Channel(gate: true), Channel(gate: true), Channel(gate: false)]

  public init(name: String = "pit", clock: VirtualClock, lines: any InterruptLines) {
    self.name = name
    self.clock = clock
    self.lines = lines
  }

  public let portRanges: [ClosedRange<UInt16>] = [0x40...0x43]

  // MARK: Engine side

  /// Guest time (ns) of channel 0's next rising OUT edge, which raises IRQ 0; nil if none is coming.
  public var nextDeadline: UInt64? { channels[0].deadline() }

  /// Raises IRQ 0 once if channel 0's edge is due at `clock.now`, and schedules the next one.
  /// Several missed periods still make one pulse: the PIC could latch only one anyway.
  public func fireDue() {
    let now = clock.now
    guard channels[0].running, let edge = channels[0].nextEdge else { return }
    let elapsed = channels[0].elapsed(at: now)
    guard edge <= elapsed else { return }
    lines.pulse(irq: 0)
    channels[0].nextEdge = channels[0].risingEdge(atOrAfter: elapsed &+ 1)
  }

  /// Channel 2's gate (port 0x61 bit 0).
  public func setGate2(_ high: Bool) {
    channels[2].setGate(high, now: clock.now)
  }

  public var gate2: Bool { channels[2].gate }

  /// The clock's current time without observing it, for port 0x61's refresh bit.
  var clockNow: UInt64 { clock.now }

  /// Channel 2's OUT pin (port 0x61 bit 5). Time-dependent, so reading it observes the clock.
  public var output2: Bool {
    channels[2].output(at: clock.observe())
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
    let index = Int(port - 0x40)
    guard index < 3 else { return 0xFF }  // the control word register is write-only
    return channels[index].readData(now: clock.observe())
  }

  private func writeByte(_ port: UInt16, _ value: UInt8) {
    let index = Int(port - 0x40)
    // An IRQ 0 edge that already happened in guest time is delivered before channel 0 changes,
    // whether or not the engine has got round to calling fireDue.
    if index == 0 || (index == 3 && value >> 6 == 0) { fireDue() }
    if index < 3 {
      channels[index].writeData(value, now: clock.now)
      return
    }
    let select = Int(value >> 6)
    if select == 3 {
      // Read-back: bit 5 clear latches counts, bit 4 clear latches status, bits 1-3 pick channels.
      let now = clock.observe()
      for i in 0..<3 where value & (0x02 << UInt8(i)) != 0 {
        if value & 0x20 == 0 { channels[i].latchCount(now: now) }
        if value & 0x10 == 0 { channels[i].latchStatus(now: now) }
      }
    } else if (value >> 4) & 3 == 0 {
      channels[select].latchCount(now: clock.observe())
    } else {
      channels[select].program(controlWord: value)
    }
  }

  // MARK: State

  public func encodeState(into encoder: inout StateEncoder) {
    for channel in channels { channel.encode(into: &encoder) }
  }

  public func decodeState(from decoder: inout StateDecoder) throws(StateDecodingError) {
    var decoded: [Channel] = []
    for _ in 0..<3 { decoded.append(try Channel.decode(from: &decoder)) }
    channels = decoded
  }
}

// MARK: - Time conversion

extension PIT8254 {
  /// PIT ticks completed in `ns` nanoseconds: floor(ns * f / 1e9), exact in 128-bit arithmetic.
  static func ticks(inNanoseconds ns: UInt64) -> UInt64 {
    mulDiv(ns, frequency, 1_000_000_000, roundUp: false)
  }

  /// The first whole nanosecond by which `ticks` ticks have completed: ceil(ticks * 1e9 / f).
  static func nanoseconds(forTicks ticks: UInt64) -> UInt64 {
    mulDiv(ticks, 1_000_000_000, frequency, roundUp: true)
  }

  /// a * b / c without intermediate overflow; saturates when the result does not fit.
  private static func mulDiv(_ a: UInt64, _ b: UInt64, _ c: UInt64, roundUp: Bool) -> UInt64 {
    let product = a.multipliedFullWidth(by: b)
    guard product.high < c else { return .max }
    let (quotient, remainder) = c.dividingFullWidth(product)
    if roundUp && remainder != 0 { return quotient == .max ? .max : quotient + 1 }
    return quotient
  }
}

// MARK: - One counter

/// One 8254 counter. `elapsed` counts PIT ticks since the count was (re)loaded: `baseTicks`
/// accumulated before the current run plus the ticks since `runStart` while `running`.
private struct Channel {
  /// The programmed mode bits (0-7); 6 and 7 are aliases of 2 and 3.
  var modeBits: UInt8 = 3
  /// 1: LSB only, 2: MSB only, 3: LSB then MSB.
  var accessMode: UInt8 = 3
  var bcd = false
  /// The initial count in ticks, 1...65536 (10000 in BCD); a written 0 means the maximum.
  var reload: UInt32 = 0x10000
  /// A count has been written since the last control word.
  var loaded = false
  var writeHighNext = false
  var writeLatch: UInt8 = 0
  var readHighNext = false
  var latchedCount: UInt16 = 0
  /// Output latch: 0 empty, 1 LSB left, 2 MSB left, 3 LSB then MSB, 4 MSB after LSB.
  var countLatch: UInt8 = 0
  var statusLatched = false
  var latchedStatus: UInt8 = 0
  /// Set by a control word until a count is loaded. Clear at power-on: the chip's state is
  /// undefined then, and Linux's early boot (kaslr_get_random_long, before it programs the
  /// PIT) reads counter 0 back in a loop until null count is clear, as a BIOS would have left it.
  var nullCount = false
  var gate: Bool
  var running = false
  /// Modes 1 and 5: a gate rising edge has started the count.
  var triggered = false
  var baseTicks: UInt64 = 0
  var runStart: UInt64 = 0
  /// The `elapsed` value of the next rising OUT edge not yet delivered (IRQ 0 for channel 0).
  var nextEdge: UInt64? = nil

  init(gate: Bool) { self.gate = gate }

  var mode: UInt8 { modeBits >= 6 ? modeBits - 4 : modeBits }
  private var modulus: UInt64 { bcd ? 10_000 : 0x10000 }

  func elapsed(at now: UInt64) -> UInt64 {
    guard running, now > runStart else { return baseTicks }
    let (sum, overflow) = baseTicks.addingReportingOverflow(PIT8254.ticks(inNanoseconds: now - runStart))
    return overflow ? .max : sum
  }

  /// The counting element's value now, in binary.
  func count(at now: UInt64) -> UInt64 {
    let n = UInt64(reload)
    guard loaded else { return n % modulus }
    let d = elapsed(at: now)
    switch mode {
    case 2:
      return (n - d % n) % modulus
    case 3:
      // Square wave: the counter runs down by two, once in each half period.
      let phase = d % n
      let firstHalf = (n + 1) / 2
      let value = phase < firstHalf ? n - 2 * phase : n - 2 * (phase - firstHalf)
      return value % modulus
    case 1 where !triggered, 5 where !triggered:
      return n % modulus
    default:
      // One-shot modes keep counting down and wrap after the terminal count.
      return (n + modulus - d % modulus) % modulus
    }
  }

  func output(at now: UInt64) -> Bool {
    guard loaded else { return mode != 0 }  // a control word sets OUT low in mode 0, high otherwise
    let n = UInt64(reload)
    let d = elapsed(at: now)
    switch mode {
    case 0: return d >= n
    case 1: return !triggered || d >= n
    case 2: return !running || d % n != n - 1  // low for the one tick before reload
    case 3: return !running || d % n < (n + 1) / 2
    case 4: return d != n  // low for one tick at the terminal count
    default: return !triggered || d != n
    }
  }

  /// The `elapsed` value of the first rising OUT edge at or after `d`, if there is one.
  func risingEdge(atOrAfter d: UInt64) -> UInt64? {
    guard loaded else { return nil }
    let n = UInt64(reload)
    switch mode {
    case 0:
      return d <= n ? n : nil
    case 1:
      return triggered && d <= n ? n : nil
    case 2, 3:
      let (k, r) = d.quotientAndRemainder(dividingBy: n)
      let periods = max(1, r == 0 ? k : k &+ 1)
      let (edge, overflow) = periods.multipliedReportingOverflow(by: n)
      return overflow ? nil : edge
    case 4:
      return d <= n + 1 ? n + 1 : nil
    default:
      return triggered && d <= n + 1 ? n + 1 : nil
    }
  }

  /// Guest ns of `nextEdge`, or nil while the counter is stopped.
  func deadline() -> UInt64? {
    guard running, let edge = nextEdge else { return nil }
    guard edge > baseTicks else { return runStart }
    let (time, overflow) = runStart.addingReportingOverflow(PIT8254.nanoseconds(forTicks: edge - baseTicks))
    return overflow ? nil : time
  }

  mutating func program(controlWord value: UInt8) {
    modeBits = (value >> 1) & 7
    accessMode = (value >> 4) & 3
    bcd = value & 1 != 0
    // A control word resets the counter's control logic: it waits for a new count.
    loaded = false
    running = false
    triggered = false
    baseTicks = 0
    nextEdge = nil
    writeHighNext = false
    readHighNext = false
    countLatch = 0
    statusLatched = false
    nullCount = true
  }

  mutating func writeData(_ byte: UInt8, now: UInt64) {
    switch accessMode {
    case 1:
      load(UInt32(byte), now: now)
    case 2:
      load(UInt32(byte) << 8, now: now)
    default:
      if writeHighNext {
        writeHighNext = false
        load(UInt32(writeLatch) | UInt32(byte) << 8, now: now)
      } else {
        writeLatch = byte
        writeHighNext = true
        if mode == 0 {
          // Mode 0: the first byte of a new count stops the counter and drops OUT at once.
          loaded = false
          running = false
          nextEdge = nil
        }
      }
    }
  }

  private mutating func load(_ raw: UInt32, now: UInt64) {
    // Invalid BCD digits are reduced into range: what the chip would count is undefined anyway.
    var value = bcd ? PIT8254.binary(fromBCD: UInt16(truncatingIfNeeded: raw)) % 10_000 : raw
    if value == 0 { value = UInt32(modulus) }
    reload = value
    loaded = true
    nullCount = false
    triggered = false
    baseTicks = 0
    runStart = now
    switch mode {
    case 1, 5:
      running = false  // these modes start on the next gate rising edge
      nextEdge = nil
    default:
      // Modes 0 and 4 count while the gate is high; modes 2 and 3 start when it is high.
      running = gate
      nextEdge = risingEdge(atOrAfter: 1)
    }
  }

  mutating func setGate(_ high: Bool, now: UInt64) {
    guard high != gate else { return }
    gate = high
    guard loaded else { return }
    switch mode {
    case 0, 4:
      // The gate pauses and resumes counting.
      if high {
        runStart = now
        running = true
      } else {
        baseTicks = elapsed(at: now)
        running = false
      }
    case 2, 3:
      // Gate low stops counting (OUT high); the rising edge reloads the count.
      if high {
        baseTicks = 0
        runStart = now
        running = true
        nextEdge = risingEdge(atOrAfter: 1)
      } else {
        baseTicks = elapsed(at: now)
        running = false
      }
    default:
      // Modes 1 and 5: a rising edge (re)triggers; the gate's level does not matter after that.
      if high {
        triggered = true
        baseTicks = 0
        runStart = now
        running = true
        nextEdge = risingEdge(atOrAfter: 1)
      }
    }
  }

  mutating func latchCount(now: UInt64) {
    guard countLatch == 0 else { return }  // a second latch before the first is read is ignored
    latchedCount = encoded(count(at: now))
    countLatch = accessMode == 3 ? 3 : accessMode
  }

  mutating func latchStatus(now: UInt64) {
    guard !statusLatched else { return }
    var status = (modeBits << 1) | (accessMode << 4) | (bcd ? 1 : 0)
    if output(at: now) { status |= 0x80 }
    if nullCount { status |= 0x40 }
    latchedStatus = status
    statusLatched = true
  }

  mutating func readData(now: UInt64) -> UInt8 {
    if statusLatched {
      statusLatched = false
      return latchedStatus
    }
    switch countLatch {
    case 1:
      countLatch = 0
      return UInt8(truncatingIfNeeded: latchedCount)
    case 2:
      countLatch = 0
      return UInt8(truncatingIfNeeded: latchedCount >> 8)
    case 3:
      countLatch = 4
      return UInt8(truncatingIfNeeded: latchedCount)
    case 4:
      countLatch = 0
      return UInt8(truncatingIfNeeded: latchedCount >> 8)
    default:
      let value = encoded(count(at: now))
      switch accessMode {
      case 1:
        return UInt8(truncatingIfNeeded: value)
      case 2:
        return UInt8(truncatingIfNeeded: value >> 8)
      default:
        // Unlatched LSB/MSB reads sample the live counter twice, as on the chip.
        readHighNext.toggle()
        return UInt8(truncatingIfNeeded: readHighNext ? value : value >> 8)
      }
    }
  }

  private func encoded(_ value: UInt64) -> UInt16 {
    bcd ? PIT8254.bcd(fromBinary: UInt16(value % 10_000)) : UInt16(truncatingIfNeeded: value)
  }

  func encode(into encoder: inout StateEncoder) {
    encoder.write(modeBits)
    encoder.write(accessMode)
    encoder.write(bcd)
    encoder.write(reload)
    encoder.write(loaded)
    encoder.write(writeHighNext)
    encoder.write(writeLatch)
    encoder.write(readHighNext)
    encoder.write(latchedCount)
    encoder.write(countLatch)
    encoder.write(statusLatched)
    encoder.write(latchedStatus)
    encoder.write(nullCount)
    encoder.write(gate)
    encoder.write(running)
    encoder.write(triggered)
    encoder.write(baseTicks)
    encoder.write(runStart)
    encoder.write(nextEdge != nil)
    encoder.write(nextEdge ?? 0)
  }

  static func decode(from decoder: inout StateDecoder) throws(StateDecodingError) -> Channel {
    var c = Channel(gate: false)
    c.modeBits = try decoder.read()
    c.accessMode = try decoder.read()
    c.bcd = try decoder.read()
    c.reload = try decoder.read()
    c.loaded = try decoder.read()
    c.writeHighNext = try decoder.read()
    c.writeLatch = try decoder.read()
    c.readHighNext = try decoder.read()
    c.latchedCount = try decoder.read()
    c.countLatch = try decoder.read()
    c.statusLatched = try decoder.read()
    c.latchedStatus = try decoder.read()
    c.nullCount = try decoder.read()
    c.gate = try decoder.read()
    c.running = try decoder.read()
    c.triggered = try decoder.read()
    c.baseTicks = try decoder.read()
    c.runStart = try decoder.read()
    let hasEdge: Bool = try decoder.read()
    let edge: UInt64 = try decoder.read()
    c.nextEdge = hasEdge ? edge : nil
    try decoder.require(c.modeBits < 8, "PIT mode")
    try decoder.require((1...3).contains(c.accessMode), "PIT access mode")
    try decoder.require(c.reload >= 1 && UInt64(c.reload) <= c.modulus, "PIT reload value")
    try decoder.require(c.countLatch <= 4, "PIT latch state")
    return c
  }
}

// MARK: - BCD

extension PIT8254 {
  /// Four BCD digits to binary; digits above 9 are taken at face value as the chip would count them.
  static func binary(fromBCD value: UInt16) -> UInt32 {
    var result: UInt32 = 0
    for shift in stride(from: 12, through: 0, by: -4) {
      result = result * 10 + UInt32((value >> UInt16(shift)) & 0xF)
    }
    return result
  }

  static func bcd(fromBinary value: UInt16) -> UInt16 {
    var v = value % 10_000
    var result: UInt16 = 0
    for shift in stride(from: 0, through: 12, by: 4) {
      result |= (v % 10) << UInt16(shift)
      v /= 10
    }
    return result
  }
}
