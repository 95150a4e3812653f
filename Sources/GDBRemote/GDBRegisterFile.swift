/// One layout's registers: gdb numbers, names, sizes and byte offsets in the `g` packet, and the
/// little-endian conversion between `GDBRegisterValues` and packet bytes.
///
/// Every register of the target description is in the `g` packet, in gdb-number order, so gdb
/// never needs `p`. Decoding writes only the bits a register covers: a 32-bit `eax` replaces the
/// low half of `rax`, so a `G` that echoes a `g` is a no-op.
public struct GDBRegisterFile: Sendable {
  public struct Descriptor: Sendable, Equatable {
    public var number: Int
    public var name: String
    public var bitSize: Int
    public var byteOffset: Int
    public var field: GDBRegisterField
    public var byteSize: Int { bitSize / 8 }
  }

  public let architecture: GDBArchitecture
  public let features: [GDBRegisterFeature]
  /// Indexed by gdb register number.
  public let registers: [Descriptor]
  /// Bytes in a full `g` packet (before hex encoding).
  public let packetByteCount: Int

  public static let amd64 = GDBRegisterFile(architecture: .amd64)
  public static let i386 = GDBRegisterFile(architecture: .i386)

  public static func forArchitecture(_ architecture: GDBArchitecture) -> GDBRegisterFile {
    switch architecture {
    case .amd64: return amd64
    case .i386: return i386
    }
  }

  private init(architecture: GDBArchitecture) {
    self.architecture = architecture
    features = GDBRegisterLayouts.features(for: architecture)
    var registers: [Descriptor] = []
    var offset = 0
    for register in features.flatMap(\.registers) {
      registers.append(
        Descriptor(
          number: registers.count, name: register.name, bitSize: register.bitSize, byteOffset: offset,
          field: register.field))
      offset += register.bitSize / 8
    }
    self.registers = registers
    packetByteCount = offset
  }

  public func register(number: Int) -> Descriptor? {
    registers.indices.contains(number) ? registers[number] : nil
  }

  public func register(named name: String) -> Descriptor? {
    registers.first { $0.name == name }
  }

  // MARK: Encoding

  /// The `g` packet's bytes.
  public func encode(_ values: GDBRegisterValues) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(packetByteCount)
    for register in registers { bytes.append(contentsOf: Self.littleEndian(values[register.field], register.byteSize)) }
    return bytes
  }

  /// One register's bytes, for `p`.
  public func encode(_ values: GDBRegisterValues, register number: Int) throws(GDBRegisterError) -> [UInt8] {
    guard let register = register(number: number) else { throw .noSuchRegister(number: number, architecture: architecture) }
    return Self.littleEndian(values[register.field], register.byteSize)
  }

  // MARK: Decoding

  /// Applies a `G` packet's bytes over `base`. A shorter packet that ends on a register boundary
  /// sets only the registers it covers, as gdb allows.
  public func decode(_ bytes: [UInt8], over base: GDBRegisterValues) throws(GDBRegisterError) -> GDBRegisterValues {
    guard bytes.count <= packetByteCount,
      bytes.count == packetByteCount || registers.contains(where: { $0.byteOffset == bytes.count })
    else { throw .wrongPacketLength(expected: packetByteCount, actual: bytes.count) }
    var values = base
    for register in registers where register.byteOffset + register.byteSize <= bytes.count {
      Self.merge(bytes[register.byteOffset..<register.byteOffset + register.byteSize], into: &values, register)
    }
    return values
  }

  /// Applies a `P` packet's value over `base`.
  public func decode(
    register number: Int, bytes: [UInt8], over base: GDBRegisterValues
  ) throws(GDBRegisterError) -> GDBRegisterValues {
    guard let register = register(number: number) else { throw .noSuchRegister(number: number, architecture: architecture) }
    guard bytes.count == register.byteSize else {
      throw .wrongRegisterLength(name: register.name, expected: register.byteSize, actual: bytes.count)
    }
    var values = base
    Self.merge(bytes[...], into: &values, register)
    return values
  }

  private static func littleEndian(_ value: UInt128, _ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
  }

  private static func merge(_ bytes: ArraySlice<UInt8>, into values: inout GDBRegisterValues, _ register: Descriptor) {
    var value: UInt128 = 0
    for (i, b) in bytes.enumerated() { value |= UInt128(b) << (8 * i) }
    let mask: UInt128 = register.bitSize >= 128 ? ~0 : (1 << register.bitSize) - 1
    values[register.field] = values[register.field] & ~mask | value & mask
  }
}

public enum GDBRegisterError: Error, Equatable, Sendable, CustomStringConvertible {
  case noSuchRegister(number: Int, architecture: GDBArchitecture)
  case wrongPacketLength(expected: Int, actual: Int)
  case wrongRegisterLength(name: String, expected: Int, actual: Int)

  public var description: String {
    switch self {
    case .noSuchRegister(let number, let architecture):
      return "register \(number) does not exist in the \(architecture.rawValue) layout"
    case .wrongPacketLength(let expected, let actual):
      return "'G' packet carries \(actual) bytes; expected \(expected) or a prefix ending on a register boundary"
    case .wrongRegisterLength(let name, let expected, let actual):
      return "register \(name) takes \(expected) bytes, got \(actual)"
    }
  }
}
