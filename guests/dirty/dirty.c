/* dirty: a guest that writes many pages, for the snapshot benchmarks (pages
 * dirtied per second of guest time, snapshot pauses and bytes).
 *
 * PIT at 100 Hz. On each of 50 ticks (0.5 s) the main loop writes one 32-bit
 * word into each of the DIRTY_PAGES (512) pages of a 2 MiB region at 16 MiB
 * (one `mov` per page, a few thousand instructions per tick), then
 * sleeps with `sti; hlt` until the next tick. Every tick rewrites every page
 * with new values, so each snapshot finds them all changed; the rest of each
 * page stays zero, so they compress well.
 *
 * Output is deterministic: the values depend only on the tick number. */
#include "kernel.h"

#define LAST_TICK   50
#define PRINT_EVERY 10
#define DIRTY_PAGES 512
#define REGION      ((volatile uint32_t *)0x1000000)   /* 16 MiB */

static volatile uint32_t ticks;

static void on_timer(void)
{
    ticks++;
}

int kmain(void)
{
    serial_init();
    serial_puts("dirty start\n");
    idt_init();
    pic_init();
    pit_init(PIT_RELOAD_100HZ);
    irq_install(0, on_timer);

    uint32_t sum = 0;
    for (uint32_t tick = 1; tick <= LAST_TICK; tick++) {
        for (uint32_t page = 0; page < DIRTY_PAGES; page++) {
            uint32_t w = tick * 2654435761u ^ page;
            REGION[page * 1024 + (tick % 1024)] = w;
            sum += w;
        }
        if (tick % PRINT_EVERY == 0)
            kprintf("dirty: tick %u pages %u sum 0x%08x\n", tick, DIRTY_PAGES, sum);
        while (ticks < tick)
            idle();
    }
    serial_puts("dirty done\n");
    debug_exit(EXIT_OK);
}
