#if canImport(Glibc)
  import Glibc
#endif

/// Raw mode for the guest console when stdin is a terminal, always restored.
///
/// Output post-processing stays on so the guest's "\n" still starts a new line.
public final class TerminalMode {
  private var saved: termios?
  private let fd: Int32

  public init(fd: Int32 = STDIN_FILENO) { self.fd = fd }

  public var isTerminal: Bool { isatty(fd) == 1 }

  public func enterRaw() {
    guard isTerminal, saved == nil else { return }
    var t = termios()
    guard tcgetattr(fd, &t) == 0 else { return }
    saved = t
    var raw = t
    cfmakeraw(&raw)
    raw.c_oflag = t.c_oflag
    tcsetattr(fd, TCSANOW, &raw)
  }

  public func restore() {
    guard var t = saved else { return }
    tcsetattr(fd, TCSANOW, &t)
    saved = nil
  }

  deinit { restore() }
}
