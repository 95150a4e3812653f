import KVM

/// Turns a loader's `BootState` into vCPU registers.
enum CPUSetup {
  static func apply(_ boot: BootState, to vcpu: VCPU) throws(KVMError) {
    var sregs = try vcpu.specialRegisters()
    var regs = Registers()
    regs.rip = boot.rip
    regs.rsp = boot.rsp
    regs.rax = boot.rax
    regs.rbx = boot.rbx
    regs.rsi = boot.rsi
    regs.rflags = 0x2

    switch boot.mode {
    case .real:
      var cs = Segment()
      cs.selector = boot.codeSelector
      cs.base = boot.codeBase
      cs.limit = 0xFFFF
      cs.type = 0xB
      sregs.cs = cs
      var data = Segment()
      data.type = 0x3
      setDataSegments(&sregs, data)
      sregs.cr0 = 0x6000_0010  // CD, NW, ET: the reset value
      sregs.cr4 = 0
      sregs.efer = 0
    case .protected32, .long64:
      let long = boot.mode == .long64
      sregs.cs = .flat(selector: boot.codeSegmentSelector, code: true, longMode: long)
      let data = Segment.flat(selector: boot.dataSegmentSelector, code: false)
      setDataSegments(&sregs, data)
      if boot.gdtLimit != 0 { sregs.gdt = DescriptorTable(base: boot.gdtBase, limit: boot.gdtLimit) }
      sregs.idt = DescriptorTable(base: 0, limit: 0)
      sregs.cr0 = SpecialRegisters.cr0ProtectionEnable | 0x10  // PE, ET
      if long {
        sregs.cr0 |= SpecialRegisters.cr0Paging
        sregs.cr3 = boot.pageTableRoot
        sregs.cr4 = SpecialRegisters.cr4PAE
        sregs.efer = SpecialRegisters.eferLME | SpecialRegisters.eferLMA
      } else {
        sregs.cr3 = 0
        sregs.cr4 = 0
        sregs.efer = 0
      }
    }
    // A busy 32-bit TSS, as VMX requires a usable TR even before the guest loads one.
    var tr = Segment()
    tr.type = 0xB
    tr.s = false
    tr.limit = 0x67
    sregs.tr = tr
    var ldt = Segment()
    ldt.type = 0x2
    ldt.s = false
    ldt.unusable = true
    sregs.ldt = ldt
    try vcpu.setSpecialRegisters(sregs)
    try vcpu.setRegisters(regs)
  }

  private static func setDataSegments(_ s: inout SpecialRegisters, _ segment: Segment) {
    s.ds = segment
    s.es = segment
    s.fs = segment
    s.gs = segment
    s.ss = segment
  }
}
