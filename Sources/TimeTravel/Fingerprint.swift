import KVM
import Recording

/// Identifies an instant between two exits without counting instructions: the full register
/// file plus a hash of the special registers and the pages written since the last snapshot
/// (the kicked-point identity of design.md, contract point 4). Two instants of one exit interval
/// with the same fingerprint have the same future, so the first is the one meant.
public struct Fingerprint: Equatable, Sendable {
  public var registers: Registers
  public var context: Hash128
}
