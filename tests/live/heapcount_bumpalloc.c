/* A toy allocator for tests/test_heapcount.py: preloaded after the heap counter, it
 * stands for jemalloc/tcmalloc (a program that brings its own allocator). Blocks come
 * from a static arena and are never reused; malloc_usable_size says n + 1000, so the
 * counter shows whose malloc_usable_size it asked. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <string.h>

#define EXTRA 1000
static char arena[512 << 20] __attribute__((aligned(4096)));
static size_t used;

int bump_owns(const void *p) { return (const char *)p >= arena && (const char *)p < arena + sizeof arena; }

static void *bump(size_t n, size_t align) {
    if (align < 16) align = 16;
    size_t old = __atomic_load_n(&used, __ATOMIC_RELAXED), start, end;
    do {
        start = (old + 16 + align - 1) & ~(align - 1);
        end = start + n + EXTRA;
        if (end > sizeof arena) { errno = ENOMEM; return NULL; }
    } while (!__atomic_compare_exchange_n(&used, &old, end, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    *(size_t *)(arena + start - sizeof(size_t)) = n + EXTRA;
    return arena + start;
}
size_t malloc_usable_size(void *p) { return p ? *(size_t *)((char *)p - sizeof(size_t)) : 0; }
void *malloc(size_t n) { return bump(n, 16); }
void free(void *p) { (void)p; }
void *calloc(size_t n, size_t size) { return bump(n * size, 16); }
void *realloc(void *p, size_t n) {
    void *q = bump(n, 16);
    if (p && q) { size_t old = malloc_usable_size(p) - EXTRA; memcpy(q, p, old < n ? old : n); }
    return q;
}
void *memalign(size_t align, size_t n) { return bump(n, align); }
void *aligned_alloc(size_t align, size_t n) { return bump(n, align); }
int posix_memalign(void **out, size_t align, size_t n) {
    void *p = bump(n, align);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
void *valloc(size_t n) { return bump(n, 4096); }
void *pvalloc(size_t n) { return bump((n + 4095) & ~(size_t)4095, 4096); }
