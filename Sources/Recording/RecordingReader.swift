import Glibc

/// Result of reading every chunk: the intact prefix with payloads, and the first damage.
public struct ChunkScan: Sendable {
  public var chunks: [Chunk]
  /// nil when the file ends exactly after the last chunk.
  public var damage: RecordingDamage?
  /// Byte offset just past the last intact chunk.
  public var intactLength: UInt64
}

/// Result of scanning frames without keeping payloads.
public struct ChunkDirectory: Sendable {
  public var chunks: [ChunkInfo]
  public var damage: RecordingDamage?
  public var intactLength: UInt64
}

/// Summary of a full check of a recording (`retrovisor verify`).
public struct VerificationReport: Sendable, CustomStringConvertible {
  public var path: String
  public var header: RecordingHeader
  public var fileBytes: UInt64
  /// Header plus intact chunks.
  public var intactBytes: UInt64
  public var chunkCount: Int
  /// Chunk counts by raw kind number (unknown kinds included).
  public var chunksByKind: [UInt16: Int]
  public var compressedChunks: Int
  public var storedPayloadBytes: UInt64
  public var rawPayloadBytes: UInt64
  /// Whether the intact prefix ends with an `end` chunk (the recorder finished normally).
  public var endsWithEndChunk: Bool
  public var damage: RecordingDamage?

  public var isIntact: Bool { damage == nil }

  /// Stored payload bytes per raw payload byte (1 when nothing was compressed).
  public var compressionRatio: Double {
    rawPayloadBytes == 0 ? 1 : Double(storedPayloadBytes) / Double(rawPayloadBytes)
  }

  public var description: String {
    var lines = ["\(path): Retrovisor recording, format version \(header.formatVersion)"]
    lines.append("  image: \(header.imageName) (\(header.imageHash))")
    lines.append("  chunks: \(chunkCount) intact, \(compressedChunks) compressed")
    for kind in chunksByKind.keys.sorted() {
      lines.append("    \(ChunkKind.name(of: kind)): \(chunksByKind[kind] ?? 0)")
    }
    let percent = (compressionRatio * 1000).rounded() / 10
    lines.append(
      "  payload: \(rawPayloadBytes) bytes raw, \(storedPayloadBytes) stored (\(percent)%)")
    lines.append("  file: \(fileBytes) bytes, \(intactBytes) intact")
    if let damage {
      lines.append("  damage: \(damage)")
    } else {
      lines.append(
        endsWithEndChunk
          ? "  status: intact" : "  status: intact, but no end chunk (recorder stopped early?)")
    }
    return lines.joined(separator: "\n")
  }
}

/// Reads a recording. The header is validated on open; chunks are read on demand with pread, so
/// large recordings need not fit in memory. Thread-safe (no shared file position). Sees the
/// file as it was when opened: chunks appended later are beyond `fileSize`.
public final class RecordingReader: Sendable {
  public let path: String
  public let header: RecordingHeader
  public let fileSize: UInt64
  /// Where chunk 0 starts.
  public let firstChunkOffset: UInt64
  private let fd: Int32

  public init(path: String) throws(RecordingError) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
    do throws(RecordingError) {
      let size: UInt64
      switch FileIO.size(fd: fd) {
      case .success(let value): size = value
      case .failure(let failure):
        throw RecordingError.io(path: path, operation: "stat", errno: failure.errno)
      }
      let (header, end) = try RecordingReader.readHeader(fd: fd, path: path, fileSize: size)
      self.path = path
      self.header = header
      self.fileSize = size
      self.firstChunkOffset = end
      self.fd = fd
    } catch {
      Glibc.close(fd)
      throw error
    }
  }

  deinit { Glibc.close(fd) }

  private static func read(fd: Int32, path: String, offset: UInt64, count: Int)
    throws(RecordingError) -> [UInt8]
  {
    switch FileIO.read(fd: fd, offset: offset, count: count) {
    case .success(let bytes): return bytes
    case .failure(let failure):
      throw .io(path: path, operation: "read header", errno: failure.errno)
    }
  }

  private static func readHeader(fd: Int32, path: String, fileSize: UInt64) throws(RecordingError)
    -> (RecordingHeader, UInt64)
  {
    let prefixSize = RecordingFormat.fileHeaderPrefixSize
    let prefix = try read(fd: fd, path: path, offset: 0, count: prefixSize)
    let magic = RecordingFormat.magic
    // A short file is "truncated" only if what is there could be the start of a recording.
    guard prefix.prefix(magic.count).elementsEqual(magic.prefix(min(prefix.count, magic.count)))
    else {
      throw .notARecording(path: path)
    }
    guard prefix.count == prefixSize else {
      throw .headerTruncated(
        path: path, expectedBytes: UInt64(prefixSize), availableBytes: UInt64(prefix.count))
    }
    var reader = ByteReader(prefix)
    do {
      _ = try reader.readBytes(count: magic.count, "magic")
      let version = try reader.readUInt16("format version")
      guard RecordingFormat.readableVersions.contains(version) else {
        throw RecordingError.unsupportedVersion(
          path: path, found: version, supported: RecordingFormat.version)
      }
      let payloadLength = Int(try reader.readUInt32("header length"))
      guard payloadLength <= RecordingFormat.maxHeaderPayload else {
        throw RecordingError.headerInvalid(
          path: path,
          ByteReaderError(
            field: "header length", offset: prefixSize - 4,
            reason: "\(payloadLength) exceeds the maximum of \(RecordingFormat.maxHeaderPayload)"))
      }
      let total = UInt64(prefixSize + payloadLength + RecordingFormat.fileHeaderChecksumSize)
      guard total <= fileSize else {
        throw RecordingError.headerTruncated(
          path: path, expectedBytes: total, availableBytes: fileSize)
      }
      let rest = try read(
        fd: fd, path: path, offset: UInt64(prefixSize),
        count: payloadLength + RecordingFormat.fileHeaderChecksumSize)
      guard rest.count == payloadLength + RecordingFormat.fileHeaderChecksumSize else {
        throw RecordingError.headerTruncated(
          path: path, expectedBytes: total, availableBytes: UInt64(prefixSize + rest.count))
      }
      let payload = Array(rest[0..<payloadLength])
      var tail = ByteReader(Array(rest[payloadLength...]), baseOffset: prefixSize + payloadLength)
      let stored = try tail.readUInt64("header checksum")
      let checksumHasher = Checksum64()
      checksumHasher.update(prefix)
      checksumHasher.update(payload)
      let computed = checksumHasher.digest()
      guard stored == computed else {
        throw RecordingError.headerChecksumMismatch(path: path, stored: stored, computed: computed)
      }
      let header = try RecordingHeader.decodePayload(
        payload, version: version, fileOffset: prefixSize)
      return (header, total)
    } catch let error as ByteReaderError {
      throw .headerInvalid(path: path, error)
    } catch let error as RecordingError {
      throw error
    } catch {
      // Unreachable: the block only throws the two types above.
      throw .headerInvalid(
        path: path, ByteReaderError(field: "header", offset: 0, reason: "\(error)"))
    }
  }

  // MARK: - Chunks

  enum PayloadMode {
    /// Trust the (separately checksummed) frame header; do not read the payload.
    case skip
    /// Read, checksum and decompress the payload, then drop it.
    case verify
    /// Read, check and return the payload.
    case load
  }

  enum FrameOutcome {
    case end
    case chunk(ChunkInfo, payload: [UInt8]?)
    case damage(RecordingDamage)
  }

  /// Reads and checks the chunk frame at `offset`, which must be chunk number `index`.
  func readFrame(at offset: UInt64, index: UInt64, mode: PayloadMode) -> FrameOutcome {
    guard offset < fileSize else {
      if offset == fileSize { return .end }
      return .damage(
        .truncated(
          chunkIndex: index, offset: offset, expectedBytes: UInt64(RecordingFormat.chunkFrameSize),
          availableBytes: 0))
    }
    let frameSize = RecordingFormat.chunkFrameSize
    let available = fileSize - offset
    func corrupt(_ reason: ChunkCorruption) -> FrameOutcome {
      .damage(.corrupt(chunkIndex: index, offset: offset, reason: reason))
    }
    func truncated(expected: UInt64, available: UInt64) -> FrameOutcome {
      .damage(
        .truncated(
          chunkIndex: index, offset: offset, expectedBytes: expected, availableBytes: available))
    }

    let head: [UInt8]
    switch FileIO.read(fd: fd, offset: offset, count: Int(min(UInt64(frameSize), available))) {
    case .success(let bytes): head = bytes
    case .failure(let failure):
      return .damage(.unreadable(chunkIndex: index, offset: offset, errno: failure.errno))
    }
    let magic = RecordingFormat.chunkMagic
    guard head.prefix(magic.count).elementsEqual(magic.prefix(min(head.count, magic.count))) else {
      return corrupt(.badMagic(found: Array(head.prefix(magic.count))))
    }
    guard head.count == frameSize else {
      return truncated(expected: UInt64(frameSize), available: UInt64(head.count))
    }
    let frame = ChunkFrame.decode(head)
    let frameCheck = ContentHash.checksum(Array(head[0..<32]))
    guard frameCheck == frame.frameCheck else {
      return corrupt(.frameChecksumMismatch(stored: frame.frameCheck, computed: frameCheck))
    }
    // From here the frame fields are as the writer wrote them (or the writer was broken).
    guard frame.flags & ~RecordingFormat.knownFlags == 0 else {
      return corrupt(.unsupportedFlags(frame.flags))
    }
    let limit = RecordingFormat.maxChunkPayload
    guard Int(frame.storedLength) <= limit else {
      return corrupt(
        .lengthTooLarge(field: "stored length", value: frame.storedLength, limit: limit))
    }
    guard Int(frame.rawLength) <= limit else {
      return corrupt(.lengthTooLarge(field: "raw length", value: frame.rawLength, limit: limit))
    }
    let isCompressed = frame.flags & RecordingFormat.flagCompressed != 0
    guard isCompressed || frame.storedLength == frame.rawLength else {
      return corrupt(.lengthMismatch(stored: frame.storedLength, raw: frame.rawLength))
    }
    guard frame.sequence == index else {
      return corrupt(.sequenceMismatch(found: frame.sequence, expected: index))
    }
    let info = ChunkInfo(
      location: ChunkLocation(index: index, offset: offset), kindRaw: frame.kindRaw,
      isCompressed: isCompressed,
      storedLength: frame.storedLength, rawLength: frame.rawLength)
    guard info.totalBytes <= available else {
      return truncated(expected: info.totalBytes, available: available)
    }
    if mode == .skip { return .chunk(info, payload: nil) }

    let stored: [UInt8]
    switch FileIO.read(fd: fd, offset: offset + UInt64(frameSize), count: Int(frame.storedLength)) {
    case .success(let bytes): stored = bytes
    case .failure(let failure):
      return .damage(.unreadable(chunkIndex: index, offset: offset, errno: failure.errno))
    }
    guard stored.count == Int(frame.storedLength) else {
      // The file shrank after it was opened.
      return truncated(expected: info.totalBytes, available: UInt64(frameSize + stored.count))
    }
    let checksum = stored.withUnsafeBytes {
      ChunkFrame.payloadChecksum(fields: Array(head[0..<24]), payload: $0)
    }
    guard checksum == frame.checksum else {
      return corrupt(.checksumMismatch(stored: frame.checksum, computed: checksum))
    }
    guard isCompressed else { return .chunk(info, payload: mode == .load ? stored : nil) }
    do {
      let raw = try Zstd.decompress(stored, expectedSize: Int(frame.rawLength), limit: limit)
      return .chunk(info, payload: mode == .load ? raw : nil)
    } catch {
      switch error {
      case .frameSizeMismatch(let declared, _):
        return corrupt(.decompressedSizeMismatch(expected: frame.rawLength, actual: declared))
      case .sizeMismatch(_, let actual):
        return corrupt(.decompressedSizeMismatch(expected: frame.rawLength, actual: UInt64(actual)))
      case .failed(let message):
        return corrupt(.decompressionFailed(message))
      case .sizeLimitExceeded:
        return corrupt(.lengthTooLarge(field: "raw length", value: frame.rawLength, limit: limit))
      }
    }
  }

  /// Iterates over the intact chunks, loading one payload at a time.
  public func makeChunkIterator() -> ChunkIterator {
    ChunkIterator(reader: self)
  }

  /// Every intact chunk with its payload, and the first damage.
  public func readChunks() -> ChunkScan {
    var iterator = makeChunkIterator()
    var chunks: [Chunk] = []
    while let chunk = iterator.next() { chunks.append(chunk) }
    return ChunkScan(
      chunks: chunks, damage: iterator.damage, intactLength: iterator.nextLocation.offset)
  }

  /// Frame information for every intact chunk without keeping payloads. With `verifyPayloads`
  /// false only the 40-byte frame headers are read (fast: e.g. to find the index chunk when
  /// opening a big recording); payload damage is then found only when a chunk is read.
  public func scanChunks(verifyPayloads: Bool = true) -> ChunkDirectory {
    var infos: [ChunkInfo] = []
    var offset = firstChunkOffset
    var index: UInt64 = 0
    while true {
      switch readFrame(at: offset, index: index, mode: verifyPayloads ? .verify : .skip) {
      case .end:
        return ChunkDirectory(chunks: infos, damage: nil, intactLength: offset)
      case .damage(let damage):
        return ChunkDirectory(chunks: infos, damage: damage, intactLength: offset)
      case .chunk(let info, _):
        infos.append(info)
        offset += info.totalBytes
        index += 1
      }
    }
  }

  /// Reads one chunk, checking its frame, sequence number, checksum and decompression.
  public func chunk(at location: ChunkLocation) throws(RecordingError) -> Chunk {
    guard location.offset >= firstChunkOffset else {
      throw .damaged(
        path: path,
        .corrupt(chunkIndex: location.index, offset: location.offset, reason: .badMagic(found: [])))
    }
    switch readFrame(at: location.offset, index: location.index, mode: .load) {
    case .chunk(let info, let payload):
      return Chunk(info: info, payload: payload ?? [])
    case .damage(let damage):
      throw .damaged(path: path, damage)
    case .end:
      throw .damaged(
        path: path,
        .truncated(
          chunkIndex: location.index, offset: location.offset,
          expectedBytes: UInt64(RecordingFormat.chunkFrameSize), availableBytes: 0))
    }
  }

  /// Checks every chunk (checksums and decompression) and summarizes the file.
  public func verify() -> VerificationReport {
    var report = VerificationReport(
      path: path, header: header, fileBytes: fileSize, intactBytes: firstChunkOffset, chunkCount: 0,
      chunksByKind: [:], compressedChunks: 0, storedPayloadBytes: 0, rawPayloadBytes: 0,
      endsWithEndChunk: false, damage: nil)
    let directory = scanChunks(verifyPayloads: true)
    for info in directory.chunks {
      report.chunkCount += 1
      report.chunksByKind[info.kindRaw, default: 0] += 1
      if info.isCompressed { report.compressedChunks += 1 }
      report.storedPayloadBytes += UInt64(info.storedLength)
      report.rawPayloadBytes += UInt64(info.rawLength)
    }
    report.endsWithEndChunk = directory.chunks.last?.kind == .end
    report.intactBytes = directory.intactLength
    report.damage = directory.damage
    return report
  }
}

/// Yields intact chunks in order; after `next()` returns nil, `damage` tells whether the file
/// ended cleanly.
public struct ChunkIterator: IteratorProtocol, Sequence, Sendable {
  let reader: RecordingReader
  /// The next chunk to read (after the end: just past the last intact chunk).
  public private(set) var nextLocation: ChunkLocation
  public private(set) var damage: RecordingDamage?
  private var finished = false

  init(reader: RecordingReader) {
    self.reader = reader
    self.nextLocation = ChunkLocation(index: 0, offset: reader.firstChunkOffset)
  }

  public mutating func next() -> Chunk? {
    guard !finished else { return nil }
    switch reader.readFrame(at: nextLocation.offset, index: nextLocation.index, mode: .load) {
    case .end:
      finished = true
      return nil
    case .damage(let found):
      damage = found
      finished = true
      return nil
    case .chunk(let info, let payload):
      nextLocation = ChunkLocation(index: info.index + 1, offset: info.offset + info.totalBytes)
      return Chunk(info: info, payload: payload ?? [])
    }
  }
}
