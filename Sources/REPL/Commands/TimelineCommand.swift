import Foundation
import TimeTravel

extension Command {
  static let timeline = Command(
    "timeline", usage: "timeline [N|all]",
    summary: "what happens around now: events, snapshots, bookmarks (N either side, default 5)",
    details: """
      One line per position: recorded deliveries (timer deadlines with the guest time, serial
      input, interrupts at kicked points), snapshots, bookmarks, the start and the end.
      `=> ` marks the current position.
      """
  ) { repl, inv in
    let radius: Int
    switch inv.arguments {
    case "": radius = 5
    case "all": radius = Int.max / 4
    default:
      guard let n = Int(inv.arguments), n >= 1 else { throw REPLError("timeline takes a number of entries or all") }
      radius = n
    }
    try repl.showTimeline(radius: radius)
  }
}

extension REPL {
  func showTimeline(radius: Int) throws {
    let archive = session.archive
    let now = try session.position()
    var labels: [Position: [String]] = [:]
    func add(_ p: Position, _ label: String) { labels[p, default: []].append(label) }
    add(.start, "start")
    for s in archive.snapshotPositions { add(Position(exit: s), "snapshot") }
    for g in archive.eventGroups {
      var parts: [String] = []
      for a in g.actions {
        switch a {
        case .time(let t): parts.append("timer (guest time \(String(format: "%.3f", Double(t) / 1e6)) ms)")
        case .input(let bytes):
          parts.append("serial input \"\(escaped(Array(bytes.prefix(24))))\"" + (bytes.count > 24 ? "..." : ""))
        }
      }
      let what = parts.isEmpty ? "delivery" : parts.joined(separator: ", ")
      add(Position(exit: g.position), g.kick == nil ? what : "\(what) at a kicked point later in this interval")
    }
    for (name, p) in session.bookmarks { add(p, "bookmark \(name)") }
    let end = session.endPosition
    add(end, "end" + (archive.outcome.map { ": \($0)" } ?? " of the log"))
    add(now, "now")
    for key in labels.keys { labels[key] = labels[key]!.sorted { rank($0) < rank($1) } }
    let positions = labels.keys.sorted()
    let here = positions.firstIndex(of: now)!
    let shown = positions[max(0, here - radius)...min(positions.count - 1, here + radius)]
    let width = shown.map { $0.description.count }.max() ?? 1
    for p in shown {
      let marker = p == now ? "=> " : "   "
      console.line(marker + style.position(pad(p.description, width)) + "  " + labels[p]!.joined(separator: "; "))
    }
  }

  /// Order of labels at one position: start, snapshot, events, bookmarks, end, now.
  private func rank(_ label: String) -> Int {
    if label == "start" { return 0 }
    if label == "snapshot" { return 1 }
    if label.hasPrefix("bookmark") { return 3 }
    if label.hasPrefix("end") { return 4 }
    if label == "now" { return 5 }
    return 2
  }
}
