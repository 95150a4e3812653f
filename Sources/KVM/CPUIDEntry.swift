import CKVM

/// One CPUID leaf/subleaf as KVM describes it (kvm_cpuid_entry2).
public struct CPUIDEntry: Sendable, Equatable {
  public var function: UInt32
  public var index: UInt32
  public var flags: UInt32
  public var eax: UInt32
  public var ebx: UInt32
  public var ecx: UInt32
  public var edx: UInt32

  public init(function: UInt32, index: UInt32 = 0, flags: UInt32 = 0, eax: UInt32, ebx: UInt32, ecx: UInt32, edx: UInt32) {
    self.function = function
    self.index = index
    self.flags = flags
    self.eax = eax
    self.ebx = ebx
    self.ecx = ecx
    self.edx = edx
  }

  init(_ e: kvm_cpuid_entry2) {
    self.init(function: e.function, index: e.index, flags: e.flags, eax: e.eax, ebx: e.ebx, ecx: e.ecx, edx: e.edx)
  }

  var raw: kvm_cpuid_entry2 {
    var e = kvm_cpuid_entry2()
    e.function = function
    e.index = index
    e.flags = flags
    e.eax = eax
    e.ebx = ebx
    e.ecx = ecx
    e.edx = edx
    return e
  }

  static func entries(of list: UnsafeMutablePointer<kvm_cpuid2>) -> [CPUIDEntry] {
    let entries = entryPointer(of: list)
    return (0..<Int(list.pointee.nent)).map { CPUIDEntry(entries[$0]) }
  }

  /// kvm_cpuid2's flexible array is not imported into Swift: it starts right after the header.
  static func entryPointer(of list: UnsafeMutablePointer<kvm_cpuid2>) -> UnsafeMutablePointer<kvm_cpuid_entry2> {
    UnsafeMutableRawPointer(list).advanced(by: MemoryLayout<kvm_cpuid2>.size)
      .bindMemory(to: kvm_cpuid_entry2.self, capacity: Int(list.pointee.nent))
  }
}
