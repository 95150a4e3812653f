import Testing

@testable import Machine

/// Random corruption of valid images: every outcome must be an ImageLoadError or a load,
/// never a trap.
@Suite struct LoaderFuzzTests {
  typealias F = LoaderFixtures

  /// Overwrites 1-8 bytes, usually inside `hot` (the headers), with random or boundary values.
  static func mutate(_ image: [UInt8], hot: Range<Int>, random: inout LoaderTestRandom) -> [UInt8] {
    var out = image
    for _ in 0...random.below(8) {
      let index = random.below(2) == 0 ? hot.lowerBound + random.below(hot.count) : random.below(out.count)
      let values: [UInt8] = [0, 0xFF, 0x7F, 0x80, 1]
      out[index] = random.below(3) == 0 ? values[random.below(values.count)] : UInt8(truncatingIfNeeded: random.next())
    }
    if random.below(10) == 0 { out = Array(out.prefix(random.below(out.count + 1))) }
    return out
  }

  @Test func multibootMutationsNeverCrash() {
    let image = F.multibootELF32()
    let memory = ArrayMemory(size: 4 << 20)
    var random = LoaderTestRandom(state: 0x5EED)
    var loaded = 0
    var options = LoadOptions()
    options.commandLine = "x"
    options.initrd = [1, 2, 3]
    for _ in 0..<1000 {
      let mutated = Self.mutate(image, hot: 0..<0x110, random: &random)
      let kind = ImageLoader.detect(mutated) ?? .multiboot
      if (try? ImageLoader.load(mutated, kind: kind, into: memory, options: options)) != nil { loaded += 1 }
      if let elf = try? ELFFile(mutated), let symbols = try? elf.symbols() {
        _ = ELFSymbolTable(symbols).symbol(containing: 0x10_0010)
      }
    }
    #expect(loaded > 0)
  }

  @Test func sectionTableMutationsNeverCrash() {
    let image = F.multibootELF32()
    var random = LoaderTestRandom(state: 0xE1F)
    for _ in 0..<1000 {
      let mutated = Self.mutate(image, hot: 0x20..<0x318, random: &random)
      if let elf = try? ELFFile(mutated) { _ = try? elf.symbols() }
    }
  }

  @Test func linuxMutationsNeverCrash() {
    let image = F.bzImage()
    let memory = ArrayMemory(size: 32 << 20)
    var random = LoaderTestRandom(state: 0x11A)
    var loaded = 0
    var options = LoadOptions()
    options.commandLine = "console=ttyS0"
    options.initrd = [UInt8](repeating: 9, count: 100)
    for _ in 0..<1000 {
      let mutated = Self.mutate(image, hot: 0x1F0..<0x270, random: &random)
      if (try? ImageLoader.load(mutated, kind: .linux, into: memory, options: options)) != nil { loaded += 1 }
    }
    #expect(loaded > 0)
  }

  @Test func kludgeMutationsNeverCrash() {
    let image = F.multibootELF64(kludge: true)
    let memory = ArrayMemory(size: 4 << 20)
    var random = LoaderTestRandom(state: 0xA0)
    for _ in 0..<1000 {
      var mutated = Self.mutate(image, hot: 0x80..<0xA0, random: &random)
      // Keep the checksum valid so the kludge fields themselves get exercised.
      if mutated.count >= 0x8C {
        var flags = UInt32(0)
        for i in 0..<4 { flags |= UInt32(mutated[0x84 + i]) << (8 * UInt32(i)) }
        F.put32(&mutated, 0x80, F.multibootMagic)
        F.put32(&mutated, 0x88, 0 &- (F.multibootMagic &+ flags))
      }
      _ = try? ImageLoader.load(mutated, kind: .multiboot, into: memory, options: LoadOptions())
    }
  }
}
