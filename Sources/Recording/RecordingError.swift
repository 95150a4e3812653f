import Glibc

/// Why a chunk is not intact.
public enum ChunkCorruption: Sendable, Equatable, CustomStringConvertible {
  /// The frame does not start with "RVCK" (the four bytes found, fewer at the end of the file).
  case badMagic(found: [UInt8])
  /// The frame header's own check (bytes 32..<40) does not match bytes 0..<32.
  case frameChecksumMismatch(stored: UInt64, computed: UInt64)
  /// The chunk checksum (bytes 24..<32) does not match the frame fields and stored payload.
  case checksumMismatch(stored: UInt64, computed: UInt64)
  /// Flag bits this version does not know (the file needs a newer reader, or is damaged).
  case unsupportedFlags(UInt16)
  /// A length field above `RecordingFormat.maxChunkPayload`.
  case lengthTooLarge(field: String, value: UInt32, limit: Int)
  /// An uncompressed chunk whose stored and raw lengths differ.
  case lengthMismatch(stored: UInt32, raw: UInt32)
  /// The chunk's sequence number is not its position: chunks reordered, duplicated or lost.
  case sequenceMismatch(found: UInt64, expected: UInt64)
  /// zstd rejected the stored payload.
  case decompressionFailed(String)
  /// The payload decompressed (or declares it decompresses) to another size than the frame says.
  case decompressedSizeMismatch(expected: UInt32, actual: UInt64)

  public var description: String {
    switch self {
    case .badMagic(let found):
      let hexBytes = found.map { byte in
        let digits = String(byte, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
      }.joined(separator: " ")
      let zeroHint =
        !found.isEmpty && found.allSatisfy({ $0 == 0 })
        ? " (zero-filled: likely data lost in a crash before it reached the disk)" : ""
      return "bad chunk magic [\(hexBytes)], expected \"RVCK\"\(zeroHint)"
    case .frameChecksumMismatch(let stored, let computed):
      return "frame header checksum mismatch (stored \(hex64(stored)), computed \(hex64(computed)))"
    case .checksumMismatch(let stored, let computed):
      return "checksum mismatch (stored \(hex64(stored)), computed \(hex64(computed)))"
    case .unsupportedFlags(let flags):
      return "unsupported flags \(hex64(UInt64(flags))) (written by a newer retrovisor?)"
    case .lengthTooLarge(let field, let value, let limit):
      return "\(field) \(value) exceeds the maximum of \(limit) bytes"
    case .lengthMismatch(let stored, let raw):
      return "uncompressed chunk with stored length \(stored) but raw length \(raw)"
    case .sequenceMismatch(let found, let expected):
      return
        "sequence number \(found), expected \(expected) (chunks reordered, duplicated or missing)"
    case .decompressionFailed(let message):
      return "decompression failed: \(message)"
    case .decompressedSizeMismatch(let expected, let actual):
      return "decompressed size \(actual) does not match the recorded \(expected)"
    }
  }
}

/// The first problem found while scanning chunks. Everything before `offset` is intact.
public enum RecordingDamage: Sendable, Equatable, CustomStringConvertible {
  /// The file ends inside this chunk: what a recorder killed mid-write leaves. `expectedBytes`
  /// is the chunk's full size when its frame header was readable, else the frame header size.
  case truncated(chunkIndex: UInt64, offset: UInt64, expectedBytes: UInt64, availableBytes: UInt64)
  /// The chunk is present but not valid.
  case corrupt(chunkIndex: UInt64, offset: UInt64, reason: ChunkCorruption)
  /// Reading the chunk failed with an I/O error (errno).
  case unreadable(chunkIndex: UInt64, offset: UInt64, errno: Int32)

  public var chunkIndex: UInt64 {
    switch self {
    case .truncated(let index, _, _, _), .corrupt(let index, _, _), .unreadable(let index, _, _):
      index
    }
  }

  public var offset: UInt64 {
    switch self {
    case .truncated(_, let offset, _, _), .corrupt(_, let offset, _), .unreadable(_, let offset, _):
      offset
    }
  }

  public var isTruncation: Bool {
    if case .truncated = self { true } else { false }
  }

  public var description: String {
    let place = "chunk \(chunkIndex) at byte offset \(offset)"
    switch self {
    case .truncated(_, _, let expected, let available):
      return "\(place): truncated (file ends after \(available) of \(expected) bytes; "
        + "the recorder was probably stopped while writing it)"
    case .corrupt(_, _, let reason):
      return "\(place): \(reason)"
    case .unreadable(_, _, let code):
      return "\(place): read failed: \(errnoDescription(code))"
    }
  }
}

public enum RecordingError: Error, Sendable, CustomStringConvertible {
  case io(path: String, operation: String, errno: Int32)
  /// The file does not start with "RVREC".
  case notARecording(path: String)
  case unsupportedVersion(path: String, found: UInt16, supported: UInt16)
  /// The file ends before the header does.
  case headerTruncated(path: String, expectedBytes: UInt64, availableBytes: UInt64)
  case headerChecksumMismatch(path: String, stored: UInt64, computed: UInt64)
  /// A header field is malformed (names the field and its file offset).
  case headerInvalid(path: String, ByteReaderError)
  /// Writing: the encoded header exceeds `RecordingFormat.maxHeaderPayload`.
  case headerTooLarge(path: String, size: Int, limit: Int)
  /// Writing: a payload exceeds `RecordingFormat.maxChunkPayload`.
  case chunkTooLarge(path: String, size: Int, limit: Int)
  /// Reading one chunk (`RecordingReader.chunk(at:)`) found it damaged.
  case damaged(path: String, RecordingDamage)
  /// The writer was closed, or an earlier write failure left it unusable.
  case writerClosed(path: String)

  public var description: String {
    switch self {
    case .io(let path, let operation, let code):
      return "\(path): \(operation) failed: \(errnoDescription(code))"
    case .notARecording(let path):
      return "\(path): not a Retrovisor recording (bad magic at offset 0)"
    case .unsupportedVersion(let path, let found, let supported):
      return "\(path): recording format version \(found) is not supported "
        + "(this retrovisor reads version \(supported)\(found > supported ? "; the file is newer" : ""))"
    case .headerTruncated(let path, let expected, let available):
      return "\(path): truncated header (file has \(available) bytes, the header needs \(expected))"
    case .headerChecksumMismatch(let path, let stored, let computed):
      return
        "\(path): header checksum mismatch (stored \(hex64(stored)), computed \(hex64(computed)))"
    case .headerInvalid(let path, let error):
      return "\(path): invalid header: \(error)"
    case .headerTooLarge(let path, let size, let limit):
      return "\(path): header of \(size) bytes exceeds the maximum of \(limit)"
    case .chunkTooLarge(let path, let size, let limit):
      return "\(path): chunk payload of \(size) bytes exceeds the maximum of \(limit); split it"
    case .damaged(let path, let damage):
      return "\(path): \(damage)"
    case .writerClosed(let path):
      return "\(path): recording writer is closed"
    }
  }
}

func hex64(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }

func errnoDescription(_ code: Int32) -> String {
  guard let message = strerror(code) else { return "errno \(code)" }
  return "\(String(cString: message)) (errno \(code))"
}
