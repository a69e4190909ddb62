/* leaky_bucket.c: see leaky_bucket.h. */
#include <errno.h>

#include "leaky_bucket.h"

int leaky_rate_init(struct leaky_rate *rate, uint32_t n, uint64_t window_ns)
{
    if (n < 1 || n > LEAKY_RATE_N_MAX || window_ns < LEAKY_RATE_WINDOW_MIN ||
        window_ns > LEAKY_RATE_WINDOW_MAX)
        return -EINVAL;
    *rate = (struct leaky_rate){
        .n = n,
        .window_ns = window_ns,
        .step_ns = (window_ns + n - 1) / n,
    };
    return 0;
}

bool leaky_bucket_add(struct leaky_bucket *b, const struct leaky_rate *rate, uint64_t now_ns)
{
    uint64_t full = rate->n * rate->step_ns;
    uint64_t left = b->empty_at_ns > now_ns ? b->empty_at_ns - now_ns : 0;

    /* n steps make "full"; n - 1 steps stay below window as (n - 1)^2 < window */
    left += rate->step_ns;
    if (left > full)
        left = full;
    b->empty_at_ns = now_ns + left;
    return left > full - rate->step_ns;
}

void leaky_bucket_hold(struct leaky_bucket *b, const struct leaky_rate *rate, uint64_t now_ns)
{
    b->empty_at_ns = now_ns + rate->window_ns;
}

uint32_t leaky_bucket_level(const struct leaky_bucket *b, const struct leaky_rate *rate,
                            uint64_t now_ns)
{
    if (b->empty_at_ns <= now_ns)
        return 0;
    uint64_t level = (b->empty_at_ns - now_ns + rate->step_ns - 1) / rate->step_ns;
    return level > rate->n ? rate->n : (uint32_t) level;
}

bool leaky_bucket_drained(const struct leaky_bucket *b, uint64_t now_ns)
{
    return b->empty_at_ns <= now_ns;
}
