/* Interrupt descriptor table and interrupt dispatch, for both the 32-bit
 * guests (isr32.S) and long64 (long64/isr64.S). The assembly stubs push a
 * vector number and an error code (a dummy 0 where the CPU pushes none),
 * save the general registers and call isr_dispatch() with a pointer to the
 * saved frame. */
#include "kernel.h"

#define NUM_VECTORS 48          /* 32 exceptions + 16 PIC lines */
#define GATE_INTERRUPT 0x8E     /* present, DPL 0, interrupt gate (clears IF) */

#ifdef __x86_64__
#define KERNEL_CS 0x18          /* 64-bit code segment in long64/boot64.S */

struct idt_gate {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_hi;
    uint32_t reserved;
} __attribute__((packed));

/* Layout pushed by isr64.S, lowest address first. */
struct frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t ip, cs, flags, sp, ss;   /* pushed by the CPU */
};
#else
#define KERNEL_CS 0x08          /* flat code segment in common/entry32.S */

struct idt_gate {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t zero;
    uint8_t type_attr;
    uint16_t offset_hi;
} __attribute__((packed));

/* Layout pushed by isr32.S (pusha order), lowest address first. */
struct frame {
    uint32_t edi, esi, ebp, esp_unused, ebx, edx, ecx, eax;
    uint32_t vector, error;
    uint32_t ip, cs, flags;           /* pushed by the CPU */
};
#endif

struct idt_ptr {
    uint16_t limit;
    uintptr_t base;
} __attribute__((packed));

extern const uintptr_t isr_stub_table[NUM_VECTORS];   /* in isr32.S / isr64.S */

static struct idt_gate idt[NUM_VECTORS];
static irq_handler_t irq_handlers[16];

void idt_init(void)
{
    for (unsigned v = 0; v < NUM_VECTORS; v++) {
        uintptr_t a = isr_stub_table[v];
        struct idt_gate *g = &idt[v];
        g->offset_lo = a & 0xFFFF;
        g->selector = KERNEL_CS;
        g->type_attr = GATE_INTERRUPT;
#ifdef __x86_64__
        g->ist = 0;
        g->offset_mid = (a >> 16) & 0xFFFF;
        g->offset_hi = (uint32_t)(a >> 32);
        g->reserved = 0;
#else
        g->zero = 0;
        g->offset_hi = a >> 16;
#endif
    }
    struct idt_ptr p = { sizeof(idt) - 1, (uintptr_t)idt };
    __asm__ volatile("lidt %0" : : "m"(p));
}

void irq_install(unsigned irq, irq_handler_t fn)
{
    irq_handlers[irq] = fn;
    pic_unmask(irq);
}

void isr_dispatch(struct frame *f);

void isr_dispatch(struct frame *f)
{
    unsigned v = (unsigned)f->vector;

    if (v < IRQ_BASE) {
        /* No guest expects an exception: report it and stop. */
        kprintf("FAULT: vector %u error 0x%lx ip 0x%lx\n",
                v, (unsigned long)f->error, (unsigned long)f->ip);
        debug_exit(EXIT_FAULT);
    }

    unsigned irq = v - IRQ_BASE;
    /* A spurious IRQ 7/15 (line dropped before the CPU acknowledged it) has
     * no in-service bit and must not get an EOI; a spurious 15 still needs
     * one on the master for the cascade line. */
    if ((irq == 7 || irq == 15) && !pic_in_service(irq)) {
        if (irq == 15)
            pic_eoi(0);
        return;
    }
    if (irq_handlers[irq])
        irq_handlers[irq]();
    pic_eoi(irq);
}
