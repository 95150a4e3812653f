/// The two register layouts gdb can get: a 64-bit guest or a 32-bit one.
public enum GDBArchitecture: String, Sendable, CaseIterable {
  /// gdb's name, written into the target description's `<architecture>`.
  case amd64 = "i386:x86-64"
  case i386 = "i386"
}
