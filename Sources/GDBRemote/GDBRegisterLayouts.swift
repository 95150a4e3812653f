/// The features of each target description, following gdb 13's own features/i386/*.xml so its
/// i386/amd64 validation accepts them: names, order and sizes of `core`, `sse` and `segments` are
/// gdb's; `org.retrovisor.system` adds the control registers kernel work needs.
///
/// The i386 layout has no `segments` feature: gdb 13's bare i386 architecture fails an internal
/// assertion on it (tdesc_use_registers), so its fs_base/gs_base live in the system feature.
enum GDBRegisterLayouts {
  typealias Register = GDBRegisterFeature.Register

  static func features(for architecture: GDBArchitecture) -> [GDBRegisterFeature] {
    switch architecture {
    case .amd64: return [core64, sse(xmmCount: 16), segments(bits: 64), system(bits: 64)]
    case .i386: return [core32, sse(xmmCount: 8), system(bits: 32)]
    }
  }

  // MARK: org.gnu.gdb.i386.core

  private static let core64 = GDBRegisterFeature(
    name: "org.gnu.gdb.i386.core",
    typesXML: eflagsType,
    registers: [
      Register("rax", bits: 64, type: "int64", field: .rax),
      Register("rbx", bits: 64, type: "int64", field: .rbx),
      Register("rcx", bits: 64, type: "int64", field: .rcx),
      Register("rdx", bits: 64, type: "int64", field: .rdx),
      Register("rsi", bits: 64, type: "int64", field: .rsi),
      Register("rdi", bits: 64, type: "int64", field: .rdi),
      Register("rbp", bits: 64, type: "data_ptr", field: .rbp),
      Register("rsp", bits: 64, type: "data_ptr", field: .rsp),
      Register("r8", bits: 64, type: "int64", field: .r8),
      Register("r9", bits: 64, type: "int64", field: .r9),
      Register("r10", bits: 64, type: "int64", field: .r10),
      Register("r11", bits: 64, type: "int64", field: .r11),
      Register("r12", bits: 64, type: "int64", field: .r12),
      Register("r13", bits: 64, type: "int64", field: .r13),
      Register("r14", bits: 64, type: "int64", field: .r14),
      Register("r15", bits: 64, type: "int64", field: .r15),
      Register("rip", bits: 64, type: "code_ptr", field: .rip),
    ] + coreTail
  )

  // The i386 order is gdb's (and the hardware encoding's): eax, ecx, edx, ebx, esp, ebp, esi, edi.
  private static let core32 = GDBRegisterFeature(
    name: "org.gnu.gdb.i386.core",
    typesXML: eflagsType,
    registers: [
      Register("eax", bits: 32, type: "int32", field: .rax),
      Register("ecx", bits: 32, type: "int32", field: .rcx),
      Register("edx", bits: 32, type: "int32", field: .rdx),
      Register("ebx", bits: 32, type: "int32", field: .rbx),
      Register("esp", bits: 32, type: "data_ptr", field: .rsp),
      Register("ebp", bits: 32, type: "data_ptr", field: .rbp),
      Register("esi", bits: 32, type: "int32", field: .rsi),
      Register("edi", bits: 32, type: "int32", field: .rdi),
      Register("eip", bits: 32, type: "code_ptr", field: .rip),
    ] + coreTail
  )

  /// eflags, selectors and the x87 registers: the same in both layouts.
  private static let coreTail: [Register] =
    [
      Register("eflags", bits: 32, type: "i386_eflags", field: .rflags),
      Register("cs", bits: 32, type: "int32", field: .cs),
      Register("ss", bits: 32, type: "int32", field: .ss),
      Register("ds", bits: 32, type: "int32", field: .ds),
      Register("es", bits: 32, type: "int32", field: .es),
      Register("fs", bits: 32, type: "int32", field: .fs),
      Register("gs", bits: 32, type: "int32", field: .gs),
    ] + (0..<8).map { Register("st\($0)", bits: 80, type: "i387_ext", field: .st($0)) }
    + [
      Register("fctrl", bits: 32, type: "int", group: "float", field: .fctrl),
      Register("fstat", bits: 32, type: "int", group: "float", field: .fstat),
      Register("ftag", bits: 32, type: "int", group: "float", field: .ftag),
      Register("fiseg", bits: 32, type: "int", group: "float", field: .fiseg),
      Register("fioff", bits: 32, type: "int", group: "float", field: .fioff),
      Register("foseg", bits: 32, type: "int", group: "float", field: .foseg),
      Register("fooff", bits: 32, type: "int", group: "float", field: .fooff),
      Register("fop", bits: 32, type: "int", group: "float", field: .fop),
    ]

  private static let eflagsType = flags(
    id: "i386_eflags", bytes: 4,
    fields: [
      ("CF", 0), ("", 1), ("PF", 2), ("AF", 4), ("ZF", 6), ("SF", 7), ("TF", 8), ("IF", 9), ("DF", 10), ("OF", 11),
      ("NT", 14), ("RF", 16), ("VM", 17), ("AC", 18), ("VIF", 19), ("VIP", 20), ("ID", 21),
    ])

  // MARK: org.gnu.gdb.i386.sse

  private static func sse(xmmCount: Int) -> GDBRegisterFeature {
    GDBRegisterFeature(
      name: "org.gnu.gdb.i386.sse",
      typesXML: vec128Type + mxcsrType,
      registers: (0..<xmmCount).map { Register("xmm\($0)", bits: 128, type: "vec128", field: .xmm($0)) }
        + [Register("mxcsr", bits: 32, type: "i386_mxcsr", group: "vector", field: .mxcsr)]
    )
  }

  private static let vec128Type = """
        <vector id="v4f" type="ieee_single" count="4"/>
        <vector id="v2d" type="ieee_double" count="2"/>
        <vector id="v16i8" type="int8" count="16"/>
        <vector id="v8i16" type="int16" count="8"/>
        <vector id="v4i32" type="int32" count="4"/>
        <vector id="v2i64" type="int64" count="2"/>
        <union id="vec128">
          <field name="v4_float" type="v4f"/>
          <field name="v2_double" type="v2d"/>
          <field name="v16_int8" type="v16i8"/>
          <field name="v8_int16" type="v8i16"/>
          <field name="v4_int32" type="v4i32"/>
          <field name="v2_int64" type="v2i64"/>
          <field name="uint128" type="uint128"/>
        </union>

    """

  private static let mxcsrType = flags(
    id: "i386_mxcsr", bytes: 4,
    fields: [
      ("IE", 0), ("DE", 1), ("ZE", 2), ("OE", 3), ("UE", 4), ("PE", 5), ("DAZ", 6), ("IM", 7), ("DM", 8), ("ZM", 9),
      ("OM", 10), ("UM", 11), ("PM", 12), ("FZ", 15),
    ])

  // MARK: org.gnu.gdb.i386.segments

  private static func segments(bits: Int) -> GDBRegisterFeature {
    GDBRegisterFeature(
      name: "org.gnu.gdb.i386.segments",
      typesXML: "",
      registers: [
        Register("fs_base", bits: bits, type: "int", field: .fsBase),
        Register("gs_base", bits: bits, type: "int", field: .gsBase),
      ]
    )
  }

  // MARK: org.retrovisor.system

  /// Control registers in group "system". gdb's i386 code ignores description groups and lists
  /// them under plain `info registers`. EFER is an MSR, 64 bits in both layouts; cr8 exists only
  /// in long mode.
  private static func system(bits: Int) -> GDBRegisterFeature {
    let bytes = bits / 8
    var registers = [
      Register("cr0", bits: bits, type: "cr0_flags", group: "system", field: .cr0),
      Register("cr2", bits: bits, type: bits == 64 ? "int64" : "int32", group: "system", field: .cr2),
      Register("cr3", bits: bits, type: bits == 64 ? "int64" : "int32", group: "system", field: .cr3),
      Register("cr4", bits: bits, type: "cr4_flags", group: "system", field: .cr4),
    ]
    if bits == 64 {
      registers.append(Register("cr8", bits: 64, type: "int64", group: "system", field: .cr8))
    } else {
      registers.append(Register("fs_base", bits: 32, type: "int32", group: "system", field: .fsBase))
      registers.append(Register("gs_base", bits: 32, type: "int32", group: "system", field: .gsBase))
    }
    registers.append(Register("efer", bits: 64, type: "efer_flags", group: "system", field: .efer))
    let types =
      flags(
        id: "cr0_flags", bytes: bytes,
        fields: [
          ("PE", 0), ("MP", 1), ("EM", 2), ("TS", 3), ("ET", 4), ("NE", 5), ("WP", 16), ("AM", 18), ("NW", 29),
          ("CD", 30), ("PG", 31),
        ])
      + flags(
        id: "cr4_flags", bytes: bytes,
        fields: [
          ("VME", 0), ("PVI", 1), ("TSD", 2), ("DE", 3), ("PSE", 4), ("PAE", 5), ("MCE", 6), ("PGE", 7), ("PCE", 8),
          ("OSFXSR", 9), ("OSXMMEXCPT", 10), ("UMIP", 11), ("LA57", 12), ("VMXE", 13), ("SMXE", 14),
          ("FSGSBASE", 16), ("PCIDE", 17), ("OSXSAVE", 18), ("SMEP", 20), ("SMAP", 21), ("PKE", 22),
        ])
      + flags(
        id: "efer_flags", bytes: 8,
        fields: [("SCE", 0), ("LME", 8), ("LMA", 10), ("NXE", 11), ("SVME", 12), ("LMSLE", 13), ("FFXSR", 14), ("TCE", 15)])
    return GDBRegisterFeature(name: "org.retrovisor.system", typesXML: types, registers: registers)
  }

  // MARK: Helpers

  /// A `<flags>` type of single-bit fields.
  private static func flags(id: String, bytes: Int, fields: [(String, Int)]) -> String {
    var xml = "    <flags id=\"\(id)\" size=\"\(bytes)\">\n"
    for (name, bit) in fields {
      xml += "      <field name=\"\(name)\" start=\"\(bit)\" end=\"\(bit)\"/>\n"
    }
    return xml + "    </flags>\n"
  }
}
