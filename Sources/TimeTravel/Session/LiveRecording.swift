import KVM
import Machine

/// The frontier of a session that is still recording (`record --gdb --wait`): a live machine,
/// run by a `Runner` and logged by a `Recorder` into the session's recording file. The session
/// replays that file for everything behind the frontier; going forward past its end runs this
/// machine and the recording grows (issue: "continue past the recorded end keeps recording").
public final class LiveRecording {
  public let path: String
  let platform: Platform
  let runner: Runner
  let recorder: Recorder
  let events: HostEvents
  /// How the guest ended the run, once it has.
  public private(set) var outcome: RecordedOutcome?

  /// `platform` is loaded and `recorder` has taken its first snapshot into `path`. The guest
  /// gets no serial input (stdin belongs to the debugger's terminal). `pacer` paces guest time
  /// by the host clock (tests pass one with a clock of their own).
  public init(path: String, platform: Platform, recorder: Recorder, pacer: HostPacedClockSource = HostPacedClockSource()) {
    self.path = path
    self.platform = platform
    self.recorder = recorder
    events = HostEvents()
    events.closeInput()
    runner = Runner(platform: platform, events: events, pacer: pacer)
    recorder.attach(to: runner)
  }

  /// Runs the live guest until it ends or pauses, then brings the file up to date.
  /// `watchedPages` are taken out of KVM's view for the run, so `stopAtAccess` sees every access
  /// to them (read and access watchpoints).
  func advance(
    breakpoints: [UInt64], singleStep: Bool, watchedPages: Set<Int> = [],
    stopAtAccess: ([MMIOExit]) -> Bool = { _ in false }, pauseRequested: () -> Bool
  ) throws -> RunAdvance {
    var result: RunAdvance
    do {
      try watch(watchedPages)
      defer { try? watch([]) }
      if breakpoints.count > runner.arming.capacity {
        // More breakpoints than the host's method holds: one instruction at a time, rip checked.
        repeat {
          result = try runner.advance(singleStep: true, stopAtAccess: stopAtAccess, pauseRequested: pauseRequested)
          if case .paused(.stepped) = result, let rip = try? platform.vcpu.registers().rip, breakpoints.contains(rip) {
            result = .paused(.breakpoint(rip))
          }
          if result == .paused(.stepped) && pauseRequested() { result = .paused(.requested) }
        } while result == .paused(.stepped)
      } else {
        result = try runner.advance(
          breakpoints: breakpoints, singleStep: singleStep, stopAtAccess: stopAtAccess, pauseRequested: pauseRequested)
      }
    } catch let fault as GuestFault {
      outcome = .fault(summary: fault.summary)
      try recorder.finish(outcome: .fault(summary: fault.summary), runner: runner)
      runner.finish()
      return .ended(.reset(source: "fault"))
    }
    switch result {
    case .ended(let o):
      let recorded: RecordedOutcome
      switch o {
      case .debugExit(let v): recorded = .debugExit(value: v)
      case .reset(let s): recorded = .reset(source: s)
      case .userQuit: recorded = .userQuit
      }
      outcome = recorded
      try recorder.finish(outcome: recorded, runner: runner)
      runner.finish()
    case .paused:
      try recorder.paused(afterExit: runner.exitIndex, platform: platform)
    }
    return result
  }

  /// Maps all RAM but `pages` into KVM, the recorder's dirty log harvested first.
  private func watch(_ pages: Set<Int>) throws {
    try recorder.tracker.unmapRAMPages(pages, of: platform)
  }
}
