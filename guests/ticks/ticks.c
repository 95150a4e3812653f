/* ticks: PIT channel 0 at 100 Hz drives IRQ0; the handler counts ticks and
 * the main loop sleeps with `sti; hlt` between them. Prints every 10th tick
 * up to 50, then exits 0. The printed numbers are the targets, not a
 * re-read of the counter, so the output is the same however late a line is
 * printed. */
#include "kernel.h"

#define LAST_TICK 50

static volatile uint32_t ticks;

static void on_timer(void)
{
    ticks++;
}

int kmain(void)
{
    serial_init();
    idt_init();
    pic_init();
    pit_init(PIT_RELOAD_100HZ);
    irq_install(0, on_timer);

    /* IF stays 0 here; idle() opens the interrupt window only inside hlt. */
    for (uint32_t target = 10; target <= LAST_TICK; target += 10) {
        while (ticks < target)
            idle();
        kprintf("tick %u\n", target);
    }
    serial_puts("ticks done\n");
    debug_exit(EXIT_OK);
}
