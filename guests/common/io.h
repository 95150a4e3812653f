/* Port I/O and a few privileged-instruction helpers shared by all guests.
 * Everything is static inline so each guest only pays for what it uses. */
#ifndef GUEST_IO_H
#define GUEST_IO_H

#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }

/* Sleep until the next interrupt, with interrupts disabled again on return.
 * Call it with IF=0 after checking the wake-up condition: `sti` only takes
 * effect after the following instruction, so an interrupt that became pending
 * after the check still wakes the `hlt` instead of being lost before it. */
static inline void idle(void)
{
    __asm__ volatile("sti; hlt; cli" ::: "memory");
}

#endif
