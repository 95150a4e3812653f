/// The ISA interrupt lines (IRQ 0-15) as devices see them.
///
/// Devices raise and lower lines; the interrupt controller (the 8259 pair) decides what
/// becomes a vector for the CPU. Decoupled by a protocol so devices can be unit-tested
/// with a recorder instead of a real PIC.
public protocol InterruptLines: AnyObject {
  /// Sets the level of ISA line `irq` (0...15). An edge-triggered controller latches a
  /// request on a low-to-high transition.
  func setLevel(irq: Int, high: Bool)
}

extension InterruptLines {
  /// A rising then falling edge: how a timer or a UART signals one event on an edge-triggered line.
  public func pulse(irq: Int) {
    setLevel(irq: irq, high: true)
    setLevel(irq: irq, high: false)
  }
}
