import Testing

@testable import Machine

@Suite struct CMOSTests {
  let clock = VirtualClock()

  func register(_ cmos: CMOS, _ index: UInt8) -> UInt8 {
    cmos.writeByte(0x70, index)
    return cmos.readByte(0x71)
  }

  func setRegister(_ cmos: CMOS, _ index: UInt8, _ value: UInt8) {
    cmos.writeByte(0x70, index)
    cmos.writeByte(0x71, value)
  }

  @Test func startDateInBCD() {
    let cmos = CMOS(clock: clock)
    #expect(register(cmos, 0x00) == 0x00)
    #expect(register(cmos, 0x02) == 0x00)
    #expect(register(cmos, 0x04) == 0x00)
    #expect(register(cmos, 0x06) == 0x05)  // 2026-01-01 is a Thursday (Sunday = 1)
    #expect(register(cmos, 0x07) == 0x01)
    #expect(register(cmos, 0x08) == 0x01)
    #expect(register(cmos, 0x09) == 0x26)
    #expect(register(cmos, 0x32) == 0x20)
    #expect(register(cmos, 0x0A) == 0x26)
    #expect(register(cmos, 0x0B) == 0x02)
    #expect(register(cmos, 0x0C) == 0x00)
    #expect(register(cmos, 0x0D) == 0x80)
  }

  @Test func timeFollowsTheVirtualClock() {
    let cmos = CMOS(clock: clock)
    clock.advance(to: 90_000_000_000)
    #expect(register(cmos, 0x00) == 0x30)
    #expect(register(cmos, 0x02) == 0x01)
    setRegister(cmos, 0x0B, 0x06)  // binary, 24-hour
    #expect(register(cmos, 0x00) == 30)
    #expect(register(cmos, 0x02) == 1)
    #expect(register(cmos, 0x09) == 26)
    #expect(cmos.currentDate == CMOS.DateTime(year: 2026, month: 1, day: 1, hour: 0, minute: 1, second: 30))
  }

  @Test func twelveHourMode() {
    let cmos = CMOS(clock: clock, startDate: (2026, 1, 1, 13, 5, 0))
    setRegister(cmos, 0x0B, 0x00)  // BCD, 12-hour
    #expect(register(cmos, 0x04) == 0x81)  // 1 PM
    let midnight = CMOS(clock: clock)
    setRegister(midnight, 0x0B, 0x00)
    #expect(register(midnight, 0x04) == 0x12)  // 12 AM
  }

  @Test func leapDayAndYearRollover() {
    let cmos = CMOS(clock: clock, startUnixSeconds: 1_709_251_199)  // 2024-02-29 23:59:59
    #expect(register(cmos, 0x08) == 0x02 && register(cmos, 0x07) == 0x29)
    clock.advance(to: 1_000_000_000)
    #expect(register(cmos, 0x08) == 0x03 && register(cmos, 0x07) == 0x01)
    let newYear = CMOS(clock: VirtualClock(), startDate: (1999, 12, 31, 23, 59, 59))
    newYear.writeByte(0x70, 0x09)
    #expect(newYear.readByte(0x71) == 0x99)
  }

  @Test func civilDateMath() {
    #expect(CMOS.daysFromCivil(year: 1970, month: 1, day: 1) == 0)
    #expect(CMOS.daysFromCivil(year: 2000, month: 3, day: 1) == 11017)
    #expect(CMOS.daysFromCivil(year: 2026, month: 1, day: 1) == 20454)
    #expect(CMOS.unixSeconds(of: CMOS.DateTime(year: 2026, month: 1, day: 1)) == 1_767_225_600)
    for days in stride(from: -800_000, through: 800_000, by: 997) {
      let (y, m, d) = CMOS.civilFromDays(days)
      #expect(CMOS.daysFromCivil(year: y, month: m, day: d) == days)
    }
    #expect(CMOS.daysInMonth(year: 2024, month: 2) == 29)
    #expect(CMOS.daysInMonth(year: 2100, month: 2) == 28)
  }

  @Test func guestSetsTheTime() {
    let cmos = CMOS(clock: clock)
    setRegister(cmos, 0x0B, 0x82)  // SET: the clock stops
    setRegister(cmos, 0x04, 0x13)
    setRegister(cmos, 0x02, 0x45)
    clock.advance(to: 5_000_000_000)
    #expect(register(cmos, 0x00) == 0x00)
    setRegister(cmos, 0x0B, 0x02)  // running again, from 13:45:00 now
    clock.advance(to: 15_000_000_000)
    #expect(register(cmos, 0x04) == 0x13)
    #expect(register(cmos, 0x02) == 0x45)
    #expect(register(cmos, 0x00) == 0x10)
    setRegister(cmos, 0x00, 0x99)  // not BCD: ignored
    #expect(register(cmos, 0x00) == 0x10)
  }

  @Test func updateInProgressOnlyJustBeforeASecond() {
    let cmos = CMOS(clock: clock)
    #expect(register(cmos, 0x0A) & 0x80 == 0)
    clock.advance(to: 999_800_000)
    #expect(register(cmos, 0x0A) & 0x80 == 0x80)
    clock.advance(to: 1_000_000_000)
    #expect(register(cmos, 0x0A) & 0x80 == 0)
  }

  @Test func nvramAndIndexRegister() {
    let cmos = CMOS(clock: clock)
    cmos.writeByte(0x70, 0x80 | 0x40)  // NMI off, index 0x40
    cmos.writeByte(0x71, 0x5A)
    #expect(cmos.nmiDisabled)
    #expect(register(cmos, 0x40) == 0x5A)
    #expect(!cmos.nmiDisabled)
    #expect(cmos.readByte(0x70) == 0xFF)
  }

  @Test func memorySizeBytes() {
    let cmos = CMOS(clock: clock)
    cmos.setMemorySize(bytes: 32 << 20)
    #expect(register(cmos, 0x15) == 0x80 && register(cmos, 0x16) == 0x02)  // 640 KiB
    #expect(register(cmos, 0x17) == 0x00 && register(cmos, 0x18) == 0x7C)  // 31744 KiB
    #expect(register(cmos, 0x30) == 0x00 && register(cmos, 0x31) == 0x7C)
    #expect(register(cmos, 0x34) == 0x00 && register(cmos, 0x35) == 0x01)  // 16 MiB in 64 KiB
    cmos.setMemorySize(bytes: 4 << 30)
    #expect(register(cmos, 0x17) == 0xFF && register(cmos, 0x18) == 0xFF)  // capped
    #expect(register(cmos, 0x34) == 0x00 && register(cmos, 0x35) == 0xBF)  // 3 GiB - 16 MiB
    #expect(register(cmos, 0x5B) == 0x00 && register(cmos, 0x5C) == 0x40 && register(cmos, 0x5D) == 0x00)
  }

  @Test func stateRoundTrip() throws {
    let cmos = CMOS(clock: clock)
    cmos.setMemorySize(bytes: 256 << 20)
    setRegister(cmos, 0x0B, 0x82)
    setRegister(cmos, 0x04, 0x07)
    cmos.writeByte(0x70, 0x8F)
    let copy = CMOS(clock: clock, startUnixSeconds: 0)
    try expectStateRoundTrip(cmos, into: copy)
    #expect(copy.currentDate == cmos.currentDate)
  }
}
