import CKVM

#if canImport(Glibc)
  import Glibc
#endif

/// A KVM virtual machine: memory slots, dirty logging and vCPU creation.
public final class VirtualMachine {
  let fd: Int32
  public let system: KVMSystem

  init(fd: Int32, system: KVMSystem) {
    self.fd = fd
    self.system = system
  }

  deinit { close(fd) }

  /// Intel VMX needs three pages for the real-mode TSS; harmless elsewhere. Placed just below
  /// the firmware window at the top of 4 GiB, where no RAM lives.
  public func setTSSAddress(_ address: UInt64) throws(KVMError) {
    _ = try check("KVM_SET_TSS_ADDR", ckvm_ioctl(fd, CKVM_KVM_SET_TSS_ADDR, UInt(address)))
  }

  public func setIdentityMapAddress(_ address: UInt64) throws(KVMError) {
    var addr = address
    _ = try check("KVM_SET_IDENTITY_MAP_ADDR", ckvm_ioctl_ptr(fd, CKVM_KVM_SET_IDENTITY_MAP_ADDR, &addr))
  }

  public struct MemoryFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let logDirtyPages = MemoryFlags(rawValue: UInt32(KVM_MEM_LOG_DIRTY_PAGES))
    public static let readOnly = MemoryFlags(rawValue: UInt32(KVM_MEM_READONLY))
  }

  /// Maps `size` bytes of host memory at `host` into guest-physical `guestAddress` as slot `slot`.
  /// A size of 0 deletes the slot.
  public func setMemoryRegion(
    slot: UInt32, guestAddress: UInt64, size: UInt64, host: UnsafeMutableRawPointer?, flags: MemoryFlags = []
  ) throws(KVMError) {
    var region = kvm_userspace_memory_region()
    region.slot = slot
    region.flags = flags.rawValue
    region.guest_phys_addr = guestAddress
    region.memory_size = size
    region.userspace_addr = UInt64(UInt(bitPattern: host))
    _ = try check("KVM_SET_USER_MEMORY_REGION (slot \(slot))", ckvm_ioctl_ptr(fd, CKVM_KVM_SET_USER_MEMORY_REGION, &region))
  }

  /// Fetches and clears the dirty bitmap of a slot with dirty logging on: bit N of the result
  /// is page N of the slot.
  public func dirtyLog(slot: UInt32, pages: Int) throws(KVMError) -> [UInt64] {
    var bitmap = [UInt64](repeating: 0, count: (pages + 63) / 64)
    let result = bitmap.withUnsafeMutableBytes { buffer in
      var log = kvm_dirty_log()
      log.slot = slot
      log.dirty_bitmap = buffer.baseAddress
      return ckvm_ioctl_ptr(fd, CKVM_KVM_GET_DIRTY_LOG, &log)
    }
    _ = try check("KVM_GET_DIRTY_LOG (slot \(slot))", result)
    return bitmap
  }

  public func createVCPU(id: UInt32 = 0) throws(KVMError) -> VCPU {
    let vcpufd = try check("KVM_CREATE_VCPU", ckvm_ioctl(fd, CKVM_KVM_CREATE_VCPU, UInt(id)))
    let size = try system.vcpuMmapSize()
    let mapping = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpufd, 0)
    guard let mapping, mapping != MAP_FAILED else {
      let err = Glibc.errno
      close(vcpufd)
      throw KVMError("mmap of the vCPU run structure", errno: err)
    }
    return VCPU(fd: vcpufd, run: mapping, runSize: size, vm: self)
  }
}
