/// The target description gdb reads as `target.xml` through `qXfer:features:read`: every feature
/// inline, with explicit `regnum`s that match `GDBRegisterFile`'s numbering.
public enum GDBTargetDescription {
  public static let annex = "target.xml"

  public static func xml(for registerFile: GDBRegisterFile) -> String {
    var xml = """
      <?xml version="1.0"?>
      <!DOCTYPE target SYSTEM "gdb-target.dtd">
      <target version="1.0">
        <architecture>\(registerFile.architecture.rawValue)</architecture>

      """
    var number = 0
    for feature in registerFile.features {
      xml += "  <feature name=\"\(feature.name)\">\n"
      xml += feature.typesXML
      for register in feature.registers {
        xml += "    <reg name=\"\(register.name)\" bitsize=\"\(register.bitSize)\" type=\"\(register.type)\""
        xml += " regnum=\"\(number)\""
        if let group = register.group { xml += " group=\"\(group)\"" }
        xml += "/>\n"
        number += 1
      }
      xml += "  </feature>\n"
    }
    return xml + "</target>\n"
  }
}
