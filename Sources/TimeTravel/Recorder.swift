import Foundation
import KVM
import Machine
import Recording

/// Records a live run (`Runner`) into a recording file: every delivery at its position,
/// every clock reading, and periodic snapshots (design.md, "Snapshots" and "Recording file").
public final class Recorder: RunObserver {
  /// When snapshots are taken (docs/performance.md, "Snapshot spacing", has the figures the
  /// defaults come from). A snapshot is due at an exit when `snapshotInterval` of guest time,
  /// `snapshotPages` dirtied pages or `snapshotExits` exits have passed since the previous one,
  /// but never sooner than the typical snapshot pause (a moving average) divided by
  /// `snapshotBudget` after the previous one: the spacing stretches by itself when snapshots
  /// get expensive.
  public struct Options: Sendable {
    /// Guest time between snapshots: bounds how far a seek replays.
    public var snapshotInterval: UInt64 = 100_000_000
    /// Pages written since the previous snapshot that make the next one due before
    /// `snapshotInterval` (bounds one snapshot's pause and the pages a seek restores); 0: off.
    /// Counted from the dirty log every `snapshotInterval / pageChecksPerInterval` of guest time.
    public var snapshotPages = 4096
    public var pageChecksPerInterval: UInt64 = 4
    /// Deterministic exits between snapshots, whatever the guest time.
    public var snapshotExits: UInt64 = 50_000
    /// The share of the run snapshots may pause the guest for.
    public var snapshotBudget = 0.02
    /// Host time between flushes of the event log (what a crash can lose).
    public var flushInterval: UInt64 = 50_000_000
    /// Host time the guest runs without an exit or a kicked point before a kicked point that
    /// gets a snapshot of its own (`KickedSnapshotRecord`): replay finds such a point with a
    /// breakpoint hit at every pass of its address, and a loop without exits passes it
    /// hundreds of thousands of times. 0: every kicked point; `UInt64.max`: none.
    public var kickedSnapshotGap: UInt64 = 2_000_000
    public init() {}
  }

  let platform: Platform
  let writer: RecordingWriter
  let tap: OutputTap
  let options: Options
  let tracker: PageTracker
  let msrIndices: [UInt32]
  private var writtenPages = Set<Hash128>()

  private var closedGroups: [EventGroup] = []
  private var openGroup: EventGroup?
  private var groupCount: UInt64 = 0
  fileprivate var samples: [UInt64] = []
  private var sampleCount: UInt64 = 0
  private var position: UInt64 = 0
  private var lastSnapshotTime: UInt64 = 0
  private var lastSnapshotPosition: UInt64 = 0
  /// Guest time before which no snapshot is taken (the cost budget), and of the next dirty-log
  /// count for `snapshotPages`.
  private var nextSnapshotAllowed: UInt64 = 0
  private var nextPageCheck: UInt64 = 0
  /// Moving average of the incremental snapshots' pauses (host ns).
  private var typicalPause = 0.0
  private var lastFlush = HostClock.now()
  /// When the recorder last returned to the run from an exit or a kicked point (host time).
  private var lastInstant = HostClock.now()
  /// Pages the kicked snapshots since the last position snapshot stored, with their hash then:
  /// the next one stores only what differs from this.
  private var kickedPages: [Int: Hash128] = [:]
  public private(set) var snapshotCount = 0
  /// Time spent taking snapshots (ns), for the benchmark.
  public private(set) var snapshotNanoseconds: UInt64 = 0
  /// Where the recording's time and bytes went, for the benchmark.
  public private(set) var costs = RecorderCosts()

  public init(
    path: String, platform: Platform, setup: RecordingSetup, tap: OutputTap, firmware: [UInt8]?, options: Options = Options()
  ) throws {
    let started = HostClock.now()
    self.platform = platform
    self.tap = tap
    self.options = options
    writer = try RecordingWriter(path: path, header: setup.header)
    tracker = PageTracker(memory: platform.memory, vm: platform.vm) { [unowned platform] in platform.ramSlots }
    msrIndices = try platform.kvm.msrIndexList()
    // Position 0: the loaded image, before the first instruction. Every page counts.
    tracker.markResidentDirty()
    try takeSnapshot(firmware: firmware ?? [])
    costs.startNanoseconds = HostClock.now() &- started
  }

  /// Hooks the recorder into a runner: observer of its deliveries, logger of its clock.
  public func attach(to runner: Runner) {
    runner.observer = self
    platform.clock.source = LoggingClockSource(pacer: runner.pacer, recorder: self)
  }

  // MARK: RunObserver

  public func exitHandled(index: UInt64, platform: Platform) throws {
    defer { lastInstant = HostClock.now() }
    closeGroup()
    position = index
    if try snapshotDue(index: index, now: platform.clock.now) {
      try takeSnapshot(firmware: [])
    } else if HostClock.now() &- lastFlush >= options.flushInterval {
      let started = HostClock.now()
      try flushEvents()
      costs.eventFlushes += 1
      costs.eventFlushNanoseconds += HostClock.now() &- started
    }
  }

  private func snapshotDue(index: UInt64, now: UInt64) throws -> Bool {
    guard now >= nextSnapshotAllowed else { return false }
    if now &- lastSnapshotTime >= options.snapshotInterval || index &- lastSnapshotPosition >= options.snapshotExits {
      return true
    }
    guard options.snapshotPages > 0, now >= nextPageCheck else { return false }
    let started = HostClock.now()
    nextPageCheck = now &+ pageCheckInterval
    // Harvesting early changes nothing recorded: the tracker ORs every harvest into its set.
    try tracker.harvest()
    costs.pageChecks += 1
    costs.pageCheckNanoseconds += HostClock.now() &- started
    return tracker.dirtyPageCount >= options.snapshotPages
  }

  private var pageCheckInterval: UInt64 { max(1, options.snapshotInterval / max(1, options.pageChecksPerInterval)) }

  public func kickPoint(afterExit index: UInt64, platform: Platform) throws {
    let ranFor = HostClock.now() &- lastInstant
    defer { lastInstant = HostClock.now() }
    try openKickedGroup(afterExit: index, platform: platform)
    if ranFor >= options.kickedSnapshotGap { try takeKickedSnapshot(afterExit: index) }
  }

  private func openKickedGroup(afterExit index: UInt64, platform: Platform) throws {
    let started = HostClock.now()
    closeGroup()
    let registers = try platform.vcpu.registers()
    let hash = try KickPointMatcher.contextHash(platform: platform, tracker: tracker)
    openGroup = EventGroup(position: index, kick: KickPoint(registers: registers, contextHash: hash), actions: [])
    costs.kickPoints += 1
    costs.kickPointNanoseconds += HostClock.now() &- started
  }

  /// A live session paused the guest here (between exits): the point is logged as a kicked
  /// point with nothing delivered, and the log flushed, so a replay of the file can stop
  /// exactly here and a debugger can look at this instant from the recording.
  public func paused(afterExit index: UInt64, platform: Platform) throws {
    try openKickedGroup(afterExit: index, platform: platform)
    closeGroup()
    position = index
    try flushEvents()
  }

  public func deliveredTime(_ time: UInt64) { append(.time(time)) }
  public func deliveredInput(_ bytes: [UInt8]) { append(.input(bytes)) }
  public func wroteRAM(pages: Set<Int>) { for page in pages { tracker.markDirty(page) } }

  private func append(_ action: DeliveredAction) {
    if openGroup == nil { openGroup = EventGroup(position: position, kick: nil, actions: []) }
    openGroup?.actions.append(action)
  }

  private func closeGroup() {
    guard let g = openGroup else { return }
    closedGroups.append(g)
    groupCount += 1
    openGroup = nil
  }

  fileprivate func logSample(_ value: UInt64) {
    samples.append(value)
    sampleCount += 1
    costs.clockSamples += 1
  }

  // MARK: Writing

  private func flushEvents() throws {
    let batch = EventBatch(completeThrough: position, groups: closedGroups, clockSamples: samples)
    _ = try writer.append(.events, payload: batch.encoded(), compress: true)
    closedGroups.removeAll(keepingCapacity: true)
    samples.removeAll(keepingCapacity: true)
    lastFlush = HostClock.now()
  }

  private func takeSnapshot(firmware: [UInt8]) throws {
    let started = HostClock.now()
    let bytesBefore = writer.bytesWritten
    var cost = RecorderCosts.Snapshot()
    try flushEvents()
    let eventBytes = writer.bytesWritten &- bytesBefore
    let flushed = HostClock.now()
    cost.eventsNanoseconds = flushed &- started
    try tracker.harvest()
    let harvested = HostClock.now()
    cost.harvestNanoseconds = harvested &- flushed
    cost.dirtyPages = tracker.dirtyPageCount
    let changed = tracker.settle()
    tracker.markSnapshotReference()
    kickedPages = [:]
    let hashed = HostClock.now()
    cost.hashNanoseconds = hashed &- harvested
    cost.changedPages = changed.count
    var newPages: [(Hash128, UnsafeRawBufferPointer)] = []
    for (page, hash) in changed where !writtenPages.contains(hash) {
      writtenPages.insert(hash)
      newPages.append((hash, tracker.pageBytes(page)))
      cost.storedPages += 1
      if newPages.count == 2048 {
        try appendPages(newPages)
        newPages.removeAll(keepingCapacity: true)
      }
    }
    if !newPages.isEmpty { try appendPages(newPages) }
    let stored = HostClock.now()
    cost.pagesNanoseconds = stored &- hashed

    var state = try MachineState.capture(platform, msrIndices: msrIndices)
    // A live run may have an interrupt-window request outstanding here; a replay never
    // requests one (window exits are not positions, injections there are kicked points), so
    // the request is not part of the state at this position, and replay's self-check must not
    // compare it.
    state.requestInterruptWindow = false
    let record = SnapshotRecord(
      position: position, groupIndex: groupCount, sampleIndex: sampleCount, outputBytes: tap.count,
      stateHash: StateHashing.hash(state, tracker), state: state.encoded(),
      changedPages: changed.map { (UInt32($0.page), $0.hash) }, firmware: firmware)
    _ = try writer.append(.snapshot, payload: record.encoded(), compress: true)
    lastSnapshotTime = platform.clock.now
    lastSnapshotPosition = position
    snapshotCount += 1
    let ended = HostClock.now()
    // The full snapshot at position 0 stores every resident page: it says nothing of what the
    // incremental ones cost, so only those space the next one out. A moving average, so one
    // pause stretched by the host (preemption on a shared machine) does not leave a gap.
    if snapshotCount > 1 {
      let pause = Double(ended &- started)
      typicalPause = snapshotCount == 2 ? pause : 0.75 * typicalPause + 0.25 * pause
      let spacing = typicalPause / max(options.snapshotBudget, 1e-6)
      nextSnapshotAllowed = lastSnapshotTime &+ UInt64(min(spacing, 1e15))
    }
    nextPageCheck = lastSnapshotTime &+ pageCheckInterval
    cost.stateNanoseconds = ended &- stored
    cost.pauseNanoseconds = ended &- started
    cost.bytes = writer.bytesWritten &- bytesBefore &- eventBytes
    costs.snapshots.append(cost)
    snapshotNanoseconds += ended &- started
  }

  /// Stores the state at the kicked point just opened (group `groupCount`, not delivered yet).
  /// Its pages are the changes since the position snapshot (the context hash has just
  /// harvested them) that the previous kicked snapshot did not already hold; the page tracker
  /// is left as it is, so the next position snapshot's delta still covers every change.
  private func takeKickedSnapshot(afterExit index: UInt64) throws {
    let started = HostClock.now()
    let bytesBefore = writer.bytesWritten
    let changes = tracker.changesSinceReference()
    var now: [Int: Hash128] = [:]
    var delta: [(page: UInt32, hash: Hash128)] = []
    var newPages: [(Hash128, UnsafeRawBufferPointer)] = []
    for (page, hash) in changes {
      now[page] = hash
      guard kickedPages[page] != hash else { continue }
      delta.append((UInt32(page), hash))
      if !writtenPages.contains(hash) {
        writtenPages.insert(hash)
        newPages.append((hash, tracker.pageBytes(page)))
      }
    }
    // Written since, and back to what the position snapshot has.
    for page in kickedPages.keys where now[page] == nil { delta.append((UInt32(page), tracker.referenceHash(page))) }
    delta.sort { $0.page < $1.page }
    kickedPages = now
    for start in stride(from: 0, to: newPages.count, by: 2048) {
      try appendPages(Array(newPages[start..<min(start + 2048, newPages.count)]))
    }
    var state = try MachineState.capture(platform, msrIndices: msrIndices)
    state.requestInterruptWindow = false  // as at position snapshots
    let record = KickedSnapshotRecord(
      position: index, groupIndex: groupCount, sampleIndex: sampleCount, outputBytes: tap.count, state: state.encoded(),
      changedPages: delta)
    _ = try writer.append(.kickedSnapshot, payload: record.encoded(), compress: true)
    costs.kickedSnapshots += 1
    costs.kickedSnapshotBytes += UInt64(writer.bytesWritten &- bytesBefore)
    let spent = HostClock.now() &- started
    costs.kickedSnapshotNanoseconds += spent
    costs.kickPointNanoseconds += spent
  }

  /// Page contents are most of a recording's bytes and of a snapshot's pause: zstd level 1
  /// compresses guest pages within 1-3 % of level 3's size in half the time (docs/performance.md).
  static let pagesCompressionLevel: Int32 = 1
  private var pagesScratch: [UInt8] = []

  private func appendPages(_ pages: [(Hash128, UnsafeRawBufferPointer)]) throws {
    PagesChunk.encode(pages, into: &pagesScratch)
    _ = try writer.append(.pages, payload: pagesScratch, compressionLevel: Self.pagesCompressionLevel)
  }

  /// Ends the recording: the remaining events and the end chunk.
  public func finish(outcome: RecordedOutcome, runner: Runner) throws {
    let started = HostClock.now()
    defer { costs.finishNanoseconds = HostClock.now() &- started }
    closeGroup()
    position = runner.exitIndex
    try flushEvents()
    let end = EndRecord(
      finalPosition: runner.exitIndex, guestTime: platform.clock.now, hostNanoseconds: runner.statistics.hostNanoseconds,
      outcome: outcome, outputBytes: tap.count, outputHash: tap.hash)
    _ = try writer.append(.end, payload: end.encoded(), compress: false)
    try writer.close()
  }

  public var bytesWritten: UInt64 { UInt64(writer.bytesWritten) }
}

/// Host-paced time whose every reading goes into the recording.
struct LoggingClockSource: ClockSource {
  let pacer: HostPacedClockSource
  unowned let recorder: Recorder

  func sample(current: UInt64) -> UInt64 {
    let value = pacer.sample(current: current)
    recorder.logSample(value)
    return value
  }
}

enum StateHashing {
  /// The full-state hash stored in snapshots: machine state plus every page of RAM
  /// (call `tracker.settle()` first so page hashes are current).
  static func hash(_ state: MachineState, _ tracker: PageTracker) -> Hash128 {
    var hasher = StateHasher()
    state.hash(into: &hasher)
    tracker.ramHash(into: &hasher)
    return hasher.finalize()
  }
}

enum KickPointMatcher {
  static func contextHash(platform: Platform, tracker: PageTracker) throws -> Hash128 {
    try tracker.harvest()
    var w = ByteWriter()
    // The pending-interrupt bitmap shows the engine's own injection (queued at this instant in
    // replay before the point is checked, after it when recording): not part of the point.
    var sregs = try platform.vcpu.specialRegisters()
    sregs.interruptBitmap = [0, 0, 0, 0]
    RegisterCoding.write(sregs, into: &w)
    var hasher = StateHasher()
    hasher.update(w.bytes)
    tracker.dirtyContentHash(into: &hasher)
    return hasher.finalize()
  }
}
