/* Multiboot v1 header, shared by all guests (32- and 64-bit builds).
 * The linker script puts .multiboot first so it lies within the first
 * 8 KiB of the file, as the spec requires. No a.out kludge (flag 16): the
 * loader takes the load addresses and entry point from the ELF headers. */
#define MB_MAGIC      0x1BADB002
#define MB_PAGE_ALIGN (1 << 0)   /* modules page aligned */
#define MB_MEM_INFO   (1 << 1)   /* ask for mem_lower/mem_upper */
#define MB_FLAGS      (MB_PAGE_ALIGN | MB_MEM_INFO)

    .section .multiboot, "a"
    .balign 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .section .note.GNU-stack, "", @progbits
