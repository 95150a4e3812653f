import Testing

@testable import Machine

/// Live pacing: guest time follows host time, except while held and for the engine's own work.
@Suite struct HostPacedClockTests {
  /// A host clock the test moves by hand.
  final class FakeHostTime {
    var now: UInt64 = 1_000_000_000
  }

  @Test func guestTimeFollowsHostTime() {
    let host = FakeHostTime()
    let pacer = HostPacedClockSource(now: { host.now })
    host.now += 4_000_000
    #expect(pacer.elapsed() == 4_000_000)
    #expect(pacer.sample(current: 0) == 4_000_000)
  }

  @Test func recorderWorkIsNotGuestTime() {
    let host = FakeHostTime()
    let pacer = HostPacedClockSource(now: { host.now })
    host.now += 1_000_000  // the guest runs 1 ms
    host.now += 30_000_000  // a snapshot takes 30 ms
    pacer.exclude(30_000_000)
    #expect(pacer.elapsed() == 1_000_000)
    host.now += 2_000_000
    #expect(pacer.elapsed() == 3_000_000)
  }

  @Test func excludingWhileHeldChangesNothing() {
    let host = FakeHostTime()
    let pacer = HostPacedClockSource(now: { host.now })
    host.now += 5_000_000
    pacer.hold()
    host.now += 50_000_000
    pacer.exclude(10_000_000)  // within the held stretch, already not counted
    pacer.release()
    #expect(pacer.elapsed() == 5_000_000)
  }

  @Test func tickServiceStallsGuestTime() {
    let host = FakeHostTime()
    let pacer = HostPacedClockSource(now: { host.now })
    host.now += 4_000_000  // a tick is due
    pacer.stall(true)  // injected: the guest services it
    host.now += 7_000_000  // longer than a 4 ms period, on a slow host
    #expect(pacer.elapsed() == 4_000_000)
    pacer.stall(true)  // the Runner asks every turn: no new stretch
    pacer.exclude(1_000_000)  // inside the stall: already not counted
    pacer.stall(false)
    #expect(pacer.elapsed() == 4_000_000)
    host.now += 4_000_000  // a whole period of the guest's own work before the next tick
    #expect(pacer.elapsed() == 8_000_000)
  }

  @Test func holdingEndsAStall() {
    let host = FakeHostTime()
    let pacer = HostPacedClockSource(now: { host.now })
    host.now += 2_000_000
    pacer.stall(true)
    host.now += 3_000_000
    pacer.hold()
    #expect(!pacer.isStalled)
    host.now += 50_000_000
    pacer.release()
    host.now += 1_000_000
    #expect(pacer.elapsed() == 3_000_000)
  }
}
