import Foundation
import Testing

@testable import Recording

struct DamageTests {
  /// Every prefix of a small recording: a header error before the first chunk, afterwards
  /// exactly the chunks that fit and a `.truncated` report naming the next one.
  @Test func everyTruncationPoint() throws {
    let scratch = ScratchDirectory()
    let recording = try SmallRecording.make(in: scratch)
    let path = scratch.path("cut.rvrec")
    #expect(recording.bytes.count > 2000)
    #expect(recording.chunks.contains { $0.info.isCompressed })
    #expect(recording.chunks.contains { $0.payload.isEmpty })
    for length in 0...recording.bytes.count {
      try writeFile(path, Array(recording.bytes.prefix(length)))
      if length < recording.headerEnd {
        do {
          _ = try RecordingReader(path: path)
          Issue.record("header cut at \(length) bytes was accepted")
        } catch {
          guard case .headerTruncated(_, _, let available) = error else {
            Issue.record("length \(length): \(error)")
            continue
          }
          #expect(available == UInt64(length))
        }
        continue
      }
      let scan = try RecordingReader(path: path).readChunks()
      let fitting = recording.chunks.filter { recording.end(of: $0) <= length }
      #expect(scan.chunks == fitting, "length \(length)")
      if let next = recording.chunks.first(where: { recording.end(of: $0) > length }) {
        let available = UInt64(length) - next.offset
        if available == 0 {
          // Cut exactly between chunks: indistinguishable from a shorter complete recording.
          #expect(scan.damage == nil, "length \(length)")
        } else {
          let expectedBytes = available < 40 ? 40 : next.info.totalBytes
          #expect(
            scan.damage
              == .truncated(
                chunkIndex: next.index, offset: next.offset, expectedBytes: expectedBytes,
                availableBytes: available),
            "length \(length)")
        }
      } else {
        #expect(scan.damage == nil)
      }
      #expect(
        scan.intactLength
          == UInt64(fitting.last.map { recording.end(of: $0) } ?? recording.headerEnd))
    }
  }

  /// Single-bit flips anywhere: the header is refused, a chunk is reported at its own index.
  @Test func randomBitFlips() throws {
    let scratch = ScratchDirectory()
    let recording = try SmallRecording.make(in: scratch, seed: 9)
    let path = scratch.path("flip.rvrec")
    var rng = SplitMix64(seed: 0xF11B)
    for _ in 0..<2000 {
      let bit = Int(rng.next() % UInt64(recording.bytes.count * 8))
      var bytes = recording.bytes
      bytes[bit / 8] ^= UInt8(1 << (bit % 8))
      try writeFile(path, bytes)
      guard let k = recording.chunkIndex(containing: bit / 8) else {
        #expect(throws: RecordingError.self, "flip of bit \(bit) in the header") {
          try RecordingReader(path: path)
        }
        continue
      }
      let reader = try RecordingReader(path: path)
      let scan = reader.readChunks()
      #expect(scan.chunks == Array(recording.chunks.prefix(k)), "bit \(bit)")
      guard case .corrupt(let index, let offset, _) = scan.damage else {
        Issue.record("bit \(bit) in chunk \(k): \(String(describing: scan.damage))")
        continue
      }
      #expect(index == UInt64(k) && offset == recording.chunks[k].offset, "bit \(bit)")
      #expect(reader.verify().damage == scan.damage)
      #expect(throws: RecordingError.self) { try reader.chunk(at: recording.chunks[k].location) }
    }
  }

  /// Arbitrary garbage (overwritten runs, random files, random lengths): never a crash or hang.
  @Test func randomGarbage() throws {
    let scratch = ScratchDirectory()
    let recording = try SmallRecording.make(in: scratch, seed: 3)
    let path = scratch.path("garbage.rvrec")
    var rng = SplitMix64(seed: 77)
    for round in 0..<500 {
      var bytes = recording.bytes
      switch round % 3 {
      case 0:
        let start = Int(rng.next() % UInt64(bytes.count))
        let run = randomBytes(Int(rng.next() % 64) + 1, &rng)
        for (i, byte) in run.enumerated() where start + i < bytes.count { bytes[start + i] = byte }
      case 1:
        bytes = Array(bytes.prefix(recording.headerEnd)) + randomBytes(Int(rng.next() % 2000), &rng)
      default:
        bytes = randomBytes(Int(rng.next() % 300), &rng)
        if round % 2 == 0 { bytes = RecordingFormat.magic + bytes }
      }
      try writeFile(path, bytes)
      if let reader = try? RecordingReader(path: path) {
        let scan = reader.readChunks()
        _ = reader.verify().description
        _ = scan.damage?.description
      }
    }
  }

  @Test func reorderedDuplicatedAndMissingChunks() throws {
    let scratch = ScratchDirectory()
    // Equal-sized chunks so the offsets line up whatever the order.
    let path = scratch.path("order.rvrec")
    let writer = try RecordingWriter(path: path, header: sampleHeader())
    for i in 0..<5 {
      try writer.append(.events, payload: [UInt8](repeating: UInt8(i), count: 100), compress: false)
    }
    try writer.close()
    let original = try readFile(path)
    let reader = try RecordingReader(path: path)
    let chunks = reader.readChunks().chunks
    let headerBytes = Array(original.prefix(Int(reader.firstChunkOffset)))
    let pieces = chunks.map {
      Array(original[Int($0.offset)..<Int($0.offset + $0.info.totalBytes)])
    }

    func damage(_ order: [Int]) throws -> RecordingDamage? {
      try writeFile(path, headerBytes + order.flatMap { pieces[$0] })
      return try RecordingReader(path: path).readChunks().damage
    }
    #expect(try damage([0, 1, 2, 3, 4]) == nil)
    #expect(
      try damage([0, 2, 1, 3, 4])
        == .corrupt(
          chunkIndex: 1, offset: chunks[1].offset, reason: .sequenceMismatch(found: 2, expected: 1))
    )
    #expect(
      try damage([0, 1, 1, 2, 3])
        == .corrupt(
          chunkIndex: 2, offset: chunks[2].offset, reason: .sequenceMismatch(found: 1, expected: 2))
    )
    #expect(
      try damage([0, 1, 3, 4])
        == .corrupt(
          chunkIndex: 2, offset: chunks[2].offset, reason: .sequenceMismatch(found: 3, expected: 2))
    )
    let message = try damage([0, 2]).map { "\($0)" } ?? ""
    #expect(
      message.contains("chunk 1 at byte offset \(chunks[1].offset): sequence number 2, expected 1"))
  }

  @Test func damageDescriptionsNameChunkAndOffset() throws {
    let scratch = ScratchDirectory()
    let recording = try SmallRecording.make(in: scratch)
    let path = scratch.path("described.rvrec")
    var bytes = recording.bytes
    let target = recording.chunks[3]
    bytes[Int(target.offset) + 40] ^= 0x10  // first payload byte
    try writeFile(path, bytes)
    let damage = try #require(try RecordingReader(path: path).readChunks().damage)
    #expect(
      "\(damage)".hasPrefix("chunk 3 at byte offset \(target.offset): checksum mismatch (stored 0x")
    )
    #expect("\(damage)".contains(", computed 0x"))
    let error = RecordingError.damaged(path: path, damage)
    #expect(error.description.hasPrefix(path + ": chunk 3"))
  }

  @Test func tailGarbage() throws {
    let scratch = ScratchDirectory()
    let recording = try SmallRecording.make(in: scratch)
    let path = scratch.path("tail.rvrec")
    let last = try #require(recording.chunks.last)
    let end = UInt64(recording.bytes.count)

    try writeFile(path, recording.bytes + [UInt8](repeating: 0, count: 4096))
    var scan = try RecordingReader(path: path).readChunks()
    #expect(scan.chunks.count == recording.chunks.count)
    #expect(
      scan.damage
        == .corrupt(
          chunkIndex: last.index + 1, offset: end, reason: .badMagic(found: [0, 0, 0, 0])))
    #expect(scan.damage?.description.contains("zero-filled") == true)

    try writeFile(path, recording.bytes + Array("RV".utf8))
    scan = try RecordingReader(path: path).readChunks()
    #expect(
      scan.damage
        == .truncated(chunkIndex: last.index + 1, offset: end, expectedBytes: 40, availableBytes: 2)
    )

    try writeFile(path, recording.bytes + Array("hello".utf8))
    scan = try RecordingReader(path: path).readChunks()
    #expect(
      scan.damage
        == .corrupt(
          chunkIndex: last.index + 1, offset: end, reason: .badMagic(found: Array("hell".utf8))))
  }

  /// Frames with valid checksums but impossible contents (a buggy or hostile writer).
  @Test func craftedFrames() throws {
    let scratch = ScratchDirectory()
    let path = scratch.path("crafted.rvrec")
    let fileHeader = sampleHeader().encodeFileHeader()
    let offset = UInt64(fileHeader.count)

    func reason(kind: UInt16 = 1, flags: UInt16, rawLength: UInt32, payload: [UInt8]) throws
      -> ChunkCorruption?
    {
      let frame = payload.withUnsafeBytes {
        ChunkFrame.encode(
          kindRaw: kind, flags: flags, rawLength: rawLength, sequence: 0, payload: $0)
      }
      try writeFile(path, fileHeader + frame + payload)
      let damage = try RecordingReader(path: path).readChunks().damage
      guard case .corrupt(0, offset, let reason) = damage else { return nil }
      return reason
    }

    let packed = Zstd.compress(compressibleBytes(100))
    #expect(try reason(flags: 1, rawLength: 100, payload: packed) == nil)  // control: valid
    #expect(
      try reason(flags: 1, rawLength: 200, payload: packed)
        == .decompressedSizeMismatch(expected: 200, actual: 100))
    #expect(
      try reason(flags: 1, rawLength: UInt32(RecordingFormat.maxChunkPayload) + 1, payload: packed)
        == .lengthTooLarge(
          field: "raw length", value: UInt32(RecordingFormat.maxChunkPayload) + 1,
          limit: RecordingFormat.maxChunkPayload))
    if case .decompressionFailed = try reason(
      flags: 1, rawLength: 100, payload: Array("garbage!".utf8))
    {
    } else {
      Issue.record("garbage zstd payload accepted")
    }
    #expect(try reason(flags: 4, rawLength: 3, payload: [1, 2, 3]) == .unsupportedFlags(4))
    #expect(
      try reason(flags: 0, rawLength: 4, payload: [1, 2, 3]) == .lengthMismatch(stored: 3, raw: 4))

    // A stored length far beyond the file, with a valid frame check: truncation, not allocation.
    var frame = [UInt8](repeating: 0, count: 0)
    frame =
      ChunkFrame(
        kindRaw: 1, flags: 0, storedLength: 200_000_000, rawLength: 200_000_000, sequence: 0
      )
      .fieldBytes() + [UInt8](repeating: 0, count: 8)
    withUnsafeBytes(of: ContentHash.checksum(frame).littleEndian) { frame.append(contentsOf: $0) }
    try writeFile(path, fileHeader + frame + [1, 2, 3])
    #expect(
      try RecordingReader(path: path).readChunks().damage
        == .truncated(chunkIndex: 0, offset: offset, expectedBytes: 200_000_040, availableBytes: 43)
    )
  }

  @Test func headerErrors() throws {
    let scratch = ScratchDirectory()
    let path = scratch.path("header.rvrec")
    let good = sampleHeader().encodeFileHeader()

    func openError(_ bytes: [UInt8]) throws -> RecordingError? {
      try writeFile(path, bytes)
      do {
        _ = try RecordingReader(path: path)
        return nil
      } catch {
        return error
      }
    }

    #expect(try openError(good) == nil)
    let elf = try #require(
      try openError([0x7F] + Array("ELF".utf8) + [UInt8](repeating: 0, count: 60)))
    #expect(elf.description == "\(path): not a Retrovisor recording (bad magic at offset 0)")

    var newer = good
    newer[5] = 2
    let version = try #require(try openError(newer))
    guard case .unsupportedVersion(_, 2, 1) = version else {
      Issue.record("\(version)")
      return
    }
    #expect(version.description.contains("version 2") && version.description.contains("version 1"))

    var huge = good
    huge[10] = 0x7F  // header length ~2 GiB: refused before any allocation
    guard case .headerInvalid(_, let field) = try #require(try openError(huge)) else {
      Issue.record("huge header length accepted")
      return
    }
    #expect(field.field == "header length" && field.offset == 7)

    var flipped = good
    flipped[20] ^= 1
    guard case .headerChecksumMismatch = try #require(try openError(flipped)) else {
      Issue.record("header payload flip not detected")
      return
    }

    // Valid checksum over an invalid payload: the error names the field and its offset.
    var writer = ByteWriter()
    writer.write(raw: RecordingFormat.magic)
    writer.write(RecordingFormat.version)
    writer.write(UInt32(6))
    writer.write(UInt32(2))
    writer.write(raw: [0xC3, 0x28])  // invalid UTF-8
    writer.write(ContentHash.checksum(writer.bytes))
    guard case .headerInvalid(_, let bad) = try #require(try openError(writer.bytes)) else {
      Issue.record("invalid UTF-8 accepted")
      return
    }
    #expect(bad.field == "imageName" && bad.offset == 11)
  }
}
