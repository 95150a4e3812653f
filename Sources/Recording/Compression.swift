import CZstd

public enum ZstdError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The declared decompressed size is above the caller's cap; nothing was allocated.
  case sizeLimitExceeded(size: Int, limit: Int)
  /// The zstd frame header declares a different content size than the caller expected.
  case frameSizeMismatch(declared: UInt64, expected: Int)
  /// The data decompressed to a different number of bytes than expected.
  case sizeMismatch(expected: Int, actual: Int)
  /// libzstd reported an error (corrupt data, output larger than declared, ...).
  case failed(String)

  public var description: String {
    switch self {
    case .sizeLimitExceeded(let size, let limit):
      "decompressed size \(size) exceeds the limit of \(limit) bytes"
    case .frameSizeMismatch(let declared, let expected):
      "zstd frame declares \(declared) bytes, expected \(expected)"
    case .sizeMismatch(let expected, let actual):
      "decompressed to \(actual) bytes, expected \(expected)"
    case .failed(let message):
      "zstd: \(message)"
    }
  }
}

/// zstd one-shot compression of chunk payloads.
public enum Zstd {
  public static let defaultLevel: Int32 = 3
  /// Default cap for `decompress`: sizes come from files, so never allocate more than this.
  public static let defaultDecompressionLimit = 1 << 30

  /// Compresses `source` into a single zstd frame (with its content size recorded).
  public static func compress(_ source: UnsafeRawBufferPointer, level: Int32 = defaultLevel)
    -> [UInt8]
  {
    let bound = ZSTD_compressBound(source.count)
    // With capacity >= ZSTD_compressBound, ZSTD_compress cannot run out of room.
    return compress(source, level: level, capacity: bound) ?? []
  }

  public static func compress(_ source: [UInt8], level: Int32 = defaultLevel) -> [UInt8] {
    source.withUnsafeBytes { compress($0, level: level) }
  }

  /// Compresses only if the result is strictly smaller than `source`; nil if it does not pay.
  /// Allocates at most `source.count - 1` bytes (zstd stops when the output would not fit).
  public static func compressIfSmaller(
    _ source: UnsafeRawBufferPointer, level: Int32 = defaultLevel
  )
    -> [UInt8]?
  {
    guard source.count > 1 else { return nil }
    return compress(source, level: level, capacity: source.count - 1)
  }

  private static func compress(_ source: UnsafeRawBufferPointer, level: Int32, capacity: Int)
    -> [UInt8]?
  {
    var failed = false
    let result = [UInt8](unsafeUninitializedCapacity: max(capacity, 1)) { buffer, count in
      let written = ZSTD_compress(
        buffer.baseAddress, capacity, source.baseAddress, source.count, level)
      if ZSTD_isError(written) != 0 {
        failed = true
        count = 0
      } else {
        count = written
      }
    }
    return failed ? nil : result
  }

  /// Decompresses `source`, which must decompress to exactly `expectedSize` bytes. The size is
  /// checked against `limit` before anything is allocated, and the output buffer is exactly
  /// `expectedSize` bytes, so data that would expand further fails instead of growing.
  public static func decompress(
    _ source: UnsafeRawBufferPointer, expectedSize: Int, limit: Int = defaultDecompressionLimit
  ) throws(ZstdError) -> [UInt8] {
    guard expectedSize >= 0, expectedSize <= limit else {
      throw .sizeLimitExceeded(size: expectedSize, limit: limit)
    }
    let declared = ZSTD_getFrameContentSize(source.baseAddress, source.count)
    // ZSTD_CONTENTSIZE_ERROR is (0ULL - 2), ZSTD_CONTENTSIZE_UNKNOWN is (0ULL - 1).
    if declared == UInt64.max - 1 {
      throw .failed("not a zstd frame")
    }
    if declared != UInt64.max, declared != UInt64(expectedSize) {
      throw .frameSizeMismatch(declared: declared, expected: expectedSize)
    }
    var failure: ZstdError?
    let output = [UInt8](unsafeUninitializedCapacity: max(expectedSize, 1)) { buffer, count in
      let produced = ZSTD_decompress(
        buffer.baseAddress, expectedSize, source.baseAddress, source.count)
      count = 0
      if ZSTD_isError(produced) != 0 {
        failure = .failed(String(cString: ZSTD_getErrorName(produced)))
      } else if produced != expectedSize {
        failure = .sizeMismatch(expected: expectedSize, actual: produced)
      } else {
        count = produced
      }
    }
    if let failure { throw failure }
    return output
  }

  public static func decompress(
    _ source: [UInt8], expectedSize: Int, limit: Int = defaultDecompressionLimit
  ) throws(ZstdError) -> [UInt8] {
    // withUnsafeBytes rethrows untyped errors, so carry the typed error out in a Result.
    let result = source.withUnsafeBytes { buffer in
      Result { () throws(ZstdError) -> [UInt8] in
        try decompress(buffer, expectedSize: expectedSize, limit: limit)
      }
    }
    return try result.get()
  }
}

/// A reusable zstd compression context. `Zstd.compress` sets up (and, for large inputs,
/// page-faults in) a fresh context for every call; compressing chunk after chunk through one
/// context skips that. One user at a time: callers serialize access.
public final class ZstdCompressor {
  private let context: OpaquePointer

  public init() {
    // ZSTD_createCCtx only fails if malloc does.
    guard let context = ZSTD_createCCtx() else { fatalError("ZSTD_createCCtx: out of memory") }
    self.context = context
  }

  deinit { ZSTD_freeCCtx(context) }

  /// As `Zstd.compressIfSmaller`: a single frame with its content size, or nil if it does not pay.
  public func compressIfSmaller(_ source: UnsafeRawBufferPointer, level: Int32 = Zstd.defaultLevel) -> [UInt8]? {
    guard source.count > 1 else { return nil }
    let capacity = source.count - 1
    var failed = false
    let result = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
      let written = ZSTD_compressCCtx(context, buffer.baseAddress, capacity, source.baseAddress, source.count, level)
      if ZSTD_isError(written) != 0 {
        failed = true
        count = 0
      } else {
        count = written
      }
    }
    return failed ? nil : result
  }
}
