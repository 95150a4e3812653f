import Foundation

/// An instant of a recording.
///
/// Time in a recording is counted in deterministic exits: every exit from KVM_RUN except a kick
/// (I/O, MMIO, HLT, interrupt window). Position `N` is the instant right after the engine has
/// handled exit N and before it delivers anything recorded at N; position 0 is the first
/// instruction. `N+I` is I instructions after position N (single-stepped, see docs/positions.md).
///
/// Text forms, the same in the CLI, the REPL and gdb's `monitor`: `1234`, `1234+56`, `start`, `end`.
public struct Position: Sendable, Hashable, Comparable, CustomStringConvertible {
  public var exit: UInt64
  public var instructions: UInt64

  public init(exit: UInt64, instructions: UInt64 = 0) {
    self.exit = exit
    self.instructions = instructions
  }

  public static let start = Position(exit: 0)

  public static func < (a: Position, b: Position) -> Bool {
    (a.exit, a.instructions) < (b.exit, b.instructions)
  }

  public var description: String { instructions == 0 ? "\(exit)" : "\(exit)+\(instructions)" }
}

/// A position as the user wrote it, before `end` is resolved against a recording.
public enum PositionSpec: Sendable, Equatable, CustomStringConvertible {
  case at(Position)
  case end

  public init(parsing text: String) throws(PositionError) {
    let t = text.trimmingCharacters(in: .whitespaces).lowercased()
    switch t {
    case "start", "0": self = .at(.start)
    case "end": self = .end
    default:
      let parts = t.split(separator: "+", omittingEmptySubsequences: false)
      guard (1...2).contains(parts.count), let exit = UInt64(parts[0]) else { throw PositionError(text: text) }
      var instructions: UInt64 = 0
      if parts.count == 2 {
        guard let i = UInt64(parts[1]) else { throw PositionError(text: text) }
        instructions = i
      }
      self = .at(Position(exit: exit, instructions: instructions))
    }
  }

  public var description: String {
    switch self {
    case .at(let p): return p.description
    case .end: return "end"
    }
  }
}

public struct PositionError: Error, CustomStringConvertible, Equatable {
  public var text: String
  public var description: String {
    "'\(text)' is not a position: use an exit number (1234), exit+instructions (1234+56), start or end"
  }
}
