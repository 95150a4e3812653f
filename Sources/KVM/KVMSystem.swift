import CKVM

#if canImport(Glibc)
  import Glibc
#endif

/// An open /dev/kvm: capability queries and VM creation.
public final class KVMSystem {
  public static let expectedAPIVersion: Int32 = 12
  let fd: Int32
  public let path: String

  public init(path: String = "/dev/kvm") throws(KVMError) {
    self.path = path
    let fd = open(path, O_RDWR | O_CLOEXEC)
    if fd < 0 {
      let err = Glibc.errno
      let hint: String
      switch err {
      case ENOENT:
        hint = "KVM is not available on this host: load the kvm module (kvm_intel or kvm_amd) or enable nested virtualization"
      case EACCES, EPERM:
        hint = "no permission to use KVM: run as root or add your user to the 'kvm' group"
      default:
        hint = "cannot use KVM"
      }
      throw KVMError("open \(path)", errno: err, hint: hint)
    }
    self.fd = fd
    let version = ckvm_ioctl(fd, CKVM_KVM_GET_API_VERSION, 0)
    guard version == Self.expectedAPIVersion else {
      close(fd)
      throw KVMError(
        "KVM_GET_API_VERSION", message: "\(path) reports API version \(version), Retrovisor needs \(Self.expectedAPIVersion)")
    }
  }

  deinit { close(fd) }

  /// KVM_CHECK_EXTENSION: 0 when the capability is absent, otherwise a capability-specific value.
  public func capability(_ cap: Int32) -> Int {
    Int(max(0, ckvm_ioctl(fd, CKVM_KVM_CHECK_EXTENSION, UInt(cap))))
  }

  public func vcpuMmapSize() throws(KVMError) -> Int {
    Int(try check("KVM_GET_VCPU_MMAP_SIZE", ckvm_ioctl(fd, CKVM_KVM_GET_VCPU_MMAP_SIZE, 0)))
  }

  /// The CPUID leaves this KVM can present to a guest.
  public func supportedCPUID() throws(KVMError) -> [CPUIDEntry] {
    var capacity: UInt32 = 128
    while true {
      guard let list = ckvm_cpuid2_alloc(capacity) else { throw KVMError("calloc", errno: ENOMEM) }
      defer { free(list) }
      if ckvm_ioctl_ptr(fd, CKVM_KVM_GET_SUPPORTED_CPUID, list) == 0 {
        return CPUIDEntry.entries(of: list)
      }
      let err = Glibc.errno
      guard err == E2BIG, capacity < 4096 else { throw KVMError("KVM_GET_SUPPORTED_CPUID", errno: err) }
      capacity *= 2
    }
  }

  /// The MSRs KVM saves and restores for a vCPU (KVM_GET_MSR_INDEX_LIST).
  public func msrIndexList() throws(KVMError) -> [UInt32] {
    var capacity: UInt32 = 256
    while true {
      guard let list = ckvm_msr_list_alloc(capacity) else { throw KVMError("calloc", errno: ENOMEM) }
      defer { free(list) }
      if ckvm_ioctl_ptr(fd, CKVM_KVM_GET_MSR_INDEX_LIST, list) == 0 {
        // The flexible `indices` array follows the header; Swift does not import it.
        let start = UnsafeRawPointer(list).advanced(by: MemoryLayout<kvm_msr_list>.size)
          .bindMemory(to: UInt32.self, capacity: Int(list.pointee.nmsrs))
        return Array(UnsafeBufferPointer(start: start, count: Int(list.pointee.nmsrs)))
      }
      let err = Glibc.errno
      guard err == E2BIG, capacity < 65536 else { throw KVMError("KVM_GET_MSR_INDEX_LIST", errno: err) }
      capacity = max(capacity * 2, list.pointee.nmsrs)
    }
  }

  public func createVM() throws(KVMError) -> VirtualMachine {
    let vmfd = try check("KVM_CREATE_VM", ckvm_ioctl(fd, CKVM_KVM_CREATE_VM, 0))
    return VirtualMachine(fd: vmfd, system: self)
  }
}
