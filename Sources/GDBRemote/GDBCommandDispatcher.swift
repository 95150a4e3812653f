/// Answers one connection's commands by calling the target: the only place where `GDBCommand`
/// meets `GDBTarget`. Holds protocol state only (the last stop), never debugging state.
public final class GDBCommandDispatcher {
  /// What the server must do besides sending the replies.
  public enum Action: Equatable, Sendable {
    case none
    /// Stop sending and expecting acks once the replies are sent.
    case enableNoAck
    /// Close the connection; the target stays as it is for the next debugger.
    case detach
    /// Close the connection and end the server's session.
    case kill
  }

  public struct Outcome: Equatable, Sendable {
    /// In order; `O` output packets come before the final reply.
    public var replies: [GDBReply]
    public var action: Action

    public init(replies: [GDBReply], action: Action = .none) {
      self.replies = replies
      self.action = action
    }
  }

  public let target: any GDBTarget
  public let registerFile: GDBRegisterFile
  public let maximumPayload: Int
  private let targetXML: [UInt8]
  /// Replayed by `?`; a fresh connection finds the guest stopped with SIGTRAP.
  private var lastStop: GDBStopReason = .stepped

  public init(target: any GDBTarget, maximumPayload: Int = GDBPacketDecoder.defaultMaximumPayload) {
    self.target = target
    self.registerFile = .forArchitecture(target.architecture)
    self.maximumPayload = maximumPayload
    self.targetXML = Array(GDBTargetDescription.xml(for: registerFile).utf8)
  }

  /// The most memory one `m`/`x` reply carries: hex doubles it, framing adds a few bytes.
  public var maximumMemoryTransfer: Int { max(1, (maximumPayload - 16) / 2) }

  /// Parses and answers one packet payload; malformed packets get `E01`.
  public func handle(payload: [UInt8], interrupt: GDBInterruptRequest = GDBInterruptRequest()) -> Outcome {
    do {
      return handle(try GDBCommandParser.parse(payload), interrupt: interrupt)
    } catch {
      return Outcome(replies: [.error(.badRequest)])
    }
  }

  public func handle(_ command: GDBCommand, interrupt: GDBInterruptRequest = GDBInterruptRequest()) -> Outcome {
    switch command {
    case .haltReason: return reply(GDBStopReply.encode(lastStop))
    case .readRegisters: return reply(readRegisters())
    case .writeRegisters(let bytes): return reply(updateRegisters { try registerFile.decode(bytes, over: $0) })
    case .readRegister(let number): return reply(readRegister(number))
    case .writeRegister(let number, let bytes):
      return reply(updateRegisters { try registerFile.decode(register: number, bytes: bytes, over: $0) })
    case .readMemory(let address, let length): return reply(readMemory(address, length, binary: false))
    case .readMemoryBinary(let address, let length): return reply(readMemory(address, length, binary: true))
    case .writeMemory(let address, let bytes), .writeMemoryBinary(let address, let bytes):
      return reply(writeMemory(address, bytes))
    case .continue(let address): return resume(.continue, at: address, interrupt: interrupt)
    case .step(let address): return resume(.step, at: address, interrupt: interrupt)
    case .vCont(let actions): return resume(vContKind(actions), at: nil, interrupt: interrupt)
    case .reverseContinue: return resume(.reverseContinue, at: nil, interrupt: interrupt)
    case .reverseStep: return resume(.reverseStep, at: nil, interrupt: interrupt)
    case .vContQuery: return reply(.vContActions)
    case .insertBreakpoint(let breakpoint): return reply(perform { try target.insertBreakpoint(breakpoint) })
    case .removeBreakpoint(let breakpoint): return reply(perform { try target.removeBreakpoint(breakpoint) })
    case .setThread(_, let thread), .threadAlive(let thread):
      return reply(isOurThread(thread) ? .ok : .error(.badRequest))
    case .currentThread: return reply(GDBReply("QC\(Hex.number(GDBStopReply.threadID))"))
    case .threadInfoFirst: return reply(GDBReply("m\(Hex.number(GDBStopReply.threadID))"))
    case .threadInfoNext: return reply(GDBReply("l"))
    // "1": attached to an existing process, so quitting gdb detaches rather than kills.
    case .attached: return reply(GDBReply("1"))
    case .supported: return reply(.supported(packetSize: maximumPayload))
    case .monitor(let line): return monitor(line)
    case .readFeatures(let annex, let offset, let length):
      guard annex == GDBTargetDescription.annex else { return reply(.error(.noSuchObject)) }
      return reply(.xfer(targetXML, offset: offset, length: min(length, maximumMemoryTransfer)))
    case .startNoAckMode: return Outcome(replies: [.ok], action: .enableNoAck)
    case .detach: return Outcome(replies: [.ok], action: .detach)
    // gdb does not wait for a reply to `k`.
    case .kill: return Outcome(replies: [], action: .kill)
    case .offsets, .legacyThreadList, .traceStatus, .mustReplyEmpty, .unknown: return reply(.empty)
    }
  }

  // MARK: Registers and memory

  private func readRegisters() -> GDBReply {
    do {
      return .hex(registerFile.encode(try target.readRegisters()))
    } catch {
      return errorReply(error)
    }
  }

  private func readRegister(_ number: Int) -> GDBReply {
    guard registerFile.register(number: number) != nil else { return .error(.badRequest) }
    do {
      return .hex(try registerFile.encode(try target.readRegisters(), register: number))
    } catch let error as GDBTargetError {
      return errorReply(error)
    } catch {
      return .error(.badRequest)
    }
  }

  private func updateRegisters(_ change: (GDBRegisterValues) throws -> GDBRegisterValues) -> GDBReply {
    do {
      let values = try change(try target.readRegisters())
      try target.writeRegisters(values)
      return .ok
    } catch let error as GDBTargetError {
      return errorReply(error)
    } catch {
      return .error(.badRequest)  // A GDBRegisterError: the packet does not fit the layout.
    }
  }

  private func readMemory(_ address: UInt64, _ length: Int, binary: Bool) -> GDBReply {
    // gdb accepts partial reads, so a huge request gets what fits in one packet.
    let count = min(length, maximumMemoryTransfer)
    var bytes: [UInt8] = []
    if count > 0 {
      do {
        bytes = Array(try target.readMemory(at: address, count: count).prefix(count))
      } catch {
        return errorReply(error)
      }
      if bytes.isEmpty { return .error(.memoryFault) }
    }
    return binary ? .binary(bytes) : .hex(bytes)
  }

  private func writeMemory(_ address: UInt64, _ bytes: [UInt8]) -> GDBReply {
    // `X addr,0:` is gdb's probe for binary writes: answer it without touching the target.
    guard !bytes.isEmpty else { return .ok }
    return perform { try target.writeMemory(at: address, bytes: bytes) }
  }

  // MARK: Execution

  private func resume(_ kind: GDBResumeKind, at address: UInt64?, interrupt: GDBInterruptRequest) -> Outcome {
    if let address {
      let moved = updateRegisters { values in
        var values = values
        values.rip = registerFile.architecture == .i386 ? values.rip & ~0xffff_ffff | address & 0xffff_ffff : address
        return values
      }
      guard moved == .ok else { return reply(moved) }
    }
    // A Ctrl-C that came before the resume began: stop without moving.
    if interrupt.isRequested {
      lastStop = .interrupted
      return reply(GDBStopReply.encode(.interrupted))
    }
    do {
      lastStop = try target.resume(kind, interrupt: interrupt)
      return reply(GDBStopReply.encode(lastStop))
    } catch {
      lastStop = .stepped
      return Outcome(replies: GDBReply.output("retrovisor: \(error)\n") + [GDBStopReply.encode(.stepped)])
    }
  }

  /// The first action for our thread (or for all threads) decides; signals are dropped.
  private func vContKind(_ actions: [GDBVContAction]) -> GDBResumeKind {
    let mine = actions.first { $0.thread.map(isOurThread) ?? true } ?? actions.first
    return mine?.kind == .step ? .step : .continue
  }

  private func isOurThread(_ thread: GDBThreadID) -> Bool {
    switch thread {
    case .all, .any: return true
    case .id(let id): return id == GDBStopReply.threadID
    }
  }

  // MARK: Monitor

  private func monitor(_ line: String) -> Outcome {
    do {
      let text = try target.monitor(line)
      return Outcome(replies: GDBReply.output(text) + [.ok])
    } catch {
      // gdb prints the text, then fails the command (so scripts stop), on E.
      return Outcome(replies: GDBReply.output("\(error)\n") + [errorReply(error)])
    }
  }

  // MARK: Helpers

  private func reply(_ reply: GDBReply) -> Outcome { Outcome(replies: [reply]) }

  private func perform(_ body: () throws -> Void) -> GDBReply {
    do {
      try body()
      return .ok
    } catch {
      return errorReply(error)
    }
  }

  private func errorReply(_ error: any Error) -> GDBReply {
    guard let error = error as? GDBTargetError else { return .error(.targetFailure) }
    switch error {
    case .memoryFault: return .error(.memoryFault)
    case .unsupported: return .empty
    case .failed: return .error(.targetFailure)
    }
  }
}
