import Recording

/// Content-addressed page store for navigation checkpoints. Pages the recording already holds
/// are never copied here; thinning drops checkpoints, then `collect` frees what none refers to.
final class CheckpointStore {
  private var pages: [Hash128: [UInt8]] = [:]
  private(set) var pageBytes = 0

  func retain(_ hash: Hash128, bytes: UnsafeRawBufferPointer) {
    guard pages[hash] == nil else { return }
    pages[hash] = Array(bytes)
    pageBytes += bytes.count
  }

  func page(_ hash: Hash128) -> [UInt8]? { pages[hash] }

  /// Frees every page no remaining checkpoint's page map names.
  func collect(keeping maps: [[Hash128]]) {
    var live = Set<Hash128>()
    for map in maps { for h in map where pages[h] != nil { live.insert(h) } }
    for h in Array(pages.keys) where !live.contains(h) {
      pageBytes -= pages[h]?.count ?? 0
      pages[h] = nil
    }
  }
}
