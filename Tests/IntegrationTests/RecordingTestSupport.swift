import Foundation
import TestSupport
import Testing

// Helpers shared by the record/replay integration tests (RecordReplayTests, RecordingDamageTests,
// SeekTests): the `mixed` guest's expectation, a seeded random generator, temporary directories,
// a process runner that tells a crash (uncaught signal) from an exit status, and parsers for the
// output of `retrovisor info` and `retrovisor replay`.

/// The parent of RecordReplayTests, RecordingDamageTests and SeekTests: `.serialized` here runs
/// those suites one after another rather than side by side. Each already runs two CLI processes
/// at once at most, and replay must not be starved of CPU (CI has 2 cores).
@Suite(.serialized) enum RecordingIntegrationTests {}

/// The `mixed` guest (timer ticks, allocation, CRCs; kicked points): the longest test guest, ~1 s.
let mixedExpectation = GuestExpectation(
  name: "mixed",
  output: """
    mixed start
    mixed: tick 10 items 20 crc 0xac22dad4
    mixed: tick 20 items 40 crc 0xb6903f00
    mixed: tick 30 items 60 crc 0x084c9fc2
    mixed: tick 40 items 80 crc 0x94f5cdb1
    mixed: tick 50 items 100 crc 0x2d1ba0e4
    mixed: tick 60 items 120 crc 0x74e07587
    mixed: tick 70 items 140 crc 0x3f76e86f
    mixed: tick 80 items 160 crc 0x9af3660b
    mixed: tick 90 items 180 crc 0xf698a98a
    mixed: tick 100 items 200 crc 0xc6d810e4
    mixed done

    """, status: 1)

/// Every guest a recording test covers: the `run` expectations plus `mixed`.
let recordedGuests: [GuestExpectation] = guestExpectations + [mixedExpectation]

/// Guests that busy-wait without exits, so their timer interrupts are injected at kicked points.
let spinningGuestNames: Set<String> = ["spin", "mixed"]

let ticksExpectation = guestExpectations.first { $0.name == "ticks" }!

/// Replays per recording in RecordReplayTests: $RETROVISOR_REPLAYS, default 20.
let replaysPerRecording: Int = {
  ProcessInfo.processInfo.environment["RETROVISOR_REPLAYS"].flatMap { Int($0) }.map { max(1, $0) } ?? 20
}()

/// The seed for all random choices: $RETROVISOR_SEED, or a fixed default so runs are repeatable.
/// Failure messages print it; rerun with the same value to get the same delays, positions, flips.
let testSeed: UInt64 = {
  ProcessInfo.processInfo.environment["RETROVISOR_SEED"].flatMap { UInt64($0) } ?? 0x5EED_2026
}()

/// SplitMix64: small, fast, and the same sequence on every platform for a given seed.
struct SeededGenerator: RandomNumberGenerator {
  private var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  /// A generator for one test, derived from the run seed and a per-test salt.
  init(_ salt: String) {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a of the salt, mixed into the seed
    for b in salt.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    self.init(seed: testSeed ^ h)
  }
}

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct TemporaryDirectory {
  let url: URL
  init(_ label: String) throws {
    url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "retrovisor-\(label)-\(getpid())-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }
  func path(_ name: String) -> String { url.appendingPathComponent(name).path }
  func remove() { try? FileManager.default.removeItem(at: url) }
}

/// Runs `body` with a temporary directory that is deleted afterwards, also when `body` throws.
func withTemporaryDirectory<T>(_ label: String, _ body: (TemporaryDirectory) throws -> T) throws -> T {
  let dir = try TemporaryDirectory(label)
  defer { dir.remove() }
  return try body(dir)
}

/// The result of one command, keeping what `ProcessResult` drops: the raw stdout bytes and
/// whether the process died of a signal (a Swift runtime trap is SIGTRAP/SIGILL on Linux, whose
/// numbers would otherwise look like exit statuses 5 and 4).
struct ToolResult: CustomStringConvertible {
  var status: Int32
  var signaled: Bool
  var stdoutData: Data
  var stderr: String
  var timedOut: Bool
  var stdout: String { String(decoding: stdoutData, as: UTF8.self) }
  /// Both streams, for looking for a message wherever the command prints it.
  var allOutput: String { stdout + "\n" + stderr }

  /// A crash, not a controlled exit: killed by a signal (directly, or as a shell reports it with
  /// 128+N), or a Swift runtime failure message.
  var crashed: Bool {
    signaled || status >= 128 || stderr.contains("Fatal error") || stderr.contains("Segmentation fault")
      || stderr.contains("Illegal instruction") || stderr.contains("Trace/breakpoint trap")
  }

  var description: String {
    let trimmed = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
    let tail = trimmed.count > 600 ? "…" + trimmed.suffix(600) : Substring(trimmed)
    return "status \(status)\(signaled ? " (signal)" : "")\(timedOut ? " (timed out)" : ""), stderr: \(tail)"
  }
}

/// Runs `executable` with a timeout; stdin is empty (closed) unless given.
func runTool(_ executable: String, _ arguments: [String], stdin: Data? = nil, timeout: TimeInterval = 60) throws
  -> ToolResult
{
  var attempt = 0
  while true {
    do {
      let exit = try ChildProcess.run(executable, arguments, stdin: stdin, timeout: timeout)
      return ToolResult(
        status: exit.status, signaled: exit.signaled, stdoutData: exit.stdout,
        stderr: String(decoding: exit.stderr, as: UTF8.self), timedOut: exit.timedOut)
    } catch let error as ChildProcess.SpawnError where error.code == ETXTBSY && attempt < 100 {
      // The binary is being relinked by a concurrent `swift build`: wait for the linker to finish.
      attempt += 1
      Thread.sleep(forTimeInterval: 0.1)
    }
  }
}

/// Runs the retrovisor CLI.
func runRetrovisor(_ arguments: [String], stdin: Data? = nil, timeout: TimeInterval = 60) throws -> ToolResult {
  try runTool(TestPaths.retrovisor, arguments, stdin: stdin, timeout: timeout)
}

/// Quotes `s` for /bin/sh.
func shellQuoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

/// A value shared between threads behind a lock.
final class LockedBox<Value>: @unchecked Sendable {
  private let lock = NSLock()
  private var stored: Value
  init(_ value: Value) { stored = value }
  var value: Value { lock.withLock { stored } }
  func set(_ value: Value) { lock.withLock { stored = value } }
  func update<R>(_ body: (inout Value) -> R) -> R { lock.withLock { body(&stored) } }
}

/// Runs `body(i)` for i in 0..<count on `width` threads at most; returns the results in order.
/// Use for many short, independent CLI runs (CI has 2 cores). `body` must not use #expect: issues
/// recorded off the test's task are not attributed to it. Collect and check afterwards instead.
func concurrentMap<T>(_ count: Int, width: Int = 2, _ body: @Sendable (Int) -> T) -> [T] {
  let results = LockedBox([T?](repeating: nil, count: count))
  let next = LockedBox(0)
  DispatchQueue.concurrentPerform(iterations: max(1, min(width, count))) { _ in
    while true {
      let i = next.update { n -> Int in
        defer { n += 1 }
        return n
      }
      if i >= count { return }
      let r = body(i)
      results.update { $0[i] = r }
    }
  }
  return results.value.map { $0! }
}

/// Times `body`, for reporting how long the bulk loops take.
func timed<T>(_ body: () throws -> T) rethrows -> (T, TimeInterval) {
  let start = Date()
  let r = try body()
  return (r, Date().timeIntervalSince(start))
}

// MARK: Recording

/// Records `guest` into `file`. The echo guest gets its input through a shell pipe in pieces,
/// split at random places and sent after random pauses, so input arrives while the guest runs.
func recordGuest(
  _ guest: GuestExpectation, to file: String, using rng: inout SeededGenerator, timeout: TimeInterval = 60
) throws -> ToolResult {
  guard let input = guest.input else {
    return try runRetrovisor(["record", TestPaths.guest(guest.name), "-o", file], timeout: timeout)
  }
  let bytes = Array(input.utf8)
  var cuts = Set<Int>()
  for _ in 0..<Int.random(in: 1...4, using: &rng) { cuts.insert(Int.random(in: 1..<bytes.count, using: &rng)) }
  let bounds = [0] + cuts.sorted() + [bytes.count]
  var script = "("
  for (a, b) in zip(bounds, bounds.dropFirst()) where a < b {
    let delay = Double.random(in: 0.0...0.25, using: &rng)
    let piece = String(decoding: bytes[a..<b], as: UTF8.self).replacingOccurrences(of: "\n", with: "\\n")
    script += String(format: "sleep %.3f; ", delay) + "printf \(shellQuoted(piece)); "
  }
  script +=
    ") | \(shellQuoted(TestPaths.retrovisor)) record \(shellQuoted(TestPaths.guest(guest.name))) -o \(shellQuoted(file))"
  return try runTool("/bin/sh", ["-c", script], timeout: timeout)
}

/// Stops the test unless the recording replays whole without divergence: tests that compare
/// states within it mean nothing otherwise (and would report the same divergence at every step).
func requireCleanReplay(_ file: String, of guest: GuestExpectation) throws {
  let replay = try runRetrovisor(["replay", "-q", file], timeout: 20)
  try #require(replay.status == guest.status && !replay.crashed, "the recording does not replay: \(replay)")
}

/// What `retrovisor info` says about a recording it could open.
struct RecordingInfo {
  var exits: UInt64
  var complete: Bool
  var snapshots: Int
  /// The sum of the per-kind chunk counts.
  var chunkCount: Int
  /// N in "checksums      all N chunks verified", nil when damaged.
  var verifiedChunks: Int?
  var damage: String?
  /// K in "events ... K at kicked points".
  var kickedPoints: Int

  init?(_ text: String) {
    guard let e = text.firstMatch(of: /(?m)^exits +(\d+)/), let exits = UInt64(e.1) else { return nil }
    self.exits = exits
    complete = !text.contains("(log complete through this position)")
    snapshots = text.firstMatch(of: /(?m)^snapshots +(\d+)/).flatMap { Int($0.1) } ?? 0
    chunkCount = text.matches(of: #/(?m)^  \S+ +(\d+) chunks, /#).compactMap { Int($0.1) }.reduce(0, +)
    verifiedChunks = text.firstMatch(of: /(?m)^checksums +all (\d+) chunks verified$/).flatMap { Int($0.1) }
    damage = text.firstMatch(of: /(?m)^checksums +DAMAGED: (.*)$/).map { String($0.1) }
    kickedPoints = text.firstMatch(of: /(?m)^events .* (\d+) at kicked points/).flatMap { Int($0.1) } ?? 0
  }
}

/// "replayed to position P: K snapshot hashes verified" from `replay -v`.
func replayVerification(_ stderr: String) -> (position: UInt64, verified: Int)? {
  guard let m = stderr.firstMatch(of: /replayed to position (\d+): (\d+) snapshot hashes verified/),
    let p = UInt64(m.1), let k = Int(m.2)
  else { return nil }
  return (p, k)
}

/// The part of `replay --to N` output from the "position N" line on (the position, an optional
/// state hash and the registers), without any console output printed before it.
func stateReport(_ stdout: String) -> String? {
  guard let r = stdout.range(of: "position ", options: .backwards) else { return nil }
  // The console output is not newline-terminated at an arbitrary stop, so take the last match.
  return String(stdout[r.lowerBound...])
}

/// The length of the file header (prefix, payload, checksum): bytes before the first chunk.
func recordingHeaderLength(_ bytes: [UInt8]) -> Int {
  guard bytes.count >= 11 else { return bytes.count }
  return 11 + littleEndianU32(bytes, at: 7) + 8
}

func littleEndianU32(_ bytes: [UInt8], at i: Int) -> Int {
  Int(bytes[i]) | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2]) << 16 | Int(bytes[i + 3]) << 24
}

/// The byte offset of every chunk frame after the header (docs/recording-format.md: a 40-byte
/// frame with the stored payload length S at bytes 8..<12; the next chunk starts 40 + S later).
func recordingChunkOffsets(_ bytes: [UInt8]) -> [Int] {
  var offsets: [Int] = []
  var offset = recordingHeaderLength(bytes)
  while offset + 40 <= bytes.count {
    offsets.append(offset)
    offset += 40 + littleEndianU32(bytes, at: offset + 8)
  }
  return offsets
}

/// The chunk holding byte `offset` (nil: in the header): its index and frame offset.
func chunkContaining(_ offset: Int, chunkOffsets: [Int]) -> (index: Int, offset: Int)? {
  guard let i = chunkOffsets.lastIndex(where: { $0 <= offset }) else { return nil }
  return (i, chunkOffsets[i])
}

/// "chunk K at byte offset O" from a damage message.
func reportedChunk(_ message: String) -> (index: Int, offset: Int)? {
  guard let m = message.firstMatch(of: /chunk (\d+) at byte offset (\d+)/), let k = Int(m.1), let o = Int(m.2) else {
    return nil
  }
  return (k, o)
}
