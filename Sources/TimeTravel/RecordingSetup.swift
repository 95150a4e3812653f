import Machine
import Recording

/// What a recording says about the machine it was made on: stored in the file header and
/// checked on replay.
public struct RecordingSetup: Sendable, Equatable {
  public var configuration: MachineConfiguration
  public var imageName: String
  public var imageHash: Hash128
  public var imageKind: String
  public var commandLine: String

  public init(configuration: MachineConfiguration, imageName: String, image: [UInt8], imageKind: String, commandLine: String) {
    self.configuration = configuration
    self.imageName = imageName
    self.imageHash = ContentHash.of(image)
    self.imageKind = imageKind
    self.commandLine = commandLine
  }

  /// How positions and deliveries are counted; a recording made under another scheme cannot be
  /// replayed (2: interrupt-window exits are not positions, injections there are kicked points;
  /// 3: every I/O and MMIO instruction is completed at its exit).
  static let eventScheme = "3"

  var header: RecordingHeader {
    var w = ByteWriter()
    w.write(configuration.memorySize)
    return RecordingHeader(
      imageName: imageName, imageHash: imageHash, machineConfiguration: w.bytes,
      createdUnixSeconds: UInt64(max(0, time(nil))),
      extra: [
        "imageKind": imageKind, "commandLine": commandLine, "engine": "retrovisor 0.1", "eventScheme": Self.eventScheme,
      ])
  }

  init(header: RecordingHeader) throws(ReplayError) {
    var r = ByteReader(header.machineConfiguration)
    do {
      configuration = MachineConfiguration(memorySize: try r.readUInt64("machineConfiguration.memorySize"))
    } catch {
      throw .damaged("header: \(error)")
    }
    do { try configuration.validate() } catch { throw .damaged("header: \(error)") }
    let scheme = header.extra["eventScheme"] ?? "1"
    guard scheme == Self.eventScheme else {
      throw .incompatible(
        "this recording counts positions by event scheme \(scheme); this build replays scheme \(Self.eventScheme): record it again"
      )
    }
    imageName = header.imageName
    imageHash = header.imageHash
    imageKind = header.extra["imageKind"] ?? "unknown"
    commandLine = header.extra["commandLine"] ?? ""
  }
}

#if canImport(Glibc)
  import Glibc
#endif
