import Testing

@testable import Machine

@Suite struct SystemControlPortBTests {
  let clock = VirtualClock()

  @Test func gateAndOutputOfChannel2() {
    let pit = PIT8254(clock: clock, lines: RecordingLines())
    let portB = SystemControlPortB(pit: pit)
    // Linux's PIT calibration: gate on, speaker off, channel 2 one-shot, poll bit 5.
    portB.writeByte(0x61, (portB.readByte(0x61) & ~0x02) | 0x01)
    #expect(pit.gate2)
    pit.writeByte(0x43, 0xB0)
    pit.writeByte(0x42, 0xE8)
    pit.writeByte(0x42, 0x03)  // 1000 ticks
    #expect(portB.readByte(0x61) & 0x20 == 0)
    clock.advance(to: 838_096)
    #expect(portB.readByte(0x61) & 0x21 == 0x21)
    portB.writeByte(0x61, 0x02)
    #expect(!pit.gate2)
    #expect(portB.speakerData)
    #expect(portB.readByte(0x61) & 0x0F == 0x02)
  }

  @Test func refreshBitTogglesWithTime() {
    let portB = SystemControlPortB(pit: PIT8254(clock: clock, lines: RecordingLines()))
    let first = portB.readByte(0x61) & 0x10
    clock.advance(to: SystemControlPortB.refreshPeriod)
    let second = portB.readByte(0x61) & 0x10
    clock.advance(to: 2 * SystemControlPortB.refreshPeriod)
    #expect(first != second)
    #expect(portB.readByte(0x61) & 0x10 == first)
  }

  @Test func stateRoundTrip() throws {
    let pit = PIT8254(clock: clock, lines: RecordingLines())
    let portB = SystemControlPortB(pit: pit)
    portB.writeByte(0x61, 0x03)
    try expectStateRoundTrip(portB, into: SystemControlPortB(pit: pit))
  }
}
