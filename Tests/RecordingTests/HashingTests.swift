import Testing

@testable import Recording

struct HashingTests {
  // Reference values: XXH3_128bits / XXH3_64bits, seed 0 (as printed by `xxhsum -H2` / `-H3`,
  // checked against libxxhash 0.8.1 from C).
  @Test func knownAnswers() {
    #expect(ContentHash.of([]).description == "99aa06d3014798d86001c324468d497f")
    #expect(ContentHash.of(Array("abc".utf8)).description == "06b05ab6733a618578af5f94892f3950")
    #expect(ContentHash.checksum([]) == 0x2d06_8005_38d3_94c2)
    #expect(ContentHash.checksum(Array("abc".utf8)) == 0x78af_5f94_892f_3950)
  }

  @Test func hexAndCanonicalRoundTrip() throws {
    let hash = ContentHash.of(Array("abc".utf8))
    #expect(Hash128(hex: hash.description) == hash)
    #expect(Hash128(hex: "xyz") == nil)
    #expect(hash.canonicalBytes.count == 16)
    #expect(Hash128(canonicalBytes: hash.canonicalBytes) == hash)
    #expect(Hash128(high: 1, low: 2).description == "00000000000000010000000000000002")
  }

  @Test func streamingEqualsOneShot() {
    var rng = SplitMix64(seed: 42)
    let data = randomBytes(100_000, &rng)
    var hasher = StateHasher()
    // Uneven pieces, including empty ones and pieces that straddle XXH3's internal blocks.
    var start = 0
    for size in [0, 1, 3, 64, 0, 240, 1000, 4096, 17, 30_000] {
      hasher.update(data[start..<start + size])
      start += size
    }
    hasher.update(Array(data[start...]))
    #expect(hasher.finalize() == ContentHash.of(data))
    // finalize does not end the stream.
    hasher.update([1, 2, 3])
    #expect(hasher.finalize() == ContentHash.of(data + [1, 2, 3]))
  }

  @Test func integersAreLittleEndian() {
    var hasher = StateHasher()
    hasher.update(UInt32(0x0403_0201))
    hasher.update(UInt8(5))
    hasher.update(true)
    hasher.update(UInt16(0x0807))
    hasher.update(UInt64(0x100F_0E0D_0C0B_0A09))
    #expect(hasher.finalize() == ContentHash.of([1, 2, 3, 4, 5, 1, 7, 8] + Array(9...16)))
  }

  @Test func copiesForkTheStream() {
    var a = StateHasher()
    a.update(Array("common".utf8))
    var b = a
    a.update(Array("-a".utf8))
    b.update(Array("-b".utf8))
    #expect(a.finalize() == ContentHash.of(Array("common-a".utf8)))
    #expect(b.finalize() == ContentHash.of(Array("common-b".utf8)))
    #expect(StateHasher().finalize() == ContentHash.of([]))
  }
}

struct CompressionTests {
  @Test func roundTrip() throws {
    let data = compressibleBytes(200_000)
    let packed = Zstd.compress(data)
    #expect(packed.count < data.count / 20)
    #expect(try Zstd.decompress(packed, expectedSize: data.count) == data)
    #expect(try Zstd.decompress(Zstd.compress([]), expectedSize: 0) == [])
  }

  @Test func compressIfSmallerDeclinesIncompressibleData() {
    var rng = SplitMix64(seed: 7)
    let noise = randomBytes(4096, &rng)
    #expect(noise.withUnsafeBytes { Zstd.compressIfSmaller($0) } == nil)
    let text = compressibleBytes(4096)
    let packed = text.withUnsafeBytes { Zstd.compressIfSmaller($0) }
    #expect((packed?.count ?? .max) < text.count)
  }

  @Test func sizesAreEnforced() {
    let data = compressibleBytes(10_000)
    let packed = Zstd.compress(data)
    #expect(throws: ZstdError.frameSizeMismatch(declared: 10_000, expected: 9_999)) {
      try Zstd.decompress(packed, expectedSize: 9_999)
    }
    #expect(throws: ZstdError.sizeLimitExceeded(size: 10_000, limit: 4096)) {
      try Zstd.decompress(packed, expectedSize: 10_000, limit: 4096)
    }
    #expect(throws: ZstdError.self) { try Zstd.decompress(Array("not zstd".utf8), expectedSize: 8) }
    #expect(throws: ZstdError.self) {
      try Zstd.decompress(Array(packed.prefix(packed.count / 2)), expectedSize: 10_000)
    }
  }
}
