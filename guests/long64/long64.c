/* long64: 64-bit long-mode guest. boot64.S switches to long mode; here we
 * load a 64-bit IDT, run the PIT at 100 Hz and take 10 timer interrupts in
 * long mode, then exit 0. "long mode: on" is printed only if EFER.LMA
 * (long mode active) reads back set. */
#include "kernel.h"

#define MSR_EFER 0xC0000080u
#define EFER_LMA (1u << 10)
#define WAIT_TICKS 10

static volatile uint32_t ticks;
/* 64-bit arithmetic between ticks: gives the time-travel tests thousands of long-mode
 * instructions to step through. It changes nothing the guest prints. */
static volatile uint64_t work;

static void on_timer(void)
{
    ticks++;
}

static uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}

int kmain(void)
{
    serial_init();
    kprintf("long mode: %s\n", (rdmsr(MSR_EFER) & EFER_LMA) ? "on" : "off");

    idt_init();
    pic_init();
    pit_init(PIT_RELOAD_100HZ);
    irq_install(0, on_timer);

    while (ticks < WAIT_TICKS) {
        for (uint64_t i = 0; i < 300; i++)
            work = work * 6364136223846793005ull + i;
        idle();
    }
    kprintf("long64 ticks %u\n", WAIT_TICKS);
    debug_exit(EXIT_OK);
}
