import KVM
import Machine

extension Session {
  /// Adds an execution breakpoint at a linear (guest-virtual) address; any number.
  @discardableResult
  public func addBreakpoint(at address: UInt64) -> Breakpoint {
    let b = Breakpoint(id: nextID, address: address)
    nextID += 1
    breakpoints.append(b)
    return b
  }

  /// Adds a watchpoint on `length` bytes at `address` (guest-virtual, or physical with
  /// `physical`), resolved to guest-physical bytes now: it watches that memory (a location)
  /// whatever the page tables map there later. Any number, any length.
  @discardableResult
  public func addWatchpoint(_ kind: WatchKind, at address: UInt64, length: Int, physical: Bool = false) throws -> Watchpoint {
    guard length > 0, length <= 1 << 24 else {
      throw SessionError.unsupported("a watchpoint covers 1 byte to 16 MiB, not \(length)")
    }
    var bytes: [UInt64] = []
    bytes.reserveCapacity(length)
    var pageBase: UInt64 = .max
    var pagePhysical: UInt64 = 0
    for i in 0..<UInt64(length) {
      let a = address &+ i
      if physical {
        bytes.append(a)
        continue
      }
      if a & ~0xFFF != pageBase {
        pageBase = a & ~0xFFF
        guard let p = try translate(pageBase) else { throw SessionError.unmappedAddress(a) }
        pagePhysical = p
      }
      bytes.append(pagePhysical + (a & 0xFFF))
    }
    guard let last = bytes.max(), last < platform.memory.size else { throw SessionError.unmappedAddress(address) }
    let w = Watchpoint(id: nextID, kind: kind, address: address, length: length, physical: bytes)
    nextID += 1
    watchpoints.append(w)
    try refreshWatchedPages()
    return w
  }

  /// Read and access watchpoints need every access to their pages to exit: those pages are
  /// taken out of KVM's view of RAM (accesses then exit as MMIO, which the engine carries out).
  func refreshWatchedPages() throws {
    try replayer.setUnmappedPages(watchedPages)
  }

  /// The pages of read and access watchpoints.
  var watchedPages: Set<Int> {
    var pages = Set<Int>()
    for w in watchpoints where w.kind != .write {
      for a in w.physical { pages.insert(Int(a / UInt64(PageTracker.pageSize))) }
    }
    return pages
  }

  /// For run mode: stop at accesses a read or access watchpoint covers.
  var accessFilter: (([MMIOExit]) -> Bool)? {
    watchpoints.contains { $0.kind != .write } ? { [unowned self] in self.accessedWatchpoint($0) != nil } : nil
  }

  /// The first read or access watchpoint that these accesses to unmapped RAM touch.
  func accessedWatchpoint(_ accesses: [MMIOExit]) -> (Watchpoint, MMIOExit)? {
    for a in accesses {
      for w in watchpoints where w.kind == .access || (w.kind == .read && !a.isWrite) {
        if w.overlaps(a.address, length: a.length) { return (w, a) }
      }
    }
    return nil
  }

  /// The stop for a read or access watchpoint hit, just after the accessing instruction: the
  /// watched bytes before and after it (equal for a read).
  func accessStop(_ w: Watchpoint, prior: [UInt64: UInt8]? = nil) -> SessionStop {
    let now = watchedBytes(w)
    let prior = prior ?? replayer.lastAccessPriorBytes
    let old = zip(w.physical, now).map { prior[$0.0] ?? $0.1 }
    return .watchpoint(id: w.id, kind: w.kind, address: w.address, old: old, new: now)
  }

  /// Removes breakpoint or watchpoint `id`.
  public func delete(_ id: Int) throws {
    let before = breakpoints.count + watchpoints.count
    breakpoints.removeAll { $0.id == id }
    watchpoints.removeAll { $0.id == id }
    guard breakpoints.count + watchpoints.count < before else { throw SessionError.noSuchBreakpoint(id) }
    try refreshWatchedPages()
  }

  public func deleteAll() throws {
    breakpoints.removeAll()
    watchpoints.removeAll()
    try refreshWatchedPages()
  }

  /// Guest-virtual to guest-physical with the current page tables (identity without paging).
  public func translate(_ address: UInt64) throws -> UInt64? { try platform.physicalAddress(ofLinear: address) }

  /// The current bytes of every watchpoint (in the replay, or in the live machine).
  func watchedValues(live: LiveRecording? = nil) -> [[UInt8]] {
    watchpoints.map { watchedBytes($0, live: live) }
  }

  /// The current bytes of one watchpoint.
  func watchedBytes(_ w: Watchpoint, live: LiveRecording? = nil) -> [UInt8] {
    let memory = live?.platform.memory ?? platform.memory
    return w.physical.map { memory.bytes(at: $0, count: 1)?.first ?? 0 }
  }

  /// The first watchpoint whose bytes differ between two readings.
  func changedWatchpoint(_ before: [[UInt8]], _ after: [[UInt8]]) -> (Watchpoint, [UInt8], [UInt8])? {
    for (i, w) in watchpoints.enumerated()
    where w.kind == .write && i < before.count && i < after.count && before[i] != after[i] {
      return (w, before[i], after[i])
    }
    return nil
  }

  func breakpoint(at rip: UInt64) -> Breakpoint? { breakpoints.first { $0.address == rip } }

  /// The linear address of the next instruction.
  func currentPC() throws -> UInt64 { try platform.linearPC() }
}
