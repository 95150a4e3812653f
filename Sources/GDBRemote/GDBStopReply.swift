/// Stop replies, in the forms gdb 13 parses (remote.c, `remote_parse_stop_reply`).
public enum GDBStopReply {
  /// The only thread this stub reports: gdb sees the guest's vCPU as thread 1.
  public static let threadID: UInt64 = 1

  public static func encode(_ reason: GDBStopReason) -> GDBReply {
    let trap = "T05thread:\(Hex.number(threadID));"
    switch reason {
    case .breakpoint(.software): return GDBReply(trap + "swbreak:;")
    case .breakpoint(.hardware): return GDBReply(trap + "hwbreak:;")
    case .watchpoint(let kind, let address):
      let key: String
      switch kind {
      case .write: key = "watch"
      case .read: key = "rwatch"
      case .access: key = "awatch"
      }
      return GDBReply(trap + "\(key):\(Hex.number(address));")
    case .stepped: return GDBReply(trap)
    // gdb prints "No more reverse-execution history." for both ends.
    case .startOfHistory: return GDBReply(trap + "replaylog:begin;")
    case .endOfHistory: return GDBReply(trap + "replaylog:end;")
    case .interrupted: return GDBReply("S02")  // SIGINT
    case .exited(let code): return GDBReply([UInt8(ascii: "W")] + Hex.byte(code))
    case .terminated(let signal): return GDBReply([UInt8(ascii: "X")] + Hex.byte(signal))
    }
  }
}
