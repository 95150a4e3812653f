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
  /// 3: every I/O and MMIO instruction is completed at its exit; 4: a kicked point's context
  /// hash leaves out pages written since the snapshot whose content is unchanged; 5: that hash
  /// takes each page by its content hash, not its bytes). Scheme 3 and 4 recordings still
  /// replay: the replayer hashes contexts their way.
  static let eventScheme = "5"
  static let replayableSchemes: Set<Int> = [3, 4, 5]
  /// The scheme this recording was made under.
  var eventScheme = 5

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
    guard let number = Int(scheme), Self.replayableSchemes.contains(number) else {
      throw .incompatible(
        "this recording counts positions by event scheme \(scheme); this build replays schemes 3 to 5: record it again"
      )
    }
    eventScheme = number
    imageName = header.imageName
    imageHash = header.imageHash
    imageKind = header.extra["imageKind"] ?? "unknown"
    commandLine = header.extra["commandLine"] ?? ""
  }
}

#if canImport(Glibc)
  import Glibc
#endif
