import Testing

@testable import Machine

final class Recorder<T> {
  var values: [T] = []
}

@Suite struct DebugExitTests {
  @Test func writeReportsTheRawValue() {
    let exits = Recorder<UInt32>()
    let device = DebugExit { exits.values.append($0) }
    #expect(device.portRanges == [0xF4...0xF7])
    device.writeByte(0xF4, 0x10)
    device.write(port: 0xF4, size: 4, value: 0x1234_5678)
    device.write(port: 0xF4, size: 2, value: 0xABCD_0001)
    #expect(exits.values == [0x10, 0x1234_5678, 0x0001])
    #expect(DebugExit.exitStatus(for: 0x10) == 33)
    #expect(DebugExit.exitStatus(for: 0) == 1)
    #expect(DebugExit.exitStatus(for: 0x80) == 1)
    #expect(device.read(port: 0xF4, size: 4) == 0xFFFF_FFFF)
    #expect(device.read(port: 0xF5, size: 1) == 0xFF)
  }

  @Test func stateRoundTrip() throws {
    let device = DebugExit { _ in }
    device.writeByte(0xF4, 3)
    try expectStateRoundTrip(device, into: DebugExit { _ in })
  }
}

@Suite struct PostCodePortTests {
  @Test func keepsTheLastCodeAndReadsAllOnes() throws {
    let post = PostCodePort()
    post.writeByte(0x80, 0x42)
    #expect(post.lastCode == 0x42)
    #expect(post.read(port: 0x80, size: 1) == 0xFF)
    #expect(post.read(port: 0x80, size: 2) == 0xFFFF)
    try expectStateRoundTrip(post, into: PostCodePort())
  }
}

@Suite struct FastA20ResetTests {
  @Test func a20AndReset() throws {
    let resets = Recorder<Void>()
    let port = FastA20Reset { resets.values.append(()) }
    port.writeByte(0x92, 0x00)
    #expect(!port.a20Enabled)
    port.writeByte(0x92, 0x02)
    #expect(port.a20Enabled)
    #expect(resets.values.isEmpty)
    port.writeByte(0x92, 0x03)
    #expect(resets.values.count == 1)
    #expect(port.readByte(0x92) == 0x02)
    try expectStateRoundTrip(port, into: FastA20Reset {})
  }
}

@Suite struct I8042Tests {
  @Test func idleStatusNeverBlocksAPoller() {
    let kbc = I8042 {}
    #expect(kbc.readByte(0x64) == 0x1C)  // no output, input buffer empty, self-tested
  }

  @Test func selfTestAndCommandByte() {
    let kbc = I8042 {}
    kbc.writeByte(0x64, 0xAA)
    #expect(kbc.readByte(0x64) & 0x01 == 0x01)
    #expect(kbc.readByte(0x60) == 0x55)
    #expect(kbc.readByte(0x64) & 0x01 == 0)
    kbc.writeByte(0x64, 0x20)
    #expect(kbc.readByte(0x60) == 0x47)
    kbc.writeByte(0x64, 0x60)
    kbc.writeByte(0x60, 0x30)
    #expect(kbc.readByte(0x64) & 0x0C == 0x00)  // system flag from the command byte; last write data
    kbc.writeByte(0x64, 0xAE)
    kbc.writeByte(0x64, 0x20)
    #expect(kbc.readByte(0x60) == 0x20)
    kbc.writeByte(0x64, 0xA8)
    kbc.writeByte(0x64, 0x20)
    #expect(kbc.readByte(0x60) == 0x00)
    kbc.writeByte(0x64, 0xAB)
    #expect(kbc.readByte(0x60) == 0x00)
  }

  @Test func resetThroughPulseAndOutputPort() {
    let resets = Recorder<Void>()
    let kbc = I8042 { resets.values.append(()) }
    kbc.writeByte(0x64, 0xFF)  // pulses nothing
    #expect(resets.values.isEmpty)
    kbc.writeByte(0x64, 0xFE)
    #expect(resets.values.count == 1)
    kbc.writeByte(0x64, 0xD1)
    kbc.writeByte(0x60, 0xDF)  // A20 on, reset line high: no reset
    #expect(resets.values.count == 1)
    kbc.writeByte(0x64, 0xD0)
    #expect(kbc.readByte(0x60) == 0xDF)
    kbc.writeByte(0x64, 0xD1)
    kbc.writeByte(0x60, 0xDE)
    #expect(resets.values.count == 2)
  }

  @Test func absentDevicesAnswerWithTimeout() {
    let lines = RecordingLines()
    let kbc = I8042(lines: lines) {}
    kbc.writeByte(0x60, 0xFF)  // reset the keyboard: nobody answers
    #expect(kbc.readByte(0x64) & 0x61 == 0x41)
    #expect(lines.levels[1])
    #expect(kbc.readByte(0x60) == 0xFE)
    #expect(!lines.levels[1])
    kbc.writeByte(0x64, 0xD4)
    kbc.writeByte(0x60, 0xFF)  // to the mouse
    #expect(kbc.readByte(0x64) & 0x61 == 0x61)
    #expect(lines.levels[12])
    #expect(kbc.readByte(0x60) == 0xFE)
  }

  @Test func auxLoopbackRaisesIRQ12() {
    let lines = RecordingLines()
    let kbc = I8042(lines: lines) {}
    kbc.writeByte(0x64, 0xD3)
    kbc.writeByte(0x60, 0x5A)
    #expect(kbc.readByte(0x64) & 0x21 == 0x21)
    #expect(lines.levels[12] && !lines.levels[1])
    #expect(kbc.readByte(0x60) == 0x5A)
    #expect(!lines.levels[12])
  }

  @Test func backToBackBytesMakeSeparateEdges() {
    let lines = RecordingLines()
    let kbc = I8042(lines: lines) {}
    kbc.writeByte(0x64, 0xD2)
    kbc.writeByte(0x60, 0x1C)
    kbc.writeByte(0x64, 0xD2)
    kbc.writeByte(0x60, 0x9C)
    #expect(kbc.readByte(0x60) == 0x1C)
    #expect(kbc.readByte(0x60) == 0x9C)
    #expect(lines.risingEdges[1] == 2)
    #expect(kbc.readByte(0x60) == 0x9C)  // empty: the last byte again
  }

  @Test func stateRoundTrip() throws {
    let kbc = I8042 {}
    kbc.writeByte(0x64, 0xAA)
    kbc.writeByte(0x64, 0x20)
    kbc.writeByte(0x64, 0xD1)
    try expectStateRoundTrip(kbc, into: I8042 {})
  }
}
