import Testing

@testable import Machine

@Suite struct IOBusTests {
  @Test func overlappingRangesAreRejectedNamingBothDevices() throws {
    let bus = IOBus()
    try bus.register(PostCodePort())
    try bus.register(DebugExit { _ in })
    #expect(throws: IOBus.RegistrationError.self) { try bus.register(PostCodePort(name: "post2")) }
    do {
      try bus.register(DebugExit(name: "exit2", base: 0xF2) { _ in })
      Issue.record("overlap accepted")
    } catch {
      #expect(error.description.contains("exit2"))
      #expect(error.description.contains("debugexit"))
      #expect(error.description.contains("0xF4"))
    }
    // A duplicate name is rejected too: names identify devices in snapshots.
    #expect(throws: IOBus.RegistrationError.self) { try bus.register(DebugExit(base: 0x500) { _ in }) }
    #expect(bus.devices.map(\.name) == ["post", "debugexit"])
    // Rejected devices claimed nothing.
    #expect(bus.device(at: 0xF2) == nil)
  }

  @Test func unclaimedPortsReadAllOnesAndAreCounted() throws {
    let bus = IOBus()
    try bus.register(PostCodePort())
    #expect(bus.read(port: 0x1234, size: 1) == 0xFF)
    #expect(bus.read(port: 0x1234, size: 2) == 0xFFFF)
    #expect(bus.read(port: 0x1234, size: 4) == 0xFFFF_FFFF)
    bus.write(port: 0x1234, size: 1, value: 0)
    bus.write(port: 0x3F8, size: 1, value: 0x41)
    #expect(bus.unknownPortAccesses[0x1234] == IOBus.AccessCounts(reads: 3, writes: 1))
    #expect(bus.unknownPortAccesses[0x3F8] == IOBus.AccessCounts(reads: 0, writes: 1))
    #expect(bus.unknownPortAccesses[0x80] == nil)
    bus.resetUnknownPortAccesses()
    #expect(bus.unknownPortAccesses.isEmpty)
  }

  @Test func accessesReachTheOwningDevice() throws {
    let bus = IOBus()
    let output = Recorder<UInt8>()
    let pic = PIC8259Pair()
    let uart = UART16550(lines: pic) { output.values += $0 }
    try bus.register(pic)
    try bus.register(uart)
    bus.write(port: 0x3F8, size: 1, value: 0x4F)
    bus.write(port: 0x3F8, size: 1, value: 0x14B)  // only the low byte of a byte access
    #expect(output.values == [0x4F, 0x4B])
    bus.write(port: 0x21, size: 1, value: 0xAA)
    #expect(bus.read(port: 0x21, size: 1) == 0xAA)
    #expect(bus.device(at: 0x3FD) === uart)
    #expect(bus.unknownPortAccesses.isEmpty)
  }

  @Test func wholeBusStateRoundTrip() throws {
    func makeBus(_ clock: VirtualClock) throws -> (IOBus, UART16550) {
      let bus = IOBus()
      let pic = PIC8259Pair()
      let pit = PIT8254(clock: clock, lines: pic)
      let uart = UART16550(lines: pic) { _ in }
      for device: any PortDevice in [
        pic, pit, SystemControlPortB(pit: pit), uart, CMOS(clock: clock), DebugExit { _ in },
        PostCodePort(), FastA20Reset {}, I8042 {},
      ] {
        try bus.register(device)
      }
      return (bus, uart)
    }
    let clock = VirtualClock()
    let (bus, uart) = try makeBus(clock)
    bus.write(port: 0x43, size: 1, value: 0x34)
    bus.write(port: 0x40, size: 1, value: 0x9C)
    bus.write(port: 0x40, size: 1, value: 0x2E)
    bus.write(port: 0x80, size: 1, value: 0x12)
    uart.receive([1, 2, 3])
    clock.advance(to: 1_000_000)

    var encoder = StateEncoder()
    bus.encodeState(into: &encoder)
    let (copy, _) = try makeBus(clock)
    var decoder = StateDecoder(encoder.bytes)
    try copy.decodeState(from: &decoder)
    #expect(decoder.isAtEnd)
    var again = StateEncoder()
    copy.encodeState(into: &again)
    #expect(again.bytes == encoder.bytes)
    #expect(copy.read(port: 0x3F8, size: 1) == 1)

    // A truncated encoding throws and leaves every device as it was.
    let (other, _) = try makeBus(VirtualClock())
    var before = StateEncoder()
    other.encodeState(into: &before)
    var truncated = StateDecoder(Array(encoder.bytes.dropLast(3)))
    #expect(throws: StateDecodingError.self) { try other.decodeState(from: &truncated) }
    var after = StateEncoder()
    other.encodeState(into: &after)
    #expect(after.bytes == before.bytes)
  }

  @Test func stateForADifferentBusIsRejected() throws {
    let bus = IOBus()
    try bus.register(PostCodePort())
    var encoder = StateEncoder()
    bus.encodeState(into: &encoder)
    let other = IOBus()
    try other.register(PostCodePort(name: "port80"))
    var decoder = StateDecoder(encoder.bytes)
    #expect(throws: StateDecodingError.self) { try other.decodeState(from: &decoder) }
  }
}
