import GDBRemote
import KVM
import TimeTravel

/// The gdb stub's view of a time-travel session: translates the protocol's requests into
/// `Session` calls and its answers back. No time-travel logic lives here (design.md, "Layers").
final class SessionGDBTarget: GDBTarget {
  let session: Session
  let architecture: GDBArchitecture
  /// gdb's breakpoints and watchpoints (type, address, kind) -> the session's ids.
  private var inserted: [(breakpoint: GDBBreakpoint, id: Int)] = []

  init(session: Session, architecture: GDBArchitecture) {
    self.session = session
    self.architecture = architecture
  }

  func readRegisters() throws(GDBTargetError) -> GDBRegisterValues {
    do {
      let r = try session.registers()
      let s = try session.specialRegisters()
      var v = GDBRegisterValues()
      (v.rax, v.rbx, v.rcx, v.rdx, v.rsi, v.rdi, v.rbp, v.rsp) = (r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.rsp)
      (v.r8, v.r9, v.r10, v.r11, v.r12, v.r13, v.r14, v.r15) = (r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15)
      (v.rip, v.rflags) = (r.rip, r.rflags)
      (v.cs, v.ss, v.ds, v.es, v.fs, v.gs) = (
        s.cs.selector, s.ss.selector, s.ds.selector, s.es.selector, s.fs.selector, s.gs.selector
      )
      (v.fsBase, v.gsBase) = (s.fs.base, s.gs.base)
      (v.cr0, v.cr2, v.cr3, v.cr4, v.cr8, v.efer) = (s.cr0, s.cr2, s.cr3, s.cr4, s.cr8, s.efer)
      return v
    } catch {
      throw .failed("\(error)")
    }
  }

  func writeRegisters(_ values: GDBRegisterValues) throws(GDBTargetError) {
    guard values != (try? readRegisters()) else { return }
    throw .failed("a recording cannot be changed: writing registers would make the replay diverge")
  }

  func readMemory(at address: UInt64, count: Int) throws(GDBTargetError) -> [UInt8] {
    // Page by page, so a read running into unmapped memory returns what came before it.
    var out: [UInt8] = []
    var a = address
    while out.count < count {
      let inPage = min(count - out.count, Int(4096 - (a & 0xFFF)))
      guard let bytes = try? session.readMemory(a, count: inPage, physical: session.physicalAddresses) else { break }
      out += bytes
      a &+= UInt64(inPage)
    }
    if out.isEmpty && count > 0 { throw .memoryFault(address: address) }
    return out
  }

  func writeMemory(at address: UInt64, bytes: [UInt8]) throws(GDBTargetError) {
    throw .failed("a recording cannot be changed: writing memory would make the replay diverge")
  }

  func resume(_ kind: GDBResumeKind, interrupt: GDBInterruptRequest) throws(GDBTargetError) -> GDBStopReason {
    let interrupter = session.interrupter
    interrupt.onRequest { interrupter.request() }
    do {
      let stop: SessionStop
      switch kind {
      case .continue: stop = try session.continueForward()
      case .step: stop = try session.stepi()
      case .reverseContinue: stop = try session.reverseContinue()
      case .reverseStep: stop = try session.reverseStepi()
      }
      return reason(for: stop)
    } catch {
      throw .failed("\(error)")
    }
  }

  private func reason(for stop: SessionStop) -> GDBStopReason {
    switch stop {
    case .stepped, .arrived: return .stepped
    case .breakpoint(let id, _):
      let type = inserted.first { $0.id == id }?.breakpoint.type
      return .breakpoint(type == .hardware ? .hardware : .software)
    case .watchpoint(_, let kind, let address, _, _):
      switch kind {
      case .write: return .watchpoint(.write, address: address)
      case .read: return .watchpoint(.read, address: address)
      case .access: return .watchpoint(.access, address: address)
      }
    case .startOfHistory: return .startOfHistory
    case .endOfHistory: return .endOfHistory
    case .interrupted: return .interrupted
    }
  }

  func insertBreakpoint(_ breakpoint: GDBBreakpoint) throws(GDBTargetError) {
    guard !inserted.contains(where: { $0.breakpoint == breakpoint }) else { return }
    do {
      switch breakpoint.type {
      case .software, .hardware:
        inserted.append((breakpoint, session.addBreakpoint(at: breakpoint.address).id))
      case .writeWatchpoint, .readWatchpoint, .accessWatchpoint:
        let kind: WatchKind =
          breakpoint.type == .writeWatchpoint ? .write : breakpoint.type == .readWatchpoint ? .read : .access
        let length = Int(clamping: max(1, breakpoint.kind))
        let w = try session.addWatchpoint(kind, at: breakpoint.address, length: length, physical: session.physicalAddresses)
        inserted.append((breakpoint, w.id))
      }
    } catch {
      throw .failed("\(error)")
    }
  }

  func removeBreakpoint(_ breakpoint: GDBBreakpoint) throws(GDBTargetError) {
    guard let i = inserted.firstIndex(where: { $0.breakpoint == breakpoint }) else { return }
    let id = inserted.remove(at: i).id
    do { try session.delete(id) } catch { throw .failed("\(error)") }
  }

  func monitor(_ command: String) throws(GDBTargetError) -> String {
    do {
      return try NavigationCommands.execute(command, on: session).map { $0 + "\n" }.joined()
    } catch {
      throw .failed("\(error)")
    }
  }

  func debuggerDisconnected(_ reason: GDBDisconnectReason) {
    // A new debugger starts with no breakpoints of the old one's.
    for entry in inserted { try? session.delete(entry.id) }
    inserted.removeAll()
  }
}
