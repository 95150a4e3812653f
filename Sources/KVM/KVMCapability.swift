import CKVM

/// A KVM capability Retrovisor asks about (`KVM_CHECK_EXTENSION`), for `retrovisor doctor`.
public struct KVMCapability: Sendable, Equatable {
  public let name: String
  public let number: Int32
  /// Whether running guests needs it (a host without it cannot run Retrovisor).
  public let required: Bool
  /// What Retrovisor uses it for.
  public let use: String

  /// The capabilities that matter to Retrovisor, required ones first.
  public static let relevant: [KVMCapability] = [
    .init(name: "KVM_CAP_USER_MEMORY", number: KVM_CAP_USER_MEMORY, required: true, use: "guest RAM"),
    .init(name: "KVM_CAP_SET_TSS_ADDR", number: KVM_CAP_SET_TSS_ADDR, required: true, use: "VMX real-mode TSS"),
    .init(name: "KVM_CAP_EXT_CPUID", number: KVM_CAP_EXT_CPUID, required: true, use: "the fixed CPUID model"),
    .init(name: "KVM_CAP_SET_GUEST_DEBUG", number: KVM_CAP_SET_GUEST_DEBUG, required: true, use: "single-step, breakpoints"),
    .init(name: "KVM_CAP_IMMEDIATE_EXIT", number: KVM_CAP_IMMEDIATE_EXIT, required: true, use: "kicks, completing exits"),
    .init(name: "KVM_CAP_VCPU_EVENTS", number: KVM_CAP_VCPU_EVENTS, required: true, use: "snapshots"),
    .init(name: "KVM_CAP_DEBUGREGS", number: KVM_CAP_DEBUGREGS, required: true, use: "snapshots"),
    .init(name: "KVM_CAP_XSAVE", number: KVM_CAP_XSAVE, required: true, use: "snapshots"),
    .init(name: "KVM_CAP_XCRS", number: KVM_CAP_XCRS, required: true, use: "snapshots"),
    .init(name: "KVM_CAP_MP_STATE", number: KVM_CAP_MP_STATE, required: true, use: "snapshots"),
    .init(name: "KVM_CAP_READONLY_MEM", number: KVM_CAP_READONLY_MEM, required: false, use: "--bios firmware"),
    .init(name: "KVM_CAP_GUEST_DEBUG_HW_BPS", number: KVM_CAP_GUEST_DEBUG_HW_BPS, required: false, use: "reported only: probed"),
    .init(name: "KVM_CAP_GUEST_DEBUG_HW_WPS", number: KVM_CAP_GUEST_DEBUG_HW_WPS, required: false, use: "reported only: probed"),
    .init(name: "KVM_CAP_DIRTY_LOG_RING", number: KVM_CAP_DIRTY_LOG_RING, required: false, use: "not used (dirty bitmap)"),
    .init(name: "KVM_CAP_X86_USER_SPACE_MSR", number: KVM_CAP_X86_USER_SPACE_MSR, required: false, use: "not used yet"),
    .init(name: "KVM_CAP_NR_MEMSLOTS", number: KVM_CAP_NR_MEMSLOTS, required: false, use: "read watchpoints split RAM"),
  ]
}

extension KVMSystem {
  /// `KVM_GET_API_VERSION` (the initializer already refused anything but 12).
  public var apiVersion: Int32 { ckvm_ioctl(fd, CKVM_KVM_GET_API_VERSION, 0) }
}
