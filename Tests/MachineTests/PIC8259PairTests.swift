import Testing

@testable import Machine

@Suite struct PIC8259PairTests {
  /// The initialization Linux and SeaBIOS do: vectors 0x20 and 0x28, cascade on IR2, 8086 mode.
  func makePIC(icw4: UInt8 = 0x01) -> PIC8259Pair {
    let pic = PIC8259Pair()
    for (port, value) in [
      (0x20, 0x11), (0x21, 0x20), (0x21, 0x04), (0x21, Int(icw4)),
      (0xA0, 0x11), (0xA1, 0x28), (0xA1, 0x02), (0xA1, Int(icw4)),
      (0x21, 0x00), (0xA1, 0x00),
    ] {
      pic.writeByte(UInt16(port), UInt8(value))
    }
    return pic
  }

  func isr(_ pic: PIC8259Pair, slave: Bool = false) -> UInt8 {
    let port: UInt16 = slave ? 0xA0 : 0x20
    pic.writeByte(port, 0x0B)  // OCW3: read ISR
    return pic.readByte(port)
  }

  func irr(_ pic: PIC8259Pair, slave: Bool = false) -> UInt8 {
    let port: UInt16 = slave ? 0xA0 : 0x20
    pic.writeByte(port, 0x0A)  // OCW3: read IRR
    return pic.readByte(port)
  }

  @Test func timerInterruptGivesVector0x20() {
    let pic = makePIC()
    #expect(!pic.hasPendingInterrupt)
    #expect(pic.acknowledge() == nil)
    pic.pulse(irq: 0)
    #expect(pic.hasPendingInterrupt)
    #expect(pic.acknowledge() == 0x20)
    #expect(isr(pic) == 0x01)
    #expect(irr(pic) == 0x00)
    #expect(!pic.hasPendingInterrupt)
    pic.writeByte(0x20, 0x20)  // non-specific EOI
    #expect(isr(pic) == 0x00)
  }

  @Test func maskedRequestsWaitInIRR() {
    let pic = makePIC()
    pic.writeByte(0x21, 0x01)
    #expect(pic.readByte(0x21) == 0x01)
    pic.pulse(irq: 0)
    #expect(!pic.hasPendingInterrupt)
    #expect(irr(pic) == 0x01)
    pic.writeByte(0x21, 0x00)
    #expect(pic.acknowledge() == 0x20)
  }

  @Test func fixedPriorityAndNesting() {
    let pic = makePIC()
    pic.pulse(irq: 3)
    pic.pulse(irq: 1)
    #expect(pic.acknowledge() == 0x21)
    // IRQ 3 ranks below the IRQ 1 in service.
    #expect(!pic.hasPendingInterrupt)
    pic.writeByte(0x20, 0x20)
    #expect(pic.acknowledge() == 0x23)
    // A higher-priority request nests over IRQ 3 in service.
    pic.pulse(irq: 0)
    #expect(pic.acknowledge() == 0x20)
    #expect(isr(pic) == 0x09)
    pic.writeByte(0x20, 0x20)  // non-specific EOI clears the highest: IRQ 0
    #expect(isr(pic) == 0x08)
    pic.writeByte(0x20, 0x63)  // specific EOI for IRQ 3
    #expect(isr(pic) == 0x00)
  }

  @Test func slaveCascadeIRQ12() {
    let pic = makePIC()
    pic.pulse(irq: 12)
    #expect(pic.hasPendingInterrupt)
    #expect(pic.acknowledge() == 0x2C)
    #expect(isr(pic) == 0x04)  // master: IR2 (cascade) in service
    #expect(isr(pic, slave: true) == 0x10)
    #expect(!pic.hasPendingInterrupt)
    // A master IRQ above IR2 still gets through; one below does not.
    pic.pulse(irq: 5)
    #expect(!pic.hasPendingInterrupt)
    pic.pulse(irq: 1)
    #expect(pic.acknowledge() == 0x21)
    pic.writeByte(0x20, 0x20)
    pic.writeByte(0xA0, 0x20)
    pic.writeByte(0x20, 0x20)
    #expect(isr(pic) == 0 && isr(pic, slave: true) == 0)
    #expect(pic.acknowledge() == 0x25)
  }

  @Test func slaveRequestWithdrawnBeforeAcknowledgeIsNotDelivered() {
    let pic = makePIC()
    pic.pulse(irq: 12)
    pic.writeByte(0xA1, 0x10)  // the slave's request is masked before INTA
    #expect(!pic.hasPendingInterrupt)
    #expect(pic.acknowledge() == nil)
    #expect(isr(pic) == 0 && isr(pic, slave: true) == 0)
    pic.writeByte(0xA1, 0x00)  // still latched on the slave: delivered once unmasked
    #expect(pic.acknowledge() == 0x2C)
  }

  @Test func secondSlaveRequestWaitsForTheSlaveEOI() {
    let pic = makePIC()
    pic.pulse(irq: 14)
    #expect(pic.acknowledge() == 0x2E)
    pic.pulse(irq: 9)  // higher than 14 on the slave, but the master's IR2 is in service
    #expect(!pic.hasPendingInterrupt)
    pic.writeByte(0x20, 0x20)
    #expect(pic.acknowledge() == 0x29)
    pic.pulse(irq: 15)
    pic.writeByte(0xA0, 0x20)  // EOI IRQ 9
    pic.writeByte(0x20, 0x20)
    pic.writeByte(0xA0, 0x20)  // EOI IRQ 14
    #expect(pic.acknowledge() == 0x2F)
    #expect(isr(pic, slave: true) == 0x80)  // a real IRQ 15, in service
  }

  @Test func slaveMaskBlocksCascade() {
    let pic = makePIC()
    pic.writeByte(0x21, 0x04)
    pic.pulse(irq: 9)
    #expect(!pic.hasPendingInterrupt)
    pic.writeByte(0x21, 0x00)
    #expect(pic.acknowledge() == 0x29)
  }

  @Test func autoEOILeavesNothingInService() {
    let pic = makePIC(icw4: 0x03)
    pic.pulse(irq: 4)
    #expect(pic.acknowledge() == 0x24)
    #expect(isr(pic) == 0)
    pic.pulse(irq: 10)
    #expect(pic.acknowledge() == 0x2A)
    #expect(isr(pic) == 0 && isr(pic, slave: true) == 0)
  }

  @Test func edgeTriggeredLineHeldHighLatchesOnce() {
    let pic = makePIC()
    pic.setLevel(irq: 4, high: true)
    #expect(pic.acknowledge() == 0x24)
    pic.writeByte(0x20, 0x20)
    pic.setLevel(irq: 4, high: true)
    #expect(!pic.hasPendingInterrupt)
    pic.setLevel(irq: 4, high: false)
    pic.setLevel(irq: 4, high: true)
    #expect(pic.acknowledge() == 0x24)
  }

  @Test func levelTriggeredThroughELCR() {
    let pic = makePIC()
    pic.writeByte(0x4D1, 0xFF)
    #expect(pic.readByte(0x4D1) == 0xDE)  // IRQ 8 and 13 cannot be level-triggered
    pic.writeByte(0x4D1, 0x04)  // IRQ 10
    pic.setLevel(irq: 10, high: true)
    #expect(pic.acknowledge() == 0x2A)
    pic.writeByte(0xA0, 0x20)
    pic.writeByte(0x20, 0x20)
    #expect(pic.hasPendingInterrupt)  // still high: requests again
    pic.setLevel(irq: 10, high: false)
    #expect(!pic.hasPendingInterrupt)
  }

  @Test func rotationChangesPriority() {
    let pic = makePIC()
    pic.writeByte(0x20, 0xC3)  // set priority: IR3 lowest, so IR4 highest
    pic.pulse(irq: 1)
    pic.pulse(irq: 5)
    #expect(pic.acknowledge() == 0x25)
    pic.writeByte(0x20, 0xA0)  // rotate on non-specific EOI: IR5 becomes lowest
    #expect(pic.acknowledge() == 0x21)
  }

  @Test func pollCommand() {
    let pic = makePIC()
    pic.pulse(irq: 6)
    pic.writeByte(0x20, 0x0C)
    #expect(pic.readByte(0x20) == 0x86)
    #expect(isr(pic) == 0x40)
    pic.writeByte(0x20, 0x0C)
    #expect(pic.readByte(0x20) == 0x00)
  }

  @Test func reinitializationClearsState() {
    let pic = makePIC()
    pic.writeByte(0x21, 0xFF)
    pic.pulse(irq: 1)
    pic.writeByte(0x20, 0x11)
    pic.writeByte(0x21, 0x08)  // vector base 8, as a BIOS sets it
    pic.writeByte(0x21, 0x04)
    pic.writeByte(0x21, 0x01)
    #expect(pic.readByte(0x21) == 0x00)
    #expect(!pic.hasPendingInterrupt)
    pic.pulse(irq: 1)
    #expect(pic.acknowledge() == 0x09)
  }

  @Test func stateRoundTrip() throws {
    let pic = makePIC()
    pic.writeByte(0x4D1, 0x04)
    pic.setLevel(irq: 10, high: true)
    pic.pulse(irq: 3)
    _ = pic.acknowledge()
    pic.writeByte(0xA1, 0x20)
    let copy = PIC8259Pair()
    try expectStateRoundTrip(pic, into: copy)
    #expect(copy.acknowledge() == pic.acknowledge())
  }
}
