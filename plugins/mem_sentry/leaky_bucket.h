/* leaky_bucket.h: "N events / window" as a leaky bucket of N events that leaks N per window.
 *
 * The state is one instant, empty_at: when the bucket would be empty if nothing more came (the
 * "virtual scheduling" form of the algorithm). An event adds step = ceil(window / N), time takes
 * it away. The threshold is crossed when an event fills the bucket: N at once, or errors coming
 * faster than N per window for long enough. It is a rate: N spread evenly over a whole window
 * do not cross, 2 / 24h crosses for two errors less than 12 h apart.
 *
 * A bucket that crossed is held (leaky_bucket_hold()): kept full from its last event, so it
 * drains one window after that, however long the storm before was; that is when RECOVER is
 * due. 8 bytes a bucket: there is one per tracked page. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define NSEC_PER_SEC_U64 1000000000ULL

/* Limits that keep step's rounding exact ((N - 1)^2 < window in ns) and sums in 64 bits. */
#define LEAKY_RATE_N_MAX      10000U
#define LEAKY_RATE_WINDOW_MIN (1ULL * NSEC_PER_SEC_U64)
#define LEAKY_RATE_WINDOW_MAX (7ULL * 24 * 3600 * NSEC_PER_SEC_U64)

/* One rate, shared by every bucket of a level. */
struct leaky_rate {
    uint32_t n;         /* bucket size: events that cross the threshold */
    uint64_t window_ns; /* time in which n events leak */
    uint64_t step_ns;   /* ceil(window_ns / n): what one event adds */
};

struct leaky_bucket {
    uint64_t empty_at_ns; /* 0: empty since forever */
};

/* -EINVAL when n or window are outside the limits above. */
int leaky_rate_init(struct leaky_rate *rate, uint32_t n, uint64_t window_ns);

/* Accounts one event at now. True when the bucket is full after it (level n): the threshold is
 * crossed. What overflows is dropped. now comes from a monotonic clock. */
bool leaky_bucket_add(struct leaky_bucket *b, const struct leaky_rate *rate, uint64_t now_ns);

/* Fills the bucket as of now: drained one window after the last call. */
void leaky_bucket_hold(struct leaky_bucket *b, const struct leaky_rate *rate, uint64_t now_ns);

/* Events in the bucket at now, rounded up: 0..n. */
uint32_t leaky_bucket_level(const struct leaky_bucket *b, const struct leaky_rate *rate,
                            uint64_t now_ns);

/* Whether it is empty at now (everything leaked). */
bool leaky_bucket_drained(const struct leaky_bucket *b, uint64_t now_ns);
