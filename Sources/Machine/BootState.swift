/// The CPU mode a loader hands control over in.
public enum CPUMode: String, Sendable, Equatable {
  /// Real mode at `BootState.codeSelector:rip` (firmware reset vector).
  case real
  /// 32-bit protected mode, flat 4 GiB code and data segments, paging off (Multiboot, flat binaries).
  case protected32
  /// 64-bit long mode with the loader's identity-mapped page tables at `pageTableRoot` (Linux).
  case long64
}

/// Where and how a loaded image starts: what the loader decided, turned into vCPU registers
/// by the platform. Loaders write the image, boot information and any page tables or GDT
/// into guest RAM themselves; this struct carries the register-level rest.
public struct BootState: Sendable, Equatable {
  public var mode: CPUMode
  public var rip: UInt64
  public var rsp: UInt64 = 0
  public var rax: UInt64 = 0
  public var rbx: UInt64 = 0
  public var rsi: UInt64 = 0
  /// Real mode only: CS selector; the base is `codeBase`.
  public var codeSelector: UInt16 = 0
  public var codeBase: UInt64 = 0
  /// Long mode only: guest-physical address of the PML4 the loader built.
  public var pageTableRoot: UInt64 = 0
  /// Guest-physical address and limit of a GDT the loader wrote (0/0 when none is needed).
  public var gdtBase: UInt64 = 0
  public var gdtLimit: UInt16 = 0
  /// Selectors whose cached descriptors the platform sets up (flat segments).
  public var codeSegmentSelector: UInt16 = 0x10
  public var dataSegmentSelector: UInt16 = 0x18
  /// A firmware image to map read-only just below 4 GiB (and whose last 128 KiB the loader
  /// already copied below 1 MiB).
  public var firmware: [UInt8]? = nil
  /// One line saying what was loaded, for `--verbose`.
  public var summary: String

  public init(mode: CPUMode, rip: UInt64, summary: String) {
    self.mode = mode
    self.rip = rip
    self.summary = summary
  }
}

/// What the user asked the loader to do besides the image itself.
public struct LoadOptions: Sendable, Equatable {
  /// Kernel command line (Multiboot cmdline, Linux boot_params cmdline).
  public var commandLine: String = ""
  /// Initial ramdisk / first Multiboot module, already read from disk.
  public var initrd: [UInt8]? = nil
  public var initrdName: String = "initrd"
  /// Flat binaries: where to load and where to start.
  public var loadAddress: UInt64? = nil
  public var entry: UInt64? = nil
  public init() {}
}
