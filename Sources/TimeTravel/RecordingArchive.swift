import Foundation
import Recording

/// A recording file read into memory: header, snapshots, page contents, event log.
///
/// A file cut short (a recorder killed mid-write) opens with `damage` set and the log complete
/// up to `completeThrough`; a file damaged in the middle opens only up to the damage, and
/// `damage` names the chunk and byte offset.
public final class RecordingArchive {
  public let path: String
  public let header: RecordingHeader
  public let setup: RecordingSetup
  var snapshots: [SnapshotRecord] = []
  /// Snapshots at kicked points, in file order, each with the index of the position snapshot
  /// its page deltas build on.
  var kickedSnapshots: [(record: KickedSnapshotRecord, base: Int)] = []
  /// Index into `kickedSnapshots` by the event group whose kicked point it holds.
  private(set) var kickedSnapshotForGroup: [Int: Int] = [:]
  var pages: [Hash128: [UInt8]] = [:]
  var groups: [EventGroup] = []
  var samples: [UInt64] = []
  var end: EndRecord?
  /// The last position the event log covers.
  public private(set) var completeThrough: UInt64 = 0
  public let damage: RecordingDamage?
  public let fileSize: UInt64
  /// Per chunk kind: count, stored bytes, raw bytes.
  public private(set) var chunkStatistics: [String: (count: Int, stored: UInt64, raw: UInt64)] = [:]

  public init(path: String) throws {
    self.path = path
    let reader = try RecordingReader(path: path)
    header = reader.header
    setup = try RecordingSetup(header: header)
    fileSize = reader.fileSize
    let scan = reader.readChunks()
    damage = scan.damage
    for chunk in scan.chunks {
      let name = chunk.kind.map { "\($0)" } ?? "kind \(chunk.kindRaw)"
      var stat = chunkStatistics[name] ?? (0, 0, 0)
      stat.count += 1
      stat.stored += UInt64(chunk.info.storedLength)
      stat.raw += UInt64(chunk.info.rawLength)
      chunkStatistics[name] = stat
      do {
        try ingest(chunk)
      } catch {
        throw ReplayError.damaged("\(chunk.location) (\(name)): \(error)")
      }
    }
    guard !snapshots.isEmpty, snapshots[0].position == 0 else {
      let why = damage.map { ": \($0)" } ?? ""
      throw ReplayError.damaged("\(path) holds no initial snapshot\(why)")
    }
    try checkSnapshotIndices()
    for (i, k) in kickedSnapshots.enumerated() {
      let g = Int(clamping: k.record.groupIndex)
      // A file cut short can hold the snapshot of a point whose group was never flushed.
      guard g < groups.count else { continue }
      guard groups[g].kick != nil, groups[g].position == k.record.position else {
        throw ReplayError.damaged(
          "kicked snapshot at position \(k.record.position) names event group \(g), which is not a kicked point there")
      }
      kickedSnapshotForGroup[g] = i
    }
  }

  /// A snapshot names the event group and clock sample that come next. In a file cut short
  /// they may lie past what was flushed; in an undamaged one, past the log is damage.
  private func checkSnapshotIndices() throws {
    guard damage == nil else { return }
    let named =
      snapshots.map { ("snapshot at position \($0.position)", $0.groupIndex, $0.sampleIndex) }
      + kickedSnapshots.map { ("kicked snapshot at position \($0.record.position)", $0.record.groupIndex, $0.record.sampleIndex) }
    for (what, group, sample) in named {
      guard group <= UInt64(groups.count), sample <= UInt64(samples.count) else {
        throw ReplayError.damaged(
          "\(what) names event group \(group) and clock sample \(sample), but the log holds \(groups.count) groups and \(samples.count) samples"
        )
      }
    }
  }

  private func ingest(_ chunk: Chunk) throws {
    guard let kind = chunk.kind else { return }  // newer chunk kinds: skipped
    let offset = Int(chunk.offset)
    switch kind {
    case .events:
      let batch = try EventBatch(decoding: chunk.payload, baseOffset: offset)
      for g in batch.groups {
        if let last = groups.last, g.position < last.position {
          throw ReplayError.damaged("event group at position \(g.position) follows one at \(last.position)")
        }
        groups.append(g)
      }
      samples.append(contentsOf: batch.clockSamples)
      completeThrough = max(completeThrough, batch.completeThrough)
    case .pages:
      try PagesChunk.decode(chunk.payload, baseOffset: offset, into: &pages)
    case .snapshot:
      let s = try SnapshotRecord(decoding: chunk.payload, baseOffset: offset)
      if let last = snapshots.last, s.position < last.position {
        throw ReplayError.damaged("snapshot at position \(s.position) follows one at \(last.position)")
      }
      for (page, hash) in s.changedPages where pages[hash] == nil || Int(page) >= pageCount {
        throw ReplayError.damaged("snapshot at position \(s.position) refers to page \(page) with unknown content \(hash)")
      }
      snapshots.append(s)
    case .kickedSnapshot:
      let k = try KickedSnapshotRecord(decoding: chunk.payload, baseOffset: offset)
      guard let base = snapshots.indices.last, k.position >= snapshots[base].position else {
        throw ReplayError.damaged("kicked snapshot at position \(k.position) comes before the snapshot it builds on")
      }
      if let last = kickedSnapshots.last, k.groupIndex <= last.record.groupIndex {
        throw ReplayError.damaged(
          "kicked snapshot of event group \(k.groupIndex) follows one of group \(last.record.groupIndex)")
      }
      for (page, hash) in k.changedPages where pages[hash] == nil || Int(page) >= pageCount {
        throw ReplayError.damaged(
          "kicked snapshot at position \(k.position) refers to page \(page) with unknown content \(hash)")
      }
      kickedSnapshots.append((k, base))
    case .end:
      let e = try EndRecord(decoding: chunk.payload, baseOffset: offset)
      end = e
      completeThrough = max(completeThrough, e.finalPosition)
    case .index:
      break
    }
  }

  var pageCount: Int { Int(setup.configuration.memorySize) / PageTracker.pageSize }

  /// Whether the recording ran to its end (has an end chunk).
  public var isComplete: Bool { end != nil }
  /// Whether the guest runs in long mode at some snapshot (the gdb stub then shows amd64).
  public var entersLongMode: Bool {
    snapshots.contains { s in
      (try? MachineState(decoding: s.state, baseOffset: 0)).map { $0.vcpu.specialRegisters.efer & (1 << 10) != 0 } ?? false
    }
  }

  /// Bytes of page content the recording holds (decompressed).
  public var storedPageBytes: Int { pages.values.reduce(0) { $0 + $1.count } }
  public var outcome: RecordedOutcome? { end?.outcome }
  public var finalPosition: UInt64 { end?.finalPosition ?? completeThrough }
  public var snapshotPositions: [UInt64] { snapshots.map(\.position) }
  public var eventGroupCount: Int { groups.count }
  public var clockSampleCount: Int { samples.count }
  public var guestDuration: UInt64? { end?.guestTime }
  public var recordedOutputBytes: UInt64? { end?.outputBytes }

  /// Counts of delivered actions by kind, and of kicked points.
  public var eventCounts: (timer: Int, input: Int, inputBytes: Int, kicked: Int) {
    var t = 0
    var i = 0
    var bytes = 0
    var k = 0
    for g in groups {
      if g.kick != nil { k += 1 }
      for a in g.actions {
        switch a {
        case .time: t += 1
        case .input(let b):
          i += 1
          bytes += b.count
        }
      }
    }
    return (t, i, bytes, k)
  }

  /// Full page map (page -> content hash) at snapshot `index`, folding the deltas before it.
  func pageMap(atSnapshot index: Int) -> [Hash128] {
    var map = [Hash128](repeating: PageTracker.zeroPageHash, count: pageCount)
    for s in snapshots[0...index] {
      for (page, hash) in s.changedPages where Int(page) < map.count { map[Int(page)] = hash }
    }
    return map
  }

  /// Full page map at kicked snapshot `index`: its position snapshot's map with the deltas of
  /// that snapshot's kicked snapshots up to this one.
  func pageMap(atKickedSnapshot index: Int) -> [Hash128] {
    let base = kickedSnapshots[index].base
    var map = pageMap(atSnapshot: base)
    for k in kickedSnapshots[...index] where k.base == base {
      for (page, hash) in k.record.changedPages where Int(page) < map.count { map[Int(page)] = hash }
    }
    return map
  }

  /// The snapshot to start from to reach `position`: the last one at or before it.
  func snapshotIndex(atOrBefore position: UInt64) -> Int {
    var best = 0
    for (i, s) in snapshots.enumerated() where s.position <= position { best = i }
    return best
  }

  /// Checks that `image` is the one this recording was made from.
  public func verifyImage(_ image: [UInt8], name: String) throws(ReplayError) {
    let hash = ContentHash.of(image)
    guard hash == setup.imageHash else {
      throw .imageMismatch(
        "\(name) is not the image this recording was made from (recorded: \(setup.imageName), hash \(setup.imageHash); given: hash \(hash))"
      )
    }
  }
}
