import Foundation
import Testing

@testable import Recording

struct RoundTripTests {
  @Test func headerAndHundredChunks() throws {
    let scratch = ScratchDirectory()
    let path = scratch.path("round-trip.rvrec")
    var rng = SplitMix64(seed: 2024)
    let header = sampleHeader()
    let writer = try RecordingWriter(path: path, header: header)

    var expected: [(kindRaw: UInt16, payload: [UInt8], location: ChunkLocation)] = []
    let kinds = ChunkKind.allCases.map(\.rawValue) + [77]  // 77: a kind from a future version
    for i in 0..<100 {
      let payload: [UInt8] =
        switch i {
        case 0: []
        case 10: randomBytes(1 << 20, &rng)
        case 11: compressibleBytes(1 << 20, seed: i)
        default:
          i % 2 == 0
            ? compressibleBytes(Int(rng.next() % 65_536), seed: i)
            : randomBytes(Int(rng.next() % 65_536), &rng)
        }
      let kindRaw = kinds[i % kinds.count]
      let compress = i % 7 != 3  // some compressible chunks stored raw on purpose
      let location = try payload.withUnsafeBytes {
        try writer.append(kindRaw: kindRaw, payload: $0, compress: compress)
      }
      #expect(location.index == UInt64(i))
      expected.append((kindRaw, payload, location))
    }
    #expect(writer.chunkCount == 100)
    let written = writer.bytesWritten
    try writer.close()
    try writer.close()  // idempotent
    #expect(throws: RecordingError.self) { try writer.append(.events, payload: [1]) }

    let reader = try RecordingReader(path: path)
    #expect(reader.header == header)
    #expect(reader.header.formatVersion == RecordingFormat.version)
    #expect(reader.fileSize == written)

    let scan = reader.readChunks()
    #expect(scan.damage == nil)
    #expect(scan.intactLength == written)
    #expect(scan.chunks.count == 100)
    for (chunk, want) in zip(scan.chunks, expected) {
      #expect(chunk.kindRaw == want.kindRaw)
      #expect(chunk.kind == ChunkKind(rawValue: want.kindRaw))
      #expect(chunk.location == want.location)
      #expect(chunk.payload == want.payload)
      #expect(chunk.info.rawLength == UInt32(want.payload.count))
      #expect(try reader.chunk(at: want.location) == chunk)
    }
    #expect(
      scan.chunks.filter { $0.kind == nil }.count == expected.filter { $0.kindRaw == 77 }.count)

    // Frame-only scan agrees with the full scan.
    let directory = reader.scanChunks(verifyPayloads: false)
    #expect(directory.damage == nil)
    #expect(directory.chunks == scan.chunks.map(\.info))

    // The iterator yields the same chunks lazily.
    var iterator = reader.makeChunkIterator()
    var count = 0
    while let chunk = iterator.next() {
      #expect(chunk == scan.chunks[count])
      count += 1
    }
    #expect(count == 100 && iterator.damage == nil)

    let report = reader.verify()
    #expect(report.isIntact)
    #expect(report.chunkCount == 100)
    #expect(report.chunksByKind[77] == expected.filter { $0.kindRaw == 77 }.count)
    #expect(
      report.chunksByKind[ChunkKind.events.rawValue] == expected.filter { $0.kindRaw == 1 }.count)
    #expect(report.rawPayloadBytes == UInt64(expected.map(\.payload.count).reduce(0, +)))
    #expect(report.storedPayloadBytes < report.rawPayloadBytes)
    #expect(report.compressionRatio < 1)
    #expect(report.intactBytes == written)
    #expect(report.description.contains("unknown kind 77"))
  }

  @Test func compressionOnlyWhenItPays() throws {
    let scratch = ScratchDirectory()
    let path = scratch.path("compression.rvrec")
    var rng = SplitMix64(seed: 5)
    let writer = try RecordingWriter(path: path, header: sampleHeader())
    let text = compressibleBytes(64 * 1024)
    let noise = randomBytes(64 * 1024, &rng)
    try writer.append(.pages, payload: text, compress: true)
    try writer.append(.pages, payload: noise, compress: true)
    try writer.append(.pages, payload: text, compress: false)
    try writer.append(.events, payload: [42], compress: true)
    try writer.close()

    let chunks = try RecordingReader(path: path).readChunks().chunks
    #expect(chunks.map(\.info.isCompressed) == [true, false, false, false])
    #expect(chunks[0].info.storedLength < UInt32(text.count / 10))
    #expect(chunks[1].info.storedLength == UInt32(noise.count))
    #expect(chunks[2].info.storedLength == UInt32(text.count))
    #expect(chunks.map(\.payload) == [text, noise, text, [42]])
  }

  @Test func emptyRecordingAndHeaderFields() throws {
    let scratch = ScratchDirectory()
    let path = scratch.path("empty.rvrec")
    var header = sampleHeader(extra: [:])
    header.imageName = "ünïcode ✓"
    header.machineConfiguration = []
    try RecordingWriter(path: path, header: header).close()
    let reader = try RecordingReader(path: path)
    #expect(reader.header == header)
    let scan = reader.readChunks()
    #expect(scan.chunks.isEmpty && scan.damage == nil)
    #expect(reader.verify().description.contains("no end chunk"))
  }

  @Test func unsafeBufferAppendAndUnbufferedLocation() throws {
    let scratch = ScratchDirectory()
    let path = scratch.path("buffer.rvrec")
    let writer = try RecordingWriter(path: path, header: sampleHeader(), syncEveryChunk: true)
    let page = [UInt8](repeating: 0xAB, count: 4096)
    let location = try page.withUnsafeBytes { try writer.append(.pages, payload: $0) }
    try writer.flush()
    // A reader opened while the writer is still open sees what was appended so far.
    let reader = try RecordingReader(path: path)
    #expect(try reader.chunk(at: location).payload == page)
    // A location with the wrong index is refused rather than misread.
    #expect(throws: RecordingError.self) {
      try reader.chunk(at: ChunkLocation(index: 3, offset: location.offset))
    }
    #expect(throws: RecordingError.self) {
      try reader.chunk(at: ChunkLocation(index: 0, offset: 0))
    }
    #expect(throws: RecordingError.self) {
      try reader.chunk(at: ChunkLocation(index: 1, offset: reader.fileSize + 100))
    }
    try writer.close()
  }

  @Test func oversizedPayloadIsRefused() throws {
    let scratch = ScratchDirectory()
    let writer = try RecordingWriter(path: scratch.path("big.rvrec"), header: sampleHeader())
    // Never touched: the size check comes first.
    let huge = UnsafeMutableRawBufferPointer.allocate(
      byteCount: RecordingFormat.maxChunkPayload + 1, alignment: 8)
    defer { huge.deallocate() }
    #expect(throws: RecordingError.self) {
      try writer.append(.snapshot, payload: UnsafeRawBufferPointer(huge))
    }
    #expect(writer.chunkCount == 0)
  }

  @Test func concurrentAppends() async throws {
    let scratch = ScratchDirectory()
    let path = scratch.path("concurrent.rvrec")
    let writer = try RecordingWriter(path: path, header: sampleHeader())
    try await withThrowingTaskGroup(of: Void.self) { group in
      for task in 0..<8 {
        group.addTask {
          for i in 0..<25 {
            try writer.append(.events, payload: compressibleBytes(500 + i, seed: task))
          }
        }
      }
      try await group.waitForAll()
    }
    try writer.close()
    let scan = try RecordingReader(path: path).readChunks()
    #expect(scan.damage == nil)
    #expect(scan.chunks.count == 200)
  }

  @Test func openErrorsNameTheFile() {
    let missing = "/nonexistent-dir/none.rvrec"
    do {
      _ = try RecordingReader(path: missing)
      Issue.record("opened a missing file")
    } catch {
      #expect(error.description.contains(missing))
      #expect(error.description.contains("No such file or directory"))
    }
    #expect(throws: RecordingError.self) {
      try RecordingWriter(path: missing, header: sampleHeader())
    }
  }
}
