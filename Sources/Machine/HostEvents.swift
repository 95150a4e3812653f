import Foundation
import KVM

/// What reaches the vCPU thread from the host: serial input bytes and timer deadlines.
///
/// A kicker thread watches the next guest timer deadline (in host time) and kicks the vCPU out
/// of `KVM_RUN` when it passes, so a guest spinning without exits still gets its interrupts
/// (design.md, determinism contract point 4). Input arriving from another thread kicks too.
/// A halted guest waits here for whichever comes first.
public final class HostEvents: @unchecked Sendable {
  private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
  // All below guarded by `mutex`.
  private var input: [UInt8] = []
  private var inputClosed = false
  private var deadline: UInt64?
  private var stopped = false
  private var quit = false
  private var target: (thread: UInt64, handle: KickHandle)?
  /// How many times the kicker interrupted the guest (for benchmarks and --verbose).
  public private(set) var kicks = 0

  public init() {
    pthread_mutex_init(mutex, nil)
    var attr = pthread_condattr_t()
    pthread_condattr_init(&attr)
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
    pthread_cond_init(cond, &attr)
    pthread_condattr_destroy(&attr)
  }

  deinit {
    pthread_cond_destroy(cond)
    pthread_mutex_destroy(mutex)
    cond.deallocate()
    mutex.deallocate()
  }

  private func locked<T>(_ body: () -> T) -> T {
    pthread_mutex_lock(mutex)
    defer { pthread_mutex_unlock(mutex) }
    return body()
  }

  /// Starts the kicker for the vCPU run on the calling thread.
  public func attach(vcpu: KickHandle) {
    let thread = KickHandle.prepareCurrentThread()
    locked { target = (thread, vcpu) }
    Thread.detachNewThread { [self] in kickerLoop() }
  }

  public func stop() {
    locked {
      stopped = true
      // The vCPU may be gone after this: nothing may kick it any more.
      target = nil
      pthread_cond_broadcast(cond)
    }
  }

  /// The host time at which the guest must next be interrupted, or nil for none.
  public func arm(hostDeadline: UInt64?) {
    locked {
      guard deadline != hostDeadline else { return }
      deadline = hostDeadline
      pthread_cond_broadcast(cond)
    }
  }

  public func pushInput(_ bytes: [UInt8]) {
    locked {
      input.append(contentsOf: bytes)
      pthread_cond_broadcast(cond)
      kickTargetLocked()
    }
  }

  /// Kicks under the mutex: `stop()` takes it too, so once it returns no kick is under way and
  /// the vCPU (whose `kvm_run` page a kick writes) may be freed. Kicking after unlocking let an
  /// input thread write into an unmapped page while the run was ending (a crash seen at exit).
  private func kickTargetLocked() {
    if let (thread, handle) = target { handle.kick(thread: thread) }
  }

  public func closeInput() {
    locked {
      inputClosed = true
      pthread_cond_broadcast(cond)
    }
  }

  public func takeInput() -> [UInt8] {
    locked {
      defer { input.removeAll(keepingCapacity: true) }
      return input
    }
  }

  public var hasInput: Bool { locked { !input.isEmpty } }

  public var isInputClosed: Bool { locked { inputClosed && input.isEmpty } }

  /// The user typed the quit escape (Ctrl-A x) on the console.
  public var quitRequested: Bool { locked { quit } }

  /// Kicks the vCPU out of `KVM_RUN` now (a pause request; the caller says why).
  public func kickNow() {
    locked { kickTargetLocked() }
  }

  public func requestQuit() {
    locked {
      quit = true
      pthread_cond_broadcast(cond)
      kickTargetLocked()
    }
  }

  /// Blocks until input is available, `hostTime` passes, or `stop()`.
  public func wait(until hostTime: UInt64?) {
    locked {
      while input.isEmpty && !stopped && !quit {
        if let hostTime {
          if HostClock.now() >= hostTime { return }
          var ts = Self.timespec(hostTime)
          pthread_cond_timedwait(cond, mutex, &ts)
        } else {
          if inputClosed { return }
          pthread_cond_wait(cond, mutex)
        }
      }
    }
  }

  private func kickerLoop() {
    pthread_mutex_lock(mutex)
    while !stopped {
      guard let due = deadline else {
        pthread_cond_wait(cond, mutex)
        continue
      }
      if HostClock.now() >= due {
        deadline = nil
        kicks += 1
        kickTargetLocked()
        continue
      }
      var ts = Self.timespec(due)
      pthread_cond_timedwait(cond, mutex, &ts)
    }
    pthread_mutex_unlock(mutex)
  }

  private static func timespec(_ ns: UInt64) -> timespec {
    Glibc.timespec(tv_sec: Int(ns / 1_000_000_000), tv_nsec: Int(ns % 1_000_000_000))
  }

  /// Reads `fd` on a background thread until end of file, queueing every byte. With
  /// `escapeQuits` (a terminal in raw mode, where Ctrl-C goes to the guest), Ctrl-A x asks to
  /// quit and Ctrl-A Ctrl-A sends one Ctrl-A, as in QEMU's -nographic console.
  public func startReading(fd: Int32, escapeQuits: Bool = false) {
    Thread.detachNewThread { [self] in
      var buffer = [UInt8](repeating: 0, count: 4096)
      var escape = ConsoleEscape()
      while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n > 0 {
          var bytes = Array(buffer[0..<n])
          if escapeQuits {
            let (passed, quitNow) = escape.filter(bytes)
            bytes = passed
            if quitNow { requestQuit() }
          }
          if !bytes.isEmpty { pushInput(bytes) }
        } else if n < 0 && errno == EINTR {
          continue
        } else {
          closeInput()
          return
        }
      }
    }
  }
}

/// The Ctrl-A prefix of the console: Ctrl-A x quits, Ctrl-A Ctrl-A is a literal Ctrl-A,
/// Ctrl-A followed by anything else passes both bytes.
public struct ConsoleEscape: Sendable {
  private var pending = false
  public init() {}

  public mutating func filter(_ bytes: [UInt8]) -> (passed: [UInt8], quit: Bool) {
    var out: [UInt8] = []
    for byte in bytes {
      if pending {
        pending = false
        switch byte {
        case UInt8(ascii: "x"), UInt8(ascii: "X"): return (out, true)
        case 0x01: out.append(0x01)
        default: out.append(contentsOf: [0x01, byte])
        }
      } else if byte == 0x01 {
        pending = true
      } else {
        out.append(byte)
      }
    }
    return (out, false)
  }
}
