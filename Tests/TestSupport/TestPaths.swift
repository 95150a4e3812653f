import Foundation

/// Where the tests find the retrovisor binary and the test guests (the test bed sets both
/// variables, the host suite uses the build tree).
public enum TestPaths {
  /// The repository root, from this file's location (Tests/TestSupport/...).
  public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  /// The retrovisor binary: $RETROVISOR_BIN, or the debug build next to the test bundle.
  public static var retrovisor: String {
    if let path = ProcessInfo.processInfo.environment["RETROVISOR_BIN"] { return path }
    let bundleDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [
      bundleDir.appendingPathComponent("retrovisor"), bundleDir.deletingLastPathComponent().appendingPathComponent("retrovisor"),
    ]
    where FileManager.default.isExecutableFile(atPath: candidate.path) {
      return candidate.path
    }
    return root.appendingPathComponent(".build/debug/retrovisor").path
  }

  /// A test guest: in $RETROVISOR_GUESTS (the test bed sets it), or in guests/build.
  public static func guest(_ name: String) -> String {
    let dir = ProcessInfo.processInfo.environment["RETROVISOR_GUESTS"] ?? root.appendingPathComponent("guests/build").path
    return URL(fileURLWithPath: dir).appendingPathComponent("\(name).elf").path
  }
}
