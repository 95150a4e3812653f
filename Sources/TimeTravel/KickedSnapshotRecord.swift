import Recording

/// A snapshot at a kicked point: the machine state right before the kicked group `groupIndex`
/// is delivered. The recorder stores one where the guest ran long without an exit before the
/// point, so replay can restore the instant when finding it with breakpoint hits would take too
/// long (a loop without exits passes the point's address at every iteration; docs/determinism.md,
/// "Kicked points"). It is not a seek target: positions still start from `SnapshotRecord`s.
///
/// `changedPages` are the pages that differ from the previous snapshot of either kind since the
/// position snapshot before it (the `base`): the chain of one position snapshot's kicked
/// snapshots folds onto that snapshot's page map.
struct KickedSnapshotRecord: Equatable {
  /// Where the kicked point is: after this exit, before this event group.
  var position: UInt64
  var groupIndex: UInt64
  var sampleIndex: UInt64
  var outputBytes: UInt64
  var state: [UInt8]
  var changedPages: [(page: UInt32, hash: Hash128)]

  static func == (a: KickedSnapshotRecord, b: KickedSnapshotRecord) -> Bool {
    a.position == b.position && a.groupIndex == b.groupIndex && a.sampleIndex == b.sampleIndex
      && a.outputBytes == b.outputBytes && a.state == b.state
      && a.changedPages.map(\.page) == b.changedPages.map(\.page) && a.changedPages.map(\.hash) == b.changedPages.map(\.hash)
  }

  init(
    position: UInt64, groupIndex: UInt64, sampleIndex: UInt64, outputBytes: UInt64, state: [UInt8],
    changedPages: [(page: UInt32, hash: Hash128)]
  ) {
    self.position = position
    self.groupIndex = groupIndex
    self.sampleIndex = sampleIndex
    self.outputBytes = outputBytes
    self.state = state
    self.changedPages = changedPages
  }

  func encoded() -> [UInt8] {
    var w = ByteWriter(capacity: state.count + changedPages.count * 20 + 64)
    w.write(position)
    w.write(groupIndex)
    w.write(sampleIndex)
    w.write(outputBytes)
    w.write(lengthPrefixed: state)
    w.write(UInt32(changedPages.count))
    for (page, hash) in changedPages {
      w.write(page)
      w.write(hash)
    }
    return w.bytes
  }

  init(decoding bytes: [UInt8], baseOffset: Int) throws(ByteReaderError) {
    var r = ByteReader(bytes, baseOffset: baseOffset)
    position = try r.readUInt64("kickedSnapshot.position")
    groupIndex = try r.readUInt64("kickedSnapshot.groupIndex")
    sampleIndex = try r.readUInt64("kickedSnapshot.sampleIndex")
    outputBytes = try r.readUInt64("kickedSnapshot.outputBytes")
    state = try r.readLengthPrefixedBytes("kickedSnapshot.state", limit: 1 << 26)
    let count = try r.readUInt32("kickedSnapshot.pageCount")
    guard Int(count) <= r.remaining / 20 else {
      throw ByteReaderError(field: "kickedSnapshot.pageCount", offset: baseOffset, reason: "\(count) pages cannot fit")
    }
    changedPages = []
    changedPages.reserveCapacity(Int(count))
    for _ in 0..<count {
      changedPages.append((try r.readUInt32("kickedSnapshot.page"), try r.readHash128("kickedSnapshot.pageHash")))
    }
  }
}
