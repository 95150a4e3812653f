import Foundation

@testable import GDBRemote

/// A target with 64 KiB of memory at 0x1000 and scripted stops, recording what the server asked.
/// @unchecked: tests read its log from another thread after the server is done with it.
final class FakeTarget: GDBTarget, @unchecked Sendable {
  static let memoryBase: UInt64 = 0x1000

  let architecture: GDBArchitecture
  private let lock = NSLock()
  private var _registers = GDBRegisterValues()
  private var memory: [UInt8]
  private var _calls: [String] = []
  private var breakpoints: [UInt64] = []
  /// Stops returned by successive continues (`.stepped` once they run out); `.interrupted` in the
  /// script means "run until Ctrl-C".
  private var stops: [GDBStopReason] = []
  func script(_ stops: [GDBStopReason]) { lock.withLock { self.stops = stops } }
  /// Signalled when a resume starts waiting for an interrupt.
  let waitingForInterrupt = DispatchSemaphore(value: 0)

  init(architecture: GDBArchitecture = .amd64) {
    self.architecture = architecture
    memory = (0..<0x10000).map { UInt8(truncatingIfNeeded: $0) }
    _registers.rip = 0x1000
    _registers.rsp = 0x8000
    _registers.rax = 0x1122_3344_5566_7788
    _registers.cr0 = 0x8000_0011
    _registers.cr3 = 0x0010_0000
    _registers.cr4 = 0x20
    _registers.efer = 0x500
    _registers.cs = 0x10
  }

  var calls: [String] { lock.withLock { _calls } }
  var registers: GDBRegisterValues {
    get { lock.withLock { _registers } }
    set { lock.withLock { _registers = newValue } }
  }

  private func record(_ call: String) { lock.withLock { _calls.append(call) } }

  func readRegisters() throws(GDBTargetError) -> GDBRegisterValues { registers }

  func writeRegisters(_ values: GDBRegisterValues) throws(GDBTargetError) {
    record("writeRegisters")
    registers = values
  }

  func readMemory(at address: UInt64, count: Int) throws(GDBTargetError) -> [UInt8] {
    guard address >= Self.memoryBase, address - Self.memoryBase < UInt64(memory.count) else {
      throw .memoryFault(address: address)
    }
    let start = Int(address - Self.memoryBase)
    return lock.withLock { Array(memory[start..<min(start + count, memory.count)]) }
  }

  func writeMemory(at address: UInt64, bytes: [UInt8]) throws(GDBTargetError) {
    guard address >= Self.memoryBase, address - Self.memoryBase + UInt64(bytes.count) <= UInt64(memory.count) else {
      throw .memoryFault(address: address)
    }
    record("writeMemory \(String(address, radix: 16)) \(bytes.count)")
    let start = Int(address - Self.memoryBase)
    lock.withLock { memory.replaceSubrange(start..<start + bytes.count, with: bytes) }
  }

  func resume(_ kind: GDBResumeKind, interrupt: GDBInterruptRequest) throws(GDBTargetError) -> GDBStopReason {
    record("resume \(kind)")
    // Steps always just step (gdb steps over breakpoints on its own); continues follow the script.
    let next: GDBStopReason = lock.withLock {
      guard kind == .continue || kind == .reverseContinue, !stops.isEmpty else { return .stepped }
      return stops.removeFirst()
    }
    switch next {
    case .breakpoint:
      // Stop where gdb put its breakpoint, as a real target would.
      lock.withLock { if let address = breakpoints.first { _registers.rip = address } }
      return next
    case .stepped:
      lock.withLock { _registers.rip = kind == .reverseStep ? _registers.rip &- 1 : _registers.rip &+ 1 }
      return next
    case .interrupted: break
    default: return next
    }
    // Run "forever" until the server relays Ctrl-C (bounded so a broken test cannot hang).
    let fired = DispatchSemaphore(value: 0)
    interrupt.onRequest { fired.signal() }
    waitingForInterrupt.signal()
    guard fired.wait(timeout: .now() + 20) == .success else { throw .failed("no interrupt arrived") }
    return .interrupted
  }

  func insertBreakpoint(_ breakpoint: GDBBreakpoint) throws(GDBTargetError) {
    record("insert \(breakpoint.type) \(String(breakpoint.address, radix: 16)) \(breakpoint.kind)")
    if breakpoint.type == .software { lock.withLock { breakpoints.append(breakpoint.address) } }
  }

  func removeBreakpoint(_ breakpoint: GDBBreakpoint) throws(GDBTargetError) {
    record("remove \(breakpoint.type) \(String(breakpoint.address, radix: 16)) \(breakpoint.kind)")
    lock.withLock { breakpoints.removeAll { $0 == breakpoint.address } }
  }

  func monitor(_ command: String) throws(GDBTargetError) -> String {
    record("monitor \(command)")
    if command == "fail" { throw .failed("monitor command failed") }
    return "echo: \(command)\n"
  }

  func debuggerDisconnected(_ reason: GDBDisconnectReason) { record("disconnected \(reason)") }
}
