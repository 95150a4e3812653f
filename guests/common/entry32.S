/* 32-bit entry point for the protected-mode guests.
 *
 * Multiboot state on entry: 32-bit protected mode, paging off, IF=0,
 * EAX = 0x2BADB002, EBX = multiboot info; CS/DS/... are flat but GDTR may
 * point anywhere and ESP is undefined. So: install our own stack and GDT,
 * clear .bss (not every loader zeroes it), call kmain(), and pass its
 * return value to debug_exit(). */

#define STACK_SIZE 16384

    .code32
    .section .text
    .globl _start
    .type _start, @function
_start:
    cli
    cld
    movl $stack_top, %esp
    movl %eax, %esi                 /* keep multiboot magic/info */
    movl %ebx, %ebp

    lgdt gdt_desc
    ljmp $0x08, $1f                 /* reload CS from our GDT */
1:  movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss

    movl $__bss_start, %edi         /* zero .bss (includes the stack) */
    movl $__bss_end, %ecx
    subl %edi, %ecx
    shrl $2, %ecx
    xorl %eax, %eax
    rep stosl

    movl %esi, mb_magic
    movl %ebp, mb_info
    xorl %ebp, %ebp                 /* terminate frame-pointer chain for gdb */
    call kmain
    pushl %eax
    call debug_exit                 /* does not return */
    .size _start, . - _start

    .section .rodata
    .balign 8
gdt:
    .quad 0                         /* 0x00 null */
    .quad 0x00CF9A000000FFFF        /* 0x08 flat 32-bit code, ring 0 */
    .quad 0x00CF92000000FFFF        /* 0x10 flat data, ring 0 */
gdt_end:
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt

    .section .data
    .globl mb_magic, mb_info
mb_magic: .long 0                   /* EAX at entry (0x2BADB002 from a multiboot loader) */
mb_info:  .long 0                   /* EBX at entry */

    .section .bss
    .balign 16
stack_bottom:
    .skip STACK_SIZE
stack_top:

    .section .note.GNU-stack, "", @progbits
