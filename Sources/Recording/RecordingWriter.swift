import Glibc

/// Appends chunks to a new recording file.
///
/// Crash safety: every chunk (frame header + payload) goes to the file in one pwritev at the
/// tracked end offset, so a recorder killed at any moment leaves at most one torn chunk at the
/// tail, which readers report as `.truncated` after the intact prefix. Data is in the page cache
/// once `append` returns (it survives the process being killed); `flush()` makes it durable
/// against power loss.
///
/// Thread-safe: appends from several threads are serialized; compression runs outside the lock.
public final class RecordingWriter: Sendable {
  public let path: String
  public let header: RecordingHeader
  private let syncEveryChunk: Bool
  private let state: LockedValue<State>
  /// One zstd context for all appends (its own lock: compression stays outside `state`'s).
  private let compressor = LockedValue(ZstdCompressor())

  private struct State {
    var fd: Int32
    var isOpen = true
    /// Set when a failed write could not be rolled back; the tail may be torn.
    var isPoisoned = false
    var nextIndex: UInt64 = 0
    var endOffset: UInt64
    var rawPayloadBytes: UInt64 = 0
  }

  /// Creates (or truncates) `path` and writes the header. `syncEveryChunk` fdatasyncs after
  /// each append (slow; normally call `flush()` at checkpoints instead).
  public init(path: String, header: RecordingHeader, syncEveryChunk: Bool = false)
    throws(RecordingError)
  {
    var header = header
    header.formatVersion = RecordingFormat.version
    let bytes = header.encodeFileHeader()
    let payloadSize =
      bytes.count - RecordingFormat.fileHeaderPrefixSize - RecordingFormat.fileHeaderChecksumSize
    guard payloadSize <= RecordingFormat.maxHeaderPayload else {
      throw .headerTooLarge(path: path, size: payloadSize, limit: RecordingFormat.maxHeaderPayload)
    }
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw .io(path: path, operation: "create", errno: errno) }
    let status = bytes.withUnsafeBytes { FileIO.writeAll(fd: fd, offset: 0, parts: [$0]) }
    if status == 0, syncEveryChunk, fdatasync(fd) != 0 {
      let code = errno
      Glibc.close(fd)
      throw .io(path: path, operation: "fdatasync", errno: code)
    }
    guard status == 0 else {
      Glibc.close(fd)
      throw .io(path: path, operation: "write header", errno: status)
    }
    self.path = path
    self.header = header
    self.syncEveryChunk = syncEveryChunk
    self.state = LockedValue(State(fd: fd, endOffset: UInt64(bytes.count)))
  }

  deinit {
    state.withLock { state in
      if state.isOpen { Glibc.close(state.fd) }
      state.isOpen = false
    }
  }

  /// File size so far (header plus every appended chunk).
  public var bytesWritten: UInt64 { state.withLock { $0.endOffset } }
  /// Number of chunks appended, which is also the index the next chunk gets.
  public var chunkCount: UInt64 { state.withLock { $0.nextIndex } }
  /// Sum of the appended payloads before compression.
  public var rawPayloadBytes: UInt64 { state.withLock { $0.rawPayloadBytes } }

  /// Appends one chunk. With `compress`, the payload is stored zstd-compressed only if that
  /// makes it strictly smaller.
  @discardableResult
  public func append(_ kind: ChunkKind, payload: [UInt8], compress: Bool = true)
    throws(RecordingError)
    -> ChunkLocation
  {
    try append(kind, payload: payload, compressionLevel: compress ? Zstd.defaultLevel : nil)
  }

  /// Appends one chunk, compressed at `compressionLevel` (nil: stored as is) if that makes it
  /// strictly smaller. Every level decodes the same way; lower ones are faster.
  @discardableResult
  public func append(_ kind: ChunkKind, payload: [UInt8], compressionLevel: Int32?)
    throws(RecordingError) -> ChunkLocation
  {
    // withUnsafeBytes rethrows untyped errors, so carry the typed error out in a Result.
    let result = payload.withUnsafeBytes { buffer in
      Result { () throws(RecordingError) -> ChunkLocation in
        try append(kindRaw: kind.rawValue, payload: buffer, compressionLevel: compressionLevel)
      }
    }
    return try result.get()
  }

  @discardableResult
  public func append(_ kind: ChunkKind, payload: UnsafeRawBufferPointer, compress: Bool = true)
    throws(RecordingError) -> ChunkLocation
  {
    try append(kindRaw: kind.rawValue, payload: payload, compress: compress)
  }

  /// Appends a chunk of any kind number (kinds this build does not know are for newer engines
  /// and for forward-compatibility tests).
  @discardableResult
  public func append(kindRaw: UInt16, payload: UnsafeRawBufferPointer, compress: Bool)
    throws(RecordingError)
    -> ChunkLocation
  {
    try append(kindRaw: kindRaw, payload: payload, compressionLevel: compress ? Zstd.defaultLevel : nil)
  }

  @discardableResult
  public func append(kindRaw: UInt16, payload: UnsafeRawBufferPointer, compressionLevel: Int32?)
    throws(RecordingError)
    -> ChunkLocation
  {
    guard payload.count <= RecordingFormat.maxChunkPayload else {
      throw .chunkTooLarge(path: path, size: payload.count, limit: RecordingFormat.maxChunkPayload)
    }
    let compressed = compressionLevel.flatMap { level in
      compressor.withLock { $0.compressIfSmaller(payload, level: level) }
    }
    let result = (compressed ?? []).withUnsafeBytes { compressedBuffer in
      let stored = compressed == nil ? payload : compressedBuffer
      let flags = compressed == nil ? 0 : RecordingFormat.flagCompressed
      return Result { () throws(RecordingError) -> ChunkLocation in
        try write(kindRaw: kindRaw, flags: flags, rawLength: payload.count, stored: stored)
      }
    }
    return try result.get()
  }

  private func write(kindRaw: UInt16, flags: UInt16, rawLength: Int, stored: UnsafeRawBufferPointer)
    throws(RecordingError) -> ChunkLocation
  {
    try state.withLock { (state) throws(RecordingError) -> ChunkLocation in
      guard state.isOpen, !state.isPoisoned else { throw .writerClosed(path: path) }
      let location = ChunkLocation(index: state.nextIndex, offset: state.endOffset)
      let frame = ChunkFrame.encode(
        kindRaw: kindRaw, flags: flags, rawLength: UInt32(rawLength), sequence: location.index,
        payload: stored)
      let status = frame.withUnsafeBytes { frameBuffer in
        FileIO.writeAll(fd: state.fd, offset: location.offset, parts: [frameBuffer, stored])
      }
      guard status == 0 else {
        // Cut off whatever part of the chunk reached the file so later appends start clean.
        if ftruncate(state.fd, off_t(location.offset)) != 0 { state.isPoisoned = true }
        throw .io(path: path, operation: "write \(location)", errno: status)
      }
      state.nextIndex += 1
      state.endOffset += UInt64(frame.count + stored.count)
      state.rawPayloadBytes += UInt64(rawLength)
      // The chunk is in the file either way; a failed sync only means it may not be durable.
      if syncEveryChunk, fdatasync(state.fd) != 0 {
        throw .io(path: path, operation: "fdatasync after \(location)", errno: errno)
      }
      return location
    }
  }

  /// Makes everything appended so far durable (fdatasync).
  public func flush() throws(RecordingError) {
    try state.withLock { (state) throws(RecordingError) in
      guard state.isOpen else { throw .writerClosed(path: path) }
      guard fdatasync(state.fd) == 0 else {
        throw .io(path: path, operation: "fdatasync", errno: errno)
      }
    }
  }

  /// Flushes and closes the file. Closing twice is harmless.
  public func close() throws(RecordingError) {
    try state.withLock { (state) throws(RecordingError) in
      guard state.isOpen else { return }
      state.isOpen = false
      let syncFailed = fdatasync(state.fd) != 0 ? errno : 0
      let closeFailed = Glibc.close(state.fd) != 0 ? errno : 0
      if syncFailed != 0 { throw .io(path: path, operation: "fdatasync", errno: syncFailed) }
      if closeFailed != 0 { throw .io(path: path, operation: "close", errno: closeFailed) }
    }
  }
}
