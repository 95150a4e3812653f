import KVM
import Machine
import Recording

/// What a context hash covers, kept so a mismatch can say what differs: the special registers
/// (pending-interrupt bitmap left out, as in the hash), each page the hash covers with its
/// content hash, and the bytes of every page written since the snapshot.
struct ContextDetail: Equatable {
  var specialRegisters: SpecialRegisters
  var pages: [Int: Hash128]
  var written: [Int: [UInt8]]

  static func capture(platform: Platform, tracker: PageTracker) throws -> ContextDetail {
    try tracker.harvest()
    var sregs = try platform.vcpu.specialRegisters()
    sregs.interruptBitmap = [0, 0, 0, 0]
    var pages: [Int: Hash128] = [:]
    for page in tracker.contextPages() {
      pages[page] = ContentHash.of(tracker.pageBytes(page))
    }
    var written: [Int: [UInt8]] = [:]
    for page in PageTracker.pages(in: tracker.sinceSnapshot) { written[page] = Array(tracker.pageBytes(page)) }
    return ContextDetail(specialRegisters: sregs, pages: pages, written: written)
  }

  /// "special registers differ ...; pages ... differ" for a divergence report.
  func differences(from other: ContextDetail) -> String {
    var parts: [String] = []
    if specialRegisters != other.specialRegisters {
      parts.append("special registers differ: \(specialRegisters) then, \(other.specialRegisters) now")
    }
    let all = Set(pages.keys).union(other.pages.keys).sorted()
    let differing = all.filter { pages[$0] != other.pages[$0] }
    if !differing.isEmpty {
      let list = differing.prefix(8).map { page -> String in
        let state = pages[page] == nil ? "written only now" : other.pages[page] == nil ? "written only then" : "content"
        var bytes = ""
        if let a = written[page], let b = other.written[page] {
          let offsets = (0..<min(a.count, b.count)).filter { a[$0] != b[$0] }
          bytes =
            offsets.isEmpty
            ? ", same bytes"
            : ", bytes "
              + offsets.prefix(6).map {
                "+0x\(String($0, radix: 16)): \(String(a[$0], radix: 16)) -> \(String(b[$0], radix: 16))"
              }
              .joined(separator: ", ")
        }
        return "0x\(String(page * PageTracker.pageSize, radix: 16)) (\(state)\(bytes))"
      }
      parts.append("pages written since the snapshot differ: \(list.joined(separator: ", "))")
    }
    return parts.joined(separator: "; ")
  }
}
