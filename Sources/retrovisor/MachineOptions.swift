import ArgumentParser
import Foundation
import Machine

/// Options shared by every command that boots a guest.
struct MachineOptions: ParsableArguments {
  @Argument(help: "Guest image: a Multiboot v1 ELF, a Linux bzImage, or a raw binary (with --load-address).")
  var image: String?

  @Option(name: .long, help: "Guest RAM, in MiB or with a suffix: 64, 256M, 1G.")
  var memory: String = "64M"

  @Option(name: .long, help: "Kernel command line (Multiboot and Linux images).")
  var append: String = ""

  @Option(name: .long, help: "Initial ramdisk (Linux) or first module (Multiboot).")
  var initrd: String?

  @Option(name: .customLong("load-address"), help: "Raw binary: guest-physical load address (hex with 0x).")
  var loadAddress: String?

  @Option(name: .long, help: "Raw binary: entry point (default: the load address).")
  var entry: String?

  @Option(name: .long, help: "Firmware image mapped below 1 MiB and at the top of 4 GiB, started at the reset vector.")
  var bios: String?

  @Option(name: .long, help: .hidden)
  var kvm: String = "/dev/kvm"

  func configuration() throws -> MachineConfiguration {
    MachineConfiguration(memorySize: try Self.parseSize(memory))
  }

  func loadOptions() throws -> LoadOptions {
    var options = LoadOptions()
    options.commandLine = append
    if let initrd {
      options.initrd = try readFile(initrd, what: "initrd")
      options.initrdName = (initrd as NSString).lastPathComponent
    }
    options.loadAddress = try loadAddress.map { try Self.parseAddress($0, option: "--load-address") }
    options.entry = try entry.map { try Self.parseAddress($0, option: "--entry") }
    return options
  }

  /// Reads the image and decides how to load it.
  func resolveImage() throws -> (bytes: [UInt8], kind: ImageKind, name: String) {
    if let bios {
      if image != nil { throw ValidationError("give either an image or --bios, not both") }
      return (try readFile(bios, what: "firmware"), .firmware, bios)
    }
    guard let image else { throw ValidationError("missing guest image (or --bios FILE)") }
    let bytes = try readFile(image, what: "image")
    if let kind = ImageLoader.detect(bytes) {
      if loadAddress != nil, kind != .flat {
        throw ValidationError("\(image) is a \(kind.rawValue) image: --load-address applies to raw binaries only")
      }
      return (bytes, kind, image)
    }
    guard loadAddress != nil else {
      throw CLIError(
        "\(image) is not a Multiboot ELF or a Linux bzImage; to boot it as a raw binary give --load-address (and --entry)")
    }
    return (bytes, .flat, image)
  }

  static func parseSize(_ text: String) throws -> UInt64 {
    let t = text.trimmingCharacters(in: .whitespaces).uppercased()
    var digits = t
    var scale: UInt64 = 1 << 20
    for (suffix, s) in [
      ("GIB", UInt64(1) << 30), ("MIB", 1 << 20), ("KIB", 1 << 10), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10),
    ]
    where t.hasSuffix(suffix) {
      digits = String(t.dropLast(suffix.count))
      scale = s
      break
    }
    guard let n = UInt64(digits), n > 0, n <= (UInt64(1) << 40) / scale else {
      throw ValidationError("--memory '\(text)' is not a size such as 64, 256M or 1G")
    }
    return n * scale
  }

  static func parseAddress(_ text: String, option: String) throws -> UInt64 {
    let t = text.lowercased()
    let value = t.hasPrefix("0x") ? UInt64(t.dropFirst(2), radix: 16) : UInt64(t)
    guard let value else { throw ValidationError("\(option) '\(text)' is not an address (decimal or 0x hex)") }
    return value
  }
}

/// A user-facing error: printed as "retrovisor: MESSAGE" with exit status 2.
struct CLIError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

func readFile(_ path: String, what: String) throws -> [UInt8] {
  guard let data = FileManager.default.contents(atPath: path) else {
    let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist"
    throw CLIError("\(what) file '\(path)' \(reason)")
  }
  return [UInt8](data)
}
