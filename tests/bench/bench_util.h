/* bench_util.h: what the C benchmarks share: a monotonic clock and the resident set. */
#pragma once

#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t bench_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

/* The process's resident set in kB (/proc/self/statm), 0 when it cannot be read. */
static inline long bench_rss_kb(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "re");

    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/* What malloc really spends on a block of size bytes: its usable size and its 8-byte header. */
static inline size_t bench_malloc_cost(size_t size)
{
    void *probe = malloc(size);
    size_t cost = probe ? malloc_usable_size(probe) + 8 : size;

    free(probe);
    return cost;
}
