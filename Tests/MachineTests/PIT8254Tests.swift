import Testing

@testable import Machine

@Suite struct PIT8254Tests {
  let clock = VirtualClock()
  let lines = RecordingLines()

  func makePIT() -> PIT8254 { PIT8254(clock: clock, lines: lines) }

  /// ceil(ticks * 1e9 / 1193182): the first ns at which `ticks` PIT ticks have elapsed.
  func ns(ticks: UInt64) -> UInt64 { (ticks * 1_000_000_000 + 1_193_181) / 1_193_182 }

  func program(_ pit: PIT8254, channel: UInt16, mode: UInt8, count: UInt16) {
    pit.writeByte(0x43, UInt8(channel) << 6 | 0x30 | mode << 1)
    pit.writeByte(0x40 + channel, UInt8(truncatingIfNeeded: count))
    pit.writeByte(0x40 + channel, UInt8(count >> 8))
  }

  func readCount(_ pit: PIT8254, channel: UInt16) -> UInt16 {
    let low = UInt16(pit.readByte(0x40 + channel))
    return low | UInt16(pit.readByte(0x40 + channel)) << 8
  }

  @Test func tickConversionIsExact() {
    #expect(PIT8254.ticks(inNanoseconds: 1_000_000_000) == 1_193_182)
    #expect(PIT8254.ticks(inNanoseconds: 1_000_000) == 1193)
    #expect(PIT8254.nanoseconds(forTicks: 11932) == 10_000_151)
    #expect(PIT8254.nanoseconds(forTicks: 1_193_182) == 1_000_000_000)
    // No overflow at the far end of the clock.
    #expect(PIT8254.ticks(inNanoseconds: .max) == 22_010_322_987_356_910)
    #expect(PIT8254.nanoseconds(forTicks: .max) == .max)
  }

  @Test func unprogrammedTimerHasNoDeadline() {
    let pit = makePIT()
    #expect(pit.nextDeadline == nil)
    pit.fireDue()
    #expect(lines.risingEdges[0] == 0)
  }

  @Test func rateGeneratorDeadlinesEvery10ms() {
    let pit = makePIT()
    program(pit, channel: 0, mode: 2, count: 11932)  // Linux's HZ=100 divisor
    var previous: UInt64 = 0
    for k in UInt64(1)...200 {
      guard let deadline = pit.nextDeadline else {
        Issue.record("no deadline at period \(k)")
        return
      }
      // Exact from the load time: no drift however many periods pass.
      #expect(deadline == ns(ticks: k * 11932))
      #expect((10_000_150...10_000_151).contains(deadline - previous))
      previous = deadline
      clock.advance(to: deadline)
      pit.fireDue()
      #expect(lines.risingEdges[0] == Int(k))
      pit.fireDue()  // nothing more is due at the same instant
      #expect(lines.risingEdges[0] == Int(k))
    }
    #expect(pit.nextDeadline == ns(ticks: 201 * 11932))
  }

  @Test func missedPeriodsGiveOnePulse() {
    let pit = makePIT()
    program(pit, channel: 0, mode: 2, count: 11932)
    clock.advance(to: 55_000_000)
    pit.fireDue()
    #expect(lines.risingEdges[0] == 1)
    #expect(pit.nextDeadline == ns(ticks: 6 * 11932))
  }

  @Test func reloadZeroMeans65536() {
    let pit = makePIT()
    program(pit, channel: 0, mode: 3, count: 0)  // the BIOS's 18.2 Hz square wave
    #expect(pit.nextDeadline == ns(ticks: 65536))
    #expect(pit.nextDeadline == 54_925_402)
  }

  @Test func oneShotMode0FiresOnce() {
    let pit = makePIT()
    program(pit, channel: 0, mode: 0, count: 1000)
    #expect(pit.nextDeadline == ns(ticks: 1000))
    clock.advance(to: ns(ticks: 1000))
    pit.fireDue()
    #expect(lines.risingEdges[0] == 1)
    #expect(pit.nextDeadline == nil)
    // The counter wraps and keeps counting after the terminal count.
    clock.advance(to: ns(ticks: 1010))
    #expect(readCount(pit, channel: 0) == UInt16(65536 - 10))
  }

  @Test func dueEdgeIsDeliveredBeforeReprogramming() {
    let pit = makePIT()
    program(pit, channel: 0, mode: 0, count: 100)
    clock.advance(to: 1_000_000)  // past the edge; the engine has not called fireDue yet
    program(pit, channel: 0, mode: 0, count: 100)
    #expect(lines.risingEdges[0] == 1)
    #expect(pit.nextDeadline == 1_000_000 + ns(ticks: 100))
  }

  @Test func counterLatchFreezesTheCount() {
    let pit = makePIT()
    program(pit, channel: 0, mode: 2, count: 11932)
    clock.advance(to: 1_000_000)  // 1193 ticks
    pit.writeByte(0x43, 0x00)  // latch channel 0
    clock.advance(to: 3_000_000)
    #expect(readCount(pit, channel: 0) == 11932 - 1193)
    // Unlatched reads follow the clock: 3 ms = 3579 ticks.
    #expect(readCount(pit, channel: 0) == 11932 - 3579)
  }

  @Test func readBackLatchesStatusThenCount() {
    let pit = makePIT()
    program(pit, channel: 0, mode: 2, count: 11932)
    clock.advance(to: 2_000_000)  // 2386 ticks
    pit.writeByte(0x43, 0xC2)  // read-back: count and status of channel 0
    clock.advance(to: 5_000_000)
    // OUT high, count loaded (null count clear), LSB/MSB, mode 2, binary.
    #expect(pit.readByte(0x40) == 0xB4)
    #expect(readCount(pit, channel: 0) == 11932 - 2386)
    // Status alone, right after a control word: null count set.
    pit.writeByte(0x43, 0x36)
    pit.writeByte(0x43, 0xE2)
    #expect(pit.readByte(0x40) == 0xF6)  // OUT high until a count is written
  }

  @Test func powerOnStatusHasNullCountClear() {
    // Linux reads counter 0 back before programming it and loops while null count is set.
    let pit = makePIT()
    pit.writeByte(0x43, 0xE2)  // read-back: status of channel 0
    #expect(pit.readByte(0x40) & 0x40 == 0)
    pit.writeByte(0x43, 0xC2)  // status and count: both stay readable, the count does not move
    _ = pit.readByte(0x40)
    let first = readCount(pit, channel: 0)
    clock.advance(to: 5_000_000)
    pit.writeByte(0x43, 0xD2)
    #expect(readCount(pit, channel: 0) == first)
  }

  @Test func channel2OneShotOutputFlipsOnTime() {
    let pit = makePIT()
    pit.setGate2(true)
    program(pit, channel: 2, mode: 0, count: 1000)
    #expect(!pit.output2)
    clock.advance(to: ns(ticks: 1000) - 1)
    #expect(!pit.output2)
    clock.advance(to: ns(ticks: 1000))
    #expect(pit.output2)
    #expect(pit.nextDeadline == nil)  // channel 2 raises no interrupt
  }

  @Test func gateLowPausesMode0() {
    let pit = makePIT()
    pit.setGate2(true)
    program(pit, channel: 2, mode: 0, count: 1000)
    clock.advance(to: ns(ticks: 400))
    pit.setGate2(false)
    clock.advance(to: ns(ticks: 5000))
    #expect(readCount(pit, channel: 2) == 600)
    #expect(!pit.output2)
    pit.setGate2(true)
    let resumed = clock.now
    clock.advance(to: resumed + ns(ticks: 600))
    #expect(pit.output2)
  }

  @Test func countStartsWhenGateRises() {
    let pit = makePIT()
    program(pit, channel: 2, mode: 0, count: 100)  // gate 2 is low at power-on
    clock.advance(to: 10_000_000)
    #expect(readCount(pit, channel: 2) == 100)
    #expect(!pit.output2)
    pit.setGate2(true)
    clock.advance(to: 10_000_000 + ns(ticks: 100))
    #expect(pit.output2)
  }

  @Test func squareWaveOutput() {
    let pit = makePIT()
    pit.setGate2(true)
    program(pit, channel: 2, mode: 3, count: 4)
    var outputs: [Bool] = []
    for tick in UInt64(0)..<8 {
      clock.advance(to: ns(ticks: tick))
      outputs.append(pit.output2)
    }
    #expect(outputs == [true, true, false, false, true, true, false, false])
  }

  @Test func rateGeneratorCountAndOutput() {
    let pit = makePIT()
    pit.setGate2(true)
    program(pit, channel: 2, mode: 2, count: 5)
    var counts: [UInt16] = []
    var outputs: [Bool] = []
    for tick in UInt64(0)..<6 {
      clock.advance(to: ns(ticks: tick))
      pit.writeByte(0x43, 0x80)  // latch channel 2
      counts.append(readCount(pit, channel: 2))
      outputs.append(pit.output2)
    }
    #expect(counts == [5, 4, 3, 2, 1, 5])
    #expect(outputs == [true, true, true, true, false, true])
  }

  @Test func lowByteOnlyAccess() {
    let pit = makePIT()
    pit.writeByte(0x43, 0x14)  // channel 0, LSB only, mode 2
    pit.writeByte(0x40, 100)
    #expect(pit.nextDeadline == ns(ticks: 100))
    clock.advance(to: ns(ticks: 30))
    #expect(pit.readByte(0x40) == 70)
    #expect(pit.readByte(0x40) == 70)
  }

  @Test func bcdCounting() {
    let pit = makePIT()
    pit.writeByte(0x43, 0x35)  // channel 0, LSB/MSB, mode 2, BCD
    pit.writeByte(0x40, 0x00)
    pit.writeByte(0x40, 0x10)  // 1000 decimal
    #expect(pit.nextDeadline == ns(ticks: 1000))
    clock.advance(to: ns(ticks: 1))
    #expect(readCount(pit, channel: 0) == 0x0999)
  }

  @Test func controlPortReadsAllOnes() {
    let pit = makePIT()
    #expect(pit.readByte(0x43) == 0xFF)
  }

  @Test func stateRoundTrip() throws {
    let pit = makePIT()
    program(pit, channel: 0, mode: 2, count: 11932)
    pit.setGate2(true)
    program(pit, channel: 2, mode: 0, count: 0xFFFF)
    clock.advance(to: 123_456)
    pit.writeByte(0x43, 0xC2)
    pit.writeByte(0x43, 0x70)  // channel 1, waiting for a count
    pit.writeByte(0x41, 0x12)
    let copy = PIT8254(clock: clock, lines: RecordingLines())
    try expectStateRoundTrip(pit, into: copy)
    #expect(copy.nextDeadline == pit.nextDeadline)
    #expect(copy.readByte(0x40) == pit.readByte(0x40))
  }
}
