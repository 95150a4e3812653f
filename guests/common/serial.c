/* COM1 driver for a 16550A (or any 8250-compatible) UART.
 *
 * The FIFOs are deliberately left disabled (16450 mode, FCR = 0):
 *  - every received byte raises the RX-available interrupt on its own, no
 *    trigger level or character-timeout logic is needed in the VMM;
 *  - QEMU (like a real 16550) clears the RX FIFO when FIFO mode is toggled,
 *    which would throw away input that arrived before serial_init(). With
 *    FIFO mode off, QEMU hands over one byte at a time, only once the guest
 *    has read the previous one, so piped input is never lost. */
#include "kernel.h"

#define UART_RBR 0  /* receive buffer (read, DLAB=0)   */
#define UART_THR 0  /* transmit holding (write, DLAB=0) */
#define UART_DLL 0  /* divisor latch low  (DLAB=1)      */
#define UART_IER 1  /* interrupt enable   (DLAB=0)      */
#define UART_DLM 1  /* divisor latch high (DLAB=1)      */
#define UART_FCR 2  /* FIFO control (write)             */
#define UART_LCR 3  /* line control                     */
#define UART_MCR 4  /* modem control                    */
#define UART_LSR 5  /* line status                      */

#define LCR_8N1   0x03
#define LCR_DLAB  0x80
#define MCR_DTR   0x01
#define MCR_RTS   0x02
#define MCR_OUT2  0x08  /* on a PC, gates the UART interrupt onto the ISA IRQ line */
#define LSR_DR    0x01  /* data ready: a received byte is waiting */
#define LSR_THRE  0x20  /* transmit holding register empty */
#define IER_RDA   0x01  /* interrupt on received data available */

void serial_init(void)
{
    outb(COM1 + UART_IER, 0);                 /* no interrupts yet */
    outb(COM1 + UART_LCR, LCR_DLAB);
    outb(COM1 + UART_DLL, 1);                 /* 115200 baud (divisor 1) */
    outb(COM1 + UART_DLM, 0);
    outb(COM1 + UART_LCR, LCR_8N1);           /* also clears DLAB */
    outb(COM1 + UART_FCR, 0);                 /* FIFOs off, see above */
    outb(COM1 + UART_MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
}

void serial_putc(char c)
{
    /* Wait until the UART can take another byte. */
    while (!(inb(COM1 + UART_LSR) & LSR_THRE))
        ;
    outb(COM1 + UART_THR, (uint8_t)c);
}

void serial_puts(const char *s)
{
    while (*s)
        serial_putc(*s++);
}

int serial_rx_ready(void)
{
    return inb(COM1 + UART_LSR) & LSR_DR;
}

uint8_t serial_getc_nowait(void)
{
    return inb(COM1 + UART_RBR);
}

void serial_enable_rx_irq(void)
{
    outb(COM1 + UART_IER, IER_RDA);
}
