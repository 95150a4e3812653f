// swift-tools-version: 6.0
import PackageDescription

let package = Package(
  name: "Retrovisor",
  products: [
    .executable(name: "retrovisor", targets: ["retrovisor"])
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
  ],
  targets: [
    // C shim over <linux/kvm.h>: fixed-argument ioctl wrappers and request constants.
    .target(name: "CKVM"),
    // Thin typed Swift over the KVM ioctls.
    .target(name: "KVM", dependencies: ["CKVM"]),
    // The virtual platform: memory map, port bus, devices, loaders, virtual clock, run loop.
    .target(name: "Machine", dependencies: ["KVM"]),
    // Recording file format: header, checksummed chunks, zstd, XXH3 (no KVM dependency).
    .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
    .systemLibrary(name: "CXXHash", pkgConfig: "libxxhash", providers: [.apt(["libxxhash-dev"])]),
    .target(name: "Recording", dependencies: ["CZstd", "CXXHash"]),
    // Recording, replay, snapshots, positions: the engine both front ends drive.
    .target(name: "TimeTravel", dependencies: ["Machine", "KVM", "Recording"]),
    // gdb remote serial protocol: framing, commands, replies, target descriptions, TCP server.
    // Knows nothing of the engine: it drives whatever implements `GDBTarget`.
    .target(name: "GDBRemote"),
    // The REPL front end: GNU readline for line editing, capstone for disassembly.
    .systemLibrary(name: "CReadline", providers: [.apt(["libreadline-dev"])]),
    .systemLibrary(name: "CCapstone", pkgConfig: "capstone", providers: [.apt(["libcapstone-dev"])]),
    .target(name: "REPL", dependencies: ["TimeTravel", "Machine", "KVM", "CReadline", "CCapstone"]),
    .executableTarget(
      name: "retrovisor",
      dependencies: [
        "Machine", "KVM", "TimeTravel", "GDBRemote", "REPL", "Recording",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    // What the test targets share: running a CLI child process with a deadline on every wait.
    .target(name: "TestSupport", path: "Tests/TestSupport"),
    .testTarget(name: "MachineTests", dependencies: ["Machine"]),
    .testTarget(name: "IntegrationTests", dependencies: ["Machine", "TestSupport"]),
    .testTarget(name: "RecordingTests", dependencies: ["Recording"]),
    .testTarget(name: "TimeTravelTests", dependencies: ["TimeTravel", "Recording", "Machine", "TestSupport"]),
    .testTarget(name: "GDBRemoteTests", dependencies: ["GDBRemote"]),
    .testTarget(name: "REPLTests", dependencies: ["REPL", "TimeTravel", "Machine", "TestSupport"]),
  ],
  swiftLanguageModes: [.v6]
)
