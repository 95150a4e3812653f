import Recording

/// A snapshot as stored: the machine state at `position`, the pages that changed since the
/// previous snapshot (content lives in `pages` chunks, stored once per distinct content) and
/// the hash of the whole state, which replay recomputes and compares.
struct SnapshotRecord: Equatable {
  var position: UInt64
  /// Index of the first event group and clock sample not yet delivered at this position.
  var groupIndex: UInt64
  var sampleIndex: UInt64
  /// Console bytes the guest had written by this position.
  var outputBytes: UInt64
  var stateHash: Hash128
  var state: [UInt8]
  var changedPages: [(page: UInt32, hash: Hash128)]
  /// The firmware image (first snapshot of a --bios recording only): it lives outside RAM.
  var firmware: [UInt8]

  static func == (a: SnapshotRecord, b: SnapshotRecord) -> Bool {
    a.position == b.position && a.stateHash == b.stateHash && a.state == b.state
      && a.changedPages.map(\.page) == b.changedPages.map(\.page) && a.changedPages.map(\.hash) == b.changedPages.map(\.hash)
  }

  func encoded() -> [UInt8] {
    var w = ByteWriter(capacity: state.count + changedPages.count * 20 + 128)
    w.write(position)
    w.write(groupIndex)
    w.write(sampleIndex)
    w.write(outputBytes)
    w.write(stateHash)
    w.write(lengthPrefixed: state)
    w.write(UInt32(changedPages.count))
    for (page, hash) in changedPages {
      w.write(page)
      w.write(hash)
    }
    w.write(lengthPrefixed: firmware)
    return w.bytes
  }

  init(
    position: UInt64, groupIndex: UInt64, sampleIndex: UInt64, outputBytes: UInt64, stateHash: Hash128, state: [UInt8],
    changedPages: [(page: UInt32, hash: Hash128)], firmware: [UInt8]
  ) {
    self.position = position
    self.groupIndex = groupIndex
    self.sampleIndex = sampleIndex
    self.outputBytes = outputBytes
    self.stateHash = stateHash
    self.state = state
    self.changedPages = changedPages
    self.firmware = firmware
  }

  init(decoding bytes: [UInt8], baseOffset: Int) throws(ByteReaderError) {
    var r = ByteReader(bytes, baseOffset: baseOffset)
    position = try r.readUInt64("snapshot.position")
    groupIndex = try r.readUInt64("snapshot.groupIndex")
    sampleIndex = try r.readUInt64("snapshot.sampleIndex")
    outputBytes = try r.readUInt64("snapshot.outputBytes")
    stateHash = try r.readHash128("snapshot.stateHash")
    state = try r.readLengthPrefixedBytes("snapshot.state", limit: 1 << 26)
    let count = try r.readUInt32("snapshot.pageCount")
    guard Int(count) <= r.remaining / 20 else {
      throw ByteReaderError(field: "snapshot.pageCount", offset: baseOffset, reason: "\(count) pages cannot fit")
    }
    changedPages = []
    changedPages.reserveCapacity(Int(count))
    for _ in 0..<count {
      changedPages.append((try r.readUInt32("snapshot.page"), try r.readHash128("snapshot.pageHash")))
    }
    firmware = try r.readLengthPrefixedBytes("snapshot.firmware", limit: 16 << 20)
  }
}

/// Pages chunk: new page contents, each stored once, keyed by content hash.
enum PagesChunk {
  static func encode(_ pages: [(Hash128, UnsafeRawBufferPointer)]) -> [UInt8] {
    var bytes: [UInt8] = []
    encode(pages, into: &bytes)
    return bytes
  }

  /// The same encoding into `bytes`, whose capacity is reused: a recorder encoding chunk after
  /// chunk into one buffer does not page-fault in a fresh one each time.
  static func encode(_ pages: [(Hash128, UnsafeRawBufferPointer)], into bytes: inout [UInt8]) {
    bytes.removeAll(keepingCapacity: true)
    bytes.reserveCapacity(pages.count * (16 + 4096) + 4)
    withUnsafeBytes(of: UInt32(pages.count).littleEndian) { bytes.append(contentsOf: $0) }
    for (hash, data) in pages {
      withUnsafeBytes(of: hash.high.bigEndian) { bytes.append(contentsOf: $0) }
      withUnsafeBytes(of: hash.low.bigEndian) { bytes.append(contentsOf: $0) }
      bytes.append(contentsOf: data)
    }
  }

  static func decode(_ bytes: [UInt8], baseOffset: Int, into store: inout [Hash128: [UInt8]]) throws(ByteReaderError) {
    var r = ByteReader(bytes, baseOffset: baseOffset)
    let count = try r.readUInt32("pages.count")
    guard Int(count) <= r.remaining / (16 + 4096) else {
      throw ByteReaderError(field: "pages.count", offset: baseOffset, reason: "\(count) pages cannot fit")
    }
    for _ in 0..<count {
      let hash = try r.readHash128("pages.hash")
      let data = try r.readBytes(count: 4096, "pages.data")
      guard ContentHash.of(data) == hash else {
        throw ByteReaderError(field: "pages.data", offset: baseOffset, reason: "page content does not match its hash \(hash)")
      }
      store[hash] = data
    }
  }
}

/// How the recorded run ended.
public enum RecordedOutcome: Sendable, Equatable, CustomStringConvertible {
  case debugExit(value: UInt32)
  case reset(source: String)
  case fault(summary: String)
  case userQuit

  public var description: String {
    switch self {
    case .debugExit(let v): return "debug-exit 0x\(String(v, radix: 16))"
    case .reset(let s): return "reset (\(s))"
    case .fault(let s): return "guest fault: \(s)"
    case .userQuit: return "stopped by the user"
    }
  }
}

/// The last chunk of a completed recording.
struct EndRecord: Equatable {
  var finalPosition: UInt64
  var guestTime: UInt64
  var hostNanoseconds: UInt64
  var outcome: RecordedOutcome
  var outputBytes: UInt64
  var outputHash: Hash128

  func encoded() -> [UInt8] {
    var w = ByteWriter()
    w.write(finalPosition)
    w.write(guestTime)
    w.write(hostNanoseconds)
    switch outcome {
    case .debugExit(let v):
      w.write(UInt8(1))
      w.write(v)
    case .reset(let s):
      w.write(UInt8(2))
      w.write(s)
    case .fault(let s):
      w.write(UInt8(3))
      w.write(s)
    case .userQuit:
      w.write(UInt8(4))
    }
    w.write(outputBytes)
    w.write(outputHash)
    return w.bytes
  }

  init(
    finalPosition: UInt64, guestTime: UInt64, hostNanoseconds: UInt64, outcome: RecordedOutcome, outputBytes: UInt64,
    outputHash: Hash128
  ) {
    self.finalPosition = finalPosition
    self.guestTime = guestTime
    self.hostNanoseconds = hostNanoseconds
    self.outcome = outcome
    self.outputBytes = outputBytes
    self.outputHash = outputHash
  }

  init(decoding bytes: [UInt8], baseOffset: Int) throws(ByteReaderError) {
    var r = ByteReader(bytes, baseOffset: baseOffset)
    finalPosition = try r.readUInt64("end.finalPosition")
    guestTime = try r.readUInt64("end.guestTime")
    hostNanoseconds = try r.readUInt64("end.hostNanoseconds")
    switch try r.readUInt8("end.outcome") {
    case 1: outcome = .debugExit(value: try r.readUInt32("end.value"))
    case 2: outcome = .reset(source: try r.readString("end.source", limit: 4096))
    case 3: outcome = .fault(summary: try r.readString("end.summary", limit: 1 << 16))
    case 4: outcome = .userQuit
    case let v: throw ByteReaderError(field: "end.outcome", offset: baseOffset + 24, reason: "unknown outcome \(v)")
    }
    outputBytes = try r.readUInt64("end.outputBytes")
    outputHash = try r.readHash128("end.outputHash")
  }
}
