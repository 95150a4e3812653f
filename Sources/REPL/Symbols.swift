import Machine

/// The guest ELF's symbols as the REPL shows them: addresses as `symbol+0xOFFSET`.
public struct Symbols: Sendable {
  public let table: ELFSymbolTable
  /// Sorted, without duplicates: what tab completion offers.
  public let names: [String]

  /// Symbols an address is never described by: empty names and assembler locals.
  static func isUseful(_ s: ELFSymbol) -> Bool {
    !s.name.isEmpty && !s.name.hasPrefix(".L") && !s.name.hasPrefix("$")
  }

  public init(_ symbols: [ELFSymbol]) {
    let useful = symbols.filter(Self.isUseful)
    table = ELFSymbolTable(useful)
    names = Array(Set(useful.map(\.name))).sorted()
  }

  public static let none = Symbols([])

  public init(elf bytes: [UInt8]) throws {
    self.init(try ELFFile(bytes).symbols())
  }

  public func named(_ name: String) -> ELFSymbol? { table.symbol(named: name) }

  /// `fill_scratch+0x3`, `panic`, or nil when no symbol covers the address (a sized symbol
  /// must contain it; a label without a size is used up to 4 KiB past it).
  public func describe(_ address: UInt64) -> String? {
    guard let (symbol, offset) = table.symbol(containing: address) else { return nil }
    if symbol.size == 0 && offset >= 0x1000 { return nil }
    return offset == 0 ? symbol.name : "\(symbol.name)+0x\(String(offset, radix: 16))"
  }

  /// The sized symbol (a function, mostly) that contains `address`.
  public func enclosing(_ address: UInt64) -> ELFSymbol? {
    guard let (symbol, offset) = table.symbol(containing: address), symbol.size > 0, offset < symbol.size else {
      return nil
    }
    return symbol
  }
}
