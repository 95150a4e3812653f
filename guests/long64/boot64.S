/* long64 entry: starts in 32-bit protected mode (multiboot), builds page
 * tables identity-mapping the first 1 GiB with 2 MiB pages (PAE format; no
 * 1 GiB pages, the Retrovisor host CPU model lacks them), enables long mode
 * and far-jumps to 64-bit code, which calls kmain().
 *
 * This file is assembled as x86-64 (gcc -m64) so that it links with the
 * 64-bit C code; the 32-bit part is marked .code32. */

#define STACK_SIZE 16384
#define CR0_PE   (1 << 0)
#define CR0_PG   (1 << 31)
#define CR4_PAE  (1 << 5)
#define MSR_EFER 0xC0000080
#define EFER_LME (1 << 8)
#define PTE_P    (1 << 0)
#define PTE_W    (1 << 1)
#define PTE_PS   (1 << 7)          /* 2 MiB page in a page directory entry */

    .section .text
    .code32
    .globl _start
    .type _start, @function
_start:
    cli
    cld
    movl $stack_top, %esp
    movl %eax, %esi                 /* keep multiboot magic/info */
    movl %ebx, %ebp

    lgdt gdt_desc
    ljmp $0x08, $1f
1:  movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss

    /* zero .bss: stack and the three page-table pages live there */
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    shrl $2, %ecx
    xorl %eax, %eax
    rep stosl
    movl %esi, mb_magic
    movl %ebp, mb_info

    /* PML4[0] -> PDPT, PDPT[0] -> PD, PD[i] -> i * 2 MiB (i < 512). Upper
     * halves of the 64-bit entries stay 0 from the .bss clear. */
    movl $pdpt, %eax
    orl $(PTE_P | PTE_W), %eax
    movl %eax, pml4
    movl $pd, %eax
    orl $(PTE_P | PTE_W), %eax
    movl %eax, pdpt
    movl $pd, %edi
    movl $(PTE_P | PTE_W | PTE_PS), %eax
    movl $512, %ecx
2:  movl %eax, (%edi)
    addl $0x200000, %eax
    addl $8, %edi
    loop 2b

    movl %cr4, %eax                 /* PAE is required for long mode */
    orl $CR4_PAE, %eax
    movl %eax, %cr4
    movl $pml4, %eax
    movl %eax, %cr3
    movl $MSR_EFER, %ecx            /* EFER.LME: long mode once paging is on */
    rdmsr
    orl $EFER_LME, %eax
    wrmsr
    movl %cr0, %eax                 /* paging on -> EFER.LMA=1 (compat mode) */
    orl $(CR0_PG | CR0_PE), %eax
    movl %eax, %cr0
    ljmp $0x18, $long_mode_entry    /* CS.L=1: now in 64-bit mode */
    .size _start, . - _start

    .code64
    .type long_mode_entry, @function
long_mode_entry:
    movw $0x10, %ax                 /* data segments are ignored in 64-bit mode, */
    movw %ax, %ds                   /* but keep them valid */
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    movq $stack_top, %rsp
    xorl %ebp, %ebp                 /* terminate frame-pointer chain for gdb */
    call kmain
    movl %eax, %edi
    call debug_exit                 /* does not return */
    .size long_mode_entry, . - long_mode_entry

    .section .rodata
    .balign 8
gdt:
    .quad 0                         /* 0x00 null */
    .quad 0x00CF9A000000FFFF        /* 0x08 flat 32-bit code (boot only) */
    .quad 0x00CF92000000FFFF        /* 0x10 flat data */
    .quad 0x00AF9A000000FFFF        /* 0x18 64-bit code: L=1, D=0 */
gdt_end:
gdt_desc:
    .word gdt_end - gdt - 1
    .quad gdt                       /* lgdt in 32-bit mode reads only 4 bytes of base */

    .section .data
    .globl mb_magic, mb_info
mb_magic: .long 0
mb_info:  .long 0

    .section .bss
    .balign 4096
pml4: .skip 4096
pdpt: .skip 4096
pd:   .skip 4096
    .balign 16
stack_bottom:
    .skip STACK_SIZE
stack_top:

    .section .note.GNU-stack, "", @progbits
