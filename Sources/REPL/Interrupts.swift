import Foundation
import Synchronization
import TimeTravel

/// Ctrl-C. While a command runs, SIGINT asks the session to stop (the engine's `Interrupter`
/// sets its flag and kicks the vCPU out of KVM_RUN); at the prompt it cancels the line being
/// edited. It never ends the REPL.
///
/// The handler itself only does what is safe in a signal handler: it sets an atomic flag and
/// writes a byte to a pipe. A helper thread reads the pipe and calls the `Interrupter` (which
/// takes locks).
enum Interrupts {
  /// Set by every SIGINT; commands made of several engine calls check it between them, the
  /// line editor checks it when its wait is interrupted.
  static let pending = Atomic<Bool>(false)
  static let commandRunning = Atomic<Bool>(false)
  /// The pipe's write end, for the handler (-1 before `install`).
  static let wakeFD = Atomic<Int32>(-1)

  /// Installs the handler for `session` (call once).
  static func install(for session: Session) {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { return }
    let interrupter = session.interrupter
    let readFD = fds[0]
    Thread.detachNewThread {
      var byte: UInt8 = 0
      while true {
        let n = read(readFD, &byte, 1)
        if n < 0 && errno == EINTR { continue }
        guard n == 1 else { return }
        if commandRunning.load(ordering: .sequentiallyConsistent) { interrupter.request() }
      }
    }
    wakeFD.store(fds[1], ordering: .sequentiallyConsistent)
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
    var byte: UInt8 = 1
    let fd = wakeFD.load(ordering: .sequentiallyConsistent)
    if fd >= 0 { _ = write(fd, &byte, 1) }
  }
}

/// Async-signal-safe: an atomic store and a `write`.
private let sigintHandler: @convention(c) (Int32) -> Void = { _ in
  let saved = errno
  Interrupts.handle()
  errno = saved
}

/// A command stopped by Ctrl-C part way (between two engine calls).
struct Interrupted: Error {}
