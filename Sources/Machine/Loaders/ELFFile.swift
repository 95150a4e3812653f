/// ELF32/ELF64 little-endian parsing: the file header, program headers (validated against the
/// file size when parsed) and, on demand, the symbol table for the debugger.

public enum ELFClass: String, Sendable {
  case elf32 = "ELF32"
  case elf64 = "ELF64"
}

public struct ELFProgramHeader: Sendable, Equatable {
  public static let typeLoad: UInt32 = 1

  /// Index in the program header table, for messages.
  public var index: Int
  public var type: UInt32
  public var flags: UInt32
  public var offset: UInt64
  public var virtualAddress: UInt64
  public var physicalAddress: UInt64
  public var fileSize: UInt64
  public var memorySize: UInt64
  public var alignment: UInt64

  public var isLoad: Bool { type == Self.typeLoad }
}

public struct ELFSymbol: Sendable, Equatable {
  public var name: String
  public var value: UInt64
  public var size: UInt64
  public var isFunction: Bool

  public init(name: String, value: UInt64, size: UInt64, isFunction: Bool) {
    self.name = name
    self.value = value
    self.size = size
    self.isFunction = isFunction
  }
}

public struct ELFFile: Sendable {
  public static let machine386: UInt16 = 3
  public static let machineX8664: UInt16 = 62
  public static let typeExecutable: UInt16 = 2

  public let bytes: [UInt8]
  public let elfClass: ELFClass
  public let type: UInt16
  public let machine: UInt16
  public let entry: UInt64
  public let programHeaders: [ELFProgramHeader]
  let sectionHeaderOffset: UInt64
  let sectionHeaderSize: Int
  let sectionCount: Int

  /// True when the bytes start with the ELF magic (the file may still be malformed).
  public static func hasMagic(_ bytes: [UInt8]) -> Bool {
    bytes.count >= 4 && bytes[0] == 0x7F && bytes[1] == 0x45 && bytes[2] == 0x4C && bytes[3] == 0x46
  }

  public var loadSegments: [ELFProgramHeader] { programHeaders.filter(\.isLoad) }

  public init(_ bytes: [UInt8]) throws(ImageLoadError) {
    let r = ImageReader(bytes, name: "ELF file")
    guard Self.hasMagic(bytes) else {
      throw ImageLoadError("not an ELF file: no \\x7FELF magic at offset 0")
    }
    let elfClass: ELFClass
    switch try r.u8(at: 4, "e_ident[EI_CLASS]") {
    case 1: elfClass = .elf32
    case 2: elfClass = .elf64
    case let other: throw ImageLoadError("ELF header: unknown class \(other) at offset 0x4 (1 = ELF32, 2 = ELF64)")
    }
    let data = try r.u8(at: 5, "e_ident[EI_DATA]")
    guard data == 1 else {
      throw ImageLoadError("ELF header: data encoding \(data) at offset 0x5 is not little-endian (1)")
    }
    let is64 = elfClass == .elf64
    let headerSize = is64 ? 64 : 52
    try r.require(0, headerSize, "\(elfClass.rawValue) file header")
    self.bytes = bytes
    self.elfClass = elfClass
    type = try r.u16(at: 16, "e_type")
    machine = try r.u16(at: 18, "e_machine")
    let phoff: UInt64
    let phentsize: Int
    let phnum: Int
    if is64 {
      entry = try r.u64(at: 24, "e_entry")
      phoff = try r.u64(at: 32, "e_phoff")
      sectionHeaderOffset = try r.u64(at: 40, "e_shoff")
      phentsize = Int(try r.u16(at: 54, "e_phentsize"))
      phnum = Int(try r.u16(at: 56, "e_phnum"))
      sectionHeaderSize = Int(try r.u16(at: 58, "e_shentsize"))
      sectionCount = Int(try r.u16(at: 60, "e_shnum"))
    } else {
      entry = UInt64(try r.u32(at: 24, "e_entry"))
      phoff = UInt64(try r.u32(at: 28, "e_phoff"))
      sectionHeaderOffset = UInt64(try r.u32(at: 32, "e_shoff"))
      phentsize = Int(try r.u16(at: 42, "e_phentsize"))
      phnum = Int(try r.u16(at: 44, "e_phnum"))
      sectionHeaderSize = Int(try r.u16(at: 46, "e_shentsize"))
      sectionCount = Int(try r.u16(at: 48, "e_shnum"))
    }
    let minimumEntry = is64 ? 56 : 32
    if phnum > 0 && phentsize < minimumEntry {
      throw ImageLoadError(
        "ELF header: e_phentsize \(phentsize) is smaller than an \(elfClass.rawValue) program header (\(minimumEntry) bytes)")
    }
    let tableSize = UInt64(phnum) * UInt64(phentsize)
    guard phoff <= UInt64(bytes.count), tableSize <= UInt64(bytes.count) - phoff else {
      throw ImageLoadError(
        "ELF program header table (e_phoff \(loaderHex(phoff)), \(phnum) x \(phentsize) bytes) "
          + "extends past end of file (file is \(bytes.count) bytes)")
    }
    var headers: [ELFProgramHeader] = []
    for index in 0..<phnum {
      let at = Int(phoff) + index * phentsize
      let header: ELFProgramHeader
      if is64 {
        header = ELFProgramHeader(
          index: index, type: try r.u32(at: at, "p_type"), flags: try r.u32(at: at + 4, "p_flags"),
          offset: try r.u64(at: at + 8, "p_offset"), virtualAddress: try r.u64(at: at + 16, "p_vaddr"),
          physicalAddress: try r.u64(at: at + 24, "p_paddr"), fileSize: try r.u64(at: at + 32, "p_filesz"),
          memorySize: try r.u64(at: at + 40, "p_memsz"), alignment: try r.u64(at: at + 48, "p_align"))
      } else {
        header = ELFProgramHeader(
          index: index, type: try r.u32(at: at, "p_type"), flags: try r.u32(at: at + 24, "p_flags"),
          offset: UInt64(try r.u32(at: at + 4, "p_offset")),
          virtualAddress: UInt64(try r.u32(at: at + 8, "p_vaddr")),
          physicalAddress: UInt64(try r.u32(at: at + 12, "p_paddr")),
          fileSize: UInt64(try r.u32(at: at + 16, "p_filesz")),
          memorySize: UInt64(try r.u32(at: at + 20, "p_memsz")),
          alignment: UInt64(try r.u32(at: at + 28, "p_align")))
      }
      // Only loadable segments must be backed by the file; notes and the like are ignored.
      if header.isLoad {
        let (end, overflow) = header.offset.addingReportingOverflow(header.fileSize)
        if overflow || end > UInt64(bytes.count) {
          throw ImageLoadError(
            "ELF program header \(index) extends past end of file (offset \(loaderHex(header.offset)), "
              + "size \(loaderHex(header.fileSize)), file is \(bytes.count) bytes)")
        }
        if header.memorySize < header.fileSize {
          throw ImageLoadError(
            "ELF program header \(index): p_memsz \(loaderHex(header.memorySize)) is smaller than "
              + "p_filesz \(loaderHex(header.fileSize))")
        }
      }
      headers.append(header)
    }
    programHeaders = headers
  }

  /// The file bytes of a segment (validated at parse time for PT_LOAD).
  public func data(of header: ELFProgramHeader) throws(ImageLoadError) -> ArraySlice<UInt8> {
    try ImageReader(bytes, name: "ELF file").slice(
      header.offset, header.fileSize, "program header \(header.index) data")
  }

  // MARK: Symbols

  struct Section {
    var index: Int
    var type: UInt32
    var offset: UInt64
    var size: UInt64
    var link: UInt32
    var entrySize: UInt64
  }

  static let sectionTypeSymtab: UInt32 = 2
  static let sectionTypeDynsym: UInt32 = 11

  func sections() throws(ImageLoadError) -> [Section] {
    guard sectionHeaderOffset != 0 else { return [] }
    let is64 = elfClass == .elf64
    let minimumEntry = is64 ? 64 : 40
    guard sectionHeaderSize >= minimumEntry else {
      throw ImageLoadError(
        "ELF header: e_shentsize \(sectionHeaderSize) is smaller than an \(elfClass.rawValue) section header (\(minimumEntry) bytes)"
      )
    }
    let r = ImageReader(bytes, name: "ELF file")
    func section(_ index: Int) throws(ImageLoadError) -> Section {
      let base = UInt64(index) * UInt64(sectionHeaderSize)
      let (at64, overflow) = sectionHeaderOffset.addingReportingOverflow(base)
      guard !overflow, at64 <= UInt64(bytes.count) else {
        throw ImageLoadError(
          "ELF section header \(index) at \(loaderHex(at64)) extends past end of file (file is \(bytes.count) bytes)")
      }
      let at = Int(at64)
      let what = "section header \(index)"
      if is64 {
        return Section(
          index: index, type: try r.u32(at: at + 4, "\(what) sh_type"), offset: try r.u64(at: at + 24, "\(what) sh_offset"),
          size: try r.u64(at: at + 32, "\(what) sh_size"), link: try r.u32(at: at + 40, "\(what) sh_link"),
          entrySize: try r.u64(at: at + 56, "\(what) sh_entsize"))
      }
      return Section(
        index: index, type: try r.u32(at: at + 4, "\(what) sh_type"),
        offset: UInt64(try r.u32(at: at + 16, "\(what) sh_offset")),
        size: UInt64(try r.u32(at: at + 20, "\(what) sh_size")), link: try r.u32(at: at + 24, "\(what) sh_link"),
        entrySize: UInt64(try r.u32(at: at + 36, "\(what) sh_entsize")))
    }
    var count = sectionCount
    // Extended numbering: with e_shnum 0 the real count is section 0's sh_size.
    if count == 0 {
      let size = try section(0).size
      guard size <= UInt64(bytes.count / sectionHeaderSize) else {
        throw ImageLoadError("ELF section count \(size) (from section 0 sh_size) cannot fit in the file")
      }
      count = Int(size)
    }
    guard UInt64(count) * UInt64(sectionHeaderSize) <= UInt64(bytes.count) else {
      throw ImageLoadError("ELF section header table (\(count) entries) is larger than the file")
    }
    var result: [Section] = []
    for index in 0..<count { result.append(try section(index)) }
    return result
  }

  /// Named, defined symbols from .symtab (or .dynsym when there is no .symtab); empty for a
  /// stripped file. Section and file symbols are left out.
  public func symbols() throws(ImageLoadError) -> [ELFSymbol] {
    let sections = try sections()
    guard
      let table = sections.first(where: { $0.type == Self.sectionTypeSymtab })
        ?? sections.first(where: { $0.type == Self.sectionTypeDynsym })
    else { return [] }
    guard Int(table.link) < sections.count else {
      throw ImageLoadError(
        "ELF symbol table (section \(table.index)) links to string table section \(table.link), "
          + "but there are only \(sections.count) sections")
    }
    let strtab = sections[Int(table.link)]
    let r = ImageReader(bytes, name: "ELF file")
    let strings = try r.slice(strtab.offset, strtab.size, "string table (section \(strtab.index))")
    let is64 = elfClass == .elf64
    let entrySize = is64 ? 24 : 16
    let raw = try r.slice(table.offset, table.size, "symbol table (section \(table.index))")
    let stride = table.entrySize >= UInt64(entrySize) ? Int(clamping: table.entrySize) : entrySize
    var result: [ELFSymbol] = []
    var at = raw.startIndex
    while at + entrySize <= raw.endIndex {
      let nameOffset = try r.u32(at: at, "symbol st_name")
      let info: UInt8
      let sectionIndex: UInt16
      let value: UInt64
      let size: UInt64
      if is64 {
        info = try r.u8(at: at + 4, "symbol st_info")
        sectionIndex = try r.u16(at: at + 6, "symbol st_shndx")
        value = try r.u64(at: at + 8, "symbol st_value")
        size = try r.u64(at: at + 16, "symbol st_size")
      } else {
        value = UInt64(try r.u32(at: at + 4, "symbol st_value"))
        size = UInt64(try r.u32(at: at + 8, "symbol st_size"))
        info = try r.u8(at: at + 12, "symbol st_info")
        sectionIndex = try r.u16(at: at + 14, "symbol st_shndx")
      }
      let kind = info & 0xF
      // 3 = STT_SECTION, 4 = STT_FILE; section index 0 = undefined.
      if nameOffset != 0, sectionIndex != 0, kind != 3, kind != 4 {
        let name = try Self.string(in: strings, at: nameOffset, tableIndex: strtab.index)
        result.append(ELFSymbol(name: name, value: value, size: size, isFunction: kind == 2))
      }
      let (next, overflow) = at.addingReportingOverflow(stride)
      if overflow { break }
      at = next
    }
    return result
  }

  static func string(in table: ArraySlice<UInt8>, at offset: UInt32, tableIndex: Int) throws(ImageLoadError) -> String {
    guard UInt64(offset) < UInt64(table.count) else {
      throw ImageLoadError(
        "ELF symbol name offset \(loaderHex(offset)) is past the end of string table section \(tableIndex) (\(table.count) bytes)"
      )
    }
    let start = table.startIndex + Int(offset)
    guard let end = table[start...].firstIndex(of: 0) else {
      throw ImageLoadError("ELF symbol name at offset \(loaderHex(offset)) in section \(tableIndex) is not NUL-terminated")
    }
    return String(decoding: table[start..<end], as: UTF8.self)
  }
}

/// Address -> symbol lookup for the debugger ("func+0x12").
public struct ELFSymbolTable: Sendable {
  /// Sorted by value.
  public let symbols: [ELFSymbol]
  private let byName: [String: Int]

  public init(_ symbols: [ELFSymbol]) {
    self.symbols = symbols.sorted { ($0.value, $0.name) < ($1.value, $1.name) }
    var byName: [String: Int] = [:]
    for (index, symbol) in self.symbols.enumerated() where byName[symbol.name] == nil {
      byName[symbol.name] = index
    }
    self.byName = byName
  }

  public func symbol(named name: String) -> ELFSymbol? {
    byName[name].map { symbols[$0] }
  }

  /// The symbol whose [value, value+size) contains `address`, or the nearest preceding
  /// zero-size symbol (assembly labels), with the offset of `address` into it.
  public func symbol(containing address: UInt64) -> (symbol: ELFSymbol, offset: UInt64)? {
    // Index of the first symbol with value > address.
    var low = 0
    var high = symbols.count
    while low < high {
      let mid = (low + high) / 2
      if symbols[mid].value <= address { low = mid + 1 } else { high = mid }
    }
    var index = low - 1
    var looked = 0
    // Walk back a little: sized symbols that end before `address` are skipped.
    while index >= 0, looked < 64 {
      let symbol = symbols[index]
      let offset = address - symbol.value
      if symbol.size == 0 || offset < symbol.size { return (symbol, offset) }
      index -= 1
      looked += 1
    }
    return nil
  }
}
