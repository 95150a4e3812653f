/// The guest's physical memory map, as both Multiboot (mmap) and Linux (e820) report it.
public struct E820Entry: Sendable, Equatable {
  public enum Kind: UInt32, Sendable {
    case usable = 1
    case reserved = 2
  }

  public var address: UInt64
  public var length: UInt64
  public var kind: Kind

  public init(address: UInt64, length: UInt64, kind: Kind) {
    self.address = address
    self.length = length
    self.kind = kind
  }

  /// End of conventional low memory; the EBDA follows up to 0xA0000.
  public static let lowMemoryEnd: UInt64 = 0x9FC00
  public static let highMemoryStart: UInt64 = 0x10_0000

  /// The PC memory map for `ramSize` bytes of RAM at address 0:
  /// usable [0, 0x9FC00), reserved [0x9FC00, 0xA0000) (EBDA), reserved [0xF0000, 0x100000)
  /// (BIOS), usable [1 MiB, RAM). The VGA/option-ROM hole [0xA0000, 0xF0000) is left out.
  public static func standardMap(ramSize: UInt64) -> [E820Entry] {
    var map = [
      E820Entry(address: 0, length: min(ramSize, lowMemoryEnd), kind: .usable),
      E820Entry(address: lowMemoryEnd, length: 0xA0000 - lowMemoryEnd, kind: .reserved),
      E820Entry(address: 0xF0000, length: 0x10000, kind: .reserved),
    ]
    if ramSize > highMemoryStart {
      map.append(E820Entry(address: highMemoryStart, length: ramSize - highMemoryStart, kind: .usable))
    }
    return map
  }

  /// Linux `struct boot_e820_entry`: addr u64, size u64, type u32 (20 bytes, packed).
  var linuxBytes: [UInt8] {
    var b = LoaderBuffer()
    b.append(address)
    b.append(length)
    b.append(kind.rawValue)
    return b.bytes
  }

  /// Multiboot v1 mmap entry: size u32 (= 20, not counting itself), base_addr u64,
  /// length u64, type u32.
  var multibootBytes: [UInt8] {
    var b = LoaderBuffer()
    b.append(UInt32(20))
    b.append(address)
    b.append(length)
    b.append(kind.rawValue)
    return b.bytes
  }
}
