import ArgumentParser
import Foundation
import GDBRemote
import KVM
import TimeTravel

struct DebugCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "debug",
    abstract: "Serve a recording to gdb with reverse execution (gdb: target remote HOST:PORT).",
    discussion: """
      gdb attaches as it does to QEMU's stub and gets reverse-stepi, reverse-continue,
      reverse-next/step/finish, breakpoints and watchpoints (write, read, access; any number)
      in both directions. Time navigation: monitor when, monitor seek POS, monitor bookmark NAME,
      monitor goto NAME, monitor help. Load the guest's symbols in gdb (gdb IMAGE.elf).
      One debugger at a time; detach and attach again at will. Stop with gdb's `kill` or Ctrl-C here.
      """
  )

  @Argument(help: "Recording file.")
  var recording: String

  @Option(name: .long, help: "Address to listen on (HOST:PORT, :PORT or PORT).")
  var gdb: String = "127.0.0.1:1234"

  @Option(name: .long, help: "Register layout for gdb: amd64, i386, or auto (amd64 if the guest enters long mode).")
  var arch: String = "auto"

  @Flag(name: .long, help: "Log every packet on stderr.")
  var tracePackets = false

  func run() throws {
    let (host, port) = try Self.parseListenAddress(gdb)
    do {
      throw ExitCode(try Self.serve(recording: recording, host: host, port: port, arch: arch, tracePackets: tracePackets))
    } catch let exit as ExitCode {
      throw exit
    } catch let error as ValidationError {
      throw error
    } catch {
      // A recording that cannot be opened: status 2, as `replay` (docs/cli.md).
      printError("\(error)")
      throw ExitCode(ExitStatus.hostError)
    }
  }

  /// Serves a recording file until gdb kills the session.
  static func serve(recording: String, host: String, port: UInt16, arch: String, tracePackets: Bool) throws -> Int32 {
    let archive = try RecordingArchive(path: recording)
    let session = try Session(archive: archive, console: { _ in })
    let layout: GDBArchitecture
    switch arch {
    case "amd64": layout = .amd64
    case "i386": layout = .i386
    case "auto": layout = archive.entersLongMode ? .amd64 : .i386
    default: throw ValidationError("--arch takes amd64, i386 or auto, not '\(arch)'")
    }
    var options = GDBServer.Options()
    options.tracePackets = tracePackets
    let server: GDBServer
    do { server = try GDBServer(host: host, port: port, options: options) } catch {
      printError("\(error)")
      return ExitStatus.hostError
    }
    printError(
      "serving \(recording) (\(archive.finalPosition) exits, \(layout == .amd64 ? "amd64" : "i386")) on \(server.address)")
    _ = server.serve(SessionGDBTarget(session: session, architecture: layout))
    return ExitStatus.clean
  }

  /// HOST:PORT, :PORT or PORT; the host defaults to 127.0.0.1.
  static func parseListenAddress(_ text: String) throws -> (String, UInt16) {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    let host = parts.count == 2 && !parts[0].isEmpty ? parts[0] : "127.0.0.1"
    guard parts.count <= 2, let port = UInt16(parts.last ?? "") else {
      throw ValidationError("--gdb takes HOST:PORT, :PORT or PORT, not '\(text)'")
    }
    return (host, port)
  }
}
