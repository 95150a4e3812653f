import KVM

/// One KVM memory slot backing a run of RAM pages.
public struct RAMSlot: Sendable, Equatable {
  public var slot: UInt32
  public var firstPage: Int
  public var pages: Int
}

extension Platform {
  /// Takes `pages` (guest-physical page numbers) out of KVM's view of RAM, so that every guest
  /// access to them exits as MMIO and the engine can watch reads as well as writes; the empty
  /// set maps all of RAM back. The memory itself stays in `memory`. Harvest the dirty log
  /// first: KVM forgets the dirty bits of a slot it deletes.
  public func unmapRAMPages(_ pages: Set<Int>) throws(MachineError) {
    let total = Int(memory.size / GuestMemory.pageSize)
    var runs: [(Int, Int)] = []
    var page = 0
    while page < total {
      if pages.contains(page) {
        page += 1
        continue
      }
      var end = page
      while end < total && !pages.contains(end) { end += 1 }
      runs.append((page, end - page))
      page = end
    }
    do {
      for s in ramSlots { try vm.setMemoryRegion(slot: s.slot, guestAddress: 0, size: 0, host: nil) }
      var slots: [RAMSlot] = []
      for (i, run) in runs.enumerated() {
        // Slot 1 is the firmware's; RAM runs use 0, then 2, 3, ...
        let id = i == 0 ? Self.ramSlot : UInt32(i + 1)
        let address = UInt64(run.0) * GuestMemory.pageSize
        try vm.setMemoryRegion(
          slot: id, guestAddress: address, size: UInt64(run.1) * GuestMemory.pageSize, host: memory.pointer + Int(address),
          flags: [.logDirtyPages])
        slots.append(RAMSlot(slot: id, firstPage: run.0, pages: run.1))
      }
      ramSlots = slots
    } catch {
      throw .kvm(error)
    }
  }

  /// The pages `unmapRAMPages` took out of KVM's view: the gaps between the RAM slots.
  public var unmappedRAMPages: Set<Int> {
    var pages = Set<Int>()
    var next = 0
    for s in ramSlots.sorted(by: { $0.firstPage < $1.firstPage }) {
      if s.firstPage > next { pages.formUnion(next..<s.firstPage) }
      next = max(next, s.firstPage + s.pages)
    }
    let total = Int(memory.size / GuestMemory.pageSize)
    if total > next { pages.formUnion(next..<total) }
    return pages
  }

  /// Whether a guest-physical address is RAM that `unmapRAMPages` took out of KVM's view.
  public func isUnmappedRAM(_ address: UInt64) -> Bool {
    guard address < memory.size else { return false }
    let page = Int(address / GuestMemory.pageSize)
    return !ramSlots.contains { page >= $0.firstPage && page < $0.firstPage + $0.pages }
  }
}
