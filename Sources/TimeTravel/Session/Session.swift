import KVM
import Machine
import Recording

/// The time-travel engine both front ends drive (design.md, "Layers"): one replaying machine,
/// positions down to the instruction, stepping and continuing in both directions, breakpoints,
/// watchpoints, and the navigation checkpoints that keep reverse steps fast.
///
/// Every instant is reached by restoring the nearest snapshot or checkpoint and replaying
/// forward, so what the user sees going backwards is exactly what ran going forwards.
public final class Session {
  public struct Options: Sendable {
    /// Memory the navigation checkpoints may hold (page copies plus page maps).
    public var checkpointBudget: Int = 256 << 20
    /// Fewest instructions between two checkpoints made while stepping forward to a target.
    public var minimumCheckpointSpacing: UInt64 = 64
    /// The host's mechanisms; nil: probed (once per process, `HostProbe`).
    public var mechanisms: HostMechanisms? = nil
    public init() {}
  }

  public private(set) var archive: RecordingArchive
  public let options: Options
  var replayer: Replayer
  /// The live frontier of a session still recording, nil when exploring a finished file.
  public let live: LiveRecording?
  /// Stops a running operation from another thread; the same object for the whole session.
  public let interrupter = Interrupter()
  let console: ([UInt8]) -> Void
  var checkpoints: [Checkpoint] = []
  /// Instructions in each exit interval, learned by stepping through it (index: its exit).
  var intervalLengths: [UInt64: UInt64] = [:]
  public internal(set) var breakpoints: [Breakpoint] = []
  public internal(set) var watchpoints: [Watchpoint] = []
  var nextID = 1
  /// Named positions (`bookmark NAME`, `goto NAME`), shared by every front end.
  public internal(set) var bookmarks: [String: Position] = [:]
  /// Whether front ends read memory at physical addresses (`phys on`) instead of virtual ones.
  public var physicalAddresses = false
  /// Where the current state is when its instruction count is unknown (run mode stopped
  /// between exits): found again by its fingerprint.
  var uncountedFingerprint: Fingerprint?
  /// `liveFrontier()`, once worked out since the last reload.
  var knownFrontier: Position?

  public init(archive: RecordingArchive, options: Options = Options(), console: @escaping ([UInt8]) -> Void = { _ in })
    throws
  {
    self.archive = archive
    self.options = options
    self.console = console
    live = nil
    replayer = try Replayer(
      archive: archive, console: console, interrupter: interrupter, mechanisms: options.mechanisms)
  }

  /// A session on a recording in progress: positioned at its start, the frontier being the live
  /// machine of `live`.
  public init(live: LiveRecording, options: Options = Options(), console: @escaping ([UInt8]) -> Void = { _ in }) throws {
    self.live = live
    self.options = options
    self.console = console
    archive = try RecordingArchive(path: live.path)
    replayer = try Replayer(
      archive: archive, console: console, interrupter: interrupter, mechanisms: options.mechanisms)
    interrupter.add(live.events)
  }

  /// After the live machine ran: the file holds more history. Reopens it and replays to its
  /// new end, where the live machine stands.
  func reloadRecording() throws {
    archive = try RecordingArchive(path: archive.path)
    replayer = try Replayer(
      archive: archive, console: console, interrupter: interrupter, mechanisms: options.mechanisms)
    checkpoints = []
    uncountedFingerprint = nil
    try replayer.restoreSnapshot(atOrBefore: archive.finalPosition)
    _ = try replayer.run()
    // The new replayer maps all of RAM: take the watched pages out again.
    try refreshWatchedPages()
    knownFrontier = nil
  }

  /// Where the live machine stands (a live session's last recorded instant), nil when not live.
  /// Worked out when first asked after each reload, since it re-steps the last interval: not at
  /// every live stop, which gdb's live stepping makes one instruction at a time.
  public func liveFrontier() throws -> Position? {
    guard live != nil else { return nil }
    if let knownFrontier { return knownFrontier }
    let here = try position()
    try replayer.restoreSnapshot(atOrBefore: archive.finalPosition)
    _ = try replayer.run()
    uncountedFingerprint = nil
    let frontier = try position()
    try goto(here)
    knownFrontier = frontier
    return frontier
  }

  public var platform: Platform { replayer.platform }

  // MARK: Position

  /// The exit interval the machine is in and, when known, the instructions since its exit.
  public var exitIndex: UInt64 { replayer.position }
  public var instructionsSinceExit: UInt64? { replayer.stepsSinceExit }

  /// The current position, counting instructions since the last exit if that is not known yet
  /// (it re-steps the interval from its exit to the current state).
  public func position() throws -> Position {
    if let steps = replayer.stepsSinceExit { return Position(exit: replayer.position, instructions: steps) }
    let fingerprint = try replayer.fingerprint()
    let detail = try replayer.contextDetail()
    let exit = replayer.position
    try goto(Position(exit: exit))
    var steps: UInt64 = 0
    var nearest = ""
    while true {
      // Registers first: the context hash (a dirty-log harvest and page hashing) only where they match.
      var registers = try platform.vcpu.registers()
      if registers.sameInstant(as: fingerprint.registers) {
        if try replayer.fingerprint().context == fingerprint.context {
          // The stop's own RF (stock KVM sets it where re-stepping does not): see `sameInstant`.
          if registers.rflags != fingerprint.registers.rflags {
            registers.rflags = fingerprint.registers.rflags
            try platform.vcpu.setRegisters(registers)
          }
          break
        }
        let now = try replayer.contextDetail()
        nearest = "; at step \(steps) the registers matched but the context hash differed (\(detail.differences(from: now)))"
      } else if registers.rip == fingerprint.registers.rip {
        let differing = zip(registers.named, fingerprint.registers.named).filter { $0.0.1 != $0.1.1 }.map(\.0.0)
        nearest = "; at step \(steps) rip matched but \(differing.joined(separator: ", ")) differed"
      }
      let step = try stepCounted()
      guard step == .instruction || isInterruptEntry(step) else {
        // Cannot happen when replay is deterministic: the state was reached in this interval.
        throw ReplayError.divergence(
          "the stopped state after exit \(exit) (rip 0x\(String(fingerprint.registers.rip, radix: 16))) was not met again by single-stepping (\(steps + 1) steps, ended by \(step))\(nearest)"
        )
      }
      steps += 1
    }
    return Position(exit: exit, instructions: steps)
  }

  /// The last position the recording holds.
  public var endPosition: Position { Position(exit: archive.finalPosition) }

  // MARK: Seeking

  /// Moves to `target` (exit + instructions), from the nearest snapshot or checkpoint before it.
  public func seek(to target: Position) throws -> SessionStop {
    guard target.exit <= archive.finalPosition else {
      throw SessionError.invalidPosition(
        "position \(target) is past the end of the recording (\(archive.finalPosition))")
    }
    if target.instructions > 0, let length = try? intervalLength(target.exit), target.instructions >= length {
      throw SessionError.invalidPosition(
        "position \(target) does not exist: exit interval \(target.exit) has \(length) instruction(s)")
    }
    replayer.clearInterruptRequest()
    do { try goto(target) } catch SessionError.interrupted { return .interrupted }
    return .arrived
  }

  /// Restores the best anchor at or before `target` and steps forward to it, leaving
  /// checkpoints behind so the next reverse step starts close by.
  func goto(_ target: Position) throws {
    let here = replayer.stepsSinceExit.map { Position(exit: replayer.position, instructions: $0) }
    var from: Position
    if let here, here <= target, !(anchor(atOrBefore: target).map { $0 > here } ?? false) {
      from = here
    } else if let c = bestCheckpoint(atOrBefore: target),
      c.position >= Position(exit: archive.snapshots[archive.snapshotIndex(atOrBefore: target.exit)].position)
    {
      try replayer.restore(c)
      from = c.position
    } else {
      try replayer.restoreSnapshot(atOrBefore: target.exit)
      from = Position(exit: replayer.position)
    }
    uncountedFingerprint = nil
    if from.exit < target.exit {
      let stop = try replayer.run(until: target.exit)
      if stop == .interrupted { throw SessionError.interrupted }
      guard case .reached = stop else {
        throw SessionError.invalidPosition("position \(target) is past the end of the recording (\(stop))")
      }
      from = Position(exit: target.exit)
    }
    let distance = target.instructions - from.instructions
    let spacing = max(options.minimumCheckpointSpacing, distance / 8)
    var steps = from.instructions
    while steps < target.instructions {
      if distance > spacing, steps > from.instructions, (target.instructions - steps) % spacing == 0 {
        try addCheckpoint()
      }
      let step = try stepCounted()
      guard step == .instruction || isInterruptEntry(step) else {
        throw SessionError.invalidPosition(
          "position \(target) does not exist: exit interval \(target.exit) ends after \(steps + 1) instruction(s)")
      }
      steps += 1
    }
  }

  func isInterruptEntry(_ step: Replayer.Step) -> Bool {
    if case .interruptEntry = step { return true }
    return false
  }

  /// One replayer step that keeps the interval-length table up to date.
  func stepCounted() throws -> Replayer.Step {
    let exit = replayer.position
    let before = replayer.stepsSinceExit
    let step = try replayer.step()
    if step == .exit, let before { intervalLengths[exit] = before + 1 }
    return step
  }

  /// Instructions in exit interval `exit` (the last one is the instruction that exits).
  func intervalLength(_ exit: UInt64) throws -> UInt64 {
    if let known = intervalLengths[exit] { return known }
    guard exit < archive.finalPosition else {
      throw SessionError.invalidPosition("exit interval \(exit) is the last one: it has no end")
    }
    try goto(Position(exit: exit))
    var steps: UInt64 = 0
    while true {
      if steps > 0, steps % 4096 == 0 { try addCheckpoint() }
      let step = try stepCounted()
      steps += 1
      switch step {
      case .instruction, .interruptEntry: continue
      case .exit: return steps
      case .finished, .endOfLog:
        throw SessionError.invalidPosition("exit interval \(exit) does not end within the recording")
      }
    }
  }

  // MARK: Checkpoints

  func anchor(atOrBefore target: Position) -> Position? {
    let snapshot = Position(exit: archive.snapshots[archive.snapshotIndex(atOrBefore: target.exit)].position)
    guard let c = bestCheckpoint(atOrBefore: target) else { return snapshot }
    return max(c.position, snapshot)
  }

  func bestCheckpoint(atOrBefore target: Position) -> Checkpoint? {
    var best: Checkpoint?
    for c in checkpoints where c.position <= target {
      if best == nil || c.position > best!.position { best = c }
    }
    return best
  }

  func addCheckpoint() throws {
    let c = try replayer.captureCheckpoint()
    if let i = checkpoints.firstIndex(where: { $0.position == c.position }) {
      checkpoints[i] = c
    } else {
      checkpoints.append(c)
    }
    thinIfOverBudget(near: c.position)
  }

  /// Memory the checkpoints use now.
  public var checkpointBytes: Int {
    replayer.checkpointPages.pageBytes + checkpoints.reduce(0) { $0 + $1.overheadBytes }
  }
  public var checkpointCount: Int { checkpoints.count }

  /// Over budget: drop checkpoints so those left are dense near `now` and sparse far away
  /// (each kept checkpoint at distance d has no other kept one within d/2 farther out).
  func thinIfOverBudget(near now: Position) {
    guard checkpointBytes > options.checkpointBudget, checkpoints.count > 2 else { return }
    func distance(_ p: Position) -> Double {
      let exits = Double(p.exit > now.exit ? p.exit - now.exit : now.exit - p.exit)
      let steps = Double(
        p.instructions > now.instructions ? p.instructions - now.instructions : now.instructions - p.instructions)
      return exits * 10_000 + (exits == 0 ? steps : 0)
    }
    var ordered = checkpoints.sorted { distance($0.position) < distance($1.position) }
    var kept: [Checkpoint] = []
    var lastKept = -1.0
    for c in ordered {
      let d = distance(c.position)
      if kept.count < 4 || d >= lastKept * 1.5 {
        kept.append(c)
        lastKept = d
      }
    }
    if kept.count == checkpoints.count { kept = Array(ordered.prefix(checkpoints.count / 2)) }
    ordered = kept
    checkpoints = ordered
    replayer.checkpointPages.collect(keeping: checkpoints.map(\.pageMap))
  }
}
