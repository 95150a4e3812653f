import TimeTravel

/// The guest's console output, by byte offset, as replay produces it.
///
/// The engine replays the same stretch many times (reverse steps, searches, recounting a
/// position), and forwards output each time. The REPL shows output only as the user's
/// position moves forward past it: after a command, the bytes between the output count where
/// it started and the count where it stopped.
public final class GuestOutput {
  private(set) var bytes: [UInt8] = []
  /// Gives the console byte count right after the bytes just received (the session's).
  var countAfterWrite: () -> UInt64 = { 0 }

  public init() {}

  /// The session's console callback.
  public func receive(_ chunk: [UInt8]) {
    let end = Int(countAfterWrite())
    let start = end - chunk.count
    guard start >= 0 else { return }
    if end > bytes.count {
      if start > bytes.count { bytes += [UInt8](repeating: 0x3F, count: start - bytes.count) }
      let fresh = chunk.suffix(end - max(start, bytes.count))
      bytes += fresh
    }
  }

  /// Shows a live guest's output as it prints (the REPL's console), so a long live run is not
  /// silent until it stops.
  var liveEcho: (([UInt8]) -> Void)?
  /// Output shown by `liveEcho` during the current command, up to this count.
  var echoedThrough: UInt64 = 0

  /// Output of a live session's guest, which always prints at the frontier: after everything
  /// received so far.
  public func appendLive(_ chunk: [UInt8]) {
    bytes += chunk
    guard let liveEcho else { return }
    liveEcho(chunk)
    echoedThrough = UInt64(bytes.count)
  }

  func slice(from: UInt64, to: UInt64) -> [UInt8] {
    let lo = min(Int(from), bytes.count)
    let hi = min(Int(to), bytes.count)
    return lo < hi ? Array(bytes[lo..<hi]) : []
  }
}

extension REPL {
  /// A session on `archive` whose console output this REPL shows.
  public static func makeSession(archive: RecordingArchive, output: GuestOutput, options: Session.Options = Session.Options())
    throws -> Session
  {
    let session = try Session(archive: archive, options: options, console: output.receive)
    output.countAfterWrite = { [unowned session] in session.outputBytes }
    return session
  }

  /// A session recording `live` (its guest prints through `output.appendLive`) whose console
  /// output this REPL shows.
  public static func makeSession(live: LiveRecording, output: GuestOutput, options: Session.Options = Session.Options())
    throws -> Session
  {
    let session = try Session(live: live, options: options, console: output.receive)
    output.countAfterWrite = { [unowned session] in session.outputBytes }
    return session
  }

  /// Prints the guest output between the user's last position and this one, when it moved
  /// forward.
  func showGuestOutput() {
    let now = session.outputBytes
    // What a live guest printed during this command is on the screen already.
    let from = max(outputMark, guestOutput.echoedThrough)
    if now > from { console.guest(guestOutput.slice(from: from, to: now)) }
    outputMark = now
  }
}
