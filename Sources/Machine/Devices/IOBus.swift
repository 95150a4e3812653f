/// The x86 I/O port space: routes each `in`/`out` to the device that claims the port.
///
/// An access goes to the device owning its first port, which handles the width (the ISA
/// devices split it into byte cycles). Unclaimed ports read as all-ones, as an undriven bus
/// does, and are counted so a run can report what the guest looked for and did not find.
public final class IOBus {
  public struct AccessCounts: Equatable, Sendable {
    public var reads = 0
    public var writes = 0
    public init(reads: Int = 0, writes: Int = 0) {
      self.reads = reads
      self.writes = writes
    }
  }

  public struct RegistrationError: Error, CustomStringConvertible, Equatable {
    public var description: String
  }

  /// Devices in registration order; snapshots encode them in this order.
  public private(set) var devices: [any PortDevice] = []
  /// Guest accesses to ports no device claims. Diagnostics only: not part of the machine state.
  public private(set) var unknownPortAccesses: [UInt16: AccessCounts] = [:]
  /// Device index + 1 for each port, 0 for none: one load per access.
  private var owner = [UInt16](repeating: 0, count: 0x10000)

  public init() {}

  /// Adds a device. Rejects a device whose ports overlap a registered one, or whose name is
  /// already taken (names identify devices in snapshots).
  public func register(_ device: any PortDevice) throws(RegistrationError) {
    guard devices.count < Int(UInt16.max) else {
      throw RegistrationError(description: "too many I/O devices")
    }
    if devices.contains(where: { $0.name == device.name }) {
      throw RegistrationError(description: "an I/O device named \"\(device.name)\" is already registered")
    }
    for range in device.portRanges {
      for port in range where owner[Int(port)] != 0 {
        let other = devices[Int(owner[Int(port)]) - 1]
        throw RegistrationError(
          description: "I/O device \"\(device.name)\" claims port \(hex(port)), already owned by \"\(other.name)\"")
      }
    }
    // Ranges may also overlap each other within one device; that is harmless.
    devices.append(device)
    let tag = UInt16(devices.count)
    for range in device.portRanges {
      for port in range { owner[Int(port)] = tag }
    }
  }

  /// The device answering `port`, if any.
  public func device(at port: UInt16) -> (any PortDevice)? {
    let tag = owner[Int(port)]
    return tag == 0 ? nil : devices[Int(tag) - 1]
  }

  /// A guest `in` of `size` bytes (1, 2 or 4).
  public func read(port: UInt16, size: Int) -> UInt32 {
    let tag = owner[Int(port)]
    guard tag != 0 else {
      unknownPortAccesses[port, default: AccessCounts()].reads += 1
      return DevicePortAccess.allOnes(size: size)
    }
    return devices[Int(tag) - 1].read(port: port, size: size) & DevicePortAccess.allOnes(size: size)
  }

  /// A guest `out` of `size` bytes (1, 2 or 4).
  public func write(port: UInt16, size: Int, value: UInt32) {
    let tag = owner[Int(port)]
    guard tag != 0 else {
      unknownPortAccesses[port, default: AccessCounts()].writes += 1
      return
    }
    devices[Int(tag) - 1].write(port: port, size: size, value: value & DevicePortAccess.allOnes(size: size))
  }

  public func resetUnknownPortAccesses() {
    unknownPortAccesses = [:]
  }

  // MARK: State

  /// Every device's state in registration order, each as its name and a length-prefixed blob.
  public func encodeState(into encoder: inout StateEncoder) {
    encoder.write(UInt32(devices.count))
    for device in devices {
      encoder.write(Array(device.name.utf8))
      var inner = StateEncoder()
      device.encodeState(into: &inner)
      encoder.write(inner.bytes)
    }
  }

  /// Restores every device. The encoding must list the same devices in the same order; on
  /// any error the devices are left as they were.
  public func decodeState(from decoder: inout StateDecoder) throws(StateDecodingError) {
    var before = StateEncoder()
    encodeState(into: &before)
    do {
      try decodeDevices(from: &decoder)
    } catch {
      var restore = StateDecoder(before.bytes)
      try? decodeDevices(from: &restore)
      throw error
    }
  }

  private func decodeDevices(from decoder: inout StateDecoder) throws(StateDecodingError) {
    let count: UInt32 = try decoder.read()
    guard count == devices.count else {
      throw StateDecodingError("state has \(count) I/O devices, the bus has \(devices.count)")
    }
    for device in devices {
      let nameBytes: [UInt8] = try decoder.read()
      let name = String(decoding: nameBytes, as: UTF8.self)
      guard name == device.name else {
        throw StateDecodingError("state has I/O device \"\(name)\" where the bus has \"\(device.name)\"")
      }
      let blob: [UInt8] = try decoder.read()
      var inner = StateDecoder(blob)
      do {
        try device.decodeState(from: &inner)
      } catch {
        throw StateDecodingError("\(device.name): \(error.description)")
      }
      guard inner.isAtEnd else {
        throw StateDecodingError("\(device.name): \(blob.count - inner.offset) unused state bytes")
      }
    }
  }

  private func hex(_ port: UInt16) -> String {
    "0x" + String(port, radix: 16, uppercase: true)
  }
}
