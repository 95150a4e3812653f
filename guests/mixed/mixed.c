/* mixed: a CPU + I/O workload for record/replay benchmarks.
 *
 * PIT at 100 Hz, IRQ 0 counts ticks. The main loop does exactly NITEMS work
 * items, paced at ITEMS_PER_TICK per timer tick, and runs them with IF = 1,
 * so timer interrupts land in the middle of busy code. When it is ahead of
 * the pace it sleeps with `sti; hlt; cli` until the next tick, so a run has
 * both busy and idle time (~0.4 s busy, ~0.6 s idle on the emulated KVM
 * host: ~0.82 M instructions in all, 0.75 M of them in work_item).
 *
 * A work item walks one BLOCK_BYTES block of a BUF_PAGES-page buffer
 * (block k % NBLOCKS, so every page is dirtied several times), replaces each
 * word w with w ^ xorshift32() + index and feeds the new bytes into a running
 * CRC-32 (IEEE, table driven).
 *
 * Output is deterministic however fast the guest runs: the line for tick T
 * is printed once ticks >= T *and* the first ITEMS_PER_TICK * T items are
 * done, and shows the CRC saved right after item ITEMS_PER_TICK * T, so it
 * depends only on the fixed computation, never on how many items happened
 * to run per tick. */
#include "kernel.h"

/* The soak variants (soak1, soak10, soak60: 1, 10, 60 s of guest time) are this file built
 * with LAST_TICK and PRINT_EVERY given on the command line (guests/Makefile). */
#ifndef LAST_TICK
#define LAST_TICK      100
#endif
#ifndef PRINT_EVERY
#define PRINT_EVERY    10
#endif
#define ITEMS_PER_TICK 2
#define NITEMS         (ITEMS_PER_TICK * LAST_TICK)   /* 200 */
#define BUF_PAGES      16
#define BLOCK_BYTES    512
#define BLOCK_WORDS    (BLOCK_BYTES / 4)
#define NBLOCKS        (BUF_PAGES * 4096 / BLOCK_BYTES)

static volatile uint32_t ticks;

static uint32_t buf[BUF_PAGES * 4096 / 4] __attribute__((aligned(4096)));
static uint32_t crc_table[256];
static uint32_t xs_state = 2463534242u;
static uint32_t crc = 0xFFFFFFFFu;
static uint32_t crc_at[LAST_TICK / PRINT_EVERY + 1]; /* crc after item ITEMS_PER_TICK * 10 * i */

static void on_timer(void)
{
    ticks++;
}

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t xorshift32(void)
{
    uint32_t x = xs_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return xs_state = x;
}

/* One work item: about 3.7 k instructions. */
static __attribute__((noinline)) void work_item(uint32_t item)
{
    uint32_t *p = &buf[(item % NBLOCKS) * BLOCK_WORDS];
    uint32_t c = crc;
    for (uint32_t i = 0; i < BLOCK_WORDS; i++) {
        uint32_t w = (p[i] ^ xorshift32()) + i;
        p[i] = w;
        c ^= w;                 /* CRC-32 of the 4 bytes, little endian */
        c = crc_table[c & 0xFF] ^ (c >> 8);
        c = crc_table[c & 0xFF] ^ (c >> 8);
        c = crc_table[c & 0xFF] ^ (c >> 8);
        c = crc_table[c & 0xFF] ^ (c >> 8);
    }
    crc = c;
}

int kmain(void)
{
    serial_init();
    serial_puts("mixed start\n");
    crc_init();
    idt_init();
    pic_init();
    pit_init(PIT_RELOAD_100HZ);
    irq_install(0, on_timer);

    /* IF = 0 except while a work item runs and inside idle()'s hlt. */
    uint32_t items = 0, next = PRINT_EVERY;
    while (next <= LAST_TICK) {
        uint32_t t = ticks;
        if (t >= next && items >= ITEMS_PER_TICK * next) {
            kprintf("mixed: tick %u items %u crc 0x%08x\n",
                    next, ITEMS_PER_TICK * next,
                    ~crc_at[next / PRINT_EVERY]);
            next += PRINT_EVERY;
        } else if (items < NITEMS && items < ITEMS_PER_TICK * (t + 1)) {
            sti();
            work_item(items);
            cli();
            items++;
            if (items % (ITEMS_PER_TICK * PRINT_EVERY) == 0)
                crc_at[items / (ITEMS_PER_TICK * PRINT_EVERY)] = crc;
        } else {
            idle();     /* ahead of the pace, or all items done: wait for a tick */
        }
    }
    serial_puts("mixed done\n");
    debug_exit(EXIT_OK);
}
