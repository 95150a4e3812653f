/// The MC146818 real-time clock and its 128 bytes of CMOS RAM (ports 0x70-0x71).
///
/// The time is a fixed start date plus the guest's virtual time, so a recording replays the
/// same dates. Guest writes to the time registers move the clock for the guest only. The RTC
/// interrupt (IRQ 8: periodic, alarm, update-ended) is not modelled: register C always reads 0.
public final class CMOS: PortDevice {
  /// A broken-down UTC date and time.
  public struct DateTime: Equatable, Sendable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
      self.year = year
      self.month = month
      self.day = day
      self.hour = hour
      self.minute = minute
      self.second = second
    }

    public var description: String {
      func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
      return "\(year)-\(two(month))-\(two(day)) \(two(hour)):\(two(minute)):\(two(second))"
    }
  }

  public let name: String
  private let clock: VirtualClock

  // RTC register indices.
  private static let regSeconds: UInt8 = 0x00
  private static let regMinutes: UInt8 = 0x02
  private static let regHours: UInt8 = 0x04
  private static let regWeekday: UInt8 = 0x06
  private static let regDay: UInt8 = 0x07
  private static let regMonth: UInt8 = 0x08
  private static let regYear: UInt8 = 0x09
  private static let regA: UInt8 = 0x0A
  private static let regB: UInt8 = 0x0B
  private static let regC: UInt8 = 0x0C
  private static let regD: UInt8 = 0x0D
  private static let regCentury: UInt8 = 0x32
  private static let bSet: UInt8 = 0x80
  private static let bUpdateInterrupt: UInt8 = 0x10
  private static let bBinary: UInt8 = 0x04
  private static let b24Hour: UInt8 = 0x02
  /// UIP is set for the 244 us before each update, as on the MC146818 with a 32.768 kHz base.
  static let updateWindow: UInt64 = 244_000

  /// The selected register (port 0x70 bits 0-6).
  private var index: UInt8 = 0
  /// Port 0x70 bit 7. NMIs are never raised here; the bit is kept as written.
  public private(set) var nmiDisabled = false
  private var ram = [UInt8](repeating: 0, count: 128)
  /// Unix seconds at guest time 0.
  private var epochAtZero: Int64
  /// While SET (register B bit 7) is on the clock does not run: the registers hold this time.
  private var heldTime: Int64?

  /// `startDate` is UTC at guest time 0.
  public convenience init(
    name: String = "cmos", clock: VirtualClock,
    startDate: (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) = (2026, 1, 1, 0, 0, 0)
  ) {
    let date = DateTime(
      year: startDate.year, month: startDate.month, day: startDate.day,
      hour: startDate.hour, minute: startDate.minute, second: startDate.second)
    self.init(name: name, clock: clock, startUnixSeconds: CMOS.unixSeconds(of: date))
  }

  public init(name: String = "cmos", clock: VirtualClock, startUnixSeconds: Int64) {
    self.name = name
    self.clock = clock
    self.epochAtZero = startUnixSeconds
    ram[Int(Self.regA)] = 0x26  // 32.768 kHz time base, 1024 Hz periodic rate
    ram[Int(Self.regB)] = Self.b24Hour  // BCD, 24-hour
    ram[Int(Self.regD)] = 0x80  // valid RAM and time (battery good)
  }

  public let portRanges: [ClosedRange<UInt16>] = [0x70...0x71]

  /// The RTC's date at the current virtual time, without the guest observing it.
  public var currentDate: DateTime { Self.dateTime(fromUnixSeconds: currentSeconds(at: clock.now)) }

  /// Fills the memory-size bytes SeaBIOS and older loaders read. Memory above `below4GLimit`
  /// is taken to start at 4 GiB (the PCI hole lies between).
  public func setMemorySize(bytes: UInt64, below4GLimit: UInt64 = 0xC000_0000) {
    let kib: UInt64 = 1024
    let mib = kib * kib
    let low = min(bytes, below4GLimit)
    let high = bytes - low
    let base = min(low / kib, 640)
    let extended = low > mib ? min((low - mib) / kib, 0xFFFF) : 0
    let above16M = low > 16 * mib ? min((low - 16 * mib) / (64 * kib), 0xFFFF) : 0
    let above4G = min(high / (64 * kib), 0xFF_FFFF)
    func put(_ value: UInt64, at index: Int, bytes count: Int) {
      for i in 0..<count { ram[index + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }
    put(base, at: 0x15, bytes: 2)
    put(extended, at: 0x17, bytes: 2)
    put(extended, at: 0x30, bytes: 2)
    put(above16M, at: 0x34, bytes: 2)
    put(above4G, at: 0x5B, bytes: 3)
    // The standard checksum over 0x10-0x2D, big-endian at 0x2E (some firmware verifies it).
    let sum = ram[0x10...0x2D].reduce(0) { $0 &+ UInt16($1) }
    ram[0x2E] = UInt8(sum >> 8)
    ram[0x2F] = UInt8(truncatingIfNeeded: sum)
  }

  // MARK: Ports

  public func read(port: UInt16, size: Int) -> UInt32 {
    DevicePortAccess.splitRead(port: port, size: size, ranges: portRanges) { p in
      p == 0x70 ? 0xFF : readRegister(index)  // the index register is write-only
    }
  }

  public func write(port: UInt16, size: Int, value: UInt32) {
    DevicePortAccess.splitWrite(port: port, size: size, value: value, ranges: portRanges) { p, byte in
      if p == 0x70 {
        index = byte & 0x7F
        nmiDisabled = byte & 0x80 != 0
      } else {
        writeRegister(index, byte)
      }
    }
  }

  private var binaryMode: Bool { ram[Int(Self.regB)] & Self.bBinary != 0 }
  private var hour24: Bool { ram[Int(Self.regB)] & Self.b24Hour != 0 }

  private func currentSeconds(at now: UInt64) -> Int64 {
    if let held = heldTime { return held }
    return epochAtZero &+ Int64(now / 1_000_000_000)
  }

  private func readRegister(_ index: UInt8) -> UInt8 {
    switch index {
    case Self.regSeconds, Self.regMinutes, Self.regHours, Self.regWeekday, Self.regDay,
      Self.regMonth, Self.regYear, Self.regCentury:
      let seconds = currentSeconds(at: clock.observe())
      let date = Self.dateTime(fromUnixSeconds: seconds)
      switch index {
      case Self.regSeconds: return encode(date.second)
      case Self.regMinutes: return encode(date.minute)
      case Self.regHours: return encodeHour(date.hour)
      case Self.regWeekday: return encode(Self.weekday(ofUnixSeconds: seconds))
      case Self.regDay: return encode(date.day)
      case Self.regMonth: return encode(date.month)
      case Self.regYear: return encode(Self.floorMod(date.year, 100))
      default: return encode(Self.floorDiv(date.year, 100))
      }
    case Self.regA:
      var value = ram[Int(Self.regA)] & 0x7F
      if heldTime == nil && clock.observe() % 1_000_000_000 >= 1_000_000_000 - Self.updateWindow {
        value |= 0x80  // update in progress: time derived, so it can never stay set
      }
      return value
    case Self.regC:
      return 0  // no interrupt flags: the RTC raises no interrupts here
    case Self.regD:
      return 0x80
    default:
      return ram[Int(index & 0x7F)]
    }
  }

  private func writeRegister(_ index: UInt8, _ value: UInt8) {
    switch index {
    case Self.regSeconds, Self.regMinutes, Self.regHours, Self.regDay, Self.regMonth,
      Self.regYear, Self.regCentury:
      setTimeField(index, value)
    case Self.regWeekday:
      break  // the weekday follows from the date
    case Self.regA:
      ram[Int(Self.regA)] = value & 0x7F  // UIP is read-only
    case Self.regB:
      var value = value
      let now = clock.now
      if value & Self.bSet != 0 {
        if heldTime == nil { heldTime = currentSeconds(at: now) }
        value &= ~Self.bUpdateInterrupt  // setting SET clears UIE on the MC146818
      } else if let held = heldTime {
        // The clock restarts from what the guest set, counting from now.
        epochAtZero = held &- Int64(now / 1_000_000_000)
        heldTime = nil
      }
      ram[Int(Self.regB)] = value
    case Self.regC, Self.regD:
      break  // read-only
    default:
      ram[Int(index & 0x7F)] = value
    }
  }

  /// A guest write to one date field: the others keep their current values. Values out of
  /// range for the field are ignored rather than producing an impossible date.
  private func setTimeField(_ index: UInt8, _ raw: UInt8) {
    let now = clock.now
    var date = Self.dateTime(fromUnixSeconds: currentSeconds(at: now))
    guard let value = index == Self.regHours ? decodeHour(raw) : decode(raw) else { return }
    switch index {
    case Self.regSeconds:
      guard value < 60 else { return }
      date.second = value
    case Self.regMinutes:
      guard value < 60 else { return }
      date.minute = value
    case Self.regHours:
      guard value < 24 else { return }
      date.hour = value
    case Self.regDay:
      guard (1...31).contains(value) else { return }
      date.day = min(value, Self.daysInMonth(year: date.year, month: date.month))
    case Self.regMonth:
      guard (1...12).contains(value) else { return }
      date.month = value
      date.day = min(date.day, Self.daysInMonth(year: date.year, month: value))
    case Self.regYear:
      date.year = Self.floorDiv(date.year, 100) * 100 + value
    default:
      date.year = value * 100 + Self.floorMod(date.year, 100)
    }
    let seconds = Self.unixSeconds(of: date)
    if heldTime != nil {
      heldTime = seconds
    } else {
      epochAtZero = seconds &- Int64(now / 1_000_000_000)
    }
  }

  private func encode(_ value: Int) -> UInt8 {
    let v = UInt8(clamping: value)
    return binaryMode ? v : ((v / 10) << 4) | (v % 10)
  }

  private func decode(_ raw: UInt8) -> Int? {
    if binaryMode { return Int(raw) }
    guard raw & 0x0F < 10, raw >> 4 < 10 else { return nil }
    return Int(raw >> 4) * 10 + Int(raw & 0x0F)
  }

  private func encodeHour(_ hour: Int) -> UInt8 {
    if hour24 { return encode(hour) }
    // 12-hour mode: 12, 1 ... 11 with bit 7 for PM.
    let twelve = hour % 12 == 0 ? 12 : hour % 12
    return encode(twelve) | (hour >= 12 ? 0x80 : 0)
  }

  private func decodeHour(_ raw: UInt8) -> Int? {
    if hour24 { return decode(raw) }
    guard let h = decode(raw & 0x7F), (1...12).contains(h) else { return nil }
    return (h % 12) + (raw & 0x80 != 0 ? 12 : 0)
  }

  // MARK: State

  public func encodeState(into encoder: inout StateEncoder) {
    encoder.write(index)
    encoder.write(nmiDisabled)
    encoder.write(ram)
    encoder.write(Int(epochAtZero))
    encoder.write(heldTime != nil)
    encoder.write(Int(heldTime ?? 0))
  }

  public func decodeState(from decoder: inout StateDecoder) throws(StateDecodingError) {
    let index: UInt8 = try decoder.read()
    let nmiDisabled: Bool = try decoder.read()
    let ram: [UInt8] = try decoder.read()
    let epochAtZero: Int = try decoder.read()
    let held: Bool = try decoder.read()
    let heldTime: Int = try decoder.read()
    try decoder.require(index < 0x80, "CMOS index")
    try decoder.require(ram.count == 128, "CMOS RAM size")
    self.index = index
    self.nmiDisabled = nmiDisabled
    self.ram = ram
    self.epochAtZero = Int64(epochAtZero)
    self.heldTime = held ? Int64(heldTime) : nil
  }
}

// MARK: - Civil calendar (proleptic Gregorian, UTC)

extension CMOS {
  /// Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil).
  static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = floorDiv(y, 400)
    let yoe = y - era * 400
    let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
  }

  /// The civil date of a day count since 1970-01-01 (H. Hinnant's civil_from_days).
  static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
    let z = days + 719_468
    let era = floorDiv(z, 146_097)
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let day = doy - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
  }

  public static func unixSeconds(of date: DateTime) -> Int64 {
    let days = daysFromCivil(year: date.year, month: date.month, day: date.day)
    return Int64(days) * 86_400 + Int64(date.hour * 3600 + date.minute * 60 + date.second)
  }

  public static func dateTime(fromUnixSeconds seconds: Int64) -> DateTime {
    let days = Int(floorDiv(seconds, 86_400))
    let secondOfDay = Int(floorMod(seconds, 86_400))
    let (y, m, d) = civilFromDays(days)
    return DateTime(
      year: y, month: m, day: d,
      hour: secondOfDay / 3600, minute: secondOfDay / 60 % 60, second: secondOfDay % 60)
  }

  /// RTC weekday: 1 = Sunday ... 7 = Saturday (1970-01-01 was a Thursday).
  static func weekday(ofUnixSeconds seconds: Int64) -> Int {
    Int(floorMod(floorDiv(seconds, 86_400) + 4, 7)) + 1
  }

  static func daysInMonth(year: Int, month: Int) -> Int {
    daysFromCivil(year: month == 12 ? year + 1 : year, month: month == 12 ? 1 : month + 1, day: 1)
      - daysFromCivil(year: year, month: month, day: 1)
  }

  static func floorDiv<T: BinaryInteger>(_ a: T, _ b: T) -> T {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
  }

  static func floorMod<T: BinaryInteger>(_ a: T, _ b: T) -> T {
    a - floorDiv(a, b) * b
  }
}
