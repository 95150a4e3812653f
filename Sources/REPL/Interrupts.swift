import Foundation
import KVM
import Synchronization
import TimeTravel

/// Ctrl-C. While a command runs, SIGINT asks the session to stop (the engine's run loop is on
/// the REPL's thread, so the handler also kicks that thread out of KVM_RUN); at the prompt it
/// cancels the line being edited. It never ends the REPL.
enum Interrupts {
  /// Set by every SIGINT; commands made of several engine calls check it between them, the
  /// line editor checks it when its wait is interrupted.
  static let pending = Atomic<Bool>(false)
  static let commandRunning = Atomic<Bool>(false)

  /// What the handler stops: set once, before the handler is installed, never changed after.
  nonisolated(unsafe) private static var session: Session?
  nonisolated(unsafe) private static var vcpu: (handle: KickHandle, thread: UInt64)?

  /// Installs the handler for `session`, whose vCPU runs on the calling thread.
  static func install(for session: Session) {
    Self.session = session
    Self.vcpu = (session.platform.vcpu.kickHandle, KickHandle.prepareCurrentThread())
    signal(SIGINT, sigintHandler)
  }

  static func beginCommand() {
    pending.store(false, ordering: .sequentiallyConsistent)
    commandRunning.store(true, ordering: .sequentiallyConsistent)
  }

  static func endCommand() {
    commandRunning.store(false, ordering: .sequentiallyConsistent)
  }

  static var isPending: Bool { pending.load(ordering: .sequentiallyConsistent) }

  /// Takes a pending interrupt (true once per Ctrl-C).
  static func take() -> Bool { pending.exchange(false, ordering: .sequentiallyConsistent) }

  fileprivate static func handle() {
    pending.store(true, ordering: .sequentiallyConsistent)
    guard commandRunning.load(ordering: .sequentiallyConsistent) else { return }
    session?.requestInterrupt()
    // On the vCPU's own thread the signal has already ended KVM_RUN; elsewhere, kick it.
    if let vcpu, UInt64(pthread_self()) != vcpu.thread { vcpu.handle.kick(thread: vcpu.thread) }
  }
}

/// Async-signal-safe in practice: atomics, and `pthread_kill` inside the kick.
private let sigintHandler: @convention(c) (Int32) -> Void = { _ in Interrupts.handle() }

/// A command stopped by Ctrl-C part way (between two engine calls).
struct Interrupted: Error {}
