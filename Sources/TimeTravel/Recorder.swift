import Foundation
import KVM
import Machine
import Recording

/// Records a live run (`Runner`) into a recording file: every delivery at its position,
/// every clock reading, and periodic snapshots (design.md, "Snapshots" and "Recording file").
public final class Recorder: RunObserver {
  public struct Options: Sendable {
    /// Guest time between snapshots.
    public var snapshotInterval: UInt64 = 100_000_000
    /// Deterministic exits between snapshots, whatever the guest time.
    public var snapshotExits: UInt64 = 50_000
    /// Host time between flushes of the event log (what a crash can lose).
    public var flushInterval: UInt64 = 50_000_000
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
  private var lastFlush = HostClock.now()
  public private(set) var snapshotCount = 0
  /// Time spent taking snapshots (ns), for the benchmark.
  public private(set) var snapshotNanoseconds: UInt64 = 0

  public init(
    path: String, platform: Platform, setup: RecordingSetup, tap: OutputTap, firmware: [UInt8]?, options: Options = Options()
  ) throws {
    self.platform = platform
    self.tap = tap
    self.options = options
    writer = try RecordingWriter(path: path, header: setup.header)
    tracker = PageTracker(memory: platform.memory, vm: platform.vm) { [unowned platform] in platform.ramSlots }
    msrIndices = try platform.kvm.msrIndexList()
    // Position 0: the loaded image, before the first instruction. Every page counts.
    tracker.markResidentDirty()
    try takeSnapshot(firmware: firmware ?? [])
  }

  /// Hooks the recorder into a runner: observer of its deliveries, logger of its clock.
  public func attach(to runner: Runner) {
    runner.observer = self
    platform.clock.source = LoggingClockSource(pacer: runner.pacer, recorder: self)
  }

  // MARK: RunObserver

  public func exitHandled(index: UInt64, platform: Platform) throws {
    closeGroup()
    position = index
    let dueByTime = platform.clock.now &- lastSnapshotTime >= options.snapshotInterval
    let dueByWork = index - lastSnapshotPosition >= options.snapshotExits
    if dueByTime || dueByWork {
      try takeSnapshot(firmware: [])
    } else if HostClock.now() &- lastFlush >= options.flushInterval {
      try flushEvents()
    }
  }

  public func kickPoint(afterExit index: UInt64, platform: Platform) throws {
    closeGroup()
    let registers = try platform.vcpu.registers()
    let hash = try KickPointMatcher.contextHash(platform: platform, tracker: tracker)
    openGroup = EventGroup(position: index, kick: KickPoint(registers: registers, contextHash: hash), actions: [])
  }

  public func deliveredTime(_ time: UInt64) { append(.time(time)) }
  public func deliveredInput(_ bytes: [UInt8]) { append(.input(bytes)) }

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
    try flushEvents()
    try tracker.harvest()
    let changed = tracker.settle()
    tracker.markSnapshotReference()
    var newPages: [(Hash128, UnsafeRawBufferPointer)] = []
    for (page, hash) in changed where !writtenPages.contains(hash) {
      writtenPages.insert(hash)
      newPages.append((hash, tracker.pageBytes(page)))
      if newPages.count == 2048 {
        _ = try writer.append(.pages, payload: PagesChunk.encode(newPages), compress: true)
        newPages.removeAll(keepingCapacity: true)
      }
    }
    if !newPages.isEmpty { _ = try writer.append(.pages, payload: PagesChunk.encode(newPages), compress: true) }

    let state = try MachineState.capture(platform, msrIndices: msrIndices)
    let record = SnapshotRecord(
      position: position, groupIndex: groupCount, sampleIndex: sampleCount, outputBytes: tap.count,
      stateHash: StateHashing.hash(state, tracker), state: state.encoded(),
      changedPages: changed.map { (UInt32($0.page), $0.hash) }, firmware: firmware)
    _ = try writer.append(.snapshot, payload: record.encoded(), compress: true)
    lastSnapshotTime = platform.clock.now
    lastSnapshotPosition = position
    snapshotCount += 1
    snapshotNanoseconds += HostClock.now() &- started
  }

  /// Ends the recording: the remaining events and the end chunk.
  public func finish(outcome: RecordedOutcome, runner: Runner) throws {
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
    RegisterCoding.write(try platform.vcpu.specialRegisters(), into: &w)
    var hasher = StateHasher()
    hasher.update(w.bytes)
    tracker.dirtyContentHash(into: &hasher)
    return hasher.finalize()
  }
}
