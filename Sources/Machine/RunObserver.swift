/// Watches a live run at the points where the engine changes what the guest can observe.
///
/// The recorder implements it: positions are counted in deterministic exits (every exit but a
/// kick), and every value handed to the guest from outside is reported at the position where
/// it was handed over, so a replay can hand it over at the same instant.
public protocol RunObserver: AnyObject {
  /// Exit number `index` (1-based, kicks not counted) was handled; nothing has been delivered
  /// at this position yet. The right moment for a snapshot.
  func exitHandled(index: UInt64, platform: Platform) throws
  /// The guest was kicked out of KVM_RUN between exits `index` and `index + 1` and the engine is
  /// about to deliver something there. Called before any of those deliveries.
  func kickPoint(afterExit index: UInt64, platform: Platform) throws
  /// Guest time was advanced to `time` and due timers fired.
  func deliveredTime(_ time: UInt64)
  /// Serial input bytes were handed to the UART.
  func deliveredInput(_ bytes: [UInt8])
  /// The engine stored into these RAM pages for the guest (watched pages taken out of KVM's
  /// view): the dirty log does not see such stores.
  func wroteRAM(pages: Set<Int>)
}
