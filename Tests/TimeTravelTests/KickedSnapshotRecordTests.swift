import Recording
import Testing

@testable import TimeTravel

/// The `kicked` chunk's payload (docs/recording-format.md): what is written reads back the same,
/// and a damaged payload is refused by the field it breaks, never trusted.
struct KickedSnapshotRecordTests {
  let record = KickedSnapshotRecord(
    position: 4230, groupIndex: 1877, sampleIndex: 9001, outputBytes: 512, state: Array(0..<200),
    changedPages: [(page: 3, hash: Hash128(high: 1, low: 2)), (page: 70, hash: Hash128(high: 3, low: 4))])

  @Test func roundTrip() throws {
    let decoded = try KickedSnapshotRecord(decoding: record.encoded(), baseOffset: 0)
    #expect(decoded == record)
    var other = record
    other.changedPages[1].page = 71
    #expect(decoded != other)
  }

  @Test func aCutPayloadNamesTheFieldItEndsIn() {
    let bytes = record.encoded()
    // Cut inside the second page's hash: the last field read.
    #expect(throws: ByteReaderError.self) { try KickedSnapshotRecord(decoding: Array(bytes.dropLast(3)), baseOffset: 100) }
    do {
      _ = try KickedSnapshotRecord(decoding: Array(bytes.prefix(12)), baseOffset: 100)
      Issue.record("a 12-byte payload was accepted")
    } catch {
      #expect(error.field == "kickedSnapshot.groupIndex", "\(error)")
    }
  }

  @Test func aPageCountTheChunkCannotHoldIsRefused() {
    var bytes = record.encoded()
    // The count sits right before the 2 x 20 bytes of pages.
    let countAt = bytes.count - 2 * 20 - 4
    bytes.replaceSubrange(countAt..<countAt + 4, with: [0xff, 0xff, 0xff, 0x7f])
    do {
      _ = try KickedSnapshotRecord(decoding: bytes, baseOffset: 0)
      Issue.record("a page count of 0x7fffffff was accepted")
    } catch {
      #expect(error.field == "kickedSnapshot.pageCount", "\(error)")
    }
  }
}
