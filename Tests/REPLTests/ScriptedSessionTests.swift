import Foundation
import Testing

/// Scripted sessions through a pipe (stdin not a terminal: no prompt, no editing), with
/// `--echo` so each command precedes its output. The whole output is compared: stdout and
/// stderr share one pipe. The recording is made fresh from guests/build/corrupt.elf; the
/// corrupt guest takes its timer interrupts only at `hlt`, so every position here is the
/// same in every recording of it.
@Suite struct ScriptedSessionTests {
  func run(_ script: String, status: Int32, expect expected: String) throws {
    let recording = try REPLHarness.shared.recording(of: "corrupt")
    let (actual, output) = try runREPL(["repl", "--echo", recording], script: script)
    #expect(output == expected)
    #expect(actual == status)
  }

  /// Stepping and reverse stepping, nexti over a call, disassembly in both syntaxes.
  @Test func steppingBothWaysWithDisassembly() throws {
    let commands = """
      when
      si
      si 3
      rsi
      rsi 2
      x/3i $pc
      break kmain+0xb6
      continue
      ni
      rni
      si
      disassemble
      rsi
      info registers eip esp
      set disassembly-flavor intel
      x/2i $pc
      si
      """
    try run(
      commands + "\n", status: 0,
      expect: """
        (rv) when
        position 0 (start)
        (rv) si
        [0+1] 0x1002b5 <_start+0x1>: cld
        (rv) si 3
        [0+4] 0x1002bd <_start+0x9>: movl %ebx, %ebp
        (rv) rsi
        [0+3] 0x1002bb <_start+0x7>: movl %eax, %esi
        (rv) rsi 2
        [0+1] 0x1002b5 <_start+0x1>: cld
        (rv) x/3i $pc
        => 0x1002b5 <_start+0x1>:  cld
           0x1002b6 <_start+0x2>:  movl $0x106150, %esp
           0x1002bb <_start+0x7>:  movl %eax, %esi
        (rv) break kmain+0xb6
        breakpoint 1 at 0x100221 <kmain+0xb6>
        (rv) continue
        corrupt: building list
        corrupt: list has 6 nodes
        breakpoint 1, 0x100221 <kmain+0xb6>
        [120+20] 0x100221 <kmain+0xb6>: calll 0x100073 <fill_scratch>
        (rv) ni
        [120+55] 0x100226 <kmain+0xbb>: movl $4, %edx
        (rv) rni
        [120+20] 0x100221 <kmain+0xb6>: calll 0x100073 <fill_scratch>
        (rv) si
        [120+21] 0x100073 <fill_scratch>: pushl %ebp
        (rv) disassemble
        => 0x100073 <fill_scratch>:       pushl %ebp
           0x100074 <fill_scratch+0x1>:   movl %esp, %ebp
           0x100076 <fill_scratch+0x3>:   pushl %esi
           0x100077 <fill_scratch+0x4>:   pushl %ebx
           0x100078 <fill_scratch+0x5>:   movl %eax, %esi
           0x10007a <fill_scratch+0x7>:   testl %edx, %edx
           0x10007c <fill_scratch+0x9>:   je 0x100095 <fill_scratch+0x22>
           0x10007e <fill_scratch+0xb>:   leal (%eax, %edx, 4), %ebx
           0x100081 <fill_scratch+0xe>:   movl $0, %ecx
           0x100086 <fill_scratch+0x13>:  movl %ecx, (%eax)
           0x100088 <fill_scratch+0x15>:  addl $0x11111111, %ecx
           0x10008e <fill_scratch+0x1b>:  addl $4, %eax
           0x100091 <fill_scratch+0x1e>:  cmpl %ebx, %eax
           0x100093 <fill_scratch+0x20>:  jne 0x100086 <fill_scratch+0x13>
           0x100095 <fill_scratch+0x22>:  movl $0xdeadbeef, (%esi, %edx, 4)
           0x10009c <fill_scratch+0x29>:  popl %ebx
           0x10009d <fill_scratch+0x2a>:  popl %esi
           0x10009e <fill_scratch+0x2b>:  popl %ebp
           0x10009f <fill_scratch+0x2c>:  retl
        (rv) rsi
        [120+20] 0x100221 <kmain+0xb6>: calll 0x100073 <fill_scratch>
        (rv) info registers eip esp
        eip            0x100221           0x100221 <kmain+0xb6>
        esp            0x106130           0x106130
        (rv) set disassembly-flavor intel
        disassembly syntax: Intel
        (rv) x/2i $pc
        => 0x100221 <kmain+0xb6>:  call 0x100073 <fill_scratch>
           0x100226 <kmain+0xbb>:  mov edx, 4
        (rv) si
        [120+21] 0x100073 <fill_scratch>: push ebp

        """)
  }

  /// The corrupt guest's bug: break on panic, watch the smashed magic, reverse-continue to the store.
  @Test func huntCorruptWithWatchAndReverseContinue() throws {
    let commands = """
      break panic
      continue
      print/x *(uint32_t *)(nodes + 12)
      x/4xw *(uint32_t *)(nodes + 12)
      watch *(uint32_t *)0x102084
      info breakpoints
      reverse-continue
      print/x $esi + $edx * 4
      reverse-continue
      reverse-continue
      continue
      continue
      """
    try run(
      commands + "\n", status: 0,
      expect: """
        (rv) break panic
        breakpoint 1 at 0x1000f4 <panic>
        (rv) continue
        corrupt: building list
        corrupt: list has 6 nodes
        corrupt: scratch checksum 0x33333333
        corrupt: waiting 5 ticks
        corrupt: fib(30) = 832040
        corrupt: checking list
        list check: node 3 corrupted (magic=0xdeadbeef)
        breakpoint 1, 0x1000f4 <panic>
        [448+20] 0x1000f4 <panic>: pushl %ebp
        (rv) print/x *(uint32_t *)(nodes + 12)
        *(uint32_t *)(nodes + 12) = 0x102084 <arena+0x34>
        (rv) x/4xw *(uint32_t *)(nodes + 12)
        0x102084 <arena+0x34>:  0xdeadbeef  0x0000001e  0x00102090  0x4e4f4445
        (rv) watch *(uint32_t *)0x102084
        watchpoint 2: write of 4 bytes at 0x102084 <arena+0x34>
        (rv) info breakpoints
        Num  Type         Address   What
        1    breakpoint   0x1000f4  <panic>
        2    write watch  0x102084  4 bytes <arena+0x34>
        (rv) reverse-continue
        watchpoint 2: 0x102084 <arena+0x34> (4 bytes) 0x4e4f4445 -> 0xdeadbeef, written by this instruction
        [120+50] 0x100095 <fill_scratch+0x22>: movl $0xdeadbeef, (%esi, %edx, 4)
        (rv) print/x $esi + $edx * 4
        $esi + $edx * 4 = 0x102084 <arena+0x34>
        (rv) reverse-continue
        watchpoint 2: 0x102084 <arena+0x34> (4 bytes) 0x00000000 -> 0x4e4f4445, written by this instruction
        [68+97] 0x100029 <list_append+0x1d>: movl $0x4e4f4445, (%edx)
        (rv) reverse-continue
        start of the recording: no more reverse-execution history
        [0] 0x1002b4 <_start>: cli
        (rv) continue
        corrupt: building list
        watchpoint 2: 0x102084 <arena+0x34> (4 bytes) 0x00000000 -> 0x4e4f4445, written by the instruction before this one
        [68+98] 0x10002f <list_append+0x23>: movl %eax, 4(%edx)
        (rv) continue
        corrupt: list has 6 nodes
        watchpoint 2: 0x102084 <arena+0x34> (4 bytes) 0x4e4f4445 -> 0xdeadbeef, written by the instruction before this one
        [120+51] 0x10009c <fill_scratch+0x29>: popl %ebx

        """)
  }

  /// The same bug found with last-write, without moving.
  @Test func huntCorruptWithLastWrite() throws {
    let commands = """
      break walk_list
      continue
      last-write *(uint32_t *)(nodes + 12)
      last-write 0x102084
      last-write 0x102084 4
      goto 120+50
      x/2i $pc
      when
      last-write arena_used
      last-write 0x200000 16
      when
      info breakpoints
      break panic
      """
    try run(
      commands + "\n", status: 0,
      expect: """
        (rv) break walk_list
        breakpoint 1 at 0x100112 <walk_list>
        (rv) continue
        corrupt: building list
        corrupt: list has 6 nodes
        corrupt: scratch checksum 0x33333333
        corrupt: waiting 5 ticks
        corrupt: fib(30) = 832040
        corrupt: checking list
        breakpoint 1, 0x100112 <walk_list>
        [352+10] 0x100112 <walk_list>: movl 0x102040, %eax
        (rv) last-write *(uint32_t *)(nodes + 12)
        0x10202c <nodes+0xc> (4 bytes) last changed at [68+119], by
          0x10005c <list_append+0x50>: movl %edx, 0x102020(, %eax, 4)
          0x00000000 -> 0x00102084   (goto 68+119 to go there)
        (rv) last-write 0x102084
        0x102084 <arena+0x34> (4 bytes) last changed at [120+50], by
          0x100095 <fill_scratch+0x22>: movl $0xdeadbeef, (%esi, %edx, 4)
          0x4e4f4445 -> 0xdeadbeef   (goto 120+50 to go there)
        (rv) last-write 0x102084 4
        0x102084 <arena+0x34> (4 bytes) last changed at [120+50], by
          0x100095 <fill_scratch+0x22>: movl $0xdeadbeef, (%esi, %edx, 4)
          0x4e4f4445 -> 0xdeadbeef   (goto 120+50 to go there)
        (rv) goto 120+50
        position 120+50
        [120+50] 0x100095 <fill_scratch+0x22>: movl $0xdeadbeef, (%esi, %edx, 4)
        (rv) x/2i $pc
        => 0x100095 <fill_scratch+0x22>:  movl $0xdeadbeef, (%esi, %edx, 4)
           0x10009c <fill_scratch+0x29>:  popl %ebx
        (rv) when
        position 120+50
        (rv) last-write arena_used
        0x102044 <arena_used> (4 bytes) last changed at [68+164], by
          0x100023 <list_append+0x17>: movl %ecx, 0x102044
          0x0000004c -> 0x00000058   (goto 68+164 to go there)
        (rv) last-write 0x200000 16
        0x200000 (16 bytes) did not change between the start of the recording and now
        (rv) when
        position 120+50
        (rv) info breakpoints
        Num  Type        Address   What
        1    breakpoint  0x100112  <walk_list>
        (rv) break panic
        breakpoint 2 at 0x1000f4 <panic>

        """)
  }

  /// Read and access watchpoints, forwards and backwards.
  @Test func readAndAccessWatchpoints() throws {
    let commands = """
      rwatch *(uint32_t *)0x102084
      continue
      continue
      reverse-continue
      delete
      awatch 0x102084 4
      reverse-continue
      reverse-continue
      info breakpoints
      """
    try run(
      commands + "\n", status: 0,
      expect: """
        (rv) rwatch *(uint32_t *)0x102084
        watchpoint 1: read of 4 bytes at 0x102084 <arena+0x34>
        (rv) continue
        corrupt: building list
        corrupt: list has 6 nodes
        corrupt: scratch checksum 0x33333333
        corrupt: waiting 5 ticks
        corrupt: fib(30) = 832040
        corrupt: checking list
        watchpoint 1: 0x102084 <arena+0x34> (4 bytes) 0xdeadbeef, read by the instruction before this one
        [352+44] 0x10012e <walk_list+0x1c>: cmpl $0x4e4f4445, %ebx
        (rv) continue
        list check: node 3 corrupted (magic=0xdeadbeef)
        PANIC: corrupted list
        end of the recording: the guest ended with debug-exit 0x3
        [493] 0x100aa5 <debug_exit+0x8>: cli
        (rv) reverse-continue
        watchpoint 1: 0x102084 <arena+0x34> (4 bytes) 0xdeadbeef, read by this instruction
        [352+43] 0x10012c <walk_list+0x1a>: movl (%eax), %ebx
        (rv) delete
        deleted 1 breakpoint(s) and watchpoint(s)
        (rv) awatch 0x102084 4
        watchpoint 2: access of 4 bytes at 0x102084 <arena+0x34>
        (rv) reverse-continue
        watchpoint 2: 0x102084 <arena+0x34> (4 bytes) 0x4e4f4445 -> 0xdeadbeef, written by this instruction
        [120+50] 0x100095 <fill_scratch+0x22>: movl $0xdeadbeef, (%esi, %edx, 4)
        (rv) reverse-continue
        watchpoint 2: 0x102084 <arena+0x34> (4 bytes) 0x00000000 -> 0x4e4f4445, written by this instruction
        [68+97] 0x100029 <list_append+0x1d>: movl $0x4e4f4445, (%edx)
        (rv) info breakpoints
        Num  Type          Address   What
        2    access watch  0x102084  4 bytes <arena+0x34>

        """)
  }

  /// Bookmarks, goto by name and position, seek, both ends of the recording.
  @Test func bookmarksAndGoto() throws {
    let commands = """
      bookmark begin
      break fill_scratch
      c
      bookmark fill
      delete 1
      goto end
      bookmark end
      bookmarks
      goto fill
      when
      goto begin
      goto 120+21
      seek 200
      when
      rsi
      goto start
      rsi
      goto end
      si
      c
      """
    try run(
      commands + "\n", status: 0,
      expect: """
        (rv) bookmark begin
        bookmark begin at position 0
        (rv) break fill_scratch
        breakpoint 1 at 0x100073 <fill_scratch>
        (rv) c
        corrupt: building list
        corrupt: list has 6 nodes
        breakpoint 1, 0x100073 <fill_scratch>
        [120+21] 0x100073 <fill_scratch>: pushl %ebp
        (rv) bookmark fill
        bookmark fill at position 120+21
        (rv) delete 1
        deleted 1
        (rv) goto end
        position 493
        corrupt: scratch checksum 0x33333333
        corrupt: waiting 5 ticks
        corrupt: fib(30) = 832040
        corrupt: checking list
        list check: node 3 corrupted (magic=0xdeadbeef)
        PANIC: corrupted list
        [493] 0x100aa5 <debug_exit+0x8>: cli
        (rv) bookmark end
        bookmark end at position 493
        (rv) bookmarks
        begin  0
        fill  120+21
        end  493
        (rv) goto fill
        position 120+21
        [120+21] 0x100073 <fill_scratch>: pushl %ebp
        (rv) when
        position 120+21
        (rv) goto begin
        position 0
        [0] 0x1002b4 <_start>: cli
        (rv) goto 120+21
        position 120+21
        corrupt: building list
        corrupt: list has 6 nodes
        [120+21] 0x100073 <fill_scratch>: pushl %ebp
        (rv) seek 200
        position 200
        corrupt: scratch checksum 0x33333333
        cor
        [200] 0x1004f0 <serial_putc+0x19>: popl %ebp
        (rv) when
        position 200
        (rv) rsi
        [199+4] 0x1004ef <serial_putc+0x18>: outb %al, %dx
        (rv) goto start
        position 0
        [0] 0x1002b4 <_start>: cli
        (rv) rsi
        start of the recording: no more reverse-execution history
        [0] 0x1002b4 <_start>: cli
        (rv) goto end
        position 493
        corrupt: building list
        corrupt: list has 6 nodes
        corrupt: scratch checksum 0x33333333
        corrupt: waiting 5 ticks
        corrupt: fib(30) = 832040
        corrupt: checking list
        list check: node 3 corrupted (magic=0xdeadbeef)
        PANIC: corrupted list
        [493] 0x100aa5 <debug_exit+0x8>: cli
        (rv) si
        end of the recording: the guest ended with debug-exit 0x3
        [493] 0x100aa5 <debug_exit+0x8>: cli
        (rv) c
        end of the recording: the guest ended with debug-exit 0x3
        [493] 0x100aa5 <debug_exit+0x8>: cli

        """)
  }

  /// Wrong commands and bad arguments: one error line each, and the REPL goes on.
  @Test func badInputGetsOneLineErrors() throws {
    let commands = """
      frobnicate
      re
      si two
      si 0
      c now
      x/4q 0x100000
      x
      print
      print $nosuch
      print/s $eax
      print 1 +
      print (1
      break nosuch
      delete 7
      delete x
      watch
      watch 0x100000 0
      rwatch
      seek
      seek 12x
      seek 100000
      goto nowhere
      bookmark bad/name
      info
      info frob
      info registers foo
      x/4xw 0x80000000
      disassemble/q
      set disassembly-flavor fancy
      last-write
      timeline -1
      help nosuch
      when
      """
    try run(
      commands + "\n", status: 1,
      expect: """
        (rv) frobnicate
        error: unknown command 'frobnicate': try help
        (rv) re
        error: 're' is ambiguous: reverse-stepi, reverse-nexti, reverse-continue
        (rv) si two
        error: si takes a repeat count (a number of at least 1), not 'two'
        (rv) si 0
        error: si takes a repeat count (a number of at least 1), not '0'
        (rv) c now
        error: c takes no arguments
        (rv) x/4q 0x100000
        error: x/4q: 'q' is not a format (x d u o t a c s i) or a size (b h w g)
        (rv) x
        error: x needs an address the first time
        (rv) print
        error: print needs an expression
        (rv) print $nosuch
        error: no register '$nosuch'
        (rv) print/s $eax
        error: print/s: the format is one of x, d, u, o, t, c, a
        (rv) print 1 +
        error: '1 +' ends where a value was expected
        (rv) print (1
        error: missing ')' in '(1'
        (rv) break nosuch
        error: no symbol 'nosuch'
        (rv) delete 7
        error: no breakpoint or watchpoint number 7
        (rv) delete x
        error: delete takes breakpoint numbers, not 'x'
        (rv) watch
        error: watch needs an address or an expression such as *(uint32_t *)ADDR
        (rv) watch 0x100000 0
        error: watch: the length must be at least 1, not 0
        (rv) rwatch
        error: rwatch needs an address or an expression such as *(uint32_t *)ADDR
        (rv) seek
        error: seek needs a position (N, N+I, start, end)
        (rv) seek 12x
        error: '12x' is not a position: use an exit number (1234), exit+instructions (1234+56), start or end
        (rv) seek 100000
        error: position 100000 is past the end of the recording (493)
        (rv) goto nowhere
        error: no bookmark 'nowhere'
        (rv) bookmark bad/name
        error: a bookmark name is letters, digits, '_', '-' or '.', not 'bad/name'
        (rv) info
        error: info needs a subcommand: registers, breakpoints, watchpoints, recording, symbol, bookmarks, snapshots
        (rv) info frob
        error: info has no subcommand 'frob': try registers, breakpoints, watchpoints, recording, symbol, bookmarks, snapshots
        (rv) info registers foo
        error: no register 'foo'
        (rv) x/4xw 0x80000000
        error: address 0x80000000 is not mapped to RAM
        (rv) disassemble/q
        error: disassemble/q: the only modifier is /r (raw bytes)
        (rv) set disassembly-flavor fancy
        error: disassembly-flavor is att or intel, not 'fancy'
        (rv) last-write
        error: last-write needs an address or an expression such as *(uint32_t *)ADDR
        (rv) timeline -1
        error: timeline takes a number of entries or all
        (rv) help nosuch
        error: no command 'nosuch': help lists them
        (rv) when
        position 0 (start)

        """)
  }
}
