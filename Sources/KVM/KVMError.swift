#if canImport(Glibc)
  import Glibc
#endif

/// A failed KVM operation: which ioctl or system call, and the reason the kernel gave.
public struct KVMError: Error, CustomStringConvertible, Equatable {
  public var operation: String
  public var errno: Int32
  public var hint: String?

  public init(_ operation: String, errno: Int32, hint: String? = nil) {
    self.operation = operation
    self.errno = errno
    self.hint = hint
  }

  public init(_ operation: String, message: String) {
    self.operation = operation
    self.errno = 0
    self.hint = message
  }

  public var description: String {
    var text = operation
    if errno != 0 { text += " failed: \(String(cString: strerror(errno))) (errno \(errno))" }
    if let hint { text += errno != 0 ? ". \(hint)" : ": \(hint)" }
    return text
  }
}

/// Runs an ioctl wrapper and turns -1 into a `KVMError` naming the request.
@inline(__always)
func check(_ name: String, _ result: Int32) throws(KVMError) -> Int32 {
  if result < 0 { throw KVMError(name, errno: Glibc.errno) }
  return result
}
