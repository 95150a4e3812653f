import Foundation
import Machine
import TestSupport

/// The symbol table of a test guest (they carry their symbols).
func guestSymbols(_ guest: String) throws -> ELFSymbolTable {
  let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: TestPaths.guest(guest))))
  return ELFSymbolTable(try ELFFile(bytes).symbols())
}

func littleEndian32(_ b: [UInt8]) -> UInt32 {
  b.prefix(4).enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
}
