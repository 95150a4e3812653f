/* echo: interrupt-driven serial input. IRQ4 (UART "received data
 * available") moves bytes into a ring buffer; the main loop sleeps in hlt
 * and, per complete line, prints "echo: <line>\n". The line "quit" prints
 * "bye\n" and exits 0.
 *
 * Input rules (keep output deterministic when fed through a pipe):
 *  - '\r' and '\n' both end a line; empty lines are ignored, so "\r\n" is
 *    one line end;
 *  - characters are not echoed as typed, only whole lines;
 *  - a line longer than LINE_MAX characters is truncated to LINE_MAX. */
#include "kernel.h"

#define LINE_MAX 80
#define RING_SIZE 256           /* power of two */

static volatile uint8_t ring[RING_SIZE];
static volatile uint32_t ring_head;    /* written by the IRQ handler */
static volatile uint32_t ring_tail;    /* written by the main loop */

/* Drain everything the UART holds; called from the IRQ handler and once at
 * start for bytes that arrived before the interrupt was enabled. */
static void uart_drain(void)
{
    while (serial_rx_ready()) {
        uint8_t c = serial_getc_nowait();
        if (ring_head - ring_tail < RING_SIZE) /* drop on overflow */
            ring[ring_head++ % RING_SIZE] = c;
    }
}

static void on_serial(void)
{
    uart_drain();
}

static char line[LINE_MAX + 1];
static unsigned line_len;

static void handle_char(char c)
{
    if (c == '\r' || c == '\n') {
        if (line_len == 0)
            return;
        line[line_len] = '\0';
        line_len = 0;
        if (strcmp(line, "quit") == 0) {
            serial_puts("bye\n");
            debug_exit(EXIT_OK);
        }
        kprintf("echo: %s\n", line);
        return;
    }
    if (line_len < LINE_MAX)
        line[line_len++] = c;
}

int kmain(void)
{
    serial_init();
    idt_init();
    pic_init();
    irq_install(4, on_serial);
    serial_enable_rx_irq();
    uart_drain();
    serial_puts("echo ready\n");

    for (;;) {
        /* IF=0 while checking the ring, so a byte arriving between the
         * check and hlt still wakes us (see idle()). */
        while (ring_tail != ring_head)
            handle_char((char)ring[ring_tail++ % RING_SIZE]);
        idle();
    }
}
