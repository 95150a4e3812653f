import Foundation
import Testing

@testable import GDBRemote

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// Collects what gdb would read from a target description.
private final class DescriptionReader: NSObject, XMLParserDelegate {
  var architecture = ""
  var features: [String] = []
  var registers: [(name: String, bits: Int, regnum: Int, feature: String)] = []
  private var inArchitecture = false

  func parser(
    _ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?,
    attributes: [String: String] = [:]
  ) {
    switch element {
    case "architecture": inArchitecture = true
    case "feature": features.append(attributes["name"] ?? "?")
    case "reg":
      registers.append(
        (
          attributes["name"] ?? "?", Int(attributes["bitsize"] ?? "") ?? -1, Int(attributes["regnum"] ?? "") ?? -1,
          features.last ?? "?"
        ))
    default: break
    }
  }

  func parser(_ parser: XMLParser, foundCharacters string: String) { if inArchitecture { architecture += string } }
  func parser(_ parser: XMLParser, didEndElement element: String, namespaceURI: String?, qualifiedName: String?) {
    if element == "architecture" { inArchitecture = false }
  }

  static func read(_ xml: String) -> DescriptionReader? {
    let reader = DescriptionReader()
    let parser = XMLParser(data: Data(xml.utf8))
    parser.delegate = reader
    return parser.parse() ? reader : nil
  }
}

@Suite struct TargetDescriptionTests {
  @Test(arguments: [GDBRegisterFile.amd64, .i386])
  func descriptionIsWellFormedAndMatchesTheRegisterFile(_ file: GDBRegisterFile) throws {
    let reader = try #require(DescriptionReader.read(GDBTargetDescription.xml(for: file)))
    #expect(reader.architecture == file.architecture.rawValue)
    #expect(reader.registers.map(\.name) == file.registers.map(\.name))
    #expect(reader.registers.map(\.bits) == file.registers.map(\.bitSize))
    #expect(reader.registers.map(\.regnum) == Array(0..<file.registers.count))
  }

  @Test func amd64FeaturesFollowGDB() throws {
    let reader = try #require(DescriptionReader.read(GDBTargetDescription.xml(for: .amd64)))
    #expect(
      reader.features == ["org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse", "org.gnu.gdb.i386.segments", "org.retrovisor.system"])
    // gdb's own 64bit-sse.xml pins xmm0 at 40.
    #expect(reader.registers.first { $0.name == "xmm0" }?.regnum == 40)
    #expect(
      reader.registers.filter { $0.feature == "org.retrovisor.system" }.map(\.name) == [
        "cr0", "cr2", "cr3", "cr4", "cr8", "efer",
      ])
    #expect(reader.registers.filter { $0.feature == "org.gnu.gdb.i386.segments" }.map(\.name) == ["fs_base", "gs_base"])
  }

  @Test func i386FeaturesFollowGDB() throws {
    let reader = try #require(DescriptionReader.read(GDBTargetDescription.xml(for: .i386)))
    #expect(reader.features == ["org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse", "org.retrovisor.system"])
    #expect(reader.registers.first { $0.name == "xmm0" }?.regnum == 32)
    #expect(
      reader.registers.filter { $0.feature == "org.retrovisor.system" }.map(\.name) == [
        "cr0", "cr2", "cr3", "cr4", "fs_base", "gs_base", "efer",
      ])
  }

  @Test func startsLikeGDBExpects() {
    let xml = GDBTargetDescription.xml(for: .amd64)
    #expect(xml.hasPrefix("<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target version=\"1.0\">\n"))
    #expect(xml.contains("    <reg name=\"rip\" bitsize=\"64\" type=\"code_ptr\" regnum=\"16\"/>\n"))
    #expect(xml.contains("    <reg name=\"cr3\" bitsize=\"64\" type=\"int64\" regnum=\"61\" group=\"system\"/>\n"))
    // The framing escapes nothing in it: no `#$}*`.
    #expect(!xml.contains { "#$}*".contains($0) })
  }
}
