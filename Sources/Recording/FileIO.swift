import Glibc

/// Positional file I/O on a raw descriptor: no shared file position, so a reader can serve
/// several threads and the writer always writes exactly at the end it tracks.
enum FileIO {
  /// Writes all of `parts` at `offset` with pwritev: one system call in the normal case (so a
  /// chunk is never split into several writes), looping only on a short write or EINTR.
  /// Returns 0 or an errno.
  static func writeAll(fd: Int32, offset: UInt64, parts: [UnsafeRawBufferPointer]) -> Int32 {
    var pending = parts.filter { $0.count > 0 }
    var position = offset
    while !pending.isEmpty {
      var vectors = pending.map {
        iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count)
      }
      let written = vectors.withUnsafeMutableBufferPointer {
        pwritev(fd, $0.baseAddress, Int32($0.count), off_t(position))
      }
      if written < 0 {
        if errno == EINTR { continue }
        return errno
      }
      if written == 0 { return EIO }
      position += UInt64(written)
      var skip = written
      while skip > 0, let first = pending.first {
        if skip >= first.count {
          skip -= first.count
          pending.removeFirst()
        } else {
          pending[0] = UnsafeRawBufferPointer(rebasing: first[skip...])
          skip = 0
        }
      }
    }
    return 0
  }

  /// Reads up to `count` bytes at `offset`; fewer only at end of file.
  static func read(fd: Int32, offset: UInt64, count: Int) -> Result<[UInt8], ReadFailure> {
    var failure: Int32 = 0
    let bytes = [UInt8](unsafeUninitializedCapacity: max(count, 1)) { buffer, initialized in
      initialized = 0
      while initialized < count {
        let got = pread(
          fd, buffer.baseAddress.map { $0 + initialized }, count - initialized,
          off_t(offset + UInt64(initialized)))
        if got < 0 {
          if errno == EINTR { continue }
          failure = errno
          return
        }
        if got == 0 { return }
        initialized += got
      }
    }
    return failure == 0 ? .success(bytes) : .failure(ReadFailure(errno: failure))
  }

  struct ReadFailure: Error {
    var errno: Int32
  }

  static func size(fd: Int32) -> Result<UInt64, ReadFailure> {
    var info = stat()
    guard fstat(fd, &info) == 0 else { return .failure(ReadFailure(errno: errno)) }
    return .success(UInt64(max(info.st_size, 0)))
  }
}
