import Testing

@testable import REPL

/// Expressions against a fixed context: registers, symbols and a little memory.
struct FakeContext: ExpressionContext {
  var memory: [UInt64: UInt8] = [:]

  func register(_ name: String) throws -> (value: UInt64, bytes: Int) {
    switch name {
    case "eax": return (0x2bad_b002, 4)
    case "esp": return (0x106120, 4)
    case "al": return (0x02, 1)
    default: throw REPLError("no register '$\(name)'")
    }
  }

  func symbolAddress(_ name: String) throws -> UInt64 {
    guard name == "nodes" else { throw REPLError("no symbol '\(name)'") }
    return 0x102020
  }

  func readInteger(at address: UInt64, bytes: Int) throws -> UInt64 {
    var v: UInt64 = 0
    for i in 0..<bytes {
      guard let b = memory[address + UInt64(i)] else { throw REPLError("unmapped 0x\(String(address, radix: 16))") }
      v |= UInt64(b) << (8 * UInt64(i))
    }
    return v
  }

  var pointerBytes: Int { 4 }
}

@Suite struct ExpressionTests {
  let context: FakeContext = {
    var c = FakeContext()
    // nodes[3] = 0x102084 at 0x10202c; *0x102084 = 0xdeadbeef.
    for (i, b) in [0x84, 0x20, 0x10, 0x00].enumerated() { c.memory[0x10202c + UInt64(i)] = UInt8(b) }
    for (i, b) in [0xef, 0xbe, 0xad, 0xde, 0x1e, 0, 0, 0].enumerated() { c.memory[0x102084 + UInt64(i)] = UInt8(b) }
    return c
  }()

  func eval(_ text: String) throws -> ExpressionValue { try Expression.evaluate(text, in: context) }

  @Test func numbersRegistersSymbolsArithmetic() throws {
    #expect(try eval("0x10").value == 16)
    #expect(try eval("10").value == 10)
    #expect(try eval("$eax").value == 0x2bad_b002)
    #expect(try eval("$eax").bytes == 4)
    #expect(try eval("nodes + 3 * 4").value == 0x10202c)
    #expect(try eval("&nodes").value == 0x102020)
    #expect(try eval("(nodes + 12) - 4").value == 0x102028)
    #expect(try eval("-1").value == UInt64.max)
    #expect(try eval("$esp+8").value == 0x106128)
  }

  @Test func memoryReadsAndCasts() throws {
    let pointer = try eval("*(nodes + 12)")
    #expect(pointer.value == 0x102084)
    #expect(pointer.location?.address == 0x10202c)
    #expect(pointer.location?.bytes == 4)
    let magic = try eval("*(uint32_t *)*(uint32_t *)(nodes + 12)")
    #expect(magic.value == 0xdead_beef)
    #expect(try eval("*(uint8_t *)0x102084").value == 0xef)
    #expect(try eval("*(unsigned short *)0x102084").value == 0xbeef)
    #expect(try eval("*(uint64_t *)0x102084").value == 0x1e_dead_beef)
    // Pointer arithmetic scales by the pointee size.
    #expect(try eval("*((uint32_t *)0x102084 + 1)").value == 0x1e)
  }

  @Test func errorsNameTheProblem() throws {
    #expect(throws: ExpressionError(description: "an expression is missing")) { try eval("  ") }
    #expect(throws: ExpressionError(description: "'0xzz' is not a number (decimal, or hex with 0x)")) { try eval("0xzz") }
    #expect(throws: ExpressionError(description: "missing ')' in '(1 + 2'")) { try eval("(1 + 2") }
    #expect(throws: ExpressionError(description: "unexpected text after an expression in '1 2'")) { try eval("1 2") }
    #expect(throws: ExpressionError(description: "unexpected '%' in '1 % 2'")) { try eval("1 % 2") }
    #expect(throws: REPLError.self) { try eval("$nosuch") }
    #expect(throws: REPLError.self) { try eval("*0x5000") }
  }

  @Test func commandLinesSplitIntoNameModifierArguments() {
    let x = Invocation(parsing: "  x/4xw   &arena + 4 ")
    #expect(x.name == "x")
    #expect(x.modifier == "4xw")
    #expect(x.arguments == "&arena + 4")
    let si = Invocation(parsing: "si")
    #expect(si.name == "si" && si.modifier == nil && si.arguments.isEmpty)
    let p = Invocation(parsing: "print/x $eip")
    #expect(p.name == "print" && p.modifier == "x" && p.arguments == "$eip")
  }

  @Test func commandLookupByNameAliasAndPrefix() {
    func name(_ w: String) -> String? {
      if case .found(let c) = CommandTable.lookup(w) { return c.name }
      return nil
    }
    #expect(name("si") == "stepi")
    #expect(name("rc") == "reverse-continue")
    #expect(name("disas") == "disassemble")
    #expect(name("reverse-c") == "reverse-continue")
    #expect(name("b") == "break")
    #expect(name("c") == "continue")
    if case .ambiguous(let names) = CommandTable.lookup("re") {
      #expect(names == ["reverse-stepi", "reverse-nexti", "reverse-continue"])
    } else {
      Issue.record("'re' should be ambiguous")
    }
    if case .unknown = CommandTable.lookup("zz") {} else { Issue.record("'zz' should be unknown") }
  }

  @Test func formats() {
    #expect(formatNumber(0xff, bytes: 1, format: .signed, padded: false) == "-1")
    #expect(formatNumber(0xff, bytes: 2, format: .signed, padded: false) == "255")
    #expect(formatNumber(8, bytes: 1, format: .octal, padded: false) == "010")
    #expect(formatNumber(5, bytes: 1, format: .binary, padded: true) == "00000101")
    #expect(formatNumber(0xbeef, bytes: 4, format: .hex, padded: true) == "0x0000beef")
    #expect(formatNumber(10, bytes: 1, format: .char, padded: false) == "10 '\\n'")
    #expect(watchedValue([0xef, 0xbe, 0xad, 0xde]) == "0xdeadbeef")
    #expect(watchedValue([1, 2, 3]) == "01 02 03")
    #expect(RegisterSet.describeFlags(0x246) == "[ PF ZF IF ]")
    #expect(RegisterSet.describeFlags(0x2) == "[ ]")
  }
}
