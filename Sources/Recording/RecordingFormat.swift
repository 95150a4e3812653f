/// Constants of the on-disk format; docs/recording-format.md is the normative description.
public enum RecordingFormat {
  /// File magic, bytes 0..<5.
  public static let magic: [UInt8] = Array("RVREC".utf8)
  /// The version this build writes, and the newest it reads.
  public static let version: UInt16 = 1
  /// Versions this build can read.
  public static let readableVersions: ClosedRange<UInt16> = 1...1
  /// magic (5) + version u16 + header payload length u32.
  public static let fileHeaderPrefixSize = 11
  /// XXH3-64 after the header payload.
  public static let fileHeaderChecksumSize = 8
  /// Cap on the header payload (image name, machine configuration, extra).
  public static let maxHeaderPayload = 16 << 20

  /// Chunk frame magic, bytes "RVCK".
  public static let chunkMagic: [UInt8] = Array("RVCK".utf8)
  /// Size of a chunk frame header; the stored payload follows it.
  public static let chunkFrameSize = 40
  /// Cap on both the stored and the raw (decompressed) payload length of one chunk. Larger
  /// payloads (a whole big RAM image) must be split into several chunks by the engine.
  public static let maxChunkPayload = 256 << 20
  /// Frame flag bit 0: the stored payload is one zstd frame.
  public static let flagCompressed: UInt16 = 1
  /// Flag bits a version-1 reader understands; any other bit set is damage.
  public static let knownFlags: UInt16 = flagCompressed
}

/// What a chunk carries. Kinds unknown to this build are kept as `Chunk.kindRaw` and skipped by
/// consumers (their `kind` is nil).
public enum ChunkKind: UInt16, Sendable, CaseIterable, CustomStringConvertible {
  case events = 1
  case snapshot = 2
  case pages = 3
  case index = 4
  case end = 5
  /// A snapshot at a kicked point (a recording made by this build onwards; older readers skip it).
  case kickedSnapshot = 6

  public var description: String {
    switch self {
    case .events: "events"
    case .snapshot: "snapshot"
    case .pages: "pages"
    case .index: "index"
    case .end: "end"
    case .kickedSnapshot: "kicked"
    }
  }

  static func name(of raw: UInt16) -> String {
    ChunkKind(rawValue: raw)?.description ?? "unknown kind \(raw)"
  }
}

/// Recording-wide metadata, stored once at the start of the file.
public struct RecordingHeader: Sendable, Equatable {
  /// The format version of the file it was read from (the current version for new headers).
  public internal(set) var formatVersion: UInt16
  public var imageName: String
  /// Content hash of the guest image, so replay can refuse a different image.
  public var imageHash: Hash128
  /// Opaque bytes the engine encodes (RAM size, devices, CPUID model, ...).
  public var machineConfiguration: [UInt8]
  public var createdUnixSeconds: UInt64
  /// Small key/value metadata; lets later versions add facts without a format change.
  public var extra: [String: String]

  public init(
    imageName: String, imageHash: Hash128, machineConfiguration: [UInt8],
    createdUnixSeconds: UInt64, extra: [String: String] = [:]
  ) {
    self.formatVersion = RecordingFormat.version
    self.imageName = imageName
    self.imageHash = imageHash
    self.machineConfiguration = machineConfiguration
    self.createdUnixSeconds = createdUnixSeconds
    self.extra = extra
  }

  /// The header payload (version 1 field order); `extra` is sorted by key so equal headers
  /// encode to equal bytes.
  func encodePayload() -> [UInt8] {
    var writer = ByteWriter(capacity: 64 + imageName.utf8.count + machineConfiguration.count)
    writer.write(imageName)
    writer.write(imageHash)
    writer.write(lengthPrefixed: machineConfiguration)
    writer.write(createdUnixSeconds)
    writer.write(UInt32(extra.count))
    for key in extra.keys.sorted() {
      writer.write(key)
      writer.write(extra[key] ?? "")
    }
    return writer.bytes
  }

  /// Decodes a version-1 header payload. Bytes after the known fields are ignored, so a later
  /// minor revision may append fields without breaking older readers.
  static func decodePayload(_ bytes: [UInt8], version: UInt16, fileOffset: Int)
    throws(ByteReaderError)
    -> RecordingHeader
  {
    var reader = ByteReader(bytes, baseOffset: fileOffset)
    let imageName = try reader.readString("imageName")
    let imageHash = try reader.readHash128("imageHash")
    let configuration = try reader.readLengthPrefixedBytes("machineConfiguration")
    let created = try reader.readUInt64("createdUnixSeconds")
    let count = try reader.readUInt32("extra count")
    // Each entry takes at least 8 bytes, which bounds the loop by the payload size.
    guard Int(count) <= reader.remaining / 8 else {
      throw ByteReaderError(
        field: "extra count", offset: reader.baseOffset + reader.position - 4,
        reason: "\(count) entries cannot fit in the remaining \(reader.remaining) bytes")
    }
    var extra: [String: String] = [:]
    for i in 0..<Int(count) {
      let keyOffset = reader.baseOffset + reader.position
      let key = try reader.readString("extra[\(i)] key")
      let value = try reader.readString("extra[\(i)] value")
      guard extra.updateValue(value, forKey: key) == nil else {
        throw ByteReaderError(
          field: "extra[\(i)] key", offset: keyOffset, reason: "duplicate key \"\(key)\"")
      }
    }
    var header = RecordingHeader(
      imageName: imageName, imageHash: imageHash, machineConfiguration: configuration,
      createdUnixSeconds: created, extra: extra)
    header.formatVersion = version
    return header
  }

  /// The complete file header: prefix, payload, checksum.
  func encodeFileHeader() -> [UInt8] {
    let payload = encodePayload()
    var writer = ByteWriter(capacity: RecordingFormat.fileHeaderPrefixSize + payload.count + 8)
    writer.write(raw: RecordingFormat.magic)
    writer.write(RecordingFormat.version)
    writer.write(UInt32(truncatingIfNeeded: payload.count))
    writer.write(raw: payload)
    writer.write(ContentHash.checksum(writer.bytes))
    return writer.bytes
  }
}

/// Where a chunk is: its sequence index and the byte offset of its frame header.
public struct ChunkLocation: Sendable, Hashable, CustomStringConvertible {
  public var index: UInt64
  public var offset: UInt64

  public init(index: UInt64, offset: UInt64) {
    self.index = index
    self.offset = offset
  }

  public var description: String { "chunk \(index) at byte offset \(offset)" }
}

/// A chunk's frame, without its payload.
public struct ChunkInfo: Sendable, Hashable {
  public var location: ChunkLocation
  public var kindRaw: UInt16
  public var isCompressed: Bool
  /// Payload bytes in the file.
  public var storedLength: UInt32
  /// Payload bytes after decompression.
  public var rawLength: UInt32

  public var kind: ChunkKind? { ChunkKind(rawValue: kindRaw) }
  public var index: UInt64 { location.index }
  public var offset: UInt64 { location.offset }
  /// Frame header plus stored payload: the distance to the next chunk.
  public var totalBytes: UInt64 { UInt64(RecordingFormat.chunkFrameSize) + UInt64(storedLength) }
}

/// A chunk with its (decompressed) payload.
public struct Chunk: Sendable, Equatable {
  public var info: ChunkInfo
  public var payload: [UInt8]

  public var kind: ChunkKind? { info.kind }
  public var kindRaw: UInt16 { info.kindRaw }
  public var index: UInt64 { info.index }
  public var offset: UInt64 { info.offset }
  public var location: ChunkLocation { info.location }
}

/// The 40-byte chunk frame header (see docs/recording-format.md).
struct ChunkFrame: Equatable {
  var kindRaw: UInt16
  var flags: UInt16
  var storedLength: UInt32
  var rawLength: UInt32
  var sequence: UInt64
  /// XXH3-64 over frame bytes 0..<24 followed by the stored payload.
  var checksum: UInt64 = 0
  /// XXH3-64 over frame bytes 0..<32, so lengths can be trusted before the payload is read.
  var frameCheck: UInt64 = 0

  /// Bytes 0..<24: the fields both checksums cover.
  func fieldBytes() -> [UInt8] {
    var writer = ByteWriter(capacity: RecordingFormat.chunkFrameSize)
    writer.write(raw: RecordingFormat.chunkMagic)
    writer.write(kindRaw)
    writer.write(flags)
    writer.write(storedLength)
    writer.write(rawLength)
    writer.write(sequence)
    return writer.bytes
  }

  static func payloadChecksum(fields: [UInt8], payload: UnsafeRawBufferPointer) -> UInt64 {
    let hasher = Checksum64()
    hasher.update(fields)
    hasher.update(payload)
    return hasher.digest()
  }

  /// Fills in both checksums and returns the 40 header bytes.
  static func encode(
    kindRaw: UInt16, flags: UInt16, rawLength: UInt32, sequence: UInt64,
    payload: UnsafeRawBufferPointer
  ) -> [UInt8] {
    let frame = ChunkFrame(
      kindRaw: kindRaw, flags: flags, storedLength: UInt32(payload.count), rawLength: rawLength,
      sequence: sequence)
    var bytes = frame.fieldBytes()
    let checksum = payloadChecksum(fields: bytes, payload: payload)
    withUnsafeBytes(of: checksum.littleEndian) { bytes.append(contentsOf: $0) }
    let frameCheck = ContentHash.checksum(bytes)
    withUnsafeBytes(of: frameCheck.littleEndian) { bytes.append(contentsOf: $0) }
    return bytes
  }

  /// Decodes 40 header bytes (magic already checked by the caller; the frame check is not
  /// verified here).
  static func decode(_ bytes: [UInt8]) -> ChunkFrame {
    func integer<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
      var value: T = 0
      for i in 0..<MemoryLayout<T>.size { value |= T(bytes[offset + i]) << (8 * i) }
      return value
    }
    return ChunkFrame(
      kindRaw: integer(UInt16.self, at: 4), flags: integer(UInt16.self, at: 6),
      storedLength: integer(UInt32.self, at: 8), rawLength: integer(UInt32.self, at: 12),
      sequence: integer(UInt64.self, at: 16), checksum: integer(UInt64.self, at: 24),
      frameCheck: integer(UInt64.self, at: 32))
  }
}
