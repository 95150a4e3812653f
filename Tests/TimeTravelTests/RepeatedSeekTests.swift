import Recording
import Testing

@testable import TimeTravel

/// Many seeks back and forth in one session, on guests whose interrupts land at kicked points,
/// give the same state as one seek in a fresh session.
@Suite(.serialized)
struct RepeatedSeekTests {
  @Test(arguments: ["spin", "mixed"])
  func repeatedSeeksMatchFreshSeeks(guest: String) throws {
    let session = try RecordingCache.shared.session(of: guest)
    let end = session.endPosition.exit
    var rng = SplitMix64(seed: 0x5EE4 ^ UInt64(guest.count))
    var targets: [UInt64] = [101, 95, 91].filter { $0 < end }
    for _ in 0..<25 { targets.append(rng.next() % end) }
    for target in targets {
      _ = try session.seek(to: Position(exit: target))
      let fresh = try RecordingCache.shared.session(of: guest)
      _ = try fresh.seek(to: Position(exit: target))
      #expect(try session.stateHash() == fresh.stateHash(), "seek to \(target) after others")
    }
  }
}
