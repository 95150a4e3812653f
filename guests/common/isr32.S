/* 32-bit interrupt entry stubs for vectors 0-47. Each stub makes the stack
 * look the same (error code, vector) and jumps to isr_common, which saves
 * the registers and calls isr_dispatch(struct frame *) in idt.c.
 * All segments are flat ring-0 ones, so no segment registers are saved. */

    .code32
    .section .text

/* vectors for which the CPU pushes an error code itself */
#define HAS_ERR(n) ((n) == 8 || ((n) >= 10 && (n) <= 14) || (n) == 17 || (n) == 21 || (n) == 29 || (n) == 30)

    .macro stub n
    .type isr\n, @function
isr\n:
    .if !HAS_ERR(\n)
    pushl $0
    .endif
    pushl $\n
    jmp isr_common
    .endm

    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
    stub \n
    .endr

isr_common:
    pushal
    pushl %esp                      /* struct frame * */
    cld
    call isr_dispatch
    addl $4, %esp
    popal
    addl $8, %esp                   /* drop vector and error code */
    /* Return without IRET: the software-assisted KVM of our CI hosts cannot emulate a
     * 32-bit IRET at CPL0 (docs/hosts.md); 64-bit IRETQ works. Interrupts here always return
     * to the same ring and code segment, where IRET only restores EFLAGS and EIP, so
     * rearrange the frame [EIP, CS, EFLAGS] into [EFLAGS, EIP] and use POPFL; RET.
     * An interrupt taken between them nests below ESP, which is harmless. */
    pushl %eax
    movl 12(%esp), %eax             /* EFLAGS */
    movl %eax, 8(%esp)              /* into the CS slot */
    movl 4(%esp), %eax              /* EIP */
    movl %eax, 12(%esp)             /* into the EFLAGS slot */
    popl %eax
    addl $4, %esp                   /* skip the old EIP slot */
    popfl
    ret

    .section .rodata
    .balign 4
    .globl isr_stub_table
isr_stub_table:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
    .long isr\n
    .endr

    .section .note.GNU-stack, "", @progbits
