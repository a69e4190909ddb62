/* ratelimit.h: at most `burst` events per `interval`, the way journald and systemd count them: a
 * window opens with the first event, lets `burst` events through, refuses (and counts) the rest
 * until `interval` has passed since it opened. Used for alarms per source and for log lines that
 * a client can provoke. Pure: the caller gives the time. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct ratelimit {
    uint64_t interval_us; /* 0: no limit */
    unsigned burst;       /* 0: no limit */
    uint64_t begin_us;    /* when the current window opened (0: none yet) */
    unsigned num;         /* events let through in it */
    uint64_t suppressed;  /* events refused in it */
};

/* Whether the window that opened at begin_us is over at now_us. */
static inline bool ratelimit_window_over(const struct ratelimit *rl, uint64_t now_us)
{
    return rl->begin_us == 0 || now_us < rl->begin_us || now_us - rl->begin_us >= rl->interval_us;
}

/* true: the event at now_us (monotonic, > 0) may pass. false: it is refused and counted in
 * rl->suppressed. A new window starts with rl->suppressed = 0: read it before, when the old
 * window is over (ratelimit_window_over). */
static inline bool ratelimit_below(struct ratelimit *rl, uint64_t now_us)
{
    if (rl->interval_us == 0 || rl->burst == 0)
        return true;
    if (ratelimit_window_over(rl, now_us)) {
        rl->begin_us = now_us;
        rl->num = 0;
        rl->suppressed = 0;
    }
    if (rl->num < rl->burst) {
        rl->num++;
        return true;
    }
    rl->suppressed++;
    return false;
}
