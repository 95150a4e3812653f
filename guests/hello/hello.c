/* hello: the smallest guest. Prints one line over COM1 and exits with
 * debug-exit value 0 (process status 1). No interrupts are used. */
#include "kernel.h"

int kmain(void)
{
    serial_init();
    serial_puts("Hello from Retrovisor guest\n");
    debug_exit(EXIT_OK);
}
