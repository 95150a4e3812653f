/// One `<feature>` of a target description: the types it defines and its registers, in order.
public struct GDBRegisterFeature: Sendable, Equatable {
  public struct Register: Sendable, Equatable {
    public var name: String
    public var bitSize: Int
    /// A gdb type: a predefined one (`int64`, `code_ptr`, `i387_ext`...) or one the feature defines.
    public var type: String
    /// gdb's register group (`general`, `float`, `vector`, `system`), nil for gdb's default.
    public var group: String?
    public var field: GDBRegisterField

    public init(_ name: String, bits: Int, type: String, group: String? = nil, field: GDBRegisterField) {
      self.name = name
      self.bitSize = bits
      self.type = type
      self.group = group
      self.field = field
    }
  }

  public var name: String
  /// XML for the `<flags>`, `<vector>` and `<union>` types the registers refer to.
  public var typesXML: String
  public var registers: [Register]
}
