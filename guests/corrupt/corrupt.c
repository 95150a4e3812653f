/* corrupt: a tiny "kernel" with a silent memory-corruption bug, as a target
 * for time-travel debugging.
 *
 * Nodes of a singly linked list and an unrelated scratch buffer are carved
 * out of the same static arena by a bump allocator, so the scratch buffer
 * (allocated after node 2) sits directly in front of node 3.
 *
 * THE BUG is in fill_scratch(): it writes a SCRATCH_END marker one word past
 * the end of the buffer, i.e. into node 3's `magic` field (a single
 * `movl $0xdeadbeef, ...` store). Nothing notices at that point. The guest
 * then does other work (a checksum, 5 timer ticks via PIT + hlt, some
 * arithmetic) and only walk_list() at the end finds node 3 corrupted and
 * calls panic(), which exits with debug-exit value 3 (status 7).
 *
 * Debugging recipe: break on panic, then `watch -l nodes[3]->magic` (or the
 * address printed by the list check) and reverse-continue to land on the bad
 * store in fill_scratch. */
#include "kernel.h"

#define NODE_MAGIC   0x4E4F4445u /* "NODE" in ASCII */
#define SCRATCH_END  0xDEADBEEFu
#define NUM_NODES    6
#define SCRATCH_WORDS 4
#define WAIT_TICKS   5

struct node {
    uint32_t magic;
    uint32_t value;
    struct node *next;
};

/* ---- a bump allocator over a small static arena ---- */
static uint8_t arena[256] __attribute__((aligned(16)));
static size_t arena_used;

static void *kalloc(size_t size)
{
    size = (size + 3) & ~(size_t)3;      /* 4-byte granules, no padding */
    if (arena_used + size > sizeof(arena))
        return NULL;
    void *p = &arena[arena_used];
    arena_used += size;
    return p;
}

/* ---- the list ---- */
static struct node *list_head;
/* Global (not static) so the stores stay and a debugger can name them:
 * `watch -l nodes[3]->magic`. */
struct node *nodes[NUM_NODES];
static unsigned node_count;

static void list_append(uint32_t value)
{
    struct node *n = kalloc(sizeof(*n));
    n->magic = NODE_MAGIC;
    n->value = value;
    n->next = NULL;
    if (!list_head) {
        list_head = n;
    } else {
        struct node *t = list_head;
        while (t->next)
            t = t->next;
        t->next = n;
    }
    nodes[node_count++] = n;
}

static void panic(const char *msg) __attribute__((noreturn, noinline));
static void panic(const char *msg)
{
    cli();
    kprintf("PANIC: %s\n", msg);
    debug_exit(EXIT_PANIC);
}

/* Fill a scratch buffer of `words` entries with a pattern and an end marker. */
static __attribute__((noinline)) void fill_scratch(uint32_t *buf, unsigned words)
{
    for (unsigned i = 0; i < words; i++)
        buf[i] = i * 0x11111111u;
    buf[words] = SCRATCH_END;   /* BUG: one past the end, overwrites nodes[3]->magic */
}

static __attribute__((noinline)) uint32_t checksum(const uint32_t *buf, unsigned words)
{
    uint32_t sum = 0;
    for (unsigned i = 0; i < words; i++)
        sum = (sum << 1 | sum >> 31) ^ buf[i];
    return sum;
}

/* Walk the list and verify every node; panics on the first bad one. */
static __attribute__((noinline)) uint32_t walk_list(void)
{
    uint32_t sum = 0;
    unsigned i = 0;
    for (struct node *n = list_head; n; n = n->next, i++) {
        if (n->magic != NODE_MAGIC) {
            kprintf("list check: node %u corrupted (magic=0x%08x)\n", i, n->magic);
            panic("corrupted list");
        }
        sum += n->value;
    }
    return sum;
}

/* ---- "other work" so time passes between the bug and its detection ---- */
static volatile uint32_t ticks;

static void on_timer(void)
{
    ticks++;
}

static __attribute__((noinline)) uint32_t fib(unsigned n)
{
    uint32_t a = 0, b = 1;
    while (n--) {
        uint32_t t = a + b;
        a = b;
        b = t;
    }
    return a;
}

int kmain(void)
{
    serial_init();
    idt_init();
    pic_init();
    pit_init(PIT_RELOAD_100HZ);
    irq_install(0, on_timer);

    serial_puts("corrupt: building list\n");
    for (unsigned i = 0; i < 3; i++)
        list_append(i * 10);
    /* The scratch buffer lands between node 2 and node 3 in the arena. */
    uint32_t *scratch = kalloc(SCRATCH_WORDS * sizeof(uint32_t));
    for (unsigned i = 3; i < NUM_NODES; i++)
        list_append(i * 10);
    kprintf("corrupt: list has %u nodes\n", node_count);

    fill_scratch(scratch, SCRATCH_WORDS);
    kprintf("corrupt: scratch checksum 0x%08x\n", checksum(scratch, SCRATCH_WORDS));

    kprintf("corrupt: waiting %u ticks\n", WAIT_TICKS);
    while (ticks < WAIT_TICKS)
        idle();
    kprintf("corrupt: fib(30) = %u\n", fib(30));

    serial_puts("corrupt: checking list\n");
    uint32_t sum = walk_list();
    kprintf("corrupt: list ok, sum %u\n", sum);   /* never reached */
    return EXIT_OK;
}
