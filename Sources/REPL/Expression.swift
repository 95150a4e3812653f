/// The address and value expressions of `print`, `x`, `break`, `watch` and `last-write`:
///
///     expr    := term (('+' | '-') term)*
///     term    := unary ('*' unary)*
///     unary   := '*' unary | '(' TYPE '*' ')' unary | '-' unary | '&' unary | primary
///     primary := NUMBER | '$'REGISTER | SYMBOL | '(' expr ')'
///
/// Numbers are decimal or `0x` hex; a symbol stands for its address; `*` reads memory (as
/// many bytes as the cast's type says, else a pointer's width) and gives an lvalue, which is
/// what `watch` and `last-write` watch.
public struct ExpressionValue: Equatable, Sendable {
  public var value: UInt64
  /// Bytes the value has (a register's width, a read's size; 8 for plain numbers).
  public var bytes: Int
  /// Where the value was read from, for `*...` expressions.
  public var location: (address: UInt64, bytes: Int)?
  /// After a cast to `TYPE *`: the size of what it points to.
  var pointee: Int?

  public static func == (a: ExpressionValue, b: ExpressionValue) -> Bool {
    a.value == b.value && a.bytes == b.bytes && a.location?.address == b.location?.address
      && a.location?.bytes == b.location?.bytes && a.pointee == b.pointee
  }
}

/// What an expression may read: registers, symbols, memory.
public protocol ExpressionContext {
  func register(_ name: String) throws -> (value: UInt64, bytes: Int)
  func symbolAddress(_ name: String) throws -> UInt64
  func readInteger(at address: UInt64, bytes: Int) throws -> UInt64
  var pointerBytes: Int { get }
}

public struct ExpressionError: Error, CustomStringConvertible, Equatable {
  public var description: String
}

public struct Expression {
  private enum Token: Equatable {
    case number(UInt64)
    case register(String)
    case name(String)
    case symbol(Character)
  }

  private var tokens: [Token] = []
  private var index = 0
  private let text: String

  /// C type names a cast may use, with their sizes (0: the pointer width).
  static let typeSizes: [String: Int] = [
    "char": 1, "uint8_t": 1, "int8_t": 1, "u8": 1, "s8": 1, "unsigned char": 1, "signed char": 1,
    "short": 2, "uint16_t": 2, "int16_t": 2, "u16": 2, "s16": 2, "unsigned short": 2,
    "int": 4, "unsigned": 4, "unsigned int": 4, "uint32_t": 4, "int32_t": 4, "u32": 4, "s32": 4,
    "long long": 8, "unsigned long long": 8, "uint64_t": 8, "int64_t": 8, "u64": 8, "s64": 8,
    "long": 0, "unsigned long": 0, "void": 1, "uintptr_t": 0, "size_t": 0,
  ]

  public static func evaluate(_ text: String, in context: ExpressionContext) throws -> ExpressionValue {
    var e = try Expression(text)
    return try e.parse(context)
  }

  private init(_ text: String) throws {
    self.text = text
    tokens = try Self.tokenize(text)
    guard !tokens.isEmpty else { throw ExpressionError(description: "an expression is missing") }
  }

  private static func tokenize(_ text: String) throws -> [Token] {
    var out: [Token] = []
    let chars = Array(text)
    var i = 0
    func isIdent(_ c: Character, first: Bool) -> Bool {
      c == "_" || c == "." || c.isLetter || (!first && c.isNumber)
    }
    while i < chars.count {
      let c = chars[i]
      if c.isWhitespace {
        i += 1
      } else if c.isNumber {
        var j = i
        while j < chars.count, chars[j].isLetter || chars[j].isNumber { j += 1 }
        let word = String(chars[i..<j]).lowercased()
        let value = word.hasPrefix("0x") ? UInt64(word.dropFirst(2), radix: 16) : UInt64(word, radix: 10)
        guard let value else { throw ExpressionError(description: "'\(word)' is not a number (decimal, or hex with 0x)") }
        out.append(.number(value))
        i = j
      } else if c == "$" {
        var j = i + 1
        while j < chars.count, isIdent(chars[j], first: false) { j += 1 }
        guard j > i + 1 else { throw ExpressionError(description: "'$' must be followed by a register name") }
        out.append(.register(String(chars[i + 1..<j])))
        i = j
      } else if isIdent(c, first: true) {
        var j = i
        while j < chars.count, isIdent(chars[j], first: false) { j += 1 }
        out.append(.name(String(chars[i..<j])))
        i = j
      } else if "+-*()&".contains(c) {
        out.append(.symbol(c))
        i += 1
      } else {
        throw ExpressionError(description: "unexpected '\(c)' in '\(text)'")
      }
    }
    return out
  }

  private var peek: Token? { index < tokens.count ? tokens[index] : nil }

  private mutating func accept(_ c: Character) -> Bool {
    if peek == .symbol(c) {
      index += 1
      return true
    }
    return false
  }

  private mutating func parse(_ context: ExpressionContext) throws -> ExpressionValue {
    let v = try sum(context)
    guard index == tokens.count else { throw ExpressionError(description: "unexpected text after an expression in '\(text)'") }
    return v
  }

  private mutating func sum(_ context: ExpressionContext) throws -> ExpressionValue {
    var v = try product(context)
    while true {
      if accept("+") {
        let r = try product(context)
        v = ExpressionValue(value: v.value &+ scaled(r.value, by: v.pointee), bytes: max(v.bytes, r.bytes), pointee: v.pointee)
      } else if accept("-") {
        let r = try product(context)
        v = ExpressionValue(value: v.value &- scaled(r.value, by: v.pointee), bytes: max(v.bytes, r.bytes), pointee: v.pointee)
      } else {
        return v
      }
    }
  }

  /// C pointer arithmetic: `(uint32_t *)p + 1` moves by four bytes.
  private func scaled(_ n: UInt64, by pointee: Int?) -> UInt64 { n &* UInt64(pointee ?? 1) }

  private mutating func product(_ context: ExpressionContext) throws -> ExpressionValue {
    var v = try unary(context)
    while accept("*") {
      let r = try unary(context)
      v = ExpressionValue(value: v.value &* r.value, bytes: max(v.bytes, r.bytes))
    }
    return v
  }

  private mutating func unary(_ context: ExpressionContext) throws -> ExpressionValue {
    if accept("*") {
      let p = try unary(context)
      let size = p.pointee ?? context.pointerBytes
      let value = try context.readInteger(at: p.value, bytes: size)
      return ExpressionValue(value: value, bytes: size, location: (p.value, size))
    }
    if accept("-") {
      let v = try unary(context)
      return ExpressionValue(value: 0 &- v.value, bytes: v.bytes)
    }
    if accept("&") {
      guard case .name(let name)? = peek else { throw ExpressionError(description: "'&' applies to a symbol name") }
      index += 1
      return ExpressionValue(value: try context.symbolAddress(name), bytes: context.pointerBytes)
    }
    if peek == .symbol("("), let (size, consumed) = castAhead(context) {
      index += consumed
      var v = try unary(context)
      v.pointee = size
      v.bytes = context.pointerBytes
      v.location = nil
      return v
    }
    return try primary(context)
  }

  /// `( TYPE * )` starting at the current token: the pointee size and the tokens it spans.
  private func castAhead(_ context: ExpressionContext) -> (Int, Int)? {
    var words: [String] = []
    var j = index + 1
    while j < tokens.count, case .name(let w) = tokens[j] {
      words.append(w)
      j += 1
    }
    guard !words.isEmpty, let size = Self.typeSizes[words.joined(separator: " ")] else { return nil }
    guard j + 1 < tokens.count, tokens[j] == .symbol("*"), tokens[j + 1] == .symbol(")") else { return nil }
    return (size == 0 ? context.pointerBytes : size, j + 2 - index)
  }

  private mutating func primary(_ context: ExpressionContext) throws -> ExpressionValue {
    guard let t = peek else { throw ExpressionError(description: "'\(text)' ends where a value was expected") }
    index += 1
    switch t {
    case .number(let n): return ExpressionValue(value: n, bytes: 8)
    case .register(let name):
      let (v, bytes) = try context.register(name)
      return ExpressionValue(value: v, bytes: bytes)
    case .name(let name): return ExpressionValue(value: try context.symbolAddress(name), bytes: context.pointerBytes)
    case .symbol("("):
      let v = try sum(context)
      guard accept(")") else { throw ExpressionError(description: "missing ')' in '\(text)'") }
      return v
    case .symbol(let c): throw ExpressionError(description: "unexpected '\(c)' in '\(text)'")
    }
  }
}
