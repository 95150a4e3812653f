/* spin: like ticks, but the main code busy-waits on a memory location with
 * interrupts enabled: no I/O, no hlt. It only finishes if the VMM preempts
 * the running vCPU to inject the timer interrupt. */
#include "kernel.h"

#define WAIT_TICKS 20

static volatile uint32_t ticks;

static void on_timer(void)
{
    ticks++;
}

int kmain(void)
{
    serial_init();
    serial_puts("spin start\n");
    idt_init();
    pic_init();
    pit_init(PIT_RELOAD_100HZ);
    irq_install(0, on_timer);
    sti();

    while (ticks < WAIT_TICKS) {
        /* pure memory loop: nothing here causes a VM exit */
    }

    cli();
    kprintf("spin waited %u ticks\n", WAIT_TICKS);
    debug_exit(EXIT_OK);
}
