/* 8254 PIT channel 0 drives IRQ0. */
#include "kernel.h"

#define PIT_CH0 0x40
#define PIT_CMD 0x43
/* channel 0, access lobyte then hibyte, mode 2 (rate generator), binary */
#define PIT_CH0_LOHI_MODE2 0x34

void pit_init(uint16_t reload)
{
    outb(PIT_CMD, PIT_CH0_LOHI_MODE2);
    outb(PIT_CH0, reload & 0xFF);
    outb(PIT_CH0, reload >> 8);
}
