/* The memory ceiling of a lookup on this machine: random 8-byte reads from
 * an array much larger than the caches, one at a time (each address comes
 * from the read before: a pointer chase, as in a one-by-one lookup) and
 * independent (the addresses known in advance: as in a batched lookup).
 * Reads per CPU-second of the thread. See bench/README.md ("bench/intel").
 *
 *   cc -O2 -o /tmp/mlp bench/intel/mlp.c && /tmp/mlp 512
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static uint64_t state = 88172645463325252ull;
static inline uint64_t next(void) { /* xorshift64 */
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

int main(int argc, char **argv) {
    size_t mib = argc > 1 ? strtoul(argv[1], 0, 10) : 512;
    size_t lines = (mib << 20) / 64, reads = 20000000;
    uint64_t *a = malloc(lines * 64);
    uint32_t *order = malloc(lines * sizeof *order);
    if (!a || !order) return 2;
    /* One cycle through every cache line in random order. */
    for (size_t i = 0; i < lines; i++) order[i] = i;
    for (size_t i = lines - 1; i > 0; i--) {
        size_t j = next() % (i + 1);
        uint32_t t = order[i]; order[i] = order[j]; order[j] = t;
    }
    for (size_t i = 0; i < lines; i++) a[(size_t)order[i] * 8] = (uint64_t)order[(i + 1) % lines] * 8;
    free(order);

    double t0 = cpu_s();
    uint64_t p = 0;
    for (size_t i = 0; i < reads; i++) p = a[p];
    double dep = cpu_s() - t0;

    t0 = cpu_s();
    uint64_t sum = 0;
    for (size_t i = 0; i < reads; i++) sum += a[(next() % lines) * 8];
    double ind = cpu_s() - t0;

    printf("%zu MiB: dependent %.1f ns/read (%.1fM/s), independent %.1f ns/read (%.1fM/s) [%llu]\n", mib,
           dep / reads * 1e9, reads / dep / 1e6, ind / reads * 1e9, reads / ind / 1e6,
           (unsigned long long)(p + sum));
    return 0;
}
