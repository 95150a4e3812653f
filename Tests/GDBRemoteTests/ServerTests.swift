import Foundation
import Testing

@testable import GDBRemote

/// The TCP server with a fake target, over loopback on an ephemeral port.
@Suite(.serialized, .timeLimit(.minutes(2))) struct ServerTests {
  @Test func handshakeLikeGDBInAckThenNoAckMode() throws {
    let harness = try ServerHarness()
    defer { harness.stop() }
    let client = try TestClient(port: harness.port)
    client.sendRaw(GDBPacketEncoder.ack)  // gdb starts by acking whatever the stub may have sent.
    client.send("qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+")
    #expect(client.nextEvent() == .ack)
    #expect(client.nextPacket().map { String(decoding: $0, as: UTF8.self) }?.hasPrefix("PacketSize=10000;") == true)
    #expect(client.request("vMustReplyEmpty") == "")
    #expect(client.request("QStartNoAckMode") == "OK")
    client.noAck = true
    // From here on, no acks in either direction: the next event must be the packet itself.
    client.send("?")
    #expect(client.nextEvent() == .packet(Array("T05thread:1;".utf8)))
    #expect(client.request("qXfer:features:read:target.xml:0,20") == "m<?xml version=\"1.0\"?>\n<!DOCTYPE ")
    #expect(client.request("g")?.count == 1200)
    #expect(client.request("m1000,8") == "0001020304050607")
    #expect(client.request("x1023,1") == "b#")
  }

  @Test func secondClientIsRefusedWhileTheFirstKeepsWorking() throws {
    let harness = try ServerHarness()
    defer { harness.stop() }
    let first = try TestClient(port: harness.port)
    #expect(first.request("qC") == "QC1")
    let second = try TestClient(port: harness.port)
    #expect(second.request("qSupported") == "E.retrovisor: another debugger is already attached; detach it first")
    #expect(second.isClosedByServer())
    #expect(first.request("m1001,1") == "01")
    #expect(harness.log.contains { $0.contains("refused a debugger") })
  }

  @Test func ctrlCInterruptsARunningResume() throws {
    let target = FakeTarget()
    target.script([.interrupted, .breakpoint(.software)])
    let harness = try ServerHarness(target: target)
    defer { harness.stop() }
    let client = try TestClient(port: harness.port)
    client.send("vCont;c")
    #expect(client.nextEvent() == .ack)
    #expect(target.waitingForInterrupt.wait(timeout: .now() + 10) == .success)
    client.sendRaw([0x03])
    #expect(client.nextPacket() == Array("S02".utf8))
    // The interrupt was for that resume only: the next one runs to its own stop.
    #expect(client.request("c") == "T05thread:1;swbreak:;")
  }

  @Test func ctrlCRightBehindTheResumePacketIsNotLost() throws {
    let target = FakeTarget()
    target.script([.interrupted])
    let harness = try ServerHarness(target: target)
    defer { harness.stop() }
    let client = try TestClient(port: harness.port)
    client.sendRaw(GDBPacketEncoder.frame(Array("c".utf8)) + [0x03])
    #expect(client.nextEvent() == .ack)
    #expect(client.nextPacket() == Array("S02".utf8))
  }

  @Test func staleCtrlCWhileStoppedIsIgnored() throws {
    let target = FakeTarget()
    target.script([.breakpoint(.software)])
    let harness = try ServerHarness(target: target)
    defer { harness.stop() }
    let client = try TestClient(port: harness.port)
    client.sendRaw([0x03])
    #expect(client.request("?") == "T05thread:1;")
    #expect(client.request("c") == "T05thread:1;swbreak:;")
    #expect(harness.log.contains { $0.contains("Ctrl-C while the guest is stopped: ignored") })
  }

  @Test func detachThenAnotherDebuggerAttaches() throws {
    let target = FakeTarget()
    let harness = try ServerHarness(target: target)
    defer { harness.stop() }
    let first = try TestClient(port: harness.port)
    #expect(first.request("D") == "OK")
    #expect(first.isClosedByServer())
    let second = try TestClient(port: harness.port)
    #expect(second.request("m1002,1") == "02")
    #expect(target.calls.contains("disconnected detached"))
  }

  @Test func aClientVanishingMidPacketDoesNotWedgeTheServer() throws {
    let target = FakeTarget()
    let harness = try ServerHarness(target: target)
    defer { harness.stop() }
    do {
      let client = try TestClient(port: harness.port)
      client.sendRaw(Array("$m1000,".utf8))
      client.shutdown()
    }
    let next = try TestClient(port: harness.port)
    #expect(next.request("m1003,1") == "03")
    #expect(harness.log.contains { $0.contains("in the middle of a packet") })
    #expect(target.calls.contains("disconnected connectionLost"))
  }

  @Test func aClientVanishingDuringAResumeStopsIt() throws {
    let target = FakeTarget()
    target.script([.interrupted])
    let harness = try ServerHarness(target: target)
    defer { harness.stop() }
    do {
      let client = try TestClient(port: harness.port)
      client.send("c")
      #expect(target.waitingForInterrupt.wait(timeout: .now() + 10) == .success)
      client.shutdown()
    }
    let next = try TestClient(port: harness.port)
    #expect(next.request("qC") == "QC1")
  }

  @Test func badChecksumGetsANackAndANackGetsAResend() throws {
    let harness = try ServerHarness()
    defer { harness.stop() }
    let client = try TestClient(port: harness.port)
    client.sendRaw(Array("$qC#00".utf8))
    #expect(client.nextEvent() == .nack)
    client.send("qC")
    #expect(client.nextEvent() == .ack)
    #expect(client.nextEvent() == .packet(Array("QC1".utf8)))
    client.sendRaw(GDBPacketEncoder.nack)
    #expect(client.nextEvent() == .packet(Array("QC1".utf8)))
  }

  @Test func oversizedPacketGetsAnErrorAndTheConnectionGoesOn() throws {
    let harness = try ServerHarness()
    defer { harness.stop() }
    let client = try TestClient(port: harness.port)
    client.send(String(repeating: "M", count: GDBPacketDecoder.defaultMaximumPayload + 10))
    #expect(client.nextEvent() == .ack)
    #expect(client.nextPacket() == Array("E01".utf8))
    #expect(client.request("qC") == "QC1")
  }

  @Test func killEndsServing() throws {
    let target = FakeTarget()
    let harness = try ServerHarness(target: target)
    let client = try TestClient(port: harness.port)
    client.send("k")
    #expect(client.nextEvent() == .ack)
    #expect(harness.waitForEnd() == .killed)
    #expect(client.isClosedByServer())
    #expect(target.calls.last == "disconnected killed")
  }

  @Test func stopEndsServingAndClosesTheClient() throws {
    let harness = try ServerHarness()
    let client = try TestClient(port: harness.port)
    #expect(client.request("qC") == "QC1")
    harness.server.stop()
    #expect(harness.waitForEnd() == .stopped)
    #expect(client.isClosedByServer())
    // The listener is shut too: nobody can connect any more.
    #expect(throws: TestClient.ConnectFailed.self) { try TestClient(port: harness.port) }
  }

  @Test func listeningTwiceOnOnePortFailsWithAHint() throws {
    let harness = try ServerHarness()
    defer { harness.stop() }
    #expect {
      _ = try GDBServer(port: harness.port, log: { _ in })
    } throws: { error in
      guard let error = error as? GDBServerError, case .socketFailed("bind", _, EADDRINUSE) = error else { return false }
      return error.description.contains("pick another one")
    }
    #expect(throws: GDBServerError.invalidAddress("localhost")) { try GDBServer(host: "localhost", port: 0) }
  }
}
