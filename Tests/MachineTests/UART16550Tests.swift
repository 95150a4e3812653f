import Testing

@testable import Machine

@Suite struct UART16550Tests {
  let lines = RecordingLines()
  let sink = Sink()

  final class Sink {
    var bytes: [UInt8] = []
  }

  func makeUART() -> UART16550 {
    let sink = self.sink
    return UART16550(lines: lines) { sink.bytes += $0 }
  }

  @Test func divisorLatchRoundTrip() {
    let uart = makeUART()
    uart.writeByte(0x3FB, 0x80)  // DLAB
    uart.writeByte(0x3F8, 0x01)
    uart.writeByte(0x3F9, 0x02)
    #expect(uart.readByte(0x3F8) == 0x01)
    #expect(uart.readByte(0x3F9) == 0x02)
    uart.writeByte(0x3FB, 0x03)  // 8N1, DLAB off: the same ports are RBR/IER again
    #expect(uart.readByte(0x3FB) == 0x03)
    #expect(uart.readByte(0x3F9) == 0x00)
    uart.writeByte(0x3F8, 0x41)
    #expect(sink.bytes == [0x41])  // a THR write, not a divisor write
    uart.writeByte(0x3FB, 0x83)
    #expect(uart.readByte(0x3F8) == 0x01)
  }

  @Test func ierKeepsOnlyLowNibbleAndScratchHoldsAnything() {
    let uart = makeUART()
    uart.writeByte(0x3F9, 0xFF)
    #expect(uart.readByte(0x3F9) == 0x0F)
    uart.writeByte(0x3FF, 0xA5)
    #expect(uart.readByte(0x3FF) == 0xA5)
  }

  @Test func thrEmptyInterruptSequence() {
    let uart = makeUART()
    uart.writeByte(0x3FC, 0x08)  // OUT2
    #expect(uart.readByte(0x3FA) == 0x01)
    uart.writeByte(0x3F9, 0x02)  // ETBEI with THR empty raises the interrupt
    #expect(lines.levels[4])
    #expect(uart.readByte(0x3FA) == 0x02)
    // Reading IIR while THRE is the reported source acknowledges it.
    #expect(!lines.levels[4])
    #expect(uart.readByte(0x3FA) == 0x01)
    // Each byte transmitted empties THR again: a new edge for the PIC.
    uart.writeByte(0x3F8, 0x68)
    uart.writeByte(0x3F8, 0x69)
    #expect(sink.bytes == [0x68, 0x69])
    #expect(lines.risingEdges[4] == 3)
    #expect(uart.readByte(0x3FA) == 0x02)
    // LSR: THR empty and transmitter empty, no data.
    #expect(uart.readByte(0x3FD) == 0x60)
  }

  @Test func thrEmptyReassertsWhenReenabled() {
    // Linux's UART_BUG_THRE probe: enable, read IIR, disable, enable, read IIR again.
    let uart = makeUART()
    uart.writeByte(0x3F9, 0x02)
    let first = uart.readByte(0x3FA)
    uart.writeByte(0x3F9, 0x00)
    uart.writeByte(0x3F9, 0x02)
    let second = uart.readByte(0x3FA)
    #expect(first & 0x01 == 0)
    #expect(second & 0x01 == 0)
  }

  @Test func rxFIFOOrderAndIRQGatedByOUT2() {
    let uart = makeUART()
    uart.writeByte(0x3FA, 0x01)  // FIFO on, trigger level 1
    uart.writeByte(0x3F9, 0x01)  // ERBFI
    uart.receive([0x31, 0x32, 0x33])
    #expect(!lines.levels[4])  // OUT2 clear: the PC's IRQ buffer is off
    #expect(uart.readByte(0x3FA) == 0xC4)
    uart.writeByte(0x3FC, 0x0B)  // DTR, RTS, OUT2
    #expect(lines.levels[4])
    #expect(uart.readByte(0x3FD) & 0x01 == 0x01)
    #expect(uart.readByte(0x3F8) == 0x31)
    #expect(uart.readByte(0x3F8) == 0x32)
    #expect(lines.levels[4])
    #expect(uart.readByte(0x3F8) == 0x33)
    #expect(uart.readByte(0x3FD) & 0x01 == 0)
    #expect(uart.readByte(0x3FA) == 0xC1)
    #expect(!lines.levels[4])
  }

  @Test func triggerLevelSelectsTimeoutOrDataAvailable() {
    let uart = makeUART()
    uart.writeByte(0x3FA, 0xC1)  // trigger at 14 bytes
    uart.writeByte(0x3F9, 0x01)
    uart.receive([1, 2, 3])
    #expect(uart.readByte(0x3FA) == 0xCC)  // below the trigger level: character timeout
    uart.receive(Array(4...20))
    #expect(uart.readByte(0x3FA) == 0xC4)
  }

  @Test func inputBeyondTheFIFOIsNeverDropped() throws {
    let uart = makeUART()
    uart.writeByte(0x3FA, 0x07)  // FIFO on, both cleared
    let input = (0..<100).map { UInt8($0) }
    uart.receive(Array(input[0..<40]))
    #expect(!uart.canReceive)
    uart.receive(Array(input[40...]))
    #expect(uart.unreadInputCount == 100)
    var got: [UInt8] = []
    for i in 0..<100 {
      if i == 50 {
        // Pending input is part of the state: a restored copy reads on identically.
        let copy = UART16550(lines: RecordingLines()) { _ in }
        try expectStateRoundTrip(uart, into: copy)
        #expect(copy.unreadInputCount == 50)
      }
      #expect(uart.readByte(0x3FD) & 0x01 == 0x01)
      got.append(uart.readByte(0x3F8))
    }
    #expect(got == input)
    #expect(uart.readByte(0x3FD) & 0x01 == 0)
    #expect(uart.canReceive)
  }

  @Test func withoutFIFOTheReceiverHoldsOneByte() {
    let uart = makeUART()
    uart.receive([7, 8])
    #expect(uart.readByte(0x3FA) == 0x01)  // no FIFO bits in IIR
    #expect(!uart.canReceive)
    #expect(uart.readByte(0x3F8) == 7)
    #expect(uart.readByte(0x3F8) == 8)
    #expect(uart.readByte(0x3F8) == 0)
  }

  @Test func fifoClearDropsOnlyWhatIsInTheFIFO() {
    let uart = makeUART()
    uart.writeByte(0x3FA, 0x01)
    uart.receive(Array(0..<20))
    uart.writeByte(0x3FA, 0x03)  // clear RX FIFO: the 4 waiting bytes move in
    var got: [UInt8] = []
    while uart.readByte(0x3FD) & 0x01 != 0 { got.append(uart.readByte(0x3F8)) }
    #expect(got == Array(16..<20))
  }

  @Test func loopbackWiresModemLinesAndData() {
    let uart = makeUART()
    uart.writeByte(0x3FC, 0x1A)  // loop, OUT2, RTS: what Linux's autoconfig writes
    #expect(uart.readByte(0x3FE) & 0xF0 == 0x90)  // DCD and CTS
    uart.writeByte(0x3F8, 0x5A)
    #expect(sink.bytes.isEmpty)
    #expect(uart.readByte(0x3F8) == 0x5A)
    // Host input waits while the receiver is looped back.
    uart.receive([0x11])
    #expect(uart.readByte(0x3FD) & 0x01 == 0)
    uart.writeByte(0x3FC, 0x00)
    #expect(uart.readByte(0x3F8) == 0x11)
  }

  @Test func modemStatusDeltasRaiseAndClear() {
    let uart = makeUART()
    uart.writeByte(0x3F9, 0x08)  // EDSSI
    uart.writeByte(0x3FC, 0x18)  // loopback with OUT2: DCD changes
    #expect(uart.readByte(0x3FA) == 0x00)  // modem status interrupt pending
    #expect(uart.readByte(0x3FE) & 0x0F != 0)
    #expect(uart.readByte(0x3FA) == 0x01)
  }

  @Test func loopbackOverrunIsALineStatusInterrupt() {
    let uart = makeUART()
    uart.writeByte(0x3F9, 0x05)  // ELSI, ERBFI
    uart.writeByte(0x3FC, 0x10)
    uart.writeByte(0x3F8, 1)
    uart.writeByte(0x3F8, 2)  // the one-byte receiver is full: overrun
    #expect(uart.readByte(0x3FA) == 0x06)
    #expect(uart.readByte(0x3FD) & 0x02 == 0x02)
    #expect(uart.readByte(0x3FD) & 0x02 == 0)  // reading LSR cleared it
    #expect(uart.readByte(0x3FA) == 0x04)
  }

  @Test func wordAccessSplitsIntoBytes() {
    let uart = makeUART()
    uart.write(port: 0x3FB, size: 2, value: 0x0B83)  // LCR = 0x83, MCR = 0x0B
    #expect(uart.readByte(0x3FB) == 0x83)
    #expect(uart.readByte(0x3FC) == 0x0B)
    #expect(uart.read(port: 0x3FB, size: 2) == 0x0B83)
    #expect(uart.read(port: 0x3FF, size: 2) == 0xFF00)  // 0x400 is not the UART's
  }

  @Test func stateRoundTrip() throws {
    let uart = makeUART()
    uart.writeByte(0x3FB, 0x80)
    uart.writeByte(0x3F8, 0x03)
    uart.writeByte(0x3FB, 0x03)
    uart.writeByte(0x3FA, 0x81)
    uart.writeByte(0x3F9, 0x0F)
    uart.writeByte(0x3FC, 0x0B)
    uart.writeByte(0x3FF, 0x77)
    uart.receive(Array(0..<30))
    let copy = UART16550(lines: RecordingLines()) { _ in }
    try expectStateRoundTrip(uart, into: copy)
    #expect(copy.readByte(0x3FF) == 0x77)
    #expect(copy.readByte(0x3F8) == 0)
  }
}
