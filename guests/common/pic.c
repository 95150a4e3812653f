/* Two cascaded 8259A PICs. At reset (or after the BIOS) IRQ 0-7 sit on
 * vectors 8-15, which collide with CPU exceptions, so remap them to
 * 0x20-0x27 (master) and 0x28-0x2F (slave). */
#include "kernel.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xA0
#define PIC2_DATA 0xA1

#define ICW1_INIT_ICW4 0x11  /* edge triggered, cascade, ICW4 follows */
#define ICW4_8086      0x01
#define OCW2_EOI       0x20  /* non-specific end of interrupt */
#define OCW3_READ_ISR  0x0B

void pic_init(void)
{
    outb(PIC1_CMD, ICW1_INIT_ICW4);
    outb(PIC2_CMD, ICW1_INIT_ICW4);
    outb(PIC1_DATA, IRQ_BASE);       /* ICW2: vector base */
    outb(PIC2_DATA, IRQ_BASE + 8);
    outb(PIC1_DATA, 1u << 2);        /* ICW3: slave on master's IRQ2 */
    outb(PIC2_DATA, 2);              /* ICW3: slave's cascade identity */
    outb(PIC1_DATA, ICW4_8086);
    outb(PIC2_DATA, ICW4_8086);
    /* Mask everything; guests unmask exactly the lines they handle. IRQ2 is
     * masked too because no guest uses a slave line. */
    outb(PIC1_DATA, 0xFF);
    outb(PIC2_DATA, 0xFF);
}

void pic_unmask(unsigned irq)
{
    uint16_t port = irq < 8 ? PIC1_DATA : PIC2_DATA;
    outb(port, inb(port) & ~(1u << (irq & 7)));
    if (irq >= 8) /* slave lines also need the cascade line open */
        outb(PIC1_DATA, inb(PIC1_DATA) & ~(1u << 2));
}

void pic_mask(unsigned irq)
{
    uint16_t port = irq < 8 ? PIC1_DATA : PIC2_DATA;
    outb(port, inb(port) | (1u << (irq & 7)));
}

void pic_eoi(unsigned irq)
{
    if (irq >= 8)
        outb(PIC2_CMD, OCW2_EOI);
    outb(PIC1_CMD, OCW2_EOI);
}

/* Is the line really in service? Used to recognise spurious IRQ 7/15,
 * which must not be acknowledged. */
int pic_in_service(unsigned irq)
{
    uint16_t cmd = irq < 8 ? PIC1_CMD : PIC2_CMD;
    outb(cmd, OCW3_READ_ISR);
    return (inb(cmd) >> (irq & 7)) & 1;
}
