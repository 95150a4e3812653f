/* Minimal formatted output to COM1.
 * Supports %d %u %x %s %c %%, a '0' flag, a field width and an 'l' length
 * modifier. Numbers are converted as `unsigned long`, the native register
 * width, so 32-bit builds never need libgcc's 64-bit division helpers
 * (there is no i386 libgcc on the build machine). */
#include "kernel.h"

static void put_num(unsigned long v, unsigned base, int width, char pad, int neg)
{
    char buf[24];
    int n = 0;

    do {
        unsigned d = v % base;
        buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    if (neg)
        width--;
    if (neg && pad == '0')
        serial_putc('-');
    for (; width > n; width--)
        serial_putc(pad);
    if (neg && pad != '0')
        serial_putc('-');
    while (n)
        serial_putc(buf[--n]);
}

void kvprintf(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            serial_putc(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0, is_long = 0;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        if (*fmt == 'l') {
            is_long = 1;
            fmt++;
        }
        switch (*fmt) {
        case 'd': {
            long v = is_long ? va_arg(ap, long) : va_arg(ap, int);
            put_num(v < 0 ? -(unsigned long)v : (unsigned long)v, 10, width, pad, v < 0);
            break;
        }
        case 'u':
        case 'x': {
            unsigned long v = is_long ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
            put_num(v, *fmt == 'x' ? 16 : 10, width, pad, 0);
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            serial_puts(s ? s : "(null)");
            break;
        }
        case 'c':
            serial_putc((char)va_arg(ap, int));
            break;
        case '%':
            serial_putc('%');
            break;
        case '\0':
            return;
        default: /* unknown conversion: print it verbatim */
            serial_putc('%');
            serial_putc(*fmt);
            break;
        }
    }
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
}
