import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A child process run with posix_spawn and reaped with waitpid by the caller itself.
///
/// Why not Foundation's `Process`: on Linux it learns of an exit when a socket the child holds
/// closes, and a replay in the host suite once became a zombie that `waitUntilExit` never saw; the
/// test then waited on it for ever (and CI would have run into its limit). Here every wait has a
/// deadline: the run ends with SIGKILL at `timeout`, and output still open after the exit (a
/// grandchild holding the pipe) is given a short grace, then left.
public struct ChildProcess {
  public struct Exit: Sendable {
    public var status: Int32
    public var signaled: Bool
    public var stdout: Data
    public var stderr: Data
    public var timedOut: Bool
  }

  /// posix_spawn failed: `code` is its errno (ETXTBSY while a build relinks the binary).
  public struct SpawnError: Error, CustomStringConvertible {
    public var executable: String
    public var code: Int32
    public var description: String { "cannot start \(executable): \(String(cString: strerror(code)))" }
  }

  /// How long output may stay open after the child exited before it is left unread.
  public static let drainGrace: TimeInterval = 2

  public static func run(_ executable: String, _ arguments: [String], stdin: Data?, timeout: TimeInterval) throws
    -> Exit
  {
    var inPipe: [Int32] = [-1, -1]
    var outPipe: [Int32] = [-1, -1]
    var errPipe: [Int32] = [-1, -1]
    // Close-on-exec, so a process another test spawns meanwhile does not keep these open (pipe2
    // would close the small window left here, but Glibc does not export it to Swift).
    guard pipe(&inPipe) == 0, pipe(&outPipe) == 0, pipe(&errPipe) == 0 else {
      let code = errno
      for fd in inPipe + outPipe + errPipe where fd >= 0 { close(fd) }
      throw SpawnError(executable: executable, code: code)
    }
    for fd in inPipe + outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    // dup2 onto 0, 1, 2 clears O_CLOEXEC there; the originals close at exec.
    posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
    posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
    posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)

    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { for arg in argv { free(arg) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
    close(inPipe[0])
    close(outPipe[1])
    close(errPipe[1])
    guard spawned == 0 else {
      close(inPipe[1])
      close(outPipe[0])
      close(errPipe[0])
      throw SpawnError(executable: executable, code: spawned)
    }

    // The input is small (a few lines for echo): the pipe buffer takes it whole before the child
    // reads, so this write cannot wait on the child.
    if let stdin {
      stdin.withUnsafeBytes { bytes in
        var offset = 0
        while offset < bytes.count {
          let n = write(inPipe[1], bytes.baseAddress! + offset, bytes.count - offset)
          if n < 0 && errno == EINTR { continue }
          if n <= 0 { break }
          offset += n
        }
      }
    }
    close(inPipe[1])

    var out = Data()
    var err = Data()
    var open: [Int32] = [outPipe[0], errPipe[0]]
    defer { for fd in open { close(fd) } }
    let deadline = Date().addingTimeInterval(timeout)
    var killed = false
    var waitStatus: Int32 = 0
    var exitedAt: Date?
    var buffer = [UInt8](repeating: 0, count: 65536)

    while exitedAt == nil || (!open.isEmpty && Date() < exitedAt!.addingTimeInterval(drainGrace)) {
      if exitedAt == nil {
        let reaped = waitpid(pid, &waitStatus, WNOHANG)
        if reaped == pid || (reaped < 0 && errno != EINTR) {
          exitedAt = Date()
          continue
        }
        if !killed && Date() >= deadline {
          kill(pid, SIGKILL)
          killed = true
        }
      }
      if open.isEmpty {
        usleep(10_000)
        continue
      }
      var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
      let ready = poll(&fds, nfds_t(fds.count), 20)
      guard ready > 0 else { continue }
      for entry in fds where entry.revents != 0 {
        let n = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress!, $0.count) }
        if n > 0 {
          if entry.fd == outPipe[0] {
            out.append(contentsOf: buffer[0..<n])
          } else {
            err.append(contentsOf: buffer[0..<n])
          }
        } else if n == 0 || errno != EINTR && errno != EAGAIN {
          close(entry.fd)
          open.removeAll { $0 == entry.fd }
        }
      }
    }
    // WIFSIGNALED / WTERMSIG / WEXITSTATUS, which are macros Swift does not import.
    let termSignal = waitStatus & 0x7f
    let signaled = termSignal != 0 && termSignal != 0x7f
    return Exit(
      status: signaled ? termSignal : (waitStatus >> 8) & 0xff, signaled: signaled, stdout: out, stderr: err,
      timedOut: killed)
  }
}
