/// Parses packet payloads into `GDBCommand`. Total on its input: every byte string gives a
/// command, `unknown`, or a typed error, never a trap.
public enum GDBCommandParser {
  public static func parse(_ payload: [UInt8]) throws(GDBCommandParseError) -> GDBCommand {
    let p = payload[...]
    guard let first = p.first else { return .unknown("") }
    let rest = p.dropFirst()
    switch first {
    case UInt8(ascii: "?"): return rest.isEmpty ? .haltReason : unknown(p)
    case UInt8(ascii: "g"): return rest.isEmpty ? .readRegisters : unknown(p)
    case UInt8(ascii: "G"): return try parseWriteRegisters(rest)
    case UInt8(ascii: "p"): return try parseReadRegister(rest)
    case UInt8(ascii: "P"): return try parseWriteRegister(rest)
    case UInt8(ascii: "m"):
      let (address, length) = try addressAndLength(rest, command: "m", syntax: "'m ADDR,LENGTH'")
      return .readMemory(address: address, length: length)
    case UInt8(ascii: "x"):
      let (address, length) = try addressAndLength(rest, command: "x", syntax: "'x ADDR,LENGTH'")
      return .readMemoryBinary(address: address, length: length)
    case UInt8(ascii: "M"): return try parseWriteMemory(rest, binary: false)
    case UInt8(ascii: "X"): return try parseWriteMemory(rest, binary: true)
    case UInt8(ascii: "c"): return .continue(address: try optionalAddress(rest, command: "c"))
    case UInt8(ascii: "s"): return .step(address: try optionalAddress(rest, command: "s"))
    case UInt8(ascii: "b"): return parseReverse(p)
    case UInt8(ascii: "v"): return try parseV(p)
    case UInt8(ascii: "Z"): return try parseBreakpoint(rest, command: "Z", insert: true) ?? unknown(p)
    case UInt8(ascii: "z"): return try parseBreakpoint(rest, command: "z", insert: false) ?? unknown(p)
    case UInt8(ascii: "H"): return try parseSetThread(p)
    case UInt8(ascii: "T"): return .threadAlive(try threadID(rest, command: "T"))
    case UInt8(ascii: "q"): return try parseQuery(p)
    case UInt8(ascii: "Q"): return p.elementsEqual("QStartNoAckMode".utf8) ? .startNoAckMode : unknown(p)
    case UInt8(ascii: "D"): return rest.isEmpty || rest.first == UInt8(ascii: ";") ? .detach : unknown(p)
    case UInt8(ascii: "k"): return rest.isEmpty ? .kill : unknown(p)
    default: return unknown(p)
    }
  }

  // MARK: Registers

  private static func parseWriteRegisters(_ args: ArraySlice<UInt8>) throws(GDBCommandParseError) -> GDBCommand {
    guard !args.isEmpty, let bytes = Hex.decodeBytes(args) else {
      throw .malformedArguments(command: "G", syntax: "'G' followed by register bytes in hex")
    }
    return .writeRegisters(bytes)
  }

  private static func parseReadRegister(_ args: ArraySlice<UInt8>) throws(GDBCommandParseError) -> GDBCommand {
    guard let n = registerNumber(args) else {
      throw .malformedArguments(command: "p", syntax: "'p N' with a register number")
    }
    return .readRegister(n)
  }

  private static func parseWriteRegister(_ args: ArraySlice<UInt8>) throws(GDBCommandParseError) -> GDBCommand {
    let syntax = "'P N=VALUE' with the value's bytes in hex"
    guard let eq = args.firstIndex(of: UInt8(ascii: "=")), let n = registerNumber(args[..<eq]),
      let bytes = Hex.decodeBytes(args[(eq + 1)...]), !bytes.isEmpty
    else { throw .malformedArguments(command: "P", syntax: syntax) }
    return .writeRegister(n, bytes)
  }

  /// Register numbers are small; anything wider is malformed rather than a huge Int.
  private static func registerNumber(_ text: ArraySlice<UInt8>) -> Int? {
    guard text.count <= 8, let n = Hex.parseNumber(text) else { return nil }
    return Int(n)
  }

  // MARK: Memory

  private static func addressAndLength(
    _ args: ArraySlice<UInt8>, command: String, syntax: String
  ) throws(GDBCommandParseError) -> (UInt64, Int) {
    guard let comma = args.firstIndex(of: UInt8(ascii: ",")), let address = Hex.parseNumber(args[..<comma]),
      let length = Hex.parseNumber(args[(comma + 1)...]), length <= UInt64(Int32.max)
    else { throw .malformedArguments(command: command, syntax: syntax) }
    return (address, Int(length))
  }

  private static func parseWriteMemory(
    _ args: ArraySlice<UInt8>, binary: Bool
  ) throws(GDBCommandParseError) -> GDBCommand {
    let command = binary ? "X" : "M"
    let syntax = binary ? "'X ADDR,LENGTH:DATA' with binary data" : "'M ADDR,LENGTH:DATA' with data in hex"
    guard let colon = args.firstIndex(of: UInt8(ascii: ":")) else {
      throw .malformedArguments(command: command, syntax: syntax)
    }
    let (address, length) = try addressAndLength(args[..<colon], command: command, syntax: syntax)
    let data = args[(colon + 1)...]
    let bytes: [UInt8]
    if binary {
      bytes = Array(data)
    } else {
      guard let decoded = Hex.decodeBytes(data) else { throw .malformedArguments(command: command, syntax: syntax) }
      bytes = decoded
    }
    guard bytes.count == length else {
      throw .lengthMismatch(command: command, declared: UInt64(length), actual: bytes.count)
    }
    return binary ? .writeMemoryBinary(address: address, bytes: bytes) : .writeMemory(address: address, bytes: bytes)
  }

  // MARK: Execution

  private static func optionalAddress(
    _ args: ArraySlice<UInt8>, command: String
  ) throws(GDBCommandParseError) -> UInt64? {
    if args.isEmpty { return nil }
    guard let address = Hex.parseNumber(args) else {
      throw .malformedArguments(command: command, syntax: "'\(command)' or '\(command) ADDR'")
    }
    return address
  }

  private static func parseReverse(_ p: ArraySlice<UInt8>) -> GDBCommand {
    if p.elementsEqual("bc".utf8) { return .reverseContinue }
    if p.elementsEqual("bs".utf8) { return .reverseStep }
    return unknown(p)
  }

  private static func parseV(_ p: ArraySlice<UInt8>) throws(GDBCommandParseError) -> GDBCommand {
    if p.elementsEqual("vMustReplyEmpty".utf8) { return .mustReplyEmpty }
    if p.elementsEqual("vCont?".utf8) { return .vContQuery }
    guard p.starts(with: "vCont;".utf8) else { return unknown(p) }
    let syntax = "'vCont;ACTION[:THREAD]...' with actions c, Cxx, s, Sxx"
    var actions: [GDBVContAction] = []
    for field in p.dropFirst(6).split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false) {
      guard let action = vContAction(field) else { throw .malformedArguments(command: "vCont", syntax: syntax) }
      actions.append(action)
    }
    return .vCont(actions)
  }

  private static func vContAction(_ field: ArraySlice<UInt8>) -> GDBVContAction? {
    var body = field
    var thread: GDBThreadID?
    if let colon = field.firstIndex(of: UInt8(ascii: ":")) {
      guard let t = try? threadID(field[(colon + 1)...], command: "vCont") else { return nil }
      thread = t
      body = field[..<colon]
    }
    guard let letter = body.first else { return nil }
    let signalText = body.dropFirst()
    switch letter {
    case UInt8(ascii: "c"), UInt8(ascii: "s"):
      guard signalText.isEmpty else { return nil }
      return GDBVContAction(kind: letter == UInt8(ascii: "c") ? .continue : .step, thread: thread)
    case UInt8(ascii: "C"), UInt8(ascii: "S"):
      guard signalText.count == 2, let signal = Hex.parseNumber(signalText) else { return nil }
      return GDBVContAction(
        kind: letter == UInt8(ascii: "C") ? .continue : .step, signal: UInt8(signal), thread: thread)
    default:
      return nil
    }
  }

  // MARK: Breakpoints and threads

  /// nil for a breakpoint type this stub does not know (gdb expects an empty reply then).
  private static func parseBreakpoint(
    _ args: ArraySlice<UInt8>, command: String, insert: Bool
  ) throws(GDBCommandParseError) -> GDBCommand? {
    // Conditions and commands after `;` are only sent to stubs that advertise them; ignore.
    let fields = args.prefix { $0 != UInt8(ascii: ";") }.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
    guard fields.count == 3, let type = Hex.parseNumber(fields[0]), let address = Hex.parseNumber(fields[1]),
      let kind = Hex.parseNumber(fields[2])
    else { throw .malformedArguments(command: command, syntax: "'\(command) TYPE,ADDR,KIND'") }
    guard type <= 4, let breakpointType = GDBBreakpointType(rawValue: Int(type)) else { return nil }
    let breakpoint = GDBBreakpoint(type: breakpointType, address: address, kind: kind)
    return insert ? .insertBreakpoint(breakpoint) : .removeBreakpoint(breakpoint)
  }

  private static func parseSetThread(_ p: ArraySlice<UInt8>) throws(GDBCommandParseError) -> GDBCommand {
    let rest = p.dropFirst()
    let operation: GDBThreadOperation
    switch rest.first {
    case UInt8(ascii: "g"): operation = .general
    case UInt8(ascii: "c"): operation = .continue
    default: return unknown(p)
    }
    return .setThread(operation, try threadID(rest.dropFirst(), command: "H"))
  }

  static func threadID(_ text: ArraySlice<UInt8>, command: String) throws(GDBCommandParseError) -> GDBThreadID {
    if text.elementsEqual("-1".utf8) { return .all }
    guard let n = Hex.parseNumber(text) else {
      throw .malformedArguments(command: command, syntax: "a thread-id: -1, 0 or a hex id")
    }
    return n == 0 ? .any : .id(n)
  }

  // MARK: Queries

  private static func parseQuery(_ p: ArraySlice<UInt8>) throws(GDBCommandParseError) -> GDBCommand {
    if p.elementsEqual("qC".utf8) { return .currentThread }
    if p.elementsEqual("qfThreadInfo".utf8) { return .threadInfoFirst }
    if p.elementsEqual("qsThreadInfo".utf8) { return .threadInfoNext }
    if p.elementsEqual("qAttached".utf8) || p.starts(with: "qAttached:".utf8) { return .attached }
    if p.elementsEqual("qOffsets".utf8) { return .offsets }
    if p.elementsEqual("qTStatus".utf8) { return .traceStatus }
    if p.elementsEqual("qSupported".utf8) { return .supported(features: []) }
    if p.starts(with: "qSupported:".utf8) {
      let features = p.dropFirst(11).split(separator: UInt8(ascii: ";")).map { String(decoding: $0, as: UTF8.self) }
      return .supported(features: features)
    }
    if p.starts(with: "qRcmd,".utf8) {
      guard let bytes = Hex.decodeBytes(p.dropFirst(6)) else {
        throw .malformedArguments(command: "qRcmd", syntax: "'qRcmd,COMMAND' with the command in hex")
      }
      return .monitor(String(decoding: bytes, as: UTF8.self))
    }
    if p.starts(with: "qXfer:features:read:".utf8) { return try parseFeaturesRead(p.dropFirst(20)) }
    // qL STARTFLAG THREADCOUNT NEXTTHREAD: all hex after the name, which keeps qLaunch... out.
    if p.starts(with: "qL".utf8), p.count > 2, p.dropFirst(2).allSatisfy({ Hex.digitValue($0) != nil }) {
      return .legacyThreadList
    }
    return unknown(p)
  }

  private static func parseFeaturesRead(_ args: ArraySlice<UInt8>) throws(GDBCommandParseError) -> GDBCommand {
    let syntax = "'qXfer:features:read:ANNEX:OFFSET,LENGTH'"
    guard let colon = args.lastIndex(of: UInt8(ascii: ":")), colon > args.startIndex else {
      throw .malformedArguments(command: "qXfer:features:read", syntax: syntax)
    }
    let (offset, length) = try addressAndLength(args[(colon + 1)...], command: "qXfer:features:read", syntax: syntax)
    guard offset <= UInt64(Int32.max) else { throw .malformedArguments(command: "qXfer:features:read", syntax: syntax) }
    return .readFeatures(annex: String(decoding: args[..<colon], as: UTF8.self), offset: Int(offset), length: length)
  }

  private static func unknown(_ p: ArraySlice<UInt8>) -> GDBCommand {
    .unknown(String(decoding: p, as: UTF8.self))
  }
}
