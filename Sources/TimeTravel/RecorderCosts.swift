/// Where a recording's time and bytes went, for `retrovisor bench --record` and
/// docs/performance.md. Host nanoseconds, measured on the recording thread.
public struct RecorderCosts: Sendable, Equatable {
  /// One snapshot: how long the guest was paused for it and what it added to the file.
  public struct Snapshot: Sendable, Equatable {
    /// Host time the guest stood still (from entering the snapshot to resuming).
    public var pauseNanoseconds: UInt64 = 0
    /// Pages written since the previous snapshot (dirty log), and how many of them changed.
    public var dirtyPages = 0
    public var changedPages = 0
    /// Pages whose content was new to the file (stored in a pages chunk).
    public var storedPages = 0
    /// File bytes added by the snapshot (its pages chunks and the snapshot chunk).
    public var bytes: UInt64 = 0
    /// Phases of `pauseNanoseconds`: the pending events written out, the dirty log pulled from
    /// KVM, dirty pages hashed, new pages compressed and written, the machine state captured,
    /// hashed (with every page hash) and written.
    public var eventsNanoseconds: UInt64 = 0
    public var harvestNanoseconds: UInt64 = 0
    public var hashNanoseconds: UInt64 = 0
    public var pagesNanoseconds: UInt64 = 0
    public var stateNanoseconds: UInt64 = 0
    public init() {}
  }

  public var snapshots: [Snapshot] = []
  /// Opening the file and the first (full) snapshot, before the guest runs.
  public var startNanoseconds: UInt64 = 0
  /// Event flushes between snapshots (count, time).
  public var eventFlushes = 0
  public var eventFlushNanoseconds: UInt64 = 0
  /// Dirty-log counts between snapshots (`Recorder.Options.snapshotPages`).
  public var pageChecks = 0
  public var pageCheckNanoseconds: UInt64 = 0
  /// Kicked points identified (registers + dirty-page hash).
  public var kickPoints = 0
  public var kickPointNanoseconds: UInt64 = 0
  /// Snapshots at kicked points (`Recorder.Options.kickedSnapshotGap`): count, time (part of
  /// `kickPointNanoseconds`) and file bytes.
  public var kickedSnapshots = 0
  public var kickedSnapshotNanoseconds: UInt64 = 0
  public var kickedSnapshotBytes: UInt64 = 0
  /// Clock readings logged.
  public var clockSamples = 0
  /// Ending the recording: last events, end chunk, fdatasync and close.
  public var finishNanoseconds: UInt64 = 0
  public init() {}

  /// Everything the recorder spent on the recording thread.
  public var totalNanoseconds: UInt64 {
    startNanoseconds + snapshots.dropFirst().reduce(0) { $0 + $1.pauseNanoseconds } + eventFlushNanoseconds
      + pageCheckNanoseconds + kickPointNanoseconds + finishNanoseconds
  }
}
