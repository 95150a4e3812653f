import Machine
import Recording

/// An in-memory snapshot taken while navigating (design.md, "Snapshots"): the machine state at
/// an instant with a known instruction count, plus where replay stood in the recording. Pages
/// are content-addressed in `CheckpointStore`; the page map is every page's hash.
struct Checkpoint {
  var position: Position
  var state: MachineState
  var pageMap: [Hash128]
  var sinceSnapshot: [UInt64]
  var referenceHashes: [Int: Hash128]
  var nextGroup: Int
  var sampleIndex: Int
  var outputBytes: UInt64
  var pendingVector: UInt8?
  var mayInject: Bool

  /// Memory this checkpoint holds beyond its pages.
  var overheadBytes: Int { pageMap.count * MemoryLayout<Hash128>.stride + state.encoded().count }
}
