/* Shared declarations for the Retrovisor test guests (guests/common). */
#ifndef GUEST_KERNEL_H
#define GUEST_KERNEL_H

#include <stdint.h>
#include <stddef.h>
#include <stdarg.h>
#include "io.h"

/* Exit codes passed to debug_exit(); QEMU's isa-debug-exit (and the
 * Retrovisor platform) turn value V into process exit status (V << 1) | 1. */
#define EXIT_OK     0   /* status 1 */
#define EXIT_PANIC  3   /* status 7: a guest detected a bug (corrupt)   */
#define EXIT_FAULT  0x10 /* status 33: unexpected CPU exception          */

/* debug.c */
void debug_exit(uint32_t value) __attribute__((noreturn));

/* serial.c: COM1, 16550A-compatible, polled transmit */
#define COM1 0x3F8
void serial_init(void);
void serial_putc(char c);
void serial_puts(const char *s);
int serial_rx_ready(void);
uint8_t serial_getc_nowait(void);
void serial_enable_rx_irq(void);

/* printf.c: %d %u %x %s %c %%, optional '0' flag, width and 'l' modifier */
void kprintf(const char *fmt, ...);
void kvprintf(const char *fmt, va_list ap);

/* pic.c: two cascaded 8259A, remapped to vectors 0x20-0x2F */
#define IRQ_BASE 0x20
void pic_init(void);               /* remap, all lines masked */
void pic_unmask(unsigned irq);
void pic_mask(unsigned irq);
void pic_eoi(unsigned irq);
int pic_in_service(unsigned irq);

/* pit.c: 8254 channel 0 */
#define PIT_HZ 1193182u
#define PIT_RELOAD_100HZ 11932u    /* 1193182 / 11932 = 100.0 Hz */
void pit_init(uint16_t reload);    /* mode 2 (rate generator) */

/* idt.c: exceptions 0-31 -> fault report + EXIT_FAULT, IRQs 0-15 -> handlers */
typedef void (*irq_handler_t)(void);
void idt_init(void);
void irq_install(unsigned irq, irq_handler_t fn); /* also unmasks the line */

/* lib.c: gcc may emit calls to these even when freestanding */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int strcmp(const char *a, const char *b);

/* Each guest defines this; the entry code calls it and, if it returns,
 * passes the return value to debug_exit(). */
int kmain(void);

#endif
