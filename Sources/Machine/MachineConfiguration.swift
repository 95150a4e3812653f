/// The user-visible shape of the virtual machine. Stored in recordings: a replay must use the same.
public struct MachineConfiguration: Sendable, Equatable {
  /// Guest RAM in bytes, mapped from guest-physical 0.
  public var memorySize: UInt64 = 64 << 20

  public init(memorySize: UInt64 = 64 << 20) {
    self.memorySize = memorySize
  }

  /// RAM must stay below the firmware/TSS window under 4 GiB; 1 MiB minimum holds the
  /// real-mode area and a small kernel.
  public static let minimumMemory: UInt64 = 1 << 20
  public static let maximumMemory: UInt64 = 3 << 30

  public func validate() throws(MachineError) {
    guard memorySize >= Self.minimumMemory, memorySize <= Self.maximumMemory else {
      throw .invalidConfiguration("memory must be between 1 MiB and 3 GiB, got \(memorySize >> 20) MiB")
    }
    guard memorySize % (1 << 20) == 0 else {
      throw .invalidConfiguration("memory must be a whole number of MiB")
    }
  }
}
