import Foundation
import Machine
import TimeTravel

/// The REPL: reads command lines, runs them on a `Session`, prints what they did. It holds no
/// time-travel logic of its own; every move through the recording is a `Session` call.
public final class REPL {
  public let session: Session
  public let symbols: Symbols
  public let console: Console
  public let disassembler = Disassembler()
  /// A person at a terminal: prompt, line editing, an empty line repeats the last command.
  public let interactive: Bool
  /// Print each command (after a `(rv) ` prompt) before its output: for transcripts.
  public var echo = false
  /// Commands that failed (bad input or an engine error): `--batch` exits with 1 when any did.
  public private(set) var failures = 0

  /// What an empty line runs again.
  var repeatLine: String?
  /// `x` remembers its format and where it stopped.
  var examineFormat: (format: Format, size: Int) = (.hex, 4)
  var examineNext: UInt64?
  /// A seek at least this many exits long goes in stages, with progress shown between them.
  var seekStageExits: UInt64 = 2048
  /// The guest's console output, and how much of it the user's position has passed.
  let guestOutput: GuestOutput
  var outputMark: UInt64

  /// `session` must come from `REPL.makeSession` with the same `guestOutput`.
  public init(session: Session, guestOutput: GuestOutput, symbols: Symbols, console: Console, interactive: Bool) {
    self.session = session
    self.guestOutput = guestOutput
    self.symbols = symbols
    self.console = console
    self.interactive = interactive
    outputMark = session.outputBytes
    guestOutput.liveEcho = { [unowned console] in console.guest($0) }
  }

  var style: Style { console.style }

  /// Handles Ctrl-C from now on (call once, on the thread that will run the commands).
  public func installInterruptHandler() { Interrupts.install(for: session) }

  /// The prompt readline shows (colour codes marked as invisible for its line length).
  public var prompt: String {
    style.enabled ? "\u{01}\u{1B}[1;32m\u{02}(rv)\u{01}\u{1B}[0m\u{02} " : "(rv) "
  }

  /// Reads and runs commands until `quit` or the end of the input.
  public func run(_ source: LineSource) {
    while let line = source.nextLine(prompt: interactive ? prompt : "") {
      if !execute(line) { return }
    }
  }

  /// Runs one command line; false when it was `quit`.
  @discardableResult
  public func execute(_ line: String) -> Bool {
    var text = line.trimmingCharacters(in: .whitespaces)
    if echo { console.line("(rv) " + text) }
    if text.isEmpty {
      guard interactive, let again = repeatLine else { return true }
      text = again
    }
    if text.hasPrefix("#") { return true }
    let invocation = Invocation(parsing: text)
    let command: Command
    switch CommandTable.lookup(invocation.name) {
    case .found(let c): command = c
    case .unknown:
      fail("unknown command '\(invocation.name)': try help")
      return true
    case .ambiguous(let names):
      fail("'\(invocation.name)' is ambiguous: \(names.joined(separator: ", "))")
      return true
    }
    if command.name == Command.quit.name { return false }
    repeatLine = command.repeats ? text : nil
    Interrupts.beginCommand()
    guestOutput.echoedThrough = 0
    defer {
      Interrupts.endCommand()
      showGuestOutput()
      guestOutput.echoedThrough = 0
    }
    do {
      try command.run(self, invocation)
    } catch is Interrupted {
      reportInterrupted()
    } catch {
      if Interrupts.isPending {
        reportInterrupted()
      } else {
        fail(Self.message(error))
      }
    }
    return true
  }

  func fail(_ message: String) {
    failures += 1
    repeatLine = nil
    console.error(message)
  }

  static func message(_ error: Error) -> String {
    String(describing: error)
  }

  private func reportInterrupted() {
    showGuestOutput()
    console.line(style.stop("interrupted"))
    do { try showLocation() } catch { console.error(Self.message(error)) }
  }

  /// Throws `Interrupted` if Ctrl-C was pressed since the command started.
  func checkInterrupt() throws {
    if Interrupts.isPending { throw Interrupted() }
  }

  // MARK: The machine, as the commands see it

  func registerSet() throws -> RegisterSet {
    RegisterSet(regs: try session.registers(), sregs: try session.specialRegisters())
  }

  /// Memory at a guest-virtual address, or a physical one after `phys on`.
  func readMemory(_ address: UInt64, count: Int) throws -> [UInt8] {
    try session.readMemory(address, count: count, physical: session.physicalAddresses)
  }

  /// `0x100076 <fill_scratch+0x3>` (the symbol part only when one covers the address).
  func addressText(_ address: UInt64) -> String {
    let a = style.address(hex(address))
    guard let s = symbols.describe(address) else { return a }
    return a + " " + style.symbol("<\(s)>")
  }

  /// The instruction at a linear address, or nil where memory cannot be read.
  func instruction(at address: UInt64, bits: Int) -> Disassembler.Instruction? {
    instructions(at: address, bits: bits, count: 1).first
  }

  func instructions(at address: UInt64, bits: Int, count: Int) -> [Disassembler.Instruction] {
    let wanted = max(16, count * 15)
    var bytes = try? session.readMemory(address, count: wanted)
    if bytes == nil {
      // Stop at the end of the page: the next one may not be mapped.
      bytes = try? session.readMemory(address, count: Int(4096 - (address & 0xFFF)))
    }
    guard let bytes else { return [] }
    return disassembler.disassemble(bytes, at: address, bits: bits, count: count)
  }

  /// An instruction as listed: `movl $0xdeadbeef, 0x10(%eax)`, with `<symbol>` after a direct
  /// call or jump target.
  func instructionText(_ insn: Disassembler.Instruction) -> String {
    guard let target = insn.directTarget, let s = symbols.describe(target) else { return insn.text }
    return insn.text + " " + style.symbol("<\(s)>")
  }

  /// `[187+12] 0x100076 <fill_scratch+0x3>: movl $0xdeadbeef, 0x10(%eax)`
  func locationLine() throws -> String {
    let p = try session.position()
    let r = try registerSet()
    let insn = instruction(at: r.pc, bits: r.bits).map(instructionText) ?? "(cannot read memory here)"
    return style.position("[\(p)]") + " " + addressText(r.pc) + ": " + insn
  }

  func showLocation() throws {
    let line = try locationLine()
    showGuestOutput()
    console.line(line)
  }

  /// Prints where the machine is now (the location line), or why that cannot be read.
  public func printLocation() {
    do { try showLocation() } catch { console.error(Self.message(error)) }
  }

  /// Reports why a step or run stopped, then where the machine now is.
  func report(_ stop: SessionStop, reverse: Bool) throws {
    showGuestOutput()
    switch stop {
    case .stepped, .arrived:
      break
    case .breakpoint(let id, let address):
      console.line(style.stop("breakpoint \(id)") + ", " + addressText(address))
    case .watchpoint(let id, let kind, let address, let old, let new):
      let by = reverse ? "by this instruction" : "by the instruction before this one"
      let what =
        kind == .write || old != new
        ? "\(watchedValue(old)) -> \(watchedValue(new)), written \(by)" : "\(watchedValue(new)), read \(by)"
      console.line(style.stop("watchpoint \(id)") + ": " + addressText(address) + " (\(byteCount(old.count))) " + what)
    case .startOfHistory:
      console.line(style.stop("start of the recording") + ": no more reverse-execution history")
    case .endOfHistory(let outcome):
      console.line(
        style.stop("end of the recording") + (outcome.map { ": the guest ended with \($0)" } ?? ": the log ends here"))
    case .interrupted:
      console.line(style.stop("interrupted"))
    }
    try showLocation()
  }

  /// Evaluates an expression against the current registers, symbols and memory.
  func evaluate(_ text: String) throws -> ExpressionValue {
    try Expression.evaluate(text, in: SessionExpressionContext(repl: self, registers: try registerSet()))
  }

  // MARK: Completion

  /// Candidates for the word being completed, given the line before it.
  public func completions(before: String, word: String) -> [String] {
    let previous = before.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
    if previous.isEmpty {
      return CommandTable.completionNames.filter { $0.hasPrefix(word) }
    }
    let head = Invocation(parsing: previous[0]).name
    guard case .found(let command) = CommandTable.lookup(head) else { return [] }
    switch command.completion {
    case .nothing:
      return []
    case .commands:
      return previous.count == 1 ? CommandTable.all.map(\.name).filter { $0.hasPrefix(word) } : []
    case .subcommands(let names):
      if previous.count == 1 { return names.filter { $0.hasPrefix(word) } }
      // `info symbol`, `info line`: an address after the subcommand.
      return expressionCompletions(word)
    case .bookmarks:
      return session.bookmarks.keys.sorted().filter { $0.hasPrefix(word) }
    case .expression:
      return expressionCompletions(word)
    }
  }

  private func expressionCompletions(_ word: String) -> [String] {
    var w = Substring(word)
    var prefix = ""
    while let c = w.first, "*&".contains(c) {
      prefix.append(c)
      w = w.dropFirst()
    }
    if w.hasPrefix("$") {
      return RegisterSet.completionNames.map { "$" + $0 }.filter { $0.hasPrefix(w) }.map { prefix + $0 }
    }
    return symbols.names.filter { $0.hasPrefix(w) }.map { prefix + $0 }
  }
}

/// Registers, symbols and memory of the session, for expressions.
struct SessionExpressionContext: ExpressionContext {
  let repl: REPL
  let registers: RegisterSet

  func register(_ name: String) throws -> (value: UInt64, bytes: Int) {
    guard let r = registers.value(name) else { throw REPLError("no register '$\(name)'") }
    return r
  }

  func symbolAddress(_ name: String) throws -> UInt64 {
    guard let s = repl.symbols.named(name) else {
      throw REPLError(
        repl.symbols.names.isEmpty
          ? "no symbol '\(name)' (no symbols loaded: give the guest image with --image)" : "no symbol '\(name)'")
    }
    return s.value
  }

  func readInteger(at address: UInt64, bytes: Int) throws -> UInt64 {
    littleEndian(try repl.readMemory(address, count: bytes))
  }

  var pointerBytes: Int { registers.pointerBytes }
}
