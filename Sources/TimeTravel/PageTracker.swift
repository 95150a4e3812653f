import Glibc
import KVM
import Machine
import Recording

/// Tracks guest RAM by page: which pages the guest wrote since the last reference point
/// (a snapshot) and the content hash of every page as of the last time it was looked at.
///
/// KVM's dirty log is cleared on every harvest, so harvests are OR'ed into `dirty` here: the
/// set then always means "written since the last reference point", whoever harvested.
final class PageTracker {
  static let pageSize = 4096
  let memory: GuestMemory
  let vm: VirtualMachine
  let pageCount: Int
  private(set) var dirty: [UInt64]
  /// Pages written since the last snapshot position, whatever was settled in between: what a
  /// kicked point's context hash covers, in the recorder and in replay alike.
  var sinceSnapshot: [UInt64]
  /// The hashes pages had at the last snapshot reference, for the pages whose hash `settle`
  /// changed since (the others still have it in `hashes`).
  var referenceHashes: [Int: Hash128] = [:]
  /// Whether the context hash leaves out pages written since the snapshot whose content is
  /// back to (or still) what it was there (event scheme 4; scheme 3 hashed every written page).
  var contextSkipsUnchangedPages = true
  /// Whether the context hash takes each page by its content hash (event scheme 5) rather than
  /// its bytes: then a kicked point hashes only the pages written since the previous one, not
  /// every page written since the snapshot again (a Linux boot is kicked thousands of times
  /// between snapshots of a few thousand written pages).
  var contextHashesPageHashes = true
  /// Content hashes of pages as they were when last computed for a context, valid while the
  /// page's bit in `contentCacheValid` is set (cleared by every write KVM or the engine reports).
  private var contentCache: [Int: Hash128] = [:]
  private var contentCacheValid: [UInt64]
  /// Content hash of every page, valid for pages not in `dirty`.
  private(set) var hashes: [Hash128]
  /// The same hashes in their canonical byte order, so the full-RAM hash is one hasher update.
  private var canonical: [UInt64]

  /// The slots RAM is mapped through (`Platform.ramSlots`), read at each harvest.
  let slots: () -> [RAMSlot]

  init(memory: GuestMemory, vm: VirtualMachine, slots: @escaping () -> [RAMSlot]) {
    self.memory = memory
    self.vm = vm
    self.slots = slots
    pageCount = Int(memory.size) / Self.pageSize
    dirty = [UInt64](repeating: 0, count: (pageCount + 63) / 64)
    sinceSnapshot = dirty
    contentCacheValid = dirty
    hashes = [Hash128](repeating: Self.zeroPageHash, count: pageCount)
    canonical = [UInt64](repeating: 0, count: 2 * pageCount)
    for page in 0..<pageCount { setHash(Self.zeroPageHash, page: page) }
  }

  static let zeroPage = [UInt8](repeating: 0, count: pageSize)
  static let zeroPageHash = ContentHash.of(zeroPage)

  /// Pulls KVM's dirty bitmap into `dirty`.
  func harvest() throws {
    for slot in slots() {
      let bits = try vm.dirtyLog(slot: slot.slot, pages: slot.pages)
      if slot.firstPage == 0 {
        for i in 0..<bits.count {
          dirty[i] |= bits[i]
          sinceSnapshot[i] |= bits[i]
          contentCacheValid[i] &= ~bits[i]
        }
      } else {
        for page in Self.pages(in: bits) where page < slot.pages { markDirty(slot.firstPage + page) }
      }
    }
  }

  /// A page written from user space (the engine's MMIO emulation of an unmapped page).
  func markDirty(_ page: Int) {
    dirty[page / 64] |= 1 << UInt64(page % 64)
    sinceSnapshot[page / 64] |= 1 << UInt64(page % 64)
    contentCacheValid[page / 64] &= ~(1 << UInt64(page % 64))
  }

  /// A snapshot position: kicked points after it hash the pages written from here on.
  func markSnapshotReference() {
    for i in 0..<sinceSnapshot.count { sinceSnapshot[i] = 0 }
    referenceHashes = [:]
  }

  /// After RAM was restored to an instant after the snapshot whose page map is `reference` (a
  /// kicked snapshot): the pages that differ from it count as written since, as they did when
  /// the instant was recorded, so later kicked points hash the same pages.
  func markSnapshotReference(_ reference: [Hash128]) {
    markSnapshotReference()
    for page in 0..<pageCount where hashes[page] != reference[page] {
      sinceSnapshot[page / 64] |= 1 << UInt64(page % 64)
      referenceHashes[page] = reference[page]
    }
  }

  /// Marks every page that may hold data: pages of the anonymous mapping that were never
  /// touched are not resident and read as zero, so they need no hashing (mincore).
  func markResidentDirty() {
    dropContentCache()
    var residency = [UInt8](repeating: 0, count: (Int(memory.size) + Int(getpagesize()) - 1) / Int(getpagesize()))
    guard getpagesize() == Self.pageSize, mincore(memory.pointer, Int(memory.size), &residency) == 0 else {
      markAllDirty()
      return
    }
    for (page, flags) in residency.enumerated() where flags & 1 != 0 && page < pageCount {
      dirty[page / 64] |= 1 << UInt64(page % 64)
    }
  }

  func markAllDirty() {
    dropContentCache()
    for i in 0..<dirty.count { dirty[i] = ~0 }
    if pageCount % 64 != 0 { dirty[dirty.count - 1] = (1 << UInt64(pageCount % 64)) - 1 }
  }

  /// Number of pages in `dirty`.
  var dirtyPageCount: Int { dirty.reduce(0) { $0 + $1.nonzeroBitCount } }

  var dirtyPages: [Int] { Self.pages(in: dirty) }

  static func pages(in bitmap: [UInt64]) -> [Int] {
    var pages: [Int] = []
    for (word, bits) in bitmap.enumerated() where bits != 0 {
      var b = bits
      while b != 0 {
        let bit = b.trailingZeroBitCount
        pages.append(word * 64 + bit)
        b &= b - 1
      }
    }
    return pages
  }

  func pageBytes(_ page: Int) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: memory.pointer + page * Self.pageSize, count: Self.pageSize)
  }

  /// Hash of the dirty set (page numbers and contents) without changing it: what identifies a
  /// kicked point together with the registers.
  func dirtyContentHash(into hasher: inout StateHasher) {
    for page in contextPages() {
      hasher.update(UInt32(page))
      if contextHashesPageHashes {
        hasher.update(contentHash(page))
      } else {
        hasher.update(pageBytes(page))
      }
    }
  }

  /// The page's content hash now: from the cache when nothing wrote the page since it was
  /// computed (call `harvest()` first so KVM's writes are known).
  private func contentHash(_ page: Int) -> Hash128 {
    let bit: UInt64 = 1 << UInt64(page % 64)
    if contentCacheValid[page / 64] & bit != 0, let h = contentCache[page] { return h }
    let h = ContentHash.of(pageBytes(page))
    contentCache[page] = h
    contentCacheValid[page / 64] |= bit
    return h
  }

  /// Forgets every cached content hash (RAM rewritten from user space: a restore).
  private func dropContentCache() {
    contentCache = [:]
    for i in 0..<contentCacheValid.count { contentCacheValid[i] = 0 }
  }

  /// The pages a context hash covers: those written since the snapshot (KVM's dirty log) and,
  /// from scheme 4, only where their content differs from the snapshot's. A page reported
  /// written with unchanged content does not tell two instants apart, and stock KVM reports
  /// pages on a fresh VM's first run that a restored VM does not.
  func contextPages() -> [Int] {
    let written = Self.pages(in: sinceSnapshot)
    guard contextSkipsUnchangedPages else { return written }
    return written.filter { contentHash($0) != referenceHash($0) }
  }

  /// The pages whose content differs from the last snapshot reference, with their content hash
  /// now (call `harvest()` first). Leaves the dirty set and `hashes` alone: a kicked snapshot
  /// takes this between position snapshots, whose deltas must still cover every change.
  func changesSinceReference() -> [(page: Int, hash: Hash128)] {
    Self.pages(in: sinceSnapshot).compactMap { page in
      let h = contentHash(page)
      return h != (referenceHashes[page] ?? hashes[page]) ? (page, h) : nil
    }
  }

  /// The hash `page` had at the last snapshot reference.
  func referenceHash(_ page: Int) -> Hash128 { referenceHashes[page] ?? hashes[page] }

  /// Re-hashes the dirty pages, clears the dirty set and returns the pages whose hash changed.
  func settle() -> [(page: Int, hash: Hash128)] {
    var changed: [(Int, Hash128)] = []
    for page in dirtyPages {
      let h = contentHash(page)
      if h != hashes[page] {
        if referenceHashes[page] == nil { referenceHashes[page] = hashes[page] }
        setHash(h, page: page)
        changed.append((page, h))
      }
    }
    for i in 0..<dirty.count { dirty[i] = 0 }
    return changed
  }

  /// Hash of all of RAM, from the per-page hashes (call `settle()` first): the hasher is fed
  /// every page hash in its canonical 16 bytes, in page order. The canonical forms are laid out
  /// in one buffer and fed at once (feeding them one by one cost ~1 ms per snapshot).
  func ramHash(into hasher: inout StateHasher) {
    canonical.withUnsafeBytes { hasher.update($0) }
  }

  private func setHash(_ h: Hash128, page: Int) {
    hashes[page] = h
    canonical[2 * page] = h.high.bigEndian
    canonical[2 * page + 1] = h.low.bigEndian
  }

  /// Makes RAM equal to `target` (a full page map), copying only pages that may differ.
  func restore(to target: [Hash128], pages: (Hash128) -> [UInt8]?) throws(ReplayError) {
    for page in 0..<pageCount {
      let isDirty = dirty[page / 64] & (1 << UInt64(page % 64)) != 0
      guard isDirty || hashes[page] != target[page] else { continue }
      guard let data = pages(target[page]) else {
        throw ReplayError.damaged("page content \(target[page]) is missing from the recording")
      }
      memory.store(data, at: UInt64(page * Self.pageSize))
      setHash(target[page], page: page)
    }
    for i in 0..<dirty.count { dirty[i] = 0 }
    dropContentCache()
  }

  /// Forgets writes reported by KVM so far (after a restore from user space).
  func discardKVMDirtyLog() throws {
    for slot in slots() { _ = try vm.dirtyLog(slot: slot.slot, pages: slot.pages) }
  }
}

extension PageTracker {
  /// Takes `pages` out of KVM's view of `platform`'s RAM (read and access watchpoints); the
  /// empty set maps all of it back. Harvests first: KVM forgets the dirty bits of a slot it
  /// deletes.
  func unmapRAMPages(_ pages: Set<Int>, of platform: Platform) throws {
    guard platform.unmappedRAMPages != pages else { return }
    try harvest()
    try platform.unmapRAMPages(pages)
  }
}
