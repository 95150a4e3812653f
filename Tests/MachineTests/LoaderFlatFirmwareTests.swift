import Testing

@testable import Machine

@Suite struct LoaderFlatFirmwareTests {
  typealias F = LoaderFixtures

  @Test func flatNeedsLoadAddress() {
    let message = F.message {
      _ = try ImageLoader.load([0xF4], kind: .flat, into: ArrayMemory(size: 1 << 20), options: LoadOptions())
    }
    #expect(message?.contains("--load-address") == true)
  }

  @Test func flatLoadsAtAddressWithDefaultEntry() throws {
    let memory = ArrayMemory(size: 4 << 20)
    let image: [UInt8] = (0..<300).map { UInt8(truncatingIfNeeded: $0) }
    var options = LoadOptions()
    options.loadAddress = 0x20_0000
    let state = try ImageLoader.load(image, kind: .flat, into: memory, options: options)
    #expect(Array(memory.bytes[0x20_0000..<0x20_0000 + 300]) == image)
    #expect(state.mode == .protected32)
    #expect(state.rip == 0x20_0000)
    #expect(state.gdtBase == 0x500)
    #expect(state.gdtLimit == 31)
    #expect(state.rsp == 0x7000)
    #expect(F.le64(memory, 0x510) == 0x00CF_9B00_0000_FFFF)
    #expect(F.le64(memory, 0x518) == 0x00CF_9300_0000_FFFF)
  }

  @Test func flatExplicitEntryAndGDTMovedOutOfTheWay() throws {
    let memory = ArrayMemory(size: 1 << 20)
    let image = [UInt8](repeating: 0x90, count: 0x1000)
    var options = LoadOptions()
    options.loadAddress = 0
    options.entry = 0x10
    let state = try ImageLoader.load(image, kind: .flat, into: memory, options: options)
    #expect(state.rip == 0x10)
    #expect(state.gdtBase == 0x1000)  // 0x500 is inside the binary
    #expect(F.le64(memory, 0x1010) == 0x00CF_9B00_0000_FFFF)
    #expect(memory.bytes[0..<0x1000].allSatisfy { $0 == 0x90 })
  }

  @Test func flatTooLargeForRAM() {
    var options = LoadOptions()
    options.loadAddress = 0xFF000
    let message = F.message {
      _ = try ImageLoader.load(
        [UInt8](repeating: 0, count: 0x2000), kind: .flat,
        into: ArrayMemory(size: 1 << 20), options: options)
    }
    #expect(message?.contains("past the end of guest RAM") == true)
    options.loadAddress = UInt64.max - 2
    #expect(throws: ImageLoadError.self) {
      _ = try ImageLoader.load([1, 2, 3, 4], kind: .flat, into: ArrayMemory(size: 1 << 20), options: options)
    }
  }

  static func firmware(size: Int) -> [UInt8] {
    var image = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 3) }
    // Reset vector: jmp far f000:e05b.
    image.replaceSubrange(size - 16..<size - 11, with: [0xEA, 0x5B, 0xE0, 0x00, 0xF0])
    return image
  }

  @Test func firmwareCopiedBelowOneMiBAndResetVector() throws {
    let memory = ArrayMemory(size: 2 << 20)
    let image = Self.firmware(size: 128 << 10)
    let state = try ImageLoader.load(image, kind: .firmware, into: memory, options: LoadOptions())
    #expect(Array(memory.bytes[0xE0000..<0x10_0000]) == image)
    #expect(Array(memory.bytes[0xFFFF0..<0xFFFF5]) == [0xEA, 0x5B, 0xE0, 0x00, 0xF0])
    #expect(state.mode == .real)
    #expect(state.codeSelector == 0xF000)
    #expect(state.codeBase == 0xFFFF_0000)
    #expect(state.rip == 0xFFF0)
    #expect(state.firmware == image)
  }

  @Test func largeFirmwareCopiesOnlyItsLast128KiB() throws {
    let memory = ArrayMemory(size: 2 << 20)
    let image = Self.firmware(size: 256 << 10)
    let state = try ImageLoader.load(image, kind: .firmware, into: memory, options: LoadOptions())
    #expect(Array(memory.bytes[0xE0000..<0x10_0000]) == Array(image[(128 << 10)...]))
    #expect(memory.bytes[0xC0000..<0xE0000].allSatisfy { $0 == 0 })
    #expect(state.firmware == image)
  }

  @Test func oddSizedFirmwareEndsAtOneMiB() throws {
    let memory = ArrayMemory(size: 2 << 20)
    let image = Self.firmware(size: 5000)
    let state = try ImageLoader.load(image, kind: .firmware, into: memory, options: LoadOptions())
    #expect(Array(memory.bytes[(0x10_0000 - 5000)..<0x10_0000]) == image)
    #expect(state.firmware == image)
  }

  @Test func firmwareSizeLimits() {
    #expect(throws: ImageLoadError.self) {
      _ = try ImageLoader.load([0xEA], kind: .firmware, into: ArrayMemory(size: 2 << 20), options: LoadOptions())
    }
    #expect(throws: ImageLoadError.self) {
      _ = try ImageLoader.load(
        Self.firmware(size: 4096), kind: .firmware, into: ArrayMemory(size: 512 << 10),
        options: LoadOptions())
    }
  }
}
