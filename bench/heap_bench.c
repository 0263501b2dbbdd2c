/* heap_bench: the malloc-only microbenchmark of feasibility.md A1, for bench/heap_overhead.py.
 *
 * Usage: heap_bench THREADS PAIRS
 * Each thread makes PAIRS malloc+free pairs over its own 4096 live slots: a random slot's
 * block is freed and replaced by a new one of a random size (60 % 16-127 B, 30 % 128-1023 B,
 * 9 % 1-16 KiB, 1 % 64-265 KiB). Prints nothing; the caller measures its CPU time.
 * Build: gcc -O2 -pthread -o heap_bench heap_bench.c
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#define LIVE 4096
static long pairs;

static void *run(void *arg) {
    uint64_t x = 0x9E3779B97F4A7C15ull ^ (uintptr_t)arg;
    void **slot = calloc(LIVE, sizeof *slot);
    for (long i = 0; i < pairs; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;   /* xorshift64: cheap, not the allocator */
        unsigned pick = (unsigned)(x >> 32) % 100, r = (unsigned)x;
        size_t size = pick < 60 ? 16 + r % 112 : pick < 90 ? 128 + r % 896
                    : pick < 99 ? 1024 + r % 15360 : 65536 + r % 205824;
        unsigned s = (unsigned)(x >> 20) % LIVE;
        free(slot[s]);
        slot[s] = malloc(size);
        *(volatile char *)slot[s] = 1;
    }
    for (int s = 0; s < LIVE; s++) free(slot[s]);
    free(slot);
    return NULL;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    pairs = argc > 2 ? atol(argv[2]) : 10000000;
    pthread_t t[64];
    if (threads < 1 || threads > 64) return 2;
    for (long i = 0; i < threads; i++) pthread_create(&t[i], NULL, run, (void *)(i + 1));
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    return 0;
}
