import Foundation

@testable import Recording

func randomBytes(_ count: Int, _ rng: inout SplitMix64) -> [UInt8] {
  var bytes = [UInt8](repeating: 0, count: count)
  var i = 0
  while i < count {
    let word = rng.next()
    for shift in stride(from: 0, to: 64, by: 8) where i < count {
      bytes[i] = UInt8(truncatingIfNeeded: word >> UInt64(shift))
      i += 1
    }
  }
  return bytes
}

/// Text-like data that zstd compresses well.
func compressibleBytes(_ count: Int, seed: Int = 0) -> [UInt8] {
  let line = Array(
    "port 0x3f8 <- 0x\(String(seed, radix: 16)) at exit 12345; rip=0xffffffff81000000\n".utf8)
  return (0..<count).map { line[$0 % line.count] }
}

/// A per-test scratch directory, removed when the value is dropped.
final class ScratchDirectory {
  let url: URL
  init() {
    url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "rvrec-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }
  deinit { try? FileManager.default.removeItem(at: url) }
  func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

func sampleHeader(extra: [String: String] = ["engine": "test", "cpu": "model-1"]) -> RecordingHeader {
  RecordingHeader(
    imageName: "guests/hello.elf", imageHash: ContentHash.of(Array("image".utf8)),
    machineConfiguration: [1, 2, 3, 4, 5, 0xff], createdUnixSeconds: 1_750_000_000, extra: extra)
}

func readFile(_ path: String) throws -> [UInt8] {
  [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
  try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// A small recording (header + chunks of mixed kinds, some compressed) and where its chunks are.
struct SmallRecording {
  var bytes: [UInt8]
  var headerEnd: Int
  var chunks: [Chunk]

  static func make(in scratch: ScratchDirectory, chunkCount: Int = 6, seed: UInt64 = 1) throws
    -> SmallRecording
  {
    var rng = SplitMix64(seed: seed)
    let path = scratch.path("small-\(seed).rvrec")
    let writer = try RecordingWriter(path: path, header: sampleHeader())
    let kinds: [ChunkKind] = [.events, .snapshot, .pages, .index, .end]
    for i in 0..<chunkCount {
      let payload: [UInt8] =
        switch i % 3 {
        case 0: compressibleBytes(3000 + i * 100, seed: i)
        case 1: randomBytes(900 + i * 100, &rng)
        default: []
        }
      try writer.append(kinds[i % kinds.count], payload: payload)
    }
    try writer.close()
    let reader = try RecordingReader(path: path)
    let scan = reader.readChunks()
    precondition(scan.damage == nil && scan.chunks.count == chunkCount)
    return SmallRecording(
      bytes: try readFile(path), headerEnd: Int(reader.firstChunkOffset), chunks: scan.chunks)
  }

  /// Index of the chunk containing byte `position` (nil inside the header).
  func chunkIndex(containing position: Int) -> Int? {
    chunks.lastIndex { Int($0.offset) <= position }
  }

  func end(of chunk: Chunk) -> Int { Int(chunk.offset + chunk.info.totalBytes) }
}
